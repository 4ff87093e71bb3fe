"""``trust-cross-account-unguarded``: another account trusted without a guard (pure)."""

from __future__ import annotations

import re

from iamstate.plan import Severity
from iamstate.rules.base import UNKNOWN_TIME, Found, RuleInput, TrustStatementRule
from iamstate.rules.statements import Statement, lets_aws_principals_assume, requires_mfa
from iamstate.rules.trust import ROLES_GUIDE, admits_nobody, narrows

OWN_ACCOUNT_PLACEHOLDER = "000000000000"
"""What the loader writes for ``${account_id}`` when ``account.id`` is absent."""
_ACCOUNT_IN_ARN = re.compile(r"arn:[^:]*:(?:iam|sts)::(\d{12}):")


class TrustCrossAccountUnguarded(TrustStatementRule):
    id = "trust-cross-account-unguarded"
    severity = Severity.WARNING
    waivable = True
    order = 440
    summary = "another account is trusted without an sts:ExternalId, aws:PrincipalOrgID or MFA condition"
    remedy = "add trusted.external_id (third parties), trusted.require_mfa (people), or aws:PrincipalOrgID"
    source = ROLES_GUIDE + "id_roles_create_for-user_externalid.html"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if not lets_aws_principals_assume(statement) or admits_nobody(statement, data.now or UNKNOWN_TIME):
            return
        others = other_accounts(statement, data.config.account_id or OWN_ACCOUNT_PLACEHOLDER)
        guarded = requires_mfa(statement) or any(
            narrows(e, "sts:externalid", "aws:principalorgid", "aws:principalorgpaths")
            for e in statement.conditions
        )
        if others and not guarded:
            yield (
                f"lets account {', '.join(others)} assume the role "
                "without an ExternalId, PrincipalOrgID or MFA condition"
            )


def other_accounts(statement: Statement, own: str) -> list[str]:
    """The accounts other than ``own`` whose principals the statement names, in order."""
    accounts = []
    for principal in statement.principals("AWS"):
        match = _ACCOUNT_IN_ARN.match(principal)
        account = match.group(1) if match else principal if re.fullmatch(r"\d{12}", principal) else None
        if account and account not in (own, OWN_ACCOUNT_PLACEHOLDER) and account not in accounts:
            accounts.append(account)
    return accounts
