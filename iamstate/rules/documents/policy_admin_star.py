"""``policy-admin-star``: a policy allows ``*`` on ``*`` (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import Found, GrantingStatementRule, RuleInput
from iamstate.rules.documents import SECURITY_HUB_IAM
from iamstate.rules.statements import Statement


class PolicyAdminStar(GrantingStatementRule):
    id = "policy-admin-star"
    severity = Severity.ERROR
    waivable = True
    order = 230
    summary = "a policy allows `*` on `*` (full administrator), with or without a condition"
    remedy = "grant the actions the job needs; for break-glass access, waive with a reason"
    source = SECURITY_HUB_IAM + "#iam-1"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if statement.full_admin:
            yield "allows every action (*) on every resource"
