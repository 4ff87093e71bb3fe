"""Rules on principals: what each user, group and role can do across all its policies (pure).

They read the whole-account analysis (:mod:`iamstate.analysis`): a user's own policies
and its groups', the roles it can assume or pass, its permissions boundary. A user
whose finding is wholly granted by one of its groups is not reported again: the
group's finding, or the group's waiver, speaks for every member.

The exposure rules are warnings about standing access: ``validate`` reports every
exposure, while at plan time they report what the plan introduces (a principal that
was not exposed so in the live account). The plan's access section and ``explain``
show every exposure of the principals they list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from iamstate.analysis.account import AccountAnalysis
from iamstate.analysis.escalation import Step, administrator_grant
from iamstate.analysis.exposure import ExposureClass
from iamstate.model import Address
from iamstate.rules.base import Found, Principal, PrincipalRule, RuleInput

SHOWN_ACTIONS = 4
"""Actions named per exposure class in a message; the rest are counted."""


def granted_by(steps: Sequence[Step]) -> str:
    """``group.data (policy reports-read: s3:GetObject, ssm:GetParameter and 3 more)``: each
    holder and policy, with the actions it grants."""
    grouped: dict[tuple[Address, str, str], list[str]] = {}
    for step in steps:
        actions = grouped.setdefault((step.holder, step.policy, step.policy_kind), [])
        if step.action not in actions:
            actions.append(step.action)
    parts = []
    for (holder, policy, kind), actions in grouped.items():
        shown = ", ".join(actions[:SHOWN_ACTIONS])
        more = f" and {len(actions) - SHOWN_ACTIONS} more" if len(actions) > SHOWN_ACTIONS else ""
        parts.append(
            f"{holder} ({'inline policy' if kind == 'inline' else 'policy'} {policy}: {shown}{more})"
        )
    return " + ".join(parts)


class ExposureRule(PrincipalRule):
    """A principal falls in one of Cloudsplaining's exposure classes; the message names each
    action with what grants it."""

    exposure: ClassVar[ExposureClass]
    what: ClassVar[str]
    """What the principal can do, after its name: ``can obtain credentials ...``."""

    def check(self, principal: Principal, data: RuleInput) -> Found:
        address = principal.address
        if not _exposed(principal.analysis, address, self.exposure):
            return
        live = principal.live
        if live is not None and _exposed(live, address, self.exposure):
            return  # standing access: the plan does not introduce it
        for found in principal.analysis.own_exposures(address):
            if found.exposure is self.exposure:
                yield f"{self.what}: {granted_by(found.steps)}"


def _exposed(analysis: AccountAnalysis, address: Address, exposure: ExposureClass) -> bool:
    """True when ``address`` falls in ``exposure`` on its own (not as a full administrator, and
    not only through a group that is exposed so too)."""
    if not any(e.exposure is exposure for e in analysis.exposures(address)):
        return False  # most principals: its own exposures are among these (a cheap look first)
    perms = analysis.permissions.get(address)
    if perms is None or administrator_grant(perms) is not None:
        return False
    return any(e.exposure is exposure for e in analysis.own_exposures(address))
