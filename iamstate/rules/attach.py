"""Rules on attachments: which policies are attached to what (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from iamstate.model import Address, Kind
from iamstate.plan import Finding, Severity
from iamstate.rules import Rule, RuleInput, location, named, register

ADMIN_POLICY = re.compile(r"arn:[\w-]+:iam::aws:policy/AdministratorAccess", re.IGNORECASE)
"""AWS's AdministratorAccess (any partition); not AdministratorAccess-Amplify and the like."""


def _attach_admin_managed(data: RuleInput) -> Iterator[Finding]:
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
        for resource in data.config.state.of_kind(kind):
            address = Address(kind, resource.name)
            for arn in sorted(getattr(resource, "policies", ())):
                if ADMIN_POLICY.fullmatch(arn):
                    yield ATTACH_ADMIN_MANAGED.finding(
                        str(address),
                        f"{named(address)} has {arn} attached: full access to every service",
                        location(data.config, address),
                    )


ATTACH_ADMIN_MANAGED = register(
    Rule(
        "attach-admin-managed",
        Severity.ERROR,
        waivable=True,
        summary="AWS's AdministratorAccess is attached to a group, user or role "
        "(as a permissions boundary it is fine)",
        remedy="attach policies that grant what the job needs; for break-glass roles, waive with a reason",
        source="https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-1",
        check=_attach_admin_managed,
    )
)


def _user_direct_policy(data: RuleInput) -> Iterator[Finding]:
    for resource in data.config.state.of_kind(Kind.USER):
        policies = sorted(getattr(resource, "policies", ()))
        if policies:
            address = Address(Kind.USER, resource.name)
            names = ", ".join(arn.rsplit("/", 1)[-1] for arn in policies)
            yield USER_DIRECT_POLICY.finding(
                str(address),
                f"{named(address)} has policies attached directly: {names}",
                location(data.config, address),
            )


USER_DIRECT_POLICY = register(
    Rule(
        "user-direct-policy",
        Severity.ERROR,
        waivable=True,
        summary="a policy is attached directly to a user (users[].policies)",
        remedy="attach the policy to a group and add the user to it (users[].groups)",
        source="https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-2",
        check=_user_direct_policy,
    )
)
