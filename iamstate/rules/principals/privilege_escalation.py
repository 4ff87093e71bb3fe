"""``privilege-escalation``: a user, group or role can grant itself more than it was given (pure).

Reads the whole-account analysis (:mod:`iamstate.analysis.escalation`): the principal's
effective permissions across all its policies and its groups', the roles it can assume,
the roles it can pass to a service. One finding per principal, naming its first path
in full (the method, its source, and for each action the policy that grants it) and
the methods of the others; ``iamstate explain ADDRESS`` shows every path.
"""

from __future__ import annotations

from iamstate.analysis.escalation import RHINO, EscalationPath, format_path
from iamstate.model import Address, Kind
from iamstate.plan import Severity
from iamstate.rules.base import Found, Principal, PrincipalRule, RuleInput, named

SHOWN = 3
"""Other methods named in a message; ``explain`` shows them all."""


class PrivilegeEscalation(PrincipalRule):
    id = "privilege-escalation"
    severity = Severity.ERROR
    waivable = True
    order = 710
    summary = (
        "a user, group or role can escalate: across all its policies (and its groups'), or by "
        "assuming or passing a role, it holds every action of a published escalation method on every "
        "resource (or on itself) without a narrowing condition"
    )
    remedy = (
        "scope or remove one of the named actions in the policy that grants it; a principal whose job "
        "is to change IAM is waived on that user, group or role with a reason"
    )
    source = RHINO

    def check(self, principal: Principal, data: RuleInput) -> Found:
        paths = principal.analysis.own_paths(principal.address)
        if not paths:
            return
        first = paths[0]
        text = f"can escalate by {_methods(first)}: {format_path(first)}"
        others = [n for n in dict.fromkeys(" then ".join(m.name for m in p.methods) for p in paths[1:])]
        if others:
            more = ", ..." if len(others) > SHOWN else ""
            text += (
                f"; also by {len(others)} more ({', '.join(others[:SHOWN])}{more}; "
                f"iamstate explain {principal.address} shows every path)"
            )
        yield text + _stale_waivers(principal.address, paths, data)


def _methods(path: EscalationPath) -> str:
    return " then ".join(f"{m.name} ({m.source})" for m in path.methods)


def _stale_waivers(principal: Address, paths: tuple[EscalationPath, ...], data: RuleInput) -> str:
    """A note when a policy on the paths carries a privilege-escalation waiver: waivers are
    per principal now, so it no longer counts."""
    policies = {
        Address(Kind.POLICY, step.policy)
        for path in paths
        for step in (*path.steps, *(s for hop in path.hops for s in hop.steps))
        if step.policy_kind == "customer"
    }
    waived = sorted(
        str(named(p)) for p in policies if "privilege-escalation" in data.config.exceptions.get(p, {})
    )
    if not waived:
        return ""
    return (
        f" (the privilege-escalation waiver on {', '.join(waived)} does not apply: "
        f"waive it on {named(principal)}, the principal that escalates)"
    )
