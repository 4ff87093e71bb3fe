"""``passrole-star``: a policy lets its holder pass every role to a service (pure)."""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import Document, Found, GrantingPolicyRule, RuleInput
from iamstate.rules.documents import ACCESS_ANALYZER
from iamstate.rules.statements import unconstrained_grant


class PassroleStar(GrantingPolicyRule):
    id = "passrole-star"
    severity = Severity.ERROR
    waivable = True
    order = 240
    summary = (
        "iam:PassRole (also through `iam:*`, `iam:Pass*`, `*` or NotAction) on every role, "
        "without a condition that narrows which roles (iam:PassedToService does not)"
    )
    remedy = "list the role ARNs that may be passed in Resource"
    source = (
        ACCESS_ANALYZER
        + "#access-analyzer-reference-policy-checks-security-warning-pass-role-with-star-in-resource"
    )

    def check(self, policy: Document, data: RuleInput) -> Found:
        s = unconstrained_grant(policy.statements, "iam:PassRole", ignore_keys=("iam:passedtoservice",))
        if s is not None:
            yield f"{s.label} allows iam:PassRole (through {s.granting_pattern('iam:PassRole')}) on every role"
