"""``trust-any-principal``: a trust statement lets anyone assume the role (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import UNKNOWN_TIME, Found, RuleInput, TrustStatementRule
from iamstate.rules.statements import PRINCIPAL_GUARD_KEYS, Statement
from iamstate.rules.trust import ROLES_GUIDE, admits_nobody, narrows


class TrustAnyPrincipal(TrustStatementRule):
    id = "trust-any-principal"
    severity = Severity.ERROR
    waivable = True
    order = 410
    summary = (
        "trust Principal `*` without a condition that narrows it (aws:PrincipalOrgID, "
        "aws:PrincipalArn, aws:SourceAccount, ...)"
    )
    remedy = "name the accounts or roles that may assume the role, or add aws:PrincipalOrgID"
    source = ROLES_GUIDE + "reference_policies_elements_principal.html#principal-anonymous"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if not statement.allow or admits_nobody(statement, data.now or UNKNOWN_TIME):
            return
        wildcard = statement.principal == "*" or any(
            "*" in statement.principals(kind) for kind in ("AWS", "Federated", "Service")
        )
        if wildcard and not any(narrows(e, *PRINCIPAL_GUARD_KEYS) for e in statement.conditions):
            yield "lets any principal (*) assume the role"
