"""``user-direct-policy``: a policy attached directly to a user (pure)."""

from __future__ import annotations

from iamstate.model import Kind, Resource
from iamstate.plan import Severity
from iamstate.rules.attach import SECURITY_HUB_IAM
from iamstate.rules.base import EntityRule, Found, RuleInput


class UserDirectPolicy(EntityRule):
    id = "user-direct-policy"
    severity = Severity.ERROR
    waivable = True
    order = 320
    kinds = (Kind.USER,)
    summary = "a policy is attached directly to a user (users[].policies)"
    remedy = "attach the policy to a group and add the user to it (users[].groups)"
    source = SECURITY_HUB_IAM + "#iam-2"

    def check(self, entity: Resource, data: RuleInput) -> Found:
        policies = sorted(getattr(entity, "policies", ()))
        if policies:
            yield f"has policies attached directly: {', '.join(arn.rsplit('/', 1)[-1] for arn in policies)}"
