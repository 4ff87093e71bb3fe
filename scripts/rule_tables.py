"""`make rule-tables`: put the rule catalogue's tables into README.md and its exceptions into the schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iamstate.rules.table import write  # noqa: E402


def main() -> None:
    """Rewrite README.md's rule tables and the schema's ``exceptions`` from the catalogue."""
    schema_path = ROOT / "iamstate" / "schemas" / "iamstate.schema.json"
    readme, schema = write((ROOT / "README.md").read_text(), json.loads(schema_path.read_text()))
    (ROOT / "README.md").write_text(readme)
    schema_path.write_text(json.dumps(schema, indent=2) + "\n")
    print("README.md and schemas/iamstate.schema.json updated; review the diff")


if __name__ == "__main__":
    main()
