"""Rules on the account: password policy, the caller, and what a plan deletes (pure).

The last three need the live account (plan and apply): the caller's ARN, the
owned live entities and the planned changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from iamstate.kinds.password_policy import PasswordPolicy
from iamstate.model import PASSWORD_POLICY_ADDRESS, Address, Kind
from iamstate.ownership import owned_by
from iamstate.plan import Action, Finding, Severity
from iamstate.rules import MASS_DELETE_FLAG, Rule, RuleInput, location, register

CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
MIN_PASSWORD_LENGTH = 14
MIN_REUSE_PREVENTION = 24
MASS_DELETE_MAX = 20
"""More deletes than this always count as a mass delete."""
MASS_DELETE_SMALL = 3
"""Up to this many deletes never count as a mass delete, whatever the share."""

_USER_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:user/(?:.*/)?([^/]+)")
_ASSUMED_ROLE_ARN = re.compile(r"arn:[^:]+:sts::\d{12}:assumed-role/([^/]+)/.*")
_ROLE_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:role/(?:.*/)?([^/]+)")


def _password_policy_weak(data: RuleInput) -> Iterator[Finding]:
    found = data.config.state.get(PASSWORD_POLICY_ADDRESS)
    if not isinstance(found, PasswordPolicy):
        return
    problems = []
    if found.minimum_length < MIN_PASSWORD_LENGTH:
        problems.append(f"minimum_length is {found.minimum_length} (CIS asks for {MIN_PASSWORD_LENGTH})")
    if found.reuse_prevention is None or found.reuse_prevention < MIN_REUSE_PREVENTION:
        shown = "not set" if found.reuse_prevention is None else f"{found.reuse_prevention}"
        problems.append(f"reuse_prevention is {shown} (CIS asks for {MIN_REUSE_PREVENTION})")
    if problems:
        yield PASSWORD_POLICY_WEAK.finding(
            str(PASSWORD_POLICY_ADDRESS),
            "the password policy is weak: " + "; ".join(problems),
            location(data.config, PASSWORD_POLICY_ADDRESS),
        )


PASSWORD_POLICY_WEAK = register(
    Rule(
        "password-policy-weak",
        Severity.ERROR,
        waivable=True,
        summary="password_policy has minimum_length < 14 or reuse_prevention < 24 (or unset) (CIS)",
        remedy="set minimum_length: 14 (or more) and reuse_prevention: 24",
        source=CIS + " (1.8 and 1.9: password length and reuse)",
        check=_password_policy_weak,
    )
)


def _root_caller(data: RuleInput) -> Iterator[Finding]:
    if data.live is not None and data.live.caller_arn.endswith(":root"):
        yield ROOT_CREDENTIALS_IN_USE.finding(
            "account", f"the caller {data.live.caller_arn} is the root user"
        )


ROOT_CREDENTIALS_IN_USE = register(
    Rule(
        "root-credentials-in-use",
        Severity.ERROR,
        waivable=False,
        summary="the caller is the root user",
        remedy="run iamstate with a role or an IAM user's credentials, never the root user's",
        source=CIS + " (1.7: eliminate use of the root user)",
        check=_root_caller,
        needs_live=True,
    )
)


def is_mass_delete(deletes: int, owned: int) -> bool:
    """More than 20 deletes, or more than 3 that are over half of the owned live entities."""
    return deletes > MASS_DELETE_MAX or (deletes > MASS_DELETE_SMALL and deletes * 2 > owned)


def _mass_delete(data: RuleInput) -> Iterator[Finding]:
    if data.live is None:
        return
    deleted = [str(c.address) for c in data.changes if c.action is Action.DELETE]
    config = data.config
    owned = owned_by(config, data.live.state).owned
    if is_mass_delete(len(deleted), len(owned)):
        shown = ", ".join(deleted[:5]) + (f" and {len(deleted) - 5} more" if len(deleted) > 5 else "")
        yield MASS_DELETE.finding(
            "plan",
            f"the plan deletes {len(deleted)} of {len(owned)} owned live entities: {shown}",
        )


MASS_DELETE = register(
    Rule(
        "mass-delete",
        Severity.ERROR,
        waivable=False,
        waiver_flag=MASS_DELETE_FLAG,
        summary="the plan deletes more than 20 entities, or more than 3 that are over half of the owned "
        "live entities (replaces do not count)",
        remedy=f"check that PATH and scope are right; if the deletes are intended, pass {MASS_DELETE_FLAG}",
        source="https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy",
        check=_mass_delete,
        needs_live=True,
    )
)


def caller_address(caller_arn: str) -> Address | None:
    """The user or role a caller ARN stands for (an assumed-role session names its role)."""
    for pattern, kind in ((_USER_ARN, Kind.USER), (_ASSUMED_ROLE_ARN, Kind.ROLE), (_ROLE_ARN, Kind.ROLE)):
        match = pattern.fullmatch(caller_arn)
        if match:
            return Address(kind, match.group(1))
    return None


def _self_lockout(data: RuleInput) -> Iterator[Finding]:
    if data.live is None:
        return
    caller = caller_address(data.live.caller_arn)
    if caller is None:
        return
    for change in data.changes:
        if change.address.key == caller.key and change.action in (Action.DELETE, Action.REPLACE):
            yield SELF_LOCKOUT.finding(
                str(change.address),
                f"the plan would {change.action.value} {change.address}, the principal running iamstate "
                f"({data.live.caller_arn}): apply would lose its own access part-way",
                location(data.config, change.address),
            )


SELF_LOCKOUT = register(
    Rule(
        "self-lockout",
        Severity.ERROR,
        waivable=False,
        summary="the plan deletes or replaces the user or role that is running iamstate",
        remedy="run iamstate as another principal, or declare the caller in the configuration",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html",
        check=_self_lockout,
        needs_live=True,
    )
)
