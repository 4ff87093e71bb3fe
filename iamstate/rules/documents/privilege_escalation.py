"""``privilege-escalation``: a policy grants a published escalation method (pure).

Methods (:mod:`iamstate.rules.escalation`) match one policy at a time: when every
action of a method is granted on every resource without a constraining condition.
"""

from __future__ import annotations

from collections.abc import Sequence

from iamstate.plan import Severity
from iamstate.rules.base import Document, Found, GrantingPolicyRule, RuleInput
from iamstate.rules.escalation import METHODS, RHINO, Method
from iamstate.rules.statements import Statement, unconstrained_grant

SHOWN = 3
"""Methods named in a message; the rest are counted."""


class PrivilegeEscalation(GrantingPolicyRule):
    id = "privilege-escalation"
    severity = Severity.ERROR
    waivable = True
    order = 250
    summary = (
        "a policy grants every action of a published escalation method (Rhino Security Labs, "
        "Cloudsplaining, Prowler) on every resource without a constraining condition"
    )
    remedy = "scope the named actions' Resource to specific ARNs, or add a condition that narrows them"
    source = RHINO

    def check(self, policy: Document, data: RuleInput) -> Found:
        found = escalation_methods(policy.statements)
        if not found:
            return
        shown = ", ".join(f"{m.name} ({' + '.join(m.actions)})" for m, _ in found[:SHOWN])
        more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        how = ", ".join(dict.fromkeys(s.label for _, grants in found for s in grants))
        yield (
            f"allows privilege escalation by {shown}{more}: granted on every resource "
            f"without a constraining condition by {how}"
        )


def escalation_methods(stmts: Sequence[Statement]) -> list[tuple[Method, list[Statement]]]:
    """The published methods every action of which the statements grant unconstrained,
    each with the granting statements (in the order of the method's actions)."""
    found = []
    for method in METHODS:
        grants = [unconstrained_grant(stmts, action) for action in method.actions]
        if all(g is not None for g in grants):
            found.append((method, [g for g in grants if g is not None]))
    return found
