"""Every command and option has help and is documented in the README; so is every rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from iamstate.cli import app
from iamstate.config import schema
from iamstate.config.schema import UNWAIVABLE_RULES
from iamstate.rules import LIVE_RULES, RULES
from iamstate.rules.table import (
    HEADER,
    LIVE_HEADER,
    UNWAIVABLE_KEY,
    live_table,
    main,
    schema_exceptions,
    schema_unwaivable,
    table,
)

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
COMMAND = typer.main.get_command(app)
COMMANDS = sorted(COMMAND.commands)  # type: ignore[attr-defined]


def test_there_are_commands() -> None:
    assert {"validate", "plan"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_is_documented(name: str) -> None:
    command = COMMAND.commands[name]  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert command.help and command.help.strip()
    assert f"`iamstate {name}" in README, f"README does not document `iamstate {name}`"
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help, f"{name} {param.opts} has no help"
            long_names = [o for o in param.opts if o.startswith("--")]
            assert any(f"`{o}" in README for o in long_names), f"README does not document {long_names}"
            assert any(o in result.output for o in param.opts)


def _readme_rule_table(section: str = "## Safety rules", header: str = HEADER[0]) -> str:
    text = README.split(section, 1)[1]
    lines = text.split(header, 1)[1].splitlines()[1:]
    rows = [header]
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append(line)
    return "\n".join(rows) + "\n"


def test_readme_rule_table_matches_the_catalogue() -> None:
    # Regenerate with `python -m iamstate.rules.table` and paste it into README.md.
    assert _readme_rule_table() == table()
    documented = dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning) \|", README, flags=re.M))
    assert documented == {rule.id: rule.severity.value for rule in RULES.values()}


def test_readme_live_findings_table_matches_the_catalogue() -> None:
    # Regenerate with `python -m iamstate.rules.table --live` and paste it under "Drift".
    assert _readme_rule_table("## Drift", LIVE_HEADER[0]) == live_table()
    assert live_table().count("\n| `") == len(LIVE_RULES)


def test_schema_lists_exactly_the_waivable_rules() -> None:
    # Regenerate with `python -m iamstate.rules.table --schema`.
    assert schema()["$defs"]["exceptions"]["properties"] == schema_exceptions()
    assert set(UNWAIVABLE_RULES) == {r.id for r in RULES.values() if not r.waivable}


def test_schema_tells_the_loader_what_it_needs_of_the_unwaivable_rules() -> None:
    # Regenerate with `python -m iamstate.rules.table --schema`.
    assert schema()["$defs"]["exceptions"][UNWAIVABLE_KEY] == schema_unwaivable()
    assert schema_unwaivable()["mass-delete"] == {
        "remedy": RULES["mass-delete"].remedy,
        "waiver_flag": "--allow-mass-delete",
    }


def test_the_generator_prints_what_the_docs_hold() -> None:
    assert main([]) == table()
    assert main(["--live"]) == live_table()
    exceptions = schema()["$defs"]["exceptions"]
    assert json.loads(main(["--schema"])) == {
        "properties": exceptions["properties"],
        UNWAIVABLE_KEY: exceptions[UNWAIVABLE_KEY],
    }
