"""Regenerate every planner case's expected output: ``python -m tests.regen_cases [NAME ...]``."""

from __future__ import annotations

import sys

from tests.casekit import case_names, write_expected


def main(argv: list[str]) -> None:
    """Rewrite the expected files of the named cases (all when none are named)."""
    for name in argv or case_names():
        write_expected(name)
        print(f"regenerated tests/cases/{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
