"""The IAM API calls each planned change makes, in apply's order (SPEC §5). Pure.

Every call carries a phase and an order inside the phase. Apply runs the phases
in order; inside a phase, calls of a lower order finish before a higher order
starts, and calls of the same order are independent. Calls whose targets are
only known at apply time (a user's access keys, say) carry a note saying so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from iamstate.model import (
    STACK_TAG,
    Address,
    Group,
    InstanceProfile,
    Json,
    Kind,
    ManagedPolicy,
    PasswordPolicy,
    Resource,
    Role,
    State,
    User,
    policy_arn,
)
from iamstate.plan import Action, ApiCall, Phase

# Orders inside the DELETE phase: instance profiles, users, roles, groups, then policies,
# each kind's prerequisites first (SPEC §5).
DELETE_ORDER = {
    Kind.INSTANCE_PROFILE: 10,
    Kind.USER: 20,
    Kind.ROLE: 30,
    Kind.GROUP: 40,
    Kind.POLICY: 50,
}
# Orders inside CREATE_POLICIES and CREATE for replaces (delete first) and creates.
REPLACE_PREREQ, REPLACE_DELETE, PRUNE_VERSION, CREATE = 1, 2, 3, 4
TAGGABLE = {Kind.POLICY, Kind.USER, Kind.ROLE, Kind.INSTANCE_PROFILE}
MAX_POLICY_VERSIONS = 5


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

    def arn_of(self, policy: ManagedPolicy) -> str:
        """The policy's ARN: live ARN when read, else computed."""
        return policy.arn or policy_arn(self.partition, self.account_id, policy.path, policy.name)

    def going(self, kind: Kind, name: str) -> bool:
        """True when the entity is deleted or replaced by this plan (its own calls clear it)."""
        address = Address(kind, name)
        return address in self.deleted or address in self.replaced


def plan_calls(
    action: Action, before: Resource | None, after: Resource | None, ctx: CallContext
) -> tuple[ApiCall, ...]:
    """The ordered IAM API calls that take one entity from ``before`` to ``after``."""
    calls: list[ApiCall] = []
    if action is Action.CREATE:
        assert after is not None
        calls += _create(after, ctx, phase_order=CREATE)
        calls += _attach_all(after, ctx)
    elif action is Action.DELETE:
        assert before is not None
        calls += _delete(before, ctx, base=DELETE_ORDER.get(before.kind, 0), phase=Phase.DELETE)
    elif action is Action.REPLACE:
        assert before is not None and after is not None
        phase = Phase.CREATE_POLICIES if before.kind is Kind.POLICY else Phase.CREATE
        calls += _delete(before, ctx, base=None, phase=phase)
        calls += _create(after, ctx, phase_order=CREATE)
        calls += _attach_all(after, ctx)
        calls += _reattach(after, ctx)
    else:
        assert before is not None and after is not None
        calls += _update(before, after, ctx)
    return tuple(_sequenced_updates(calls))


UPDATE_ORDER = {"Tag": 2, "Untag": 3}
"""Inside the UPDATE phase, one entity's calls go one after another (IAM answers concurrent
changes to one entity with ConcurrentModification, and a path change moves the entity):
attributes and path first, then trust and boundary, then tags added, then tags removed."""


def _sequenced_updates(calls: list[ApiCall]) -> list[ApiCall]:
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


# --- create ---------------------------------------------------------------------------


