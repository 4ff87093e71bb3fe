"""``no-password-policy``: the account has no password policy (pure)."""

from __future__ import annotations

from iamstate.audit import AuditInput, Level
from iamstate.rules.base import AccountRule, Found
from iamstate.rules.live import SECURITY_HUB_IAM


class NoPasswordPolicy(AccountRule):
    id = "no-password-policy"
    level = Level.MEDIUM
    order = 670
    summary = "the account has no password policy"
    remedy = "declare `password_policy:` (minimum_length 14, reuse_prevention 24) and apply it"
    source = SECURITY_HUB_IAM + "#iam-7"

    def check(self, inp: AuditInput) -> Found:
        if not inp.has_password_policy:
            yield "the account has no password policy (IAM's defaults apply)"
