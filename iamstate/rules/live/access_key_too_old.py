"""``access-key-too-old``: an active access key older than the limit (pure).

Ages compare exact times: with a limit of 90 days, a key 90 days and one hour old
is reported.
"""

from __future__ import annotations

from datetime import timedelta

from iamstate.audit import AuditInput, CredentialRow, Level, date_text, days_text
from iamstate.rules.base import Found, UserRule
from iamstate.rules.live import SECURITY_HUB_IAM


class AccessKeyTooOld(UserRule):
    id = "access-key-too-old"
    level = Level.MEDIUM
    order = 640
    summary = "an active access key is older than `credentials.max_access_key_age_days`"
    remedy = "rotate the key: create a new one, switch its users over, then deactivate and delete the old one"
    source = SECURITY_HUB_IAM + "#iam-3"

    def check(self, row: CredentialRow, inp: AuditInput) -> Found:
        limit = inp.credentials.max_access_key_age_days
        if limit is None:
            return
        for key in row.active_keys:
            if key.last_rotated is not None and inp.now - key.last_rotated > timedelta(days=limit):
                yield (
                    f"access key {key.slot} of user {row.user} is {days_text(inp.now - key.last_rotated)} old "
                    f"(created {date_text(key.last_rotated)}; max_access_key_age_days: {limit})"
                )
