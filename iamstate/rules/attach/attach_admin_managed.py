"""``attach-admin-managed``: AWS's AdministratorAccess attached to a group, user or role (pure)."""

from __future__ import annotations

import re

from iamstate.model import Kind, Resource
from iamstate.plan import Severity
from iamstate.rules.attach import SECURITY_HUB_IAM
from iamstate.rules.base import EntityRule, Found, RuleInput

ADMIN_POLICY = re.compile(r"arn:[\w-]+:iam::aws:policy/AdministratorAccess", re.IGNORECASE)
"""AWS's AdministratorAccess (any partition); not AdministratorAccess-Amplify and the like."""


class AttachAdminManaged(EntityRule):
    id = "attach-admin-managed"
    severity = Severity.ERROR
    waivable = True
    order = 310
    kinds = (Kind.GROUP, Kind.USER, Kind.ROLE)
    summary = "AWS's AdministratorAccess is attached to a group, user or role (as a permissions boundary it is fine)"
    remedy = "attach policies that grant what the job needs; for break-glass roles, waive with a reason"
    source = SECURITY_HUB_IAM + "#iam-1"

    def check(self, entity: Resource, data: RuleInput) -> Found:
        for arn in sorted(getattr(entity, "policies", ())):
            if ADMIN_POLICY.fullmatch(arn):
                yield f"has {arn} attached: full access to every service"
