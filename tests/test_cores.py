"""Half of validate's rules on a second core: the same findings, in the same order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iamstate.commands import cores
from iamstate.commands import validate as validate_command
from iamstate.commands.options import OutputOptions
from iamstate.config import build_config, parse_config
from iamstate.errors import ConfigError

V = "2012-10-17"
REPO = Path(__file__).resolve().parents[1]


def test_the_child_answers_and_this_process_answers() -> None:
    parent = os.getpid()
    theirs, mine = cores.on_second_core(lambda: ("child", os.getpid() != parent), lambda: "here")
    assert theirs == ("child", True)
    assert mine == "here"


def test_what_the_child_could_not_do_runs_here() -> None:
    parent = os.getpid()

    def elsewhere() -> str:
        if os.getpid() != parent:
            raise RuntimeError("fails in the child only")
        return "done here"

    assert cores.on_second_core(elsewhere, lambda: 1) == ("done here", 1)


def test_an_error_here_stops_the_child_and_is_raised() -> None:
    def here() -> None:
        raise ValueError("here failed")

    with pytest.raises(ValueError, match="here failed"):
        cores.on_second_core(lambda: sum(range(10**9)), here)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


def test_what_is_readied_meanwhile_is_made_here_after_this_half_before_the_join() -> None:
    parent = os.getpid()
    done: list[tuple[str, int]] = []

    def here() -> str:
        done.append(("here", os.getpid()))
        return "mine"

    split = cores.meanwhile(cores.on_second_core, lambda: done.append(("ready", os.getpid())))
    assert split is not None
    theirs, mine = split(os.getpid, here)
    assert theirs != parent and mine == "mine"
    assert done == [("here", parent), ("ready", parent)]
    assert cores.meanwhile(None, lambda: done.append(("ready", 0))) is None


def test_a_large_file_is_parsed_while_the_rules_are_found_for_both_processes(tmp_path: Path) -> None:
    # In a fresh interpreter (one thread): the file is parsed in halves, and the rules'
    # modules are imported during the parse, before the process forks for the rules.
    config = large_config(tmp_path / "iamstate.yaml", roles=2_000)
    data = yaml.safe_load(config.read_text())
    for role in data["roles"]:
        role["description"] = f"{role['name']} runs the nightly batch of its team " * 4
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    assert config.stat().st_size > 512 * 1024
    script = (
        "import os, sys; from iamstate.commands import validate as v; "
        "from iamstate.commands.options import OutputOptions; seen = []; ready, fan = v._ready, v.fan_out_for; "
        "found = lambda: 'iamstate.rules.principals.privilege_escalation' in sys.modules; "
        "v._ready = lambda: (seen.append(('ready', found())), ready()); "
        "v.fan_out_for = lambda parsed: (seen.append(('fork', found())), fan(parsed))[1]; "
        "result = v.validate(sys.argv[1], OutputOptions(fmt='json')); "
        "print(seen, result.exit_code, len(result.document['findings']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(config)], capture_output=True, text=True, timeout=300, check=True
    )
    if len(os.sched_getaffinity(0)) > 1:
        assert done.stdout.startswith("[('ready', False), ('fork', True)] 3 "), done.stdout
    else:
        assert done.stdout.startswith("[('fork', False)] 3 "), done.stdout


def large_config(path: Path, roles: int = 1_100) -> Path:
    """A configuration of more than MIN_ENTITIES entities whose principals the rules report."""
    admin = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    secrets = {
        "Version": V,
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}],
    }
    trust = {
        "Version": V,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    config = {
        "account": {"id": "123456789012"},
        "policies": [{"name": "iam-admin", "document": admin}, {"name": "secrets", "document": secrets}],
        "roles": [
            {"name": f"role-{i:04d}", "trust": trust, "policies": ["iam-admin" if i % 7 == 0 else "secrets"]}
            for i in range(roles)
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_validate_on_two_cores_reports_what_one_core_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = large_config(tmp_path / "iamstate.yaml")
    # A fresh interpreter has one thread: there the rules on principals run in a child.
    probe = (
        "import sys; from iamstate.config import parse_config; from iamstate.commands import cores; "
        "print(cores.fan_out_for(parse_config(sys.argv[1])) is cores.on_second_core)"
    )
    uses = subprocess.run(
        [sys.executable, "-c", probe, str(config)], capture_output=True, text=True, timeout=120, check=True
    )
    if len(os.sched_getaffinity(0)) > 1:
        assert uses.stdout.strip() == "True"
    done = subprocess.run(
        [sys.executable, "-m", "iamstate", "validate", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 3, done.stderr  # privilege escalation is an error
    two = json.loads(done.stdout)
    monkeypatch.setattr(validate_command, "fan_out_for", lambda parsed: None)
    one = validate_command.validate(str(config), OutputOptions(fmt="json")).document
    assert one is not None
    assert two["findings"] == json.loads(json.dumps(one["findings"]))
    rules = [f["rule"] for f in two["findings"]]
    admins = len(range(0, 1_100, 7))  # 158 roles hold iam:*, the other 942 read every secret
    assert rules.count("privilege-escalation") == rules.count("resource-exposure") == admins
    assert rules.count("credentials-exposure") == admins
    assert rules.count("data-exfiltration") == 1_100 - admins
    assert rules.count("passrole-star") == 1  # the rules not on principals ran too


def test_a_command_process_keeps_its_configuration_out_of_the_collectors_walks(tmp_path: Path) -> None:
    # In a fresh interpreter: tune() changes the collector for the whole process.
    script = (
        "import gc, sys; from iamstate.commands import collector; from iamstate.config import load_config; "
        "load_config(sys.argv[1]); collector.settle(); untuned = gc.get_freeze_count(); "
        "collector.tune(); before = gc.get_freeze_count(); loaded = load_config(sys.argv[1]); "
        "young = gc.get_count()[0]; collector.settle(); "
        "print(untuned, before < gc.get_freeze_count(), young > 0, gc.get_count()[0], gc.get_threshold()[0])"
    )
    config = large_config(tmp_path / "iamstate.yaml", roles=50)
    done = subprocess.run(
        [sys.executable, "-c", script, str(config)], capture_output=True, text=True, timeout=120, check=True
    )
    untuned, froze, had_young, young_after, threshold = done.stdout.split()
    assert untuned == "0"  # a library caller's collector is left alone
    assert (froze, had_young, young_after, threshold) == ("True", "True", "0", "50000")


def test_a_command_process_keeps_what_a_command_built_until_it_ends() -> None:
    # In a fresh interpreter: keep() holds objects only once tune() made it a command's process.
    script = (
        "import weakref\nfrom iamstate.commands import collector\n"
        "class Built: pass\n"
        "def made(): built = Built(); collector.keep(built); return weakref.ref(built)\n"
        "before = made(); collector.tune(); after = made(); "
        "print(before() is None, after() is not None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["True", "True"]


def test_an_invalid_large_configuration_reads_the_same_on_two_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = large_config(tmp_path / "iamstate.yaml")
    text = config.read_text()
    # What IAM would refuse in a declaration, and an entity outside the scope: checks that
    # only the process building the configuration with its checks makes.
    text = text.replace("- name: role-1099\n", '- name: role-1099\n  description: "bad \\u0001"\n', 1)
    text = text.replace("- name: role-0500\n", "- name: role-0500\n  path: /outside/\n", 1)
    config.write_text("scope:\n  paths: [/]\n  ignore: [role-0500]\n" + text)
    done = subprocess.run(
        [sys.executable, "-m", "iamstate", "validate", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert "role 'role-1099' description" in done.stderr
    assert "role 'role-0500' is declared but this configuration would not own it" in done.stderr
    monkeypatch.setattr(validate_command, "fan_out_for", lambda parsed: None)
    with pytest.raises(ConfigError) as one:
        validate_command.validate(str(config), OutputOptions())
    assert str(one.value) in done.stderr


def test_a_configuration_built_without_its_checks_is_the_same() -> None:
    corpus = [REPO / "examples", *sorted((REPO / "tests" / "cases").glob("*/config.yaml"))]
    built = 0
    for path in corpus:
        parsed = parse_config(path)
        try:
            checked = build_config(parsed)
        except ConfigError:
            continue
        assert build_config(parsed, checks=False) == checked
        built += 1
    assert built >= 20


def test_loading_inside_building_starts_no_collection_that_walks_the_configuration(tmp_path: Path) -> None:
    # In a fresh interpreter: tune() changes the collector for the whole process.
    script = (
        "import gc, sys; from iamstate.commands import collector; from iamstate.config import load_config; "
        "collector.tune(); runs = []; "
        "gc.callbacks.append(lambda phase, info: runs.append(info) if phase == 'start' else None)\n"
        "if sys.argv[2] == 'building':\n"
        "    with collector.building():\n"
        "        loaded = load_config(sys.argv[1])\n"
        "else:\n"
        "    loaded = load_config(sys.argv[1])\n"
        "enabled = gc.isenabled(); made = [[] for _ in range(45_000)]; print(enabled, len(runs))"
    )
    config = large_config(tmp_path / "iamstate.yaml", roles=1_000)
    out = {}
    for way in ("building", "plain"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(config), way],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        out[way] = done.stdout.split()
    assert out["building"] == ["True", "0"]
    assert out["plain"][0] == "True" and int(out["plain"][1]) >= 1  # the collection building() spares
