"""``trust-notprincipal``: a trust statement Allows with NotPrincipal (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import Found, RuleInput, TrustStatementRule
from iamstate.rules.statements import Statement
from iamstate.rules.trust import ROLES_GUIDE


class TrustNotprincipal(TrustStatementRule):
    id = "trust-notprincipal"
    severity = Severity.ERROR
    order = 420
    summary = "a trust statement Allows with NotPrincipal"
    remedy = "list who may assume the role under Principal"
    source = ROLES_GUIDE + "reference_policies_elements_notprincipal.html"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if statement.allow and "NotPrincipal" in statement.data:
            yield "allows with NotPrincipal: everyone but the listed principals may assume the role"
