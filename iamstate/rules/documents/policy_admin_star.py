"""``policy-admin-star``: a policy allows ``*`` on ``*`` (pure).

Every resource means ``*``, ``NotResource``, or an ARN pattern open in every segment
(``arn:aws:*:*:*:*``, ``arn:*``); ``*`` on one service's resources (``arn:aws:s3:::*``)
is not full administrator access, and ``service-wildcard`` reports it. A condition does
not change the verdict unless it can never hold (:mod:`iamstate.analysis.conditions`):
then the statement grants nothing.
"""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import UNKNOWN_TIME, Found, GrantingStatementRule, RuleInput
from iamstate.rules.documents import SECURITY_HUB_IAM, full_admin
from iamstate.rules.statements import Statement


class PolicyAdminStar(GrantingStatementRule):
    id = "policy-admin-star"
    severity = Severity.ERROR
    waivable = True
    order = 230
    summary = "a policy allows `*` on `*` (full administrator), with or without a condition that can hold"
    remedy = "grant the actions the job needs; for break-glass access, waive with a reason"
    source = SECURITY_HUB_IAM + "#iam-1"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if full_admin(statement, data.now or UNKNOWN_TIME):
            yield "allows every action (*) on every resource"
