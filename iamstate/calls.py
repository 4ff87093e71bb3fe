"""Building blocks for the IAM API calls of planned changes (SPEC §5). Pure.

Every call carries a phase and an order inside the phase. Apply runs the phases
in order; inside a phase, calls of a lower order finish before a higher order
starts, and calls of the same order are independent. Calls whose targets are
only known at apply time (a user's access keys, say) carry a note saying so.

Each kind module (:mod:`iamstate.kinds`) plans its own calls from these helpers;
:func:`iamstate.kinds.plan_calls` picks the kind's and :func:`sequenced` orders one
entity's updates.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from iamstate.model import STACK_TAG, Address, Kind, State
from iamstate.plan import ApiCall, Phase

# Orders inside the first create phase of a kind, for replaces (delete first) and creates.
REPLACE_PREREQ, REPLACE_DELETE, PRUNE_VERSION, CREATE = 1, 2, 3, 4


def comparable_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags that take part in comparison: ``aws:`` tags and the stack tag are not ours to diff."""
    return {k: v for k, v in tags.items() if not k.startswith("aws:") and k != STACK_TAG}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """IAM's ``[{Key, Value}]`` form, sorted by key."""
    return [{"Key": k, "Value": tags[k]} for k in sorted(tags)]


@dataclass(frozen=True)
class CallContext:
    """What call planning needs beyond one change: both states and the plan's shape."""

    desired: State
    live: State
    """The whole live state (owned or not): attachments to clear may sit anywhere."""
    partition: str
    account_id: str
    stack: str
    deleted: frozenset[Address]
    replaced: frozenset[Address]

    def going(self, kind: Kind, name: str) -> bool:
        """True when the entity is deleted or replaced by this plan (its own calls clear it)."""
        address = Address(kind, name)
        return address in self.deleted or address in self.replaced


UPDATE_ORDER = {"Tag": 2, "Untag": 3}
"""Inside the UPDATE phase, one entity's calls go one after another (IAM answers concurrent
changes to one entity with ConcurrentModification, and a path change moves the entity):
attributes and path first, then trust and boundary, then tags added, then tags removed."""


def sequenced(calls: list[ApiCall]) -> list[ApiCall]:
    """One entity's calls with the UPDATE-phase ones ordered as :data:`UPDATE_ORDER` says."""

    def order(operation: str) -> int:
        if operation.startswith("Untag"):
            return UPDATE_ORDER["Untag"]
        if operation.startswith("Tag"):
            return UPDATE_ORDER["Tag"]
        if "PermissionsBoundary" in operation or operation == "UpdateAssumeRolePolicy":
            return 1
        return 0

    return [
        dataclasses.replace(call, order=order(call.operation)) if call.phase is Phase.UPDATE else call
        for call in calls
    ]


def tag_update_calls(
    live_tags: Mapping[str, str],
    declared_tags: Mapping[str, str],
    suffix: str,
    id_param: str,
    target: str,
    ctx: CallContext,
) -> list[ApiCall]:
    """``Tag{suffix}``/``Untag{suffix}`` calls taking live tags to the declared ones plus the stack tag."""
    want = {**comparable_tags(declared_tags), STACK_TAG: ctx.stack}
    have = comparable_tags(live_tags)
    to_tag = {k: v for k, v in want.items() if live_tags.get(k) != v}
    to_untag = sorted(set(have) - set(want))
    calls: list[ApiCall] = []
    if to_tag:
        calls.append(ApiCall(f"Tag{suffix}", {id_param: target, "Tags": tag_list(to_tag)}, Phase.UPDATE))
    if to_untag:
        calls.append(ApiCall(f"Untag{suffix}", {id_param: target, "TagKeys": to_untag}, Phase.UPDATE))
    return calls


# --- attachments, memberships, boundaries -----------------------------------------------

ENTITY_KEY = {
    Kind.GROUP: ("Group", "GroupName"),
    Kind.USER: ("User", "UserName"),
    Kind.ROLE: ("Role", "RoleName"),
}
"""The operation noun and name parameter of the kinds that policies attach to."""


