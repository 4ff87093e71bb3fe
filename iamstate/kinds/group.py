"""Groups: ``groups:`` (pure).

IAM groups take no tags. Membership is declared on users, never here; a group's
path changes in place (UpdateGroup). ``require_mfa: true`` attaches the
iamstate-owned force-MFA policy (:mod:`iamstate.kinds.policy`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iamstate.calls import (
    CallContext,
    attach_policies,
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
    attached_from,
    entity_arn,
    inline_policies_from,
    listed,
)
from iamstate.kinds.policy import add_force_mfa, force_mfa_arn, policy_refs
from iamstate.model import Json, Kind
from iamstate.plan import ApiCall, Phase

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

GROUP = Kind.GROUP


@dataclass(frozen=True)
class Group:
    """An IAM group. Membership is declared on users, never here."""

    name: str
    path: str = "/"
    policies: frozenset[str] = frozenset()
    inline_policies: Mapping[str, Json] = field(default_factory=dict)
    arn: str = field(default="", compare=False)

    kind = GROUP


def group_from_detail(detail: Mapping[str, Any]) -> Group:
    """A Group from a GetAccountAuthorizationDetails ``GroupDetail``."""
    return Group(
        name=str(detail["GroupName"]),
        path=str(detail.get("Path", "/")),
        policies=attached_from(detail.get("AttachedManagedPolicies")),
        inline_policies=inline_policies_from(detail.get("GroupPolicyList")),
        arn=str(detail.get("Arn", "")),
    )


class GroupKind(KindSpec[Group]):
    """``group.NAME``."""

    kind = GROUP
    resource = Group
    label = "group"
    section = ("groups",)
    schema_def = "group"
    arn_type = "group"
    delete_before = (Kind.POLICY,)
    rank = 2
    reads = (AUTHORIZATION_DETAILS,)
    create_operations = ("CreateGroup",)
    import_file = "groups.yaml"

    def build(self, declared: Declared, builder: Builder) -> None:
        d = declared
        if builder.is_broken(d):
            return
        attached = set(policy_refs(builder, d, "policies"))
        if d.data.get("require_mfa"):
            attached.add(force_mfa_arn(builder.partition, builder.account_id))
            add_force_mfa(builder, d.at("require_mfa"))
        path = str(d.data.get("path", "/"))
        builder.register(
            d,
            Group(
                name=d.name,
                path=path,
                policies=frozenset(attached),
                arn=entity_arn(builder.partition, builder.account_id, "group", path, d.name),
            ),
        )

    def from_live(self, responses: Responses) -> Iterable[Group]:
        return [
            group_from_detail(d) for d in listed(responses, AUTHORIZATION_DETAILS.name, "GroupDetailList")
        ]

    def create_calls(self, resource: Group, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params = {"GroupName": resource.name, "Path": resource.path}
        return [ApiCall("CreateGroup", params, order.create_phase, order=order.create_order)]

    def attach_calls(self, resource: Group, ctx: CallContext) -> list[ApiCall]:
        return attach_policies(GROUP, resource.name, sorted(resource.policies))

    def update_calls(self, before: Group, after: Group, ctx: CallContext) -> list[ApiCall]:
        calls: list[ApiCall] = []
        if before.path != after.path:
            calls.append(
                ApiCall("UpdateGroup", {"GroupName": after.name, "NewPath": after.path}, Phase.UPDATE)
            )
        return calls + policy_attachment_updates(
            GROUP, after.name, before.policies, after.policies, before.inline_policies, after.inline_policies
        )

    def delete_calls(self, resource: Group, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        members = sorted(
            u.name
            for u in ctx.live.of_kind(Kind.USER)
            if resource.name in getattr(u, "groups", ()) and not ctx.going(Kind.USER, u.name)
        )
        calls = [
            membership("RemoveUserFromGroup", m, resource.name, step.phase, step.prereq) for m in members
        ]
        calls += delete_inline(
            GROUP, resource.name, sorted(resource.inline_policies), step.phase, step.prereq
        )
        calls += detach_policies(GROUP, resource.name, sorted(resource.policies), step.phase, step.prereq)
        calls.append(ApiCall("DeleteGroup", {"GroupName": resource.name}, step.phase, order=step.final))
        return calls

    def to_config(self, resource: Group, ctx: ImportContext) -> dict[str, Json] | None:
        item: dict[str, Json] = {"name": resource.name}
        if resource.path != "/":
            item["path"] = resource.path
        attached = set(resource.policies)
        if ctx.force_mfa_arn and ctx.force_mfa_arn in attached:
            attached.discard(ctx.force_mfa_arn)
            item["require_mfa"] = True
        refs = ctx.refs(attached, ctx.extra(GROUP, resource.name))
        if refs:
            item["policies"] = refs
        return item


SPEC = GroupKind()
