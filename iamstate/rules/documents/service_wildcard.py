"""``service-wildcard``: an Allow of every action of a service (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import UNKNOWN_TIME, Found, GrantingStatementRule, RuleInput
from iamstate.rules.documents import SECURITY_HUB_IAM, full_admin
from iamstate.rules.statements import Statement


class ServiceWildcard(GrantingStatementRule):
    id = "service-wildcard"
    severity = Severity.WARNING
    waivable = True
    order = 270
    summary = "Allow `service:*` (or `*` on specific resources)"
    remedy = "list the actions the job needs (the access summary of the plan shows what service:* adds)"
    source = SECURITY_HUB_IAM + "#iam-21"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if not statement.allow or full_admin(statement, data.now or UNKNOWN_TIME):
            return
        wild = [a for a in statement.actions if a == "*" or a.endswith(":*")]
        if wild:
            shown = ", ".join("* (every service)" if a == "*" else a for a in wild)
            yield f"allows every action of {shown}"
