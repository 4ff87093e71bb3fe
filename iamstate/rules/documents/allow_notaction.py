"""``allow-notaction``: an Allow with NotAction or NotResource (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import Found, GrantingStatementRule, RuleInput
from iamstate.rules.documents import ACCESS_ANALYZER
from iamstate.rules.statements import Statement


class AllowNotaction(GrantingStatementRule):
    id = "allow-notaction"
    severity = Severity.WARNING
    waivable = True
    order = 260
    summary = "Allow with NotAction or NotResource"
    remedy = "list what is allowed with Action/Resource; keep NotAction for Deny statements"
    source = (
        ACCESS_ANALYZER + "#access-analyzer-reference-policy-checks-security-warning-allow-with-not-action"
    )

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if statement.allow and (statement.has_not_action or statement.has_not_resource):
            which = " and ".join(k for k in ("NotAction", "NotResource") if k in statement.data)
            yield f"allows with {which}: everything except what it lists, including actions AWS adds later"