def _create(r: Resource, ctx: CallContext, *, phase_order: int) -> list[ApiCall]:
    stack_tags = tag_list({**r.tags, STACK_TAG: ctx.stack}) if r.kind in TAGGABLE else []  # type: ignore[union-attr]
    if isinstance(r, ManagedPolicy):
        params: dict[str, Json] = {"PolicyName": r.name, "Path": r.path, "PolicyDocument": _sent(r)}
        if r.description:
            params["Description"] = r.description
        params["Tags"] = stack_tags
        return [ApiCall("CreatePolicy", params, Phase.CREATE_POLICIES, order=phase_order)]
    if isinstance(r, Group):
        return [
            ApiCall("CreateGroup", {"GroupName": r.name, "Path": r.path}, Phase.CREATE, order=phase_order)
        ]
    if isinstance(r, User):
        params = {"UserName": r.name, "Path": r.path}
        if r.permissions_boundary:
            params["PermissionsBoundary"] = r.permissions_boundary
        params["Tags"] = stack_tags
        return [ApiCall("CreateUser", params, Phase.CREATE, order=phase_order)]
    if isinstance(r, Role):
        params = {"RoleName": r.name, "Path": r.path, "AssumeRolePolicyDocument": _sent(r)}
        if r.description:
            params["Description"] = r.description
        params["MaxSessionDuration"] = r.max_session_duration
        if r.permissions_boundary:
            params["PermissionsBoundary"] = r.permissions_boundary
        params["Tags"] = stack_tags
        return [ApiCall("CreateRole", params, Phase.CREATE, order=phase_order)]
    if isinstance(r, InstanceProfile):
        params = {"InstanceProfileName": r.name, "Path": r.path, "Tags": stack_tags}
        return [ApiCall("CreateInstanceProfile", params, Phase.CREATE, order=phase_order)]
    if isinstance(r, PasswordPolicy):
        return [_password_policy_call(r)]
    raise TypeError(f"cannot create {r!r}")


def _sent(r: ManagedPolicy | Role) -> Json:
    """The document apply sends: as the config wrote it, so IAM shows the user's own spelling."""
    if isinstance(r, ManagedPolicy):
        return r.document_as_written if r.document_as_written is not None else r.document
    return r.trust_as_written if r.trust_as_written is not None else r.trust


def _password_policy_call(p: PasswordPolicy) -> ApiCall:
    # UpdateAccountPasswordPolicy resets every omitted field, so every field is sent.
    params: dict[str, Json] = {
        "MinimumPasswordLength": p.minimum_length,
        "RequireUppercaseCharacters": p.require_uppercase,
        "RequireLowercaseCharacters": p.require_lowercase,
        "RequireNumbers": p.require_numbers,
        "RequireSymbols": p.require_symbols,
        "AllowUsersToChangePassword": p.allow_users_to_change,
        "HardExpiry": p.hard_expiry,
    }
    if p.max_age_days is not None:
        params["MaxPasswordAge"] = p.max_age_days
    if p.reuse_prevention is not None:
        params["PasswordReusePrevention"] = p.reuse_prevention
    return ApiCall("UpdateAccountPasswordPolicy", params, Phase.UPDATE)


def _attach_all(r: Resource, ctx: CallContext) -> list[ApiCall]:
    """Attachments and memberships of a newly created entity."""
    if isinstance(r, (Group, User, Role)):
        calls = _attach_policies(r, sorted(r.policies))
        if isinstance(r, User):
            calls += [_membership("AddUserToGroup", r.name, g, Phase.ATTACH) for g in sorted(r.groups)]
        return calls
    if isinstance(r, InstanceProfile):
        return [
            _profile_role("AddRoleToInstanceProfile", r.name, role, Phase.ATTACH) for role in sorted(r.roles)
        ]
    return []


def _reattach(r: Resource, ctx: CallContext) -> list[ApiCall]:
    """After a replace: put the new entity back where other declared entities use it."""
    calls: list[ApiCall] = []
    if isinstance(r, ManagedPolicy):
        arn = ctx.arn_of(r)
        for other in ctx.desired.resources.values():
            if isinstance(other, (Group, User, Role)) and arn in other.policies and other.name != r.name:
                calls += _attach_policies(other, [arn])
            if isinstance(other, (User, Role)) and other.permissions_boundary == arn:
                calls.append(_put_boundary(other, arn))
    elif isinstance(r, Role):
        for other in ctx.desired.resources.values():
            if isinstance(other, InstanceProfile) and r.name in other.roles:
                calls.append(_profile_role("AddRoleToInstanceProfile", other.name, r.name, Phase.ATTACH))
    return calls


# --- update ---------------------------------------------------------------------------


