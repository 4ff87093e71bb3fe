"""``self-lockout``: the plan deletes or replaces the principal running iamstate (pure)."""

from __future__ import annotations

import re

from iamstate.model import Address, Kind, LiveAccount
from iamstate.plan import Action, Change, Severity
from iamstate.rules.base import ChangeRule, Found, RuleInput

_USER_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:user/(?:.*/)?([^/]+)")
_ASSUMED_ROLE_ARN = re.compile(r"arn:[^:]+:sts::\d{12}:assumed-role/([^/]+)/.*")
_ROLE_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:role/(?:.*/)?([^/]+)")


class SelfLockout(ChangeRule):
    id = "self-lockout"
    severity = Severity.ERROR
    order = 540
    summary = "the plan deletes or replaces the user or role that is running iamstate"
    remedy = "run iamstate as another principal, or declare the caller in the configuration"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html"

    def check(self, change: Change, live: LiveAccount, data: RuleInput) -> Found:
        caller = caller_address(live.caller_arn)
        if caller is None or change.address.key != caller.key:
            return
        if change.action in (Action.DELETE, Action.REPLACE):
            yield (
                f"would {change.action.value} {change.address}, the principal running iamstate "
                f"({live.caller_arn}): apply would lose its own access part-way"
            )


def caller_address(caller_arn: str) -> Address | None:
    """The user or role a caller ARN stands for (an assumed-role session names its role)."""
    for pattern, kind in ((_USER_ARN, Kind.USER), (_ASSUMED_ROLE_ARN, Kind.ROLE), (_ROLE_ARN, Kind.ROLE)):
        match = pattern.fullmatch(caller_arn)
        if match:
            return Address(kind, match.group(1))
    return None
