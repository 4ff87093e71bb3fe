"""``credential-unused``: a console password or active access key unused for too long (pure).

A password counts from its last use, else from when it was set, else from the
user's creation; a key from its last use, else from its creation.
"""

from __future__ import annotations

from datetime import timedelta

from iamstate.audit import AuditInput, CredentialRow, Level, date_text, days_text, unused_for
from iamstate.rules.base import Found, UserRule
from iamstate.rules.live import SECURITY_HUB_IAM


class CredentialUnused(UserRule):
    id = "credential-unused"
    level = Level.MEDIUM
    order = 650
    summary = (
        "a console password or active access key was not used for `credentials.max_unused_days`; "
        "one never used counts from its creation"
    )
    remedy = (
        "deactivate the access key or delete the console password; "
        "`credentials.stale_access_keys: deactivate` lets apply deactivate stale keys"
    )
    source = SECURITY_HUB_IAM + "#iam-8"

    def check(self, row: CredentialRow, inp: AuditInput) -> Found:
        limit = inp.credentials.max_unused_days
        if limit is None:
            return
        if row.password_enabled:
            since = row.password_last_used or row.password_last_changed or row.created
            if since is not None and inp.now - since > timedelta(days=limit):
                what = (
                    f"last used {date_text(since)}"
                    if row.password_last_used
                    else f"never used since it was set {date_text(since)}"
                )
                yield (
                    f"the console password of user {row.user} is unused for {days_text(inp.now - since)} "
                    f"({what}; max_unused_days: {limit})"
                )
        for key in row.active_keys:
            idle = unused_for(key, inp.now)
            if idle is not None and idle > timedelta(days=limit):
                what = (
                    f"last used {date_text(key.last_used)}"
                    if key.last_used
                    else f"never used since it was created {date_text(key.last_rotated)}"
                )
                yield (
                    f"access key {key.slot} of user {row.user} is unused for {days_text(idle)} "
                    f"({what}; max_unused_days: {limit})"
                )