def _update(before: Resource, after: Resource, ctx: CallContext) -> list[ApiCall]:
    calls: list[ApiCall] = []
    if isinstance(after, PasswordPolicy):
        return [_password_policy_call(after)]
    if (
        isinstance(before, ManagedPolicy)
        and isinstance(after, ManagedPolicy)
        and before.document != after.document
    ):
        calls += _new_policy_version(before, after, ctx)
    if isinstance(before, Group) and isinstance(after, Group) and before.path != after.path:
        calls.append(ApiCall("UpdateGroup", {"GroupName": after.name, "NewPath": after.path}, Phase.UPDATE))
    if isinstance(before, User) and isinstance(after, User):
        if before.path != after.path:
            calls.append(ApiCall("UpdateUser", {"UserName": after.name, "NewPath": after.path}, Phase.UPDATE))
        calls += _boundary_update(before, after)
        added = sorted(after.groups - before.groups)
        removed = sorted(before.groups - after.groups)
        calls += [_membership("AddUserToGroup", after.name, g, Phase.ATTACH) for g in added]
        calls += [_membership("RemoveUserFromGroup", after.name, g, Phase.DETACH) for g in removed]
    if isinstance(before, Role) and isinstance(after, Role):
        if (before.description, before.max_session_duration) != (
            after.description,
            after.max_session_duration,
        ):
            # UpdateRole resets an omitted description, so both fields always travel together.
            params = {
                "RoleName": after.name,
                "Description": after.description,
                "MaxSessionDuration": after.max_session_duration,
            }
            calls.append(ApiCall("UpdateRole", params, Phase.UPDATE))
        if before.trust != after.trust:
            params = {"RoleName": after.name, "PolicyDocument": _sent(after)}
            calls.append(ApiCall("UpdateAssumeRolePolicy", params, Phase.UPDATE))
        calls += _boundary_update(before, after)
    if isinstance(before, InstanceProfile) and isinstance(after, InstanceProfile):
        calls += [
            _profile_role("AddRoleToInstanceProfile", after.name, role, Phase.ATTACH)
            for role in sorted(after.roles - before.roles)
        ]
        calls += [
            _profile_role("RemoveRoleFromInstanceProfile", after.name, role, Phase.DETACH)
            for role in sorted(before.roles - after.roles)
        ]
    if isinstance(before, (Group, User, Role)) and isinstance(after, (Group, User, Role)):
        calls += _attach_policies(after, sorted(after.policies - before.policies))
        calls += _detach_policies(after, sorted(before.policies - after.policies), Phase.DETACH)
        calls += _delete_inline(before, sorted(set(before.inline_policies) - set(after.inline_policies)))
    if after.kind in TAGGABLE:
        calls += _tag_update(before, after, ctx)
    return calls


def _new_policy_version(before: ManagedPolicy, after: ManagedPolicy, ctx: CallContext) -> list[ApiCall]:
    calls: list[ApiCall] = []
    arn = before.arn or ctx.arn_of(after)
    if len(before.versions) >= MAX_POLICY_VERSIONS:
        oldest = min(
            (v for v in before.versions if not v.is_default),
            key=lambda v: (v.create_date, _version_number(v.version_id)),
        )
        calls.append(
            ApiCall(
                "DeletePolicyVersion",
                {"PolicyArn": arn, "VersionId": oldest.version_id},
                Phase.CREATE_POLICIES,
                note="IAM keeps at most 5 versions: the oldest non-default one goes first",
                order=PRUNE_VERSION,
            )
        )
    params = {"PolicyArn": arn, "PolicyDocument": _sent(after), "SetAsDefault": True}
    calls.append(ApiCall("CreatePolicyVersion", params, Phase.CREATE_POLICIES, order=CREATE))
    return calls


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 0


def _tag_update(before: Resource, after: Resource, ctx: CallContext) -> list[ApiCall]:
    live_tags: Mapping[str, str] = before.tags  # type: ignore[union-attr]
    want = {**comparable_tags(after.tags), STACK_TAG: ctx.stack}  # type: ignore[union-attr]
    have = comparable_tags(live_tags)
    to_tag = {k: v for k, v in want.items() if live_tags.get(k) != v}
    to_untag = sorted(set(have) - set(want))
    op_suffix, key = _tag_target(after)
    calls: list[ApiCall] = []
    if to_tag:
        calls.append(
            ApiCall(f"Tag{op_suffix}", {key: _tag_id(after, ctx), "Tags": tag_list(to_tag)}, Phase.UPDATE)
        )
    if to_untag:
        calls.append(
            ApiCall(f"Untag{op_suffix}", {key: _tag_id(after, ctx), "TagKeys": to_untag}, Phase.UPDATE)
        )
    return calls


