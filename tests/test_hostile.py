"""Hostile configurations through the real CLI: validate, and plan against the strict local endpoint.

Each folder under ``tests/hostile/`` is a configuration a pull request could
carry; its name's first word is its family (``yaml``, ``json``: bounded parsing
and reader errors; ``contain``: files read only from inside the configuration;
``iam``: what IAM would refuse; ``ref``: what live IAM cannot honour, found by
plan). The test copies it to a scratch directory (beside an ``outside/`` directory
holding a file the configuration must never read), prepares what git cannot hold
(``setup.txt``: symbolic links, FIFOs, directories, generated files), runs
``iamstate validate`` there (with the arguments in ``args.txt``, default ``.``)
and compares with ``expected.txt``: the exit code on the first line (``exit: N``),
then lines that the output must contain. It runs ``iamstate plan`` the same way
against the strict local endpoint, writing ``--out`` and ``--sarif-out``
artifacts, and compares with ``expected-plan.txt`` (which holds only the
plan's lines about errors and where they are). No run may print a traceback
or anything of the file outside, nor put it in an artifact; plan never writes.

``setup.txt`` lines (``@OUTSIDE@`` stands for the outside directory):

- ``symlink NAME TARGET`` — a symbolic link NAME pointing at TARGET;
- ``fifo NAME``, ``mkdir NAME``;
- ``outside NAME`` — a file in the outside directory holding the canary;
- ``generate NAME KIND N`` — KIND ``flow-nesting``/``block-nesting``/``json-nesting``
  (N levels around a policy document or a value), ``yaml-filler``/``json-filler``
  (a valid file of N bytes).

After a deliberate change of messages, regenerate with
``IAMSTATE_UPDATE_EXPECTED=1 .venv/bin/pytest tests/test_hostile.py`` and review.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.strict import StrictIam

CASES = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parent.parent
UPDATE = os.environ.get("IAMSTATE_UPDATE_EXPECTED") == "1"
CANARY = "CANARY-9f2c41-not-for-output"
SECRET = '{"Version": "2012-10-17", "Statement": [], "Token": "' + CANARY + '"}\n'
ALL_CASES = sorted(p.name for p in CASES.iterdir() if p.is_dir())

_DOCUMENT_HEAD = 'policies:\n  - name: p\n    document:\n      Version: "2012-10-17"\n      Statement:\n'


def _generate(path: Path, kind: str, n: int) -> None:
    if kind == "flow-nesting":
        path.write_text(_DOCUMENT_HEAD + "        - Effect: " + "[" * n + "]" * n + "\n")
    elif kind == "block-nesting":
        path.write_text(_DOCUMENT_HEAD + "        - Effect:\n" + "            " + "- " * n + "Allow\n")
    elif kind == "json-nesting":
        path.write_text('{"Version": "2012-10-17", "Statement": ' + "[" * n + "]" * n + "}\n")
    elif kind == "yaml-filler":
        line = "# " + "x" * 97 + "\n"
        path.write_text("users:\n  - name: alice\n" + line * (n // len(line) + 1))
    elif kind == "json-filler":
        head = '{"Version": "2012-10-17", "Statement": [], "Id": "'
        path.write_text(head + "x" * (n - len(head)) + '"}\n')
    else:
        raise AssertionError(f"unknown generator {kind}")


def _prepare(case: str, scratch: Path) -> Path:
    config = scratch / "config"
    outside = scratch / "outside"
    shutil.copytree(
        CASES / case, config, ignore=shutil.ignore_patterns("expected.txt", "setup.txt", "args.txt")
    )
    outside.mkdir()
    for path in config.rglob("*.y*ml"):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if "@OUTSIDE@" in text:
            path.write_text(
                text.replace("@OUTSIDE@", str(outside)), encoding="utf-8", errors="surrogateescape"
            )
    setup = CASES / case / "setup.txt"
    for line in setup.read_text().splitlines() if setup.exists() else []:
        if not line.strip():
            continue
        verb, name, *rest = line.replace("@OUTSIDE@", str(outside)).split()
        target = config / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if verb == "symlink":
            target.symlink_to(rest[0])
        elif verb == "fifo":
            os.mkfifo(target)
        elif verb == "mkdir":
            target.mkdir()
        elif verb == "outside":
            (outside / name).write_text(SECRET)
        elif verb == "generate":
            _generate(target, rest[0], int(rest[1]))
        else:
            raise AssertionError(f"{case}/setup.txt: unknown verb {verb}")
    return config


def _run(case: str, scratch: Path, command: str, endpoint: StrictIam | None = None) -> tuple[int, list[str]]:
    config = _prepare(case, scratch)
    args_file = CASES / case / "args.txt"
    args = args_file.read_text().split() if args_file.exists() else ["."]
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    if command == "plan":
        assert endpoint is not None
        env = endpoint.env(env)
        artifacts = scratch / "artifacts"
        artifacts.mkdir()
        args += ["--format", "text", "--out", str(artifacts / "plan.json")]
        args += ["--sarif-out", str(artifacts / "plan.sarif")]
    result = subprocess.run(
        [sys.executable, "-m", "iamstate", command, *args],
        cwd=config,
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    output = (result.stdout + result.stderr).replace(str(scratch), "<scratch>")
    return result.returncode, [line.rstrip() for line in output.splitlines() if line.strip()]


def _diagnostics(lines: list[str]) -> list[str]:
    """The lines of a plan that say what is wrong and where (its rendering of changes is not the point here)."""
    return [line for line in lines if "error" in line.lower() or line.lower().lstrip("- ").startswith("at: ")]


def _check(
    case: str, expected_name: str, code: int, lines: list[str], *, recorded: list[str] | None = None
) -> None:
    expected_path = CASES / case / expected_name
    if UPDATE:
        kept = lines if recorded is None else recorded
        expected_path.write_text("".join(f"{line}\n" for line in [f"exit: {code}", *kept]), encoding="utf-8")
    expected = expected_path.read_text(encoding="utf-8").splitlines()
    output = "\n".join(lines)
    assert "Traceback" not in output
    assert CANARY not in output
    assert expected[0] == f"exit: {code}", output
    for line in expected[1:]:
        assert line in lines, f"{case}: missing {line!r} in:\n{output}"
    if code == 1:
        assert any(line.startswith(("error: ", "Error: ")) or ": error: " in line for line in lines), output


def test_the_corpus_covers_every_family() -> None:
    families = {name.split("-")[0] for name in ALL_CASES}
    assert families == {"yaml", "json", "contain", "iam", "ref"}
    assert len(ALL_CASES) >= 150
    for name in ALL_CASES:
        assert (CASES / name / "expected.txt").is_file() and (CASES / name / "expected-plan.txt").is_file(), (
            name
        )


@pytest.mark.parametrize("case", ALL_CASES)
def test_validate_contains_and_bounds_what_it_reads(case: str, tmp_path: Path) -> None:
    code, lines = _run(case, tmp_path, "validate")
    _check(case, "expected.txt", code, lines)


@pytest.mark.parametrize("case", ALL_CASES)
def test_plan_refuses_it_without_a_write_or_a_leak(case: str, tmp_path: Path, strict_iam: StrictIam) -> None:
    code, lines = _run(case, tmp_path, "plan", strict_iam)
    _check(case, "expected-plan.txt", code, lines, recorded=_diagnostics(lines))
    assert strict_iam.writes(lock=True) == [], "plan wrote to IAM"
    for artifact in (tmp_path / "artifacts").iterdir():
        if artifact.is_file():
            assert CANARY not in artifact.read_text(errors="replace"), artifact.name
