"""`make catalog-table`: write iamstate/catalog_table.py from the installed action catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iamstate import catalog  # noqa: E402

LEVEL = "Permissions management"


def source() -> str:
    """The module's text for the installed catalogue's data version."""
    actions = "".join(f"    {json.dumps(name)},\n" for name in catalog.scan_level(LEVEL))
    keys = "".join(
        f"    {json.dumps(k)}: {json.dumps(t)},\n" for k, t in catalog.scan_condition_keys().items()
    )
    services = "".join(f"    {json.dumps(p)}: {json.dumps(t)},\n" for p, t in catalog.pack_services().items())
    return (
        '"""The action catalogue\'s answers that read every service, made by `make catalog-table` (do not edit).\n\n'
        "iamstate.catalog answers from them while DATA_VERSION is the installed catalogue's version,\n"
        'and reads every service\'s data otherwise.\n"""\n\n'
        f"DATA_VERSION = {json.dumps(catalog.data_version())}\n\n"
        f"LEVEL = {json.dumps(LEVEL)}\n"
        '"""The access level of ACTIONS."""\n\n'
        f"ACTIONS = (\n{actions})\n"
        '"""Every action at LEVEL, as AWS spells them, sorted."""\n\n'
        f"CONDITION_KEYS = {{\n{keys}}}\n"
        '"""Every condition key of every service, lower case -> its type."""\n\n'
        f"SERVICES = {{\n{services}}}\n"
        '"""Every service prefix -> its actions, ``Name:level code`` joined by commas, in the\n'
        'catalogue\'s order (codes: iamstate.catalog.LEVEL_CODES)."""\n'
    )


def main() -> None:
    path = ROOT / "iamstate" / "catalog_table.py"
    path.write_text(source())
    print(f"{path.relative_to(ROOT)} written for catalogue data {catalog.data_version()}")


if __name__ == "__main__":
    main()