def _tag_target(r: Resource) -> tuple[str, str]:
    return {
        Kind.POLICY: ("Policy", "PolicyArn"),
        Kind.USER: ("User", "UserName"),
        Kind.ROLE: ("Role", "RoleName"),
        Kind.INSTANCE_PROFILE: ("InstanceProfile", "InstanceProfileName"),
    }[r.kind]


def _tag_id(r: Resource, ctx: CallContext) -> str:
    return ctx.arn_of(r) if isinstance(r, ManagedPolicy) else r.name


def _boundary_update(before: User | Role, after: User | Role) -> list[ApiCall]:
    if before.permissions_boundary == after.permissions_boundary:
        return []
    if after.permissions_boundary:
        return [_put_boundary(after, after.permissions_boundary)]
    return [_delete_boundary(after, Phase.UPDATE)]


def _put_boundary(r: User | Role, arn: str) -> ApiCall:
    kind, key = ("User", "UserName") if isinstance(r, User) else ("Role", "RoleName")
    return ApiCall(f"Put{kind}PermissionsBoundary", {key: r.name, "PermissionsBoundary": arn}, Phase.UPDATE)


def _delete_boundary(r: User | Role, phase: Phase, order: int = 0) -> ApiCall:
    kind, key = ("User", "UserName") if isinstance(r, User) else ("Role", "RoleName")
    return ApiCall(f"Delete{kind}PermissionsBoundary", {key: r.name}, phase, order=order)


# --- attachments ----------------------------------------------------------------------

_ENTITY_KEY = {
    Kind.GROUP: ("Group", "GroupName"),
    Kind.USER: ("User", "UserName"),
    Kind.ROLE: ("Role", "RoleName"),
}


def _attach_policies(r: Group | User | Role, arns: Iterable[str]) -> list[ApiCall]:
    kind, key = _ENTITY_KEY[r.kind]
    return [ApiCall(f"Attach{kind}Policy", {key: r.name, "PolicyArn": arn}, Phase.ATTACH) for arn in arns]


def _detach_policies(
    r: Group | User | Role, arns: Iterable[str], phase: Phase, order: int = 0
) -> list[ApiCall]:
    kind, key = _ENTITY_KEY[r.kind]
    return [
        ApiCall(f"Detach{kind}Policy", {key: r.name, "PolicyArn": arn}, phase, order=order) for arn in arns
    ]


def _delete_inline(
    r: Group | User | Role, names: Iterable[str], phase: Phase = Phase.DETACH, order: int = 0
) -> list[ApiCall]:
    kind, key = _ENTITY_KEY[r.kind]
    return [ApiCall(f"Delete{kind}Policy", {key: r.name, "PolicyName": n}, phase, order=order) for n in names]


def _membership(operation: str, user: str, group: str, phase: Phase, order: int = 0) -> ApiCall:
    return ApiCall(operation, {"GroupName": group, "UserName": user}, phase, order=order)


def _profile_role(operation: str, profile: str, role: str, phase: Phase, order: int = 0) -> ApiCall:
    return ApiCall(operation, {"InstanceProfileName": profile, "RoleName": role}, phase, order=order)


# --- delete ---------------------------------------------------------------------------


