"""The README's rule tables and the schema's ``exceptions`` entries, generated from the
catalogue (pure).

``python -m iamstate.rules.table`` prints the table of safety rules: paste it over
the one under "Safety rules" in README.md (``make rule-tables`` updates README.md
and the schema in place, with :func:`write`). ``--live`` prints the table of drift's
live findings (under "Drift"). ``--schema`` prints the JSON of the generated part of
``$defs.exceptions`` in ``schemas/iamstate.schema.json``: ``properties`` (one
optional reason per waivable rule) and ``x-iamstate-unwaivable`` (what the loader
needs to know of the rules that cannot be waived). tests/test_docs.py fails while
any of them disagrees with the catalogue.
"""

from __future__ import annotations

import json
import sys

from iamstate.model import Json
from iamstate.rules import LIVE_RULES, RULES
from iamstate.rules.base import ConfigRule, LiveRule

HEADER = ("| id | severity | waivable | fires when |", "|---|---|---|---|")
LIVE_HEADER = ("| id | level | fires when |", "|---|---|---|")
UNWAIVABLE_KEY = "x-iamstate-unwaivable"
"""The key of ``$defs.exceptions`` that lists the rules ``exceptions:`` cannot waive."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def row(rule: ConfigRule) -> str:
    """One rule's row: id, severity, how it is waived, and its summary."""
    return f"| `{rule.id}` | {rule.severity.value} | {rule.waivable_text} | {_cell(rule.summary)} |"


def live_row(rule: LiveRule) -> str:
    """One live rule's row: id, level, and when it fires."""
    return f"| `{rule.id}` | {rule.level.value} | {_cell(rule.fires_when)} |"


def table() -> str:
    """The safety rules' table, header included, one line per rule in catalogue order."""
    return "\n".join([*HEADER, *(row(rule) for rule in RULES.values())]) + "\n"


def live_table() -> str:
    """The live findings' table, header included, one line per live rule in catalogue order."""
    return "\n".join([*LIVE_HEADER, *(live_row(rule) for rule in LIVE_RULES.values())]) + "\n"


def schema_exceptions() -> dict[str, Json]:
    """The schema's ``exceptions`` properties: one optional waiver (a reason, or a reason and an
    ``expires_at``) per waivable rule."""
    return {
        rule.id: {
            "title": rule.id,
            "description": f"{rule.summary.replace('`', '')}"
            f"{' (warning)' if rule.severity.value == 'warning' else ''}. Value: why this is acceptable "
            "here, or {reason, expires_at} for a waiver that ends.",
            "$ref": "#/$defs/waiver",
        }
        for rule in RULES.values()
        if rule.waivable
    }


def schema_unwaivable() -> dict[str, Json]:
    """The rules ``exceptions:`` cannot waive: each one's remedy, and the flag that lets its
    findings through, if any (the loader reads this instead of importing the rules)."""
    out: dict[str, Json] = {}
    for rule in RULES.values():
        if not rule.waivable:
            entry: dict[str, Json] = {"remedy": rule.remedy}
            if rule.waiver_flag:
                entry["waiver_flag"] = rule.waiver_flag
            out[rule.id] = entry
    return out


def _replace_table(text: str, header: str, new: str) -> str:
    """``text`` with the markdown table that starts at ``header`` replaced by ``new``."""
    start = text.index(header)
    end = start
    lines = text[start:].splitlines(keepends=True)
    for line in lines:
        if not line.startswith("|"):
            break
        end += len(line)
    return text[:start] + new + text[end:]


def write(readme: str, schema: dict[str, Json]) -> tuple[str, dict[str, Json]]:
    """README text and schema with the generated tables and exceptions put in (pure)."""
    readme = _replace_table(readme, HEADER[0], table())
    readme = _replace_table(readme, LIVE_HEADER[0], live_table())
    exceptions = schema["$defs"]["exceptions"]
    exceptions["properties"] = schema_exceptions()
    exceptions[UNWAIVABLE_KEY] = schema_unwaivable()
    return readme, schema


def main(args: list[str]) -> str:
    """What ``python -m iamstate.rules.table ARGS`` prints."""
    if args == ["--schema"]:
        return (
            json.dumps({"properties": schema_exceptions(), UNWAIVABLE_KEY: schema_unwaivable()}, indent=2)
            + "\n"
        )
    if args == ["--live"]:
        return live_table()
    return table()


if __name__ == "__main__":
    print(main(sys.argv[1:]), end="")
