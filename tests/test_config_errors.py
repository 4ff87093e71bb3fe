"""A corpus of broken configurations, one folder per kind of mistake.

Each folder under ``tests/config_errors/`` holds YAML file(s) and ``expected.txt``:
the exact diagnostics (``file:line:col: error: message (hint)``) that loading the
folder must produce, or, for ``refuse-*`` folders, the refusal findings
(``location: [rule] address: message``). Folders are discovered automatically.

After a deliberate change of messages, regenerate every ``expected.txt`` with

    IAMSTATE_UPDATE_EXPECTED=1 .venv/bin/pytest tests/test_config_errors.py

and review the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from iamstate.config import load_config
from iamstate.errors import ConfigError

CASES = Path(__file__).parent / "config_errors"
REPO = Path(__file__).resolve().parent.parent
UPDATE = os.environ.get("IAMSTATE_UPDATE_EXPECTED") == "1"
LOCATED = re.compile(r"^[\w./-]+\.(?:ya?ml|json):\d+:\d+: ")

ALL_CASES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
ERROR_CASES = [name for name in ALL_CASES if not name.startswith("refuse-")]
REFUSAL_CASES = [name for name in ALL_CASES if name.startswith("refuse-")]


def _load_lines(case: str) -> tuple[list[str], bool]:
    """What loading the case folder reports, and whether it raised ConfigError.

    Runs with the case folder as the working directory and PATH ".", so file names in
    messages are relative to the folder.
    """
    cwd = Path.cwd()
    os.chdir(CASES / case)
    try:
        loaded = load_config(".")
    except ConfigError as error:
        return [str(d) for d in error.diagnostics], True
    finally:
        os.chdir(cwd)
    return [f"{f.location}: [{f.rule}] {f.address}: {f.message}" for f in loaded.findings], False


def _expected(case: str, actual: list[str]) -> list[str]:
    path = CASES / case / "expected.txt"
    if UPDATE:
        path.write_text("".join(line + "\n" for line in actual), encoding="utf-8")
    return path.read_text(encoding="utf-8").splitlines()


def _run_cli(case: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, NO_COLOR="1", PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "iamstate", "validate", "."],
        cwd=CASES / case,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_corpus_covers_enough_mistakes() -> None:
    assert len(ERROR_CASES) >= 22
    assert len(REFUSAL_CASES) >= 2


@pytest.mark.parametrize("case", ERROR_CASES)
def test_load_config_reports_the_located_error(case: str) -> None:
    actual, raised = _load_lines(case)
    assert raised, f"{case}: load_config accepted a broken configuration"
    assert actual == _expected(case, actual)
    if case != "no-yaml-files":
        assert all(LOCATED.match(line) for line in actual), actual


@pytest.mark.parametrize("case", ERROR_CASES)
def test_cli_validate_exits_1_with_the_located_error(case: str) -> None:
    expected = (CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    result = _run_cli(case)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    for line in expected:
        assert line in output


@pytest.mark.parametrize("case", REFUSAL_CASES)
def test_load_config_reports_refusals_as_findings(case: str) -> None:
    actual, raised = _load_lines(case)
    assert not raised, f"{case}: a refusal must be a finding, not a ConfigError: {actual}"
    assert actual
    assert actual == _expected(case, actual)


@pytest.mark.parametrize("case", REFUSAL_CASES)
def test_cli_validate_exits_3_naming_rule_and_place(case: str) -> None:
    expected = (CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    result = _run_cli(case)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    for line in expected:
        location, _, rest = line.partition(": ")
        rule = rest[1 : rest.index("]")]
        assert location in output
        assert rule in output
