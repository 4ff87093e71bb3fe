"""The CI recipes in examples/ci and .pre-commit-hooks.yaml call iamstate with options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main
import yaml

from iamstate.cli import app

ROOT = Path(__file__).resolve().parent.parent
RECIPES = [
    ROOT / "examples" / "ci" / ".github" / "workflows" / "iamstate.yml",
    ROOT / "examples" / "ci" / ".gitlab-ci.yml",
]
COMMAND = typer.main.get_command(app)


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


def _iamstate_invocations(path: Path) -> list[list[str]]:
    calls = []
    for line in _scripts(yaml.safe_load(path.read_text())):
        for match in re.finditer(r"(?:^|[;&|]\s*|\s)iamstate ([^|>;&]+)", line):
            calls.append(shlex.split(match.group(1)))
    return calls


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_calls_existing_commands_and_options(recipe: Path) -> None:
    calls = _iamstate_invocations(recipe)
    assert {c[0] for c in calls} >= {"validate", "plan", "apply", "drift"}
    for args in calls:
        command = COMMAND.commands[args[0]]  # type: ignore[attr-defined]
        # Parsing fails on an unknown option or a bad value; nothing runs.
        command.make_context(args[0], args[1:], resilient_parsing=False)


def test_pre_commit_hook_runs_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["iamstate-validate"]
    assert hooks[0]["entry"] == "iamstate validate"
    command = COMMAND.commands["validate"]  # type: ignore[attr-defined]
    command.make_context("validate", hooks[0]["args"])
