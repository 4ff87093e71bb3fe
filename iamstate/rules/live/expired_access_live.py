"""``expired-access-live``: a temporary grant has expired, and live IAM still holds it (pure).

Memberships, attachments and whole users and roles cannot carry a condition: after
``expires_at`` the next plan removes them, and until an apply does, or when someone
puts one back by hand, drift reports it here. Statements and trust entries carry
``DateLessThan aws:CurrentTime``, so AWS itself stops honouring them.
"""

from __future__ import annotations

from iamstate.audit import AuditInput, Level
from iamstate.rules.access import AWS_TEMPORARY_ACCESS
from iamstate.rules.base import Found, LiveGrantRule
from iamstate.temporary import Grant, duration_text


class ExpiredAccessLive(LiveGrantRule):
    id = "expired-access-live"
    level = Level.HIGH
    order = 695
    summary = "a membership, attachment, user or role whose `expires_at` has passed is still in live IAM"
    remedy = (
        "apply the configuration to remove it (the plan does); if it was put back by hand, find out who "
        "did and why, and renew the grant in the configuration if it is still needed"
    )
    source = AWS_TEMPORARY_ACCESS

    def check(self, grant: Grant, inp: AuditInput) -> Found:
        if grant.expired(inp.now) and grant.held_in(inp.live):
            ago = duration_text(grant.left(inp.now))
            yield f"{grant.subject} expired at {grant.until} ({ago} ago; {grant.reason}) and is still live"
