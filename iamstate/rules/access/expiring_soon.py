"""``expiring-soon``: a temporary grant ends within ``access.warn_days`` (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.access import AWS_TEMPORARY_ACCESS
from iamstate.rules.base import Found, RuleInput, TemporaryGrantRule
from iamstate.temporary import Grant, duration_text, expiring_soon


class ExpiringSoon(TemporaryGrantRule):
    id = "expiring-soon"
    severity = Severity.WARNING
    order = 810
    summary = "a temporary grant (`expires_at`) ends within `access.warn_days` (default 7)"
    remedy = (
        "if it is still needed, renew it with a later expires_at and a current reason; "
        "otherwise let it lapse and remove the entry after it expires"
    )
    source = AWS_TEMPORARY_ACCESS

    def check(self, grant: Grant, data: RuleInput) -> Found:
        now = data.config.as_of
        if now is not None and expiring_soon(grant, now, data.config.access):
            yield f"expires in {duration_text(grant.left(now))}, at {grant.until} ({grant.reason})"
