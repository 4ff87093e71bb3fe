"""Users: ``users:`` (pure).

A user's group memberships are declared here (``groups:``), never on groups.
Credentials are never declared; deleting a user removes every credential IAM
requires gone first (login profile, access keys, signing certificates, SSH keys,
service-specific credentials, MFA devices), which apply lists at apply time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iamstate.calls import (
    CallContext,
    attach_policies,
    boundary_update,
    delete_inline,
    detach_policies,
    membership,
    policy_attachment_updates,
)
from iamstate.kinds.base import (
    AUTHORIZATION_DETAILS,
    DeleteStep,
    ImportContext,
    KindSpec,
    OrderInfo,
    Responses,
    TagApi,
    attached_from,
    boundary_from,
    entity_arn,
    inline_policies_from,
    listed,
    tags_from,
)
from iamstate.kinds.policy import boundary_ref, ctx_tags, policy_refs
from iamstate.model import Json, Kind
from iamstate.plan import ApiCall, Phase
from iamstate.temporary import GrantKind

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

USER = Kind.USER


@dataclass(frozen=True)
class User:
    """An IAM user (never with credentials in config)."""

    name: str
    path: str = "/"
    groups: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()
    permissions_boundary: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    inline_policies: Mapping[str, Json] = field(default_factory=dict)
    arn: str = field(default="", compare=False)

    kind = USER


def user_from_detail(detail: Mapping[str, Any]) -> User:
    """A User from a GetAccountAuthorizationDetails ``UserDetail``."""
    return User(
        name=str(detail["UserName"]),
        path=str(detail.get("Path", "/")),
        groups=frozenset(str(g) for g in detail.get("GroupList") or ()),
        policies=attached_from(detail.get("AttachedManagedPolicies")),
        permissions_boundary=boundary_from(detail),
        tags=tags_from(detail.get("Tags")),
        inline_policies=inline_policies_from(detail.get("UserPolicyList")),
        arn=str(detail.get("Arn", "")),
    )


def credential_cleanup(user: str, phase: Phase, order: int) -> list[ApiCall]:
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


class UserKind(KindSpec[User]):
    """``user.NAME``."""

    kind = USER
    resource = User
    label = "user"
    section = ("users",)
    schema_def = "user"
    arn_type = "user"
    tags = TagApi("User", "UserName")
    delete_before = (Kind.GROUP, Kind.POLICY)
    """A group with members, and a policy attached to a user, cannot be deleted."""
    rank = 5
    reads = (AUTHORIZATION_DETAILS,)
    create_operations = ("CreateUser",)
    import_file = "users.yaml"

    def build(self, declared: Declared, builder: Builder) -> None:
        d = declared
        if builder.is_broken(d):
            return
        groups = builder.declared_names(Kind.GROUP)
        member_of = set()
        listed: dict[str, int] = {}
        for index, item in enumerate(d.data.get("groups") or []):
            # A membership is a group's name, or {group: NAME, expires_at, reason}.
            temporary = isinstance(item, dict)
            group = str(item["group"]) if temporary else str(item)
            steps: tuple[str | int, ...] = ("groups", index, "group") if temporary else ("groups", index)
            if group.lower() in listed:
                builder.error(
                    f"{d.what('groups', index)} lists group '{group}' again (first as item {listed[group.lower()]})",
                    d.at(*steps),
                    "keep one membership per group",
                )
                continue
            listed[group.lower()] = index
            if group in groups and groups[group].data.get("absent") is True:
                builder.error(
                    f"{d.what('groups', index)} refers to group '{group}', which is declared absent: true",
                    d.at(*steps),
                    "remove the membership, or the group's absent: true",
                )
                continue
            if group not in groups:
                builder.error(
                    f"{d.what('groups', index)} refers to group '{group}', which is not declared",
                    d.at(*steps),
                    builder.did_you_mean(group, groups) or "declare it under groups:",
                )
                continue
            if builder.holds(d, ("groups", index), item, GrantKind.MEMBERSHIP, group):
                member_of.add(group)
        path = str(d.data.get("path", "/"))
        builder.register(
            d,
            User(
                name=d.name,
                path=path,
                groups=frozenset(member_of),
                policies=frozenset(policy_refs(builder, d, "policies")),
                permissions_boundary=boundary_ref(builder, d),
                tags=dict(d.data.get("tags") or {}),
                arn=entity_arn(builder.partition, builder.account_id, "user", path, d.name),
            ),
        )

    def from_live(self, responses: Responses) -> Iterable[User]:
        return [user_from_detail(d) for d in listed(responses, AUTHORIZATION_DETAILS.name, "UserDetailList")]

    def create_calls(self, resource: User, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params: dict[str, Json] = {"UserName": resource.name, "Path": resource.path}
        if resource.permissions_boundary:
            params["PermissionsBoundary"] = resource.permissions_boundary
        params["Tags"] = self.stack_tags(resource, ctx)
        return [ApiCall("CreateUser", params, order.create_phase, order=order.create_order)]

    def attach_calls(self, resource: User, ctx: CallContext) -> list[ApiCall]:
        calls = attach_policies(USER, resource.name, sorted(resource.policies))
        calls += [
            membership("AddUserToGroup", resource.name, g, Phase.ATTACH) for g in sorted(resource.groups)
        ]
        return calls

    def update_calls(self, before: User, after: User, ctx: CallContext) -> list[ApiCall]:
        calls: list[ApiCall] = []
        if before.path != after.path:
            calls.append(ApiCall("UpdateUser", {"UserName": after.name, "NewPath": after.path}, Phase.UPDATE))
        calls += boundary_update(USER, after.name, before.permissions_boundary, after.permissions_boundary)
        calls += [
            membership("AddUserToGroup", after.name, g, Phase.ATTACH)
            for g in sorted(after.groups - before.groups)
        ]
        calls += [
            membership("RemoveUserFromGroup", after.name, g, Phase.DETACH)
            for g in sorted(before.groups - after.groups)
        ]
        calls += policy_attachment_updates(
            USER, after.name, before.policies, after.policies, before.inline_policies, after.inline_policies
        )
        return calls + self.tag_calls(before, after, ctx)

    def delete_calls(self, resource: User, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        calls = credential_cleanup(resource.name, step.phase, step.prereq)
        calls += delete_inline(USER, resource.name, sorted(resource.inline_policies), step.phase, step.prereq)
        calls += detach_policies(USER, resource.name, sorted(resource.policies), step.phase, step.prereq)
        calls += [
            membership("RemoveUserFromGroup", resource.name, g, step.phase, step.prereq)
            for g in sorted(resource.groups)
        ]
        calls.append(ApiCall("DeleteUser", {"UserName": resource.name}, step.phase, order=step.final))
        return calls

    def to_config(self, resource: User, ctx: ImportContext) -> dict[str, Json] | None:
        u = resource
        item: dict[str, Json] = {"name": u.name}
        if u.path != "/":
            item["path"] = u.path
        owned_groups = {g.name for g in ctx.owned.of_kind(Kind.GROUP)}
        groups = sorted(g for g in u.groups if g in owned_groups)
        for other in sorted(set(u.groups) - owned_groups):
            ctx.warnings.append(
                f"user '{u.name}' is a member of group '{other}', which this import does not own: "
                "the configuration cannot declare that membership, and apply would remove it"
            )
        if groups:
            item["groups"] = groups
        refs = ctx.refs(u.policies, ctx.extra(USER, u.name))
        if refs:
            item["policies"] = refs
        if u.permissions_boundary:
            item["permissions_boundary"] = ctx.ref(u.permissions_boundary)
        tags = ctx_tags(u.tags)
        if tags:
            item["tags"] = tags
        return item


SPEC = UserKind()
