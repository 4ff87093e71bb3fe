"""``mass-delete``: the plan deletes many entities, or most of those owned (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from iamstate.model import LiveAccount
from iamstate.ownership import owned_by
from iamstate.plan import Action, Change, Severity
from iamstate.rules.base import MASS_DELETE_FLAG, Found, PlanRule, RuleInput

MASS_DELETE_MAX = 20
"""More deletes than this always count as a mass delete."""
MASS_DELETE_SMALL = 3
"""Up to this many deletes never count as a mass delete, whatever the share."""
SHOWN = 5
"""Deleted addresses named in the message; the rest are counted."""


class MassDelete(PlanRule):
    id = "mass-delete"
    severity = Severity.ERROR
    waiver_flag = MASS_DELETE_FLAG
    order = 530
    summary = (
        "the plan deletes more than 20 entities, or more than 3 that are over half of the owned "
        "live entities (replaces do not count)"
    )
    remedy = f"check that PATH and scope are right; if the deletes are intended, pass {MASS_DELETE_FLAG}"
    source = "https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy"

    def check(self, changes: Sequence[Change], live: LiveAccount, data: RuleInput) -> Found:
        deleted = [str(c.address) for c in changes if c.action is Action.DELETE]
        owned = owned_by(data.config, live.state).owned
        if is_mass_delete(len(deleted), len(owned)):
            more = f" and {len(deleted) - SHOWN} more" if len(deleted) > SHOWN else ""
            yield f"deletes {len(deleted)} of {len(owned)} owned live entities: {', '.join(deleted[:SHOWN])}{more}"


def is_mass_delete(deletes: int, owned: int) -> bool:
    """More than 20 deletes, or more than 3 that are over half of the owned live entities."""
    return deletes > MASS_DELETE_MAX or (deletes > MASS_DELETE_SMALL and deletes * 2 > owned)