def _delete(r: Resource, ctx: CallContext, *, base: int | None, phase: Phase) -> list[ApiCall]:
    """Prerequisites then the delete call. ``base`` None means "as part of a replace"."""
    prereq = (base - 1) if base is not None else REPLACE_PREREQ
    final = base if base is not None else REPLACE_DELETE
    calls: list[ApiCall] = []
    if isinstance(r, InstanceProfile):
        calls += [
            _profile_role("RemoveRoleFromInstanceProfile", r.name, role, phase, prereq)
            for role in sorted(r.roles)
        ]
        calls.append(ApiCall("DeleteInstanceProfile", {"InstanceProfileName": r.name}, phase, order=final))
    elif isinstance(r, User):
        calls += _user_credential_cleanup(r.name, phase, prereq)
        calls += _delete_inline(r, sorted(r.inline_policies), phase, prereq)
        calls += _detach_policies(r, sorted(r.policies), phase, prereq)
        calls += [_membership("RemoveUserFromGroup", r.name, g, phase, prereq) for g in sorted(r.groups)]
        calls.append(ApiCall("DeleteUser", {"UserName": r.name}, phase, order=final))
    elif isinstance(r, Role):
        calls += [
            _profile_role("RemoveRoleFromInstanceProfile", p, r.name, phase, prereq)
            for p in sorted(r.instance_profiles)
            if base is None or not ctx.going(Kind.INSTANCE_PROFILE, p)
        ]
        calls += _delete_inline(r, sorted(r.inline_policies), phase, prereq)
        calls += _detach_policies(r, sorted(r.policies), phase, prereq)
        calls.append(ApiCall("DeleteRole", {"RoleName": r.name}, phase, order=final))
    elif isinstance(r, Group):
        members = sorted(
            u.name
            for u in ctx.live.resources.values()
            if isinstance(u, User) and r.name in u.groups and not ctx.going(Kind.USER, u.name)
        )
        calls += [_membership("RemoveUserFromGroup", m, r.name, phase, prereq) for m in members]
        calls += _delete_inline(r, sorted(r.inline_policies), phase, prereq)
        calls += _detach_policies(r, sorted(r.policies), phase, prereq)
        calls.append(ApiCall("DeleteGroup", {"GroupName": r.name}, phase, order=final))
    elif isinstance(r, ManagedPolicy):
        arn = r.arn or ctx.arn_of(r)
        for other in sorted(ctx.live.resources.values(), key=lambda e: (e.kind.value, e.name)):
            # An entity deleted by this plan goes before the policy does (unless the
            # policy is replaced, which happens in an earlier phase).
            if isinstance(other, (Group, User, Role)) and (
                base is None or not ctx.going(other.kind, other.name)
            ):
                if arn in other.policies:
                    calls += _detach_policies(other, [arn], phase, prereq)
                if isinstance(other, (User, Role)) and other.permissions_boundary == arn:
                    calls.append(_delete_boundary(other, phase, prereq))
        calls += [
            ApiCall("DeletePolicyVersion", {"PolicyArn": arn, "VersionId": v.version_id}, phase, order=prereq)
            for v in r.versions
            if not v.is_default
        ]
        calls.append(ApiCall("DeletePolicy", {"PolicyArn": arn}, phase, order=final))
    else:
        raise TypeError(f"cannot delete {r!r}")
    return calls


def _user_credential_cleanup(user: str, phase: Phase, order: int) -> list[ApiCall]:
    """What DeleteUser requires gone; which ones exist is read at apply time (no per-user reads at plan)."""
    u = {"UserName": user}
    each = "for each one {} lists at apply time"
    return [
        ApiCall("DeleteLoginProfile", u, phase, note="if the user has a console password", order=order - 1),
        ApiCall("DeleteAccessKey", u, phase, note=each.format("ListAccessKeys"), order=order - 1),
        ApiCall(
            "DeleteSigningCertificate", u, phase, note=each.format("ListSigningCertificates"), order=order - 1
        ),
        ApiCall("DeleteSSHPublicKey", u, phase, note=each.format("ListSSHPublicKeys"), order=order - 1),
        ApiCall(
            "DeleteServiceSpecificCredential",
            u,
            phase,
            note=each.format("ListServiceSpecificCredentials"),
            order=order - 1,
        ),
        ApiCall("DeactivateMFADevice", u, phase, note=each.format("ListMFADevices"), order=order - 1),
        ApiCall(
            "DeleteVirtualMFADevice", u, phase, note="for each virtual device just deactivated", order=order
        ),
    ]


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
