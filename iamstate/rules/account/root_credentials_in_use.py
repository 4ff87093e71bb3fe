"""``root-credentials-in-use``: iamstate runs as the root user (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.account import CIS
from iamstate.rules.base import CallerRule, Found, RuleInput


class RootCredentialsInUse(CallerRule):
    id = "root-credentials-in-use"
    severity = Severity.ERROR
    order = 520
    summary = "the caller is the root user"
    remedy = "run iamstate with a role or an IAM user's credentials, never the root user's"
    source = CIS + " (1.7: eliminate use of the root user)"

    def check(self, caller_arn: str, data: RuleInput) -> Found:
        if caller_arn.endswith(":root"):
            yield "is the root user"
