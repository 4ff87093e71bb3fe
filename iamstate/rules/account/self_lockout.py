"""``self-lockout``: the plan takes away the access of the principal running iamstate (pure).

Apply runs as that principal: deleting or replacing it, detaching its policies,
deleting its inline policies, removing it from its groups, detaching or deleting
what its groups grant, or changing its trust policy or permissions boundary can
cut the apply off part-way, and leave no one able to finish it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from iamstate.model import Address, Json, Kind, LiveAccount
from iamstate.plan import Action, Change, Severity
from iamstate.rules.base import ChangeRule, Found, RuleInput

_USER_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:user/(?:.*/)?([^/]+)")
_ASSUMED_ROLE_ARN = re.compile(r"arn:[^:]+:sts::\d{12}:assumed-role/([^/]+)/.*")
_ROLE_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:role/(?:.*/)?([^/]+)")


class SelfLockout(ChangeRule):
    id = "self-lockout"
    severity = Severity.ERROR
    order = 540
    summary = (
        "the plan deletes or replaces the user or role running iamstate, or removes its own access: "
        "its policies, groups, trust or permissions boundary"
    )
    remedy = "run iamstate as another principal for this change, or keep the caller's own access as it is"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html"

    def check(self, change: Change, live: LiveAccount, data: RuleInput) -> Found:
        caller = caller_address(live.caller_arn)
        if caller is None:
            return
        running = f"the principal running iamstate ({live.caller_arn})"
        if change.address.key == caller.key:
            if change.action in (Action.DELETE, Action.REPLACE):
                yield f"would {change.action.value} {change.address}, {running}: apply would lose its own access part-way"
                return
            for what in _own_access_removed(change):
                yield f"{what} of {change.address}, {running}: apply could lose its own access part-way"
            return
        caller_entity = live.state.get(caller)
        if caller_entity is None:
            return
        groups = {g.lower() for g in getattr(caller_entity, "groups", ())}
        if change.address.kind is Kind.GROUP and change.address.name.lower() in groups:
            if change.action in (Action.DELETE, Action.REPLACE):
                yield f"would {change.action.value} {change.address}, a group of {running}"
            else:
                for what in _own_access_removed(change):
                    yield f"{what} of {change.address}, a group of {running}"
        if change.address.kind is Kind.POLICY and change.action in (Action.DELETE, Action.REPLACE):
            arn = str(getattr(live.state.get(change.address), "arn", ""))
            through = [
                str(holder)
                for holder in (
                    caller,
                    *(Address(Kind.GROUP, g) for g in getattr(caller_entity, "groups", ())),
                )
                if arn and arn in getattr(live.state.get(holder), "policies", ())
            ]
            if through:
                yield (
                    f"would {change.action.value} {change.address}, which grants {running} its access "
                    f"(attached to {', '.join(through)})"
                )


def _own_access_removed(change: Change) -> Iterator[str]:
    """What an update takes away from an entity's access, one phrase each."""
    for diff in change.fields:
        if diff.path == "policies":
            removed = sorted(set(_items(diff.before)) - set(_items(diff.after)))
            if removed:
                yield f"detaches {', '.join(removed)}"
        elif diff.path.startswith("inline_policies.") and diff.after is None:
            yield f"deletes the inline policy {diff.path.split('.', 1)[1]}"
        elif diff.path == "groups":
            removed = sorted(set(_items(diff.before)) - set(_items(diff.after)))
            if removed:
                yield f"removes it from {', '.join(removed)}"
        elif diff.path == "trust":
            yield "changes the trust policy"
        elif diff.path == "permissions_boundary":
            yield "changes the permissions boundary"


def _items(value: Json) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def caller_address(caller_arn: str) -> Address | None:
    """The user or role a caller ARN stands for (an assumed-role session names its role)."""
    for pattern, kind in ((_USER_ARN, Kind.USER), (_ASSUMED_ROLE_ARN, Kind.ROLE), (_ROLE_ARN, Kind.ROLE)):
        match = pattern.fullmatch(caller_arn)
        if match:
            return Address(kind, match.group(1))
    return None
