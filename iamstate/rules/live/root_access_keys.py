"""``root-access-keys``: the root user has access keys (pure)."""

from __future__ import annotations

from iamstate.audit import AuditInput, Level
from iamstate.rules.base import Found, RootRule
from iamstate.rules.live import SECURITY_HUB_IAM


class RootAccessKeys(RootRule):
    id = "root-access-keys"
    level = Level.CRITICAL
    order = 610
    summary = (
        "the root user has access keys (GetAccountSummary's AccountAccessKeysPresent, "
        "or an active key in the report's root row)"
    )
    remedy = (
        "delete the root user's access keys (sign in as root, Security credentials); "
        "use IAM roles or users for programmatic access"
    )
    source = SECURITY_HUB_IAM + "#iam-4"

    def check(self, inp: AuditInput) -> Found:
        row = inp.root_row
        active = len(row.active_keys) if row is not None else 0
        if inp.summary.get("AccountAccessKeysPresent", 0) or active:
            count = f"{active} active access key{'s' if active != 1 else ''}" if active else "access keys"
            yield f"the root user has {count}"
