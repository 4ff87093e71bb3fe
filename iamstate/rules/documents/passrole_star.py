"""``passrole-star``: a policy lets its holder pass every role to a service (pure).

The policy is read as the analysis reads every policy (:mod:`iamstate.analysis`): a
wildcard in any segment of a role ARN reaches every role, negated operators and
``...IfExists`` on keys a request may lack do not narrow, a condition that can never
hold grants nothing, and ``iam:PassedToService`` narrows the services a role goes
to, never which roles (:mod:`iamstate.analysis.conditions`).
"""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules.base import Document, Found, GrantingPolicyRule, RuleInput
from iamstate.rules.documents import ACCESS_ANALYZER
from iamstate.rules.statements import matches_any

PASS_ROLE = "iam:PassRole"


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
        if not any(
            s.allow and (s.has_not_action or matches_any(s.actions, PASS_ROLE)) for s in policy.statements
        ):
            return  # no statement allows iam:PassRole at all (most policies): nothing to read closely
        for grant in policy.grants(data).open_grants(PASS_ROLE):
            if grant.through in ("*", "*:*"):
                continue  # every action on every resource: policy-admin-star's finding
            yield f"{grant.statement} allows iam:PassRole (through {grant.through}) on every role"
            return