def attach_policies(kind: Kind, name: str, arns: Iterable[str]) -> list[ApiCall]:
    """``Attach{Group,User,Role}Policy`` for each ARN (attach phase)."""
    noun, key = ENTITY_KEY[kind]
    return [ApiCall(f"Attach{noun}Policy", {key: name, "PolicyArn": arn}, Phase.ATTACH) for arn in arns]


def detach_policies(
    kind: Kind, name: str, arns: Iterable[str], phase: Phase, order: int = 0
) -> list[ApiCall]:
    """``Detach{Group,User,Role}Policy`` for each ARN."""
    noun, key = ENTITY_KEY[kind]
    return [ApiCall(f"Detach{noun}Policy", {key: name, "PolicyArn": arn}, phase, order=order) for arn in arns]


def delete_inline(
    kind: Kind, name: str, names: Iterable[str], phase: Phase = Phase.DETACH, order: int = 0
) -> list[ApiCall]:
    """``Delete{Group,User,Role}Policy`` for each inline policy name."""
    noun, key = ENTITY_KEY[kind]
    return [ApiCall(f"Delete{noun}Policy", {key: name, "PolicyName": n}, phase, order=order) for n in names]


def membership(operation: str, user: str, group: str, phase: Phase, order: int = 0) -> ApiCall:
    """``AddUserToGroup``/``RemoveUserFromGroup``."""
    return ApiCall(operation, {"GroupName": group, "UserName": user}, phase, order=order)


def profile_role(operation: str, profile: str, role: str, phase: Phase, order: int = 0) -> ApiCall:
    """``AddRoleToInstanceProfile``/``RemoveRoleFromInstanceProfile``."""
    return ApiCall(operation, {"InstanceProfileName": profile, "RoleName": role}, phase, order=order)


def put_boundary(kind: Kind, name: str, arn: str) -> ApiCall:
    """``Put{User,Role}PermissionsBoundary`` (update phase)."""
    noun, key = ENTITY_KEY[kind]
    return ApiCall(f"Put{noun}PermissionsBoundary", {key: name, "PermissionsBoundary": arn}, Phase.UPDATE)


def delete_boundary(kind: Kind, name: str, phase: Phase, order: int = 0) -> ApiCall:
    """``Delete{User,Role}PermissionsBoundary``."""
    noun, key = ENTITY_KEY[kind]
    return ApiCall(f"Delete{noun}PermissionsBoundary", {key: name}, phase, order=order)


def boundary_update(kind: Kind, name: str, before: str | None, after: str | None) -> list[ApiCall]:
    """The call that changes a user's or role's permissions boundary, if it changed."""
    if before == after:
        return []
    if after:
        return [put_boundary(kind, name, after)]
    return [delete_boundary(kind, name, Phase.UPDATE)]


def policy_attachment_updates(
    kind: Kind,
    name: str,
    before: Iterable[str],
    after: Iterable[str],
    inline_before: Iterable[str] = (),
    inline_after: Iterable[str] = (),
) -> list[ApiCall]:
    """Attach what was added, detach what was removed, delete inline policies no longer declared."""
    b, a = set(before), set(after)
    calls = attach_policies(kind, name, sorted(a - b))
    calls += detach_policies(kind, name, sorted(b - a), Phase.DETACH)
    calls += delete_inline(kind, name, sorted(set(inline_before) - set(inline_after)))
    return calls


def dedupe(calls_by_change: list[list[ApiCall]]) -> list[list[ApiCall]]:
    """Keep each identical call once, at its earliest position in apply's order (pure).

    Two changes may need the same call (a policy delete and a role update both
    detaching it); the earlier one does it and the later would only fail.
    """
    seen: dict[tuple[str, str], tuple[Phase, int]] = {}
    for calls in calls_by_change:
        for call in calls:
            key = _call_key(call)
            pos = (call.phase, call.order)
            if key not in seen or pos < seen[key]:
                seen[key] = pos
    out: list[list[ApiCall]] = []
    kept: set[tuple[str, str]] = set()
    for calls in calls_by_change:
        mine = []
        for call in calls:
            key = _call_key(call)
            if call.note or (seen[key] == (call.phase, call.order) and key not in kept):
                mine.append(call)
                kept.add(key)
        out.append(mine)
    return out


def _call_key(call: ApiCall) -> tuple[str, str]:
    return call.operation, json.dumps(call.params, sort_keys=True, default=str)
