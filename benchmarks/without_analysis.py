"""Run the iamstate CLI with the whole-account analysis switched off, to time what it costs.

    .venv/bin/python benchmarks/without_analysis.py plan PATH [OPTIONS]

The same command line as ``python -m iamstate``, but with everything the analysis adds
to a plan left out: the AWS-managed policy reads, the two analyses (the account as
apply leaves it, and the live one), the rules that read them (privilege-escalation
and the exposure rules) and the per-principal access section. What remains is the
plan as it was before the analysis was wired in (with the document rules as they
read policies now). A benchmark tool, never the product: the product has no such
switch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def switch_off() -> None:
    """Replace the analysis' entry points in the shell and the rule engine with no-ops."""
    from iamstate.aws import managed
    from iamstate.commands import shared
    from iamstate.rules import base

    def no_reads(iam: Any, arns: Any, **_: Any) -> managed.ManagedDocuments:
        return managed.ManagedDocuments({})

    def no_subjects(self: Any, walk: Any) -> Iterator[Any]:
        return iter(())

    managed.read_managed_policies = no_reads  # type: ignore[assignment]
    shared.analysed = lambda data: data  # type: ignore[assignment]
    shared.plan_access = lambda data: []  # type: ignore[assignment]
    base.PrincipalRule.subjects = no_subjects  # type: ignore[method-assign]


if __name__ == "__main__":
    switch_off()
    from iamstate.cli import main

    sys.argv[0] = "iamstate"
    main()
