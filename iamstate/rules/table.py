"""The README's rule table and the schema's ``exceptions`` entries, generated from the
catalogue (pure).

``python -m iamstate.rules.table`` prints the table: paste it over the one under
"Safety rules" in README.md. ``python -m iamstate.rules.table --schema`` prints the
JSON of ``$defs.exceptions.properties`` for ``schemas/iamstate.schema.json``.
tests/test_docs.py fails while either disagrees with the catalogue.
"""

from __future__ import annotations

import json
import sys

from iamstate.model import Json
from iamstate.rules import RULES, Rule

HEADER = ("| id | severity | waivable | fires when |", "|---|---|---|---|")


def row(rule: Rule) -> str:
    """One rule's row: id, severity, how it is waived, and its summary."""
    summary = rule.summary.replace("|", "\\|")
    return f"| `{rule.id}` | {rule.severity.value} | {rule.waivable_text} | {summary} |"


def table() -> str:
    """The whole table, header included, one line per rule in catalogue order."""
    return "\n".join([*HEADER, *(row(rule) for rule in RULES.values())]) + "\n"


def schema_exceptions() -> dict[str, Json]:
    """The schema's ``exceptions`` properties: one optional reason per waivable rule."""
    return {
        rule.id: {
            "title": rule.id,
            "description": f"{rule.summary.replace('`', '')}"
            f"{' (warning)' if rule.severity.value == 'warning' else ''}. Value: why this is acceptable here.",
            "type": "string",
            "minLength": 1,
        }
        for rule in RULES.values()
        if rule.waivable
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--schema"]:
        print(json.dumps(schema_exceptions(), indent=2))
    else:
        print(table(), end="")
