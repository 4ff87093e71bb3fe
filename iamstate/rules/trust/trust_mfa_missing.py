"""``trust-mfa-missing``: ``require_mfa: true`` next to a trust document that does not require it (pure).

A role with a full ``trust:`` document may say ``require_mfa: true``; the loader
records such roles (:attr:`~iamstate.model.DesiredConfig.require_mfa`), and this
rule checks that every statement letting AWS principals assume the role requires
MFA. Listed right after the refusals: like them it is about what the YAML says.
"""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import Document, Found, RuleInput, TrustPolicyRule
from iamstate.rules.statements import lets_aws_principals_assume, requires_mfa
from iamstate.rules.trust import ROLES_GUIDE


class TrustMfaMissing(TrustPolicyRule):
    id = "trust-mfa-missing"
    severity = Severity.ERROR
    order = 130
    summary = (
        "a role with a full `trust:` document and `require_mfa: true` has an AWS-principal "
        "statement without `Bool aws:MultiFactorAuthPresent: true`"
    )
    remedy = (
        'add Condition: {Bool: {aws:MultiFactorAuthPresent: "true"}} to the statement, '
        "or use trusted: with require_mfa: true"
    )
    source = ROLES_GUIDE + "id_credentials_mfa_configure-api-require.html"
    reads_holder = True  # whether the role says require_mfa

    def check(self, trust: Document, data: RuleInput) -> Found:
        if trust.address not in data.config.require_mfa:
            return
        missing = [s.label for s in trust.statements if lets_aws_principals_assume(s) and not requires_mfa(s)]
        if missing:
            yield (
                f"declares require_mfa: true, but its trust {', '.join(missing)} "
                "lets AWS principals assume it without MFA"
            )
