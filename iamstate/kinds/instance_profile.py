"""Instance profiles: declared as ``instance_profile: true`` on a role (pure).

A declared profile has the role's name and path and holds that role alone.
Live profiles come from ListInstanceProfiles (and from the roles' own details in
GetAccountAuthorizationDetails). ListInstanceProfiles does not return tags on AWS,
and a call per profile would make reads grow with entities, so tags are read
(ListInstanceProfileTags) only for the profiles a plan could delete: in scope and
not declared. Other live profiles have empty ``tags``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from iamstate.calls import CallContext, profile_role
from iamstate.kinds.base import (
    AUTHORIZATION_DETAILS,
    DeleteStep,
    ImportContext,
    KindSpec,
    Listing,
    OrderInfo,
    PerItem,
    ReadScope,
    Responses,
    TagApi,
    entity_arn,
    listed,
    tags_from,
)
from iamstate.model import Address, Kind
from iamstate.plan import ApiCall, Phase

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

INSTANCE_PROFILE = Kind.INSTANCE_PROFILE

LIST_INSTANCE_PROFILES = Listing("instance_profiles", "ListInstanceProfiles", ("InstanceProfiles",))


def _delete_candidate(item: Mapping[str, Any], scope: ReadScope) -> bool:
    name = str(item["InstanceProfileName"])
    return scope.owns(str(item.get("Path", "/")), name) and not scope.declared(INSTANCE_PROFILE, name)


PROFILE_TAGS = PerItem(
    "instance_profile_tags",
    "ListInstanceProfileTags",
    over=LIST_INSTANCE_PROFILES.name,
    items_key="InstanceProfiles",
    param="InstanceProfileName",
    item_field="InstanceProfileName",
    result_keys=("Tags",),
    paginated=True,
    select=_delete_candidate,
)
"""Whose profile is it: only for profiles that a plan could delete (in scope, undeclared)."""


@dataclass(frozen=True)
class InstanceProfile:
    """An instance profile and the roles it holds (IAM allows at most one)."""

    name: str
    path: str = "/"
    roles: frozenset[str] = frozenset()
    tags: Mapping[str, str] = field(default_factory=dict)
    arn: str = field(default="", compare=False)

    kind = INSTANCE_PROFILE


def instance_profile_from(entry: Mapping[str, Any]) -> InstanceProfile:
    """An InstanceProfile from an ``InstanceProfile`` structure.

    Tags are ignored even when present: AWS does not return them from the calls
    iamstate makes, and a state that depended on the endpoint would diff.
    """
    return InstanceProfile(
        name=str(entry["InstanceProfileName"]),
        path=str(entry.get("Path", "/")),
        roles=frozenset(str(r["RoleName"]) for r in entry.get("Roles") or ()),
        arn=str(entry.get("Arn", "")),
    )


class InstanceProfileKind(KindSpec[InstanceProfile]):
    """``instance_profile.NAME``."""

    kind = INSTANCE_PROFILE
    resource = InstanceProfile
    label = "instance profile"
    arn_type = "instance-profile"
    tags = TagApi("InstanceProfile", "InstanceProfileName")
    tags_read_when_declared = False
    replace_fields = ("path",)
    delete_before = (Kind.ROLE,)
    """A role in a profile cannot be deleted."""
    rank = 4
    reads = (AUTHORIZATION_DETAILS, LIST_INSTANCE_PROFILES, PROFILE_TAGS)
    create_operations = ("CreateInstanceProfile",)

    def declarations(self, builder: Builder) -> Iterator[Declared]:
        # A role with instance_profile: true declares the profile of its own name and path.
        yield from (
            d
            for d in builder.declared(Kind.ROLE)
            if d.data.get("instance_profile") and not builder.is_gone(d)
        )

    def build(self, declared: Declared, builder: Builder) -> None:
        if builder.is_broken(declared):
            return
        path = str(declared.data.get("path", "/"))
        profile = InstanceProfile(
            name=declared.name,
            path=path,
            roles=frozenset({declared.name}),
            arn=entity_arn(builder.partition, builder.account_id, "instance-profile", path, declared.name),
        )
        builder.add(Address(INSTANCE_PROFILE, declared.name), profile, declared.at("instance_profile"))

    def scoped(self, resource: InstanceProfile) -> bool:
        return False  # it follows its role, which is checked

    def from_live(self, responses: Responses) -> Iterable[InstanceProfile]:
        # ListInstanceProfiles is the authority; profiles seen only through GAAD's roles are kept too.
        for role in listed(responses, AUTHORIZATION_DETAILS.name, "RoleDetailList"):
            for profile in role.get("InstanceProfileList") or ():
                yield instance_profile_from(profile)
        tags: Mapping[str, Any] = responses.get(PROFILE_TAGS.name) or {}
        for profile in listed(responses, LIST_INSTANCE_PROFILES.name, "InstanceProfiles"):
            found = instance_profile_from(profile)
            read = tags.get(found.name)
            yield replace(found, tags=tags_from(read.get("Tags"))) if read else found

    def prepare_import(self, owned: Sequence[InstanceProfile], ctx: ImportContext) -> None:
        # ``instance_profile: true`` describes one profile of the role's name and path, holding only it.
        for profile in owned:
            role = ctx.owned.resources.get(Address(Kind.ROLE, profile.name))
            if role is not None and role.path == profile.path and profile.roles == frozenset({role.name}):
                ctx.roles_with_profile.add(role.name)

    def finish_import(
        self, owned: Sequence[InstanceProfile], ctx: ImportContext, declared: set[str]
    ) -> list[str]:
        ignored = []
        for profile in owned:
            if profile.name in ctx.roles_with_profile:
                continue
            holds = ", ".join(sorted(profile.roles)) or "no role"
            if profile.name.lower() not in declared:
                ignored.append(profile.name)
                ctx.warnings.append(
                    f"instance profile '{profile.name}' (path {profile.path}, holds {holds}) cannot be declared "
                    "(only a profile of a role's own name and path can): added to scope.ignore, so "
                    "iamstate leaves it alone"
                )
            else:
                ctx.warnings.append(
                    f"instance profile '{profile.name}' (path {profile.path}, holds {holds}) cannot be declared "
                    "(only a profile of a role's own name and path, holding that role alone, can), and its "
                    "name is also an entity's name, so it cannot be ignored: apply would delete it"
                )
        return sorted(ignored)

    def create_calls(self, resource: InstanceProfile, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params = {
            "InstanceProfileName": resource.name,
            "Path": resource.path,
            "Tags": self.stack_tags(resource, ctx),
        }
        return [ApiCall("CreateInstanceProfile", params, order.create_phase, order=order.create_order)]

    def attach_calls(self, resource: InstanceProfile, ctx: CallContext) -> list[ApiCall]:
        return [
            profile_role("AddRoleToInstanceProfile", resource.name, role, Phase.ATTACH)
            for role in sorted(resource.roles)
        ]

    def update_calls(
        self, before: InstanceProfile, after: InstanceProfile, ctx: CallContext
    ) -> list[ApiCall]:
        calls = [
            profile_role("AddRoleToInstanceProfile", after.name, role, Phase.ATTACH)
            for role in sorted(after.roles - before.roles)
        ]
        calls += [
            profile_role("RemoveRoleFromInstanceProfile", after.name, role, Phase.DETACH)
            for role in sorted(before.roles - after.roles)
        ]
        return calls + self.tag_calls(before, after, ctx)

    def delete_calls(self, resource: InstanceProfile, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        calls = [
            profile_role("RemoveRoleFromInstanceProfile", resource.name, role, step.phase, step.prereq)
            for role in sorted(resource.roles)
        ]
        calls.append(
            ApiCall(
                "DeleteInstanceProfile", {"InstanceProfileName": resource.name}, step.phase, order=step.final
            )
        )
        return calls


SPEC = InstanceProfileKind()
