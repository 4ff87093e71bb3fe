"""Customer-managed policies: ``policies:`` (pure).

Also here: how other kinds refer to policies (a declared name or an ARN) and
``iamstate-force-mfa``, the iamstate-owned policy that ``require_mfa`` on a group
attaches. A policy's path and description cannot change in place (a replace);
its document changes by a new default version, and IAM keeps at most five.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from iamstate import policy as documents
from iamstate.calls import (
    ENTITY_KEY,
    PRUNE_VERSION,
    CallContext,
    attach_policies,
    comparable_tags,
    delete_boundary,
    detach_policies,
    put_boundary,
)
from iamstate.kinds import order_of
from iamstate.kinds.base import (
    AUTHORIZATION_DETAILS,
    DeleteStep,
    ImportContext,
    KindSpec,
    OrderInfo,
    PerItem,
    ReadScope,
    Responses,
    TagApi,
    canonical_document,
    decode_document,
    listed,
)
from iamstate.model import Address, Json, Kind, PolicyReference, policy_arn
from iamstate.plan import ApiCall, Phase
from iamstate.readable import readable_document
from iamstate.temporary import GrantKind

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

POLICY = Kind.POLICY
MAX_POLICY_VERSIONS = 5
SWAP_CREATE = 0
"""Order of the temporary copy a boundary moves to while its policy is replaced (before the delete)."""
SWAP_SUFFIX = "-iamstate-swap"

FORCE_MFA_POLICY = "iamstate-force-mfa"
"""The iamstate-owned managed policy that ``groups[].require_mfa`` attaches."""
FORCE_MFA_DESCRIPTION = "Managed by iamstate: deny everything but MFA setup until signed in with MFA"

MAX_POLICY_NAME = 128
_POLICY_ARN = re.compile(r"^arn:[a-z-]+:iam::(?:aws|\d{12}):policy/(?:[!-.0-~]+/)*[\w+=,.@-]{1,128}$")


@dataclass(frozen=True)
class PolicyVersion:
    """One stored version of a managed policy (live only)."""

    version_id: str
    is_default: bool
    create_date: str = ""


@dataclass(frozen=True)
class ManagedPolicy:
    """A customer-managed policy. ``document`` is canonical (see policy.normalize)."""

    name: str
    path: str = "/"
    description: str = ""
    document: Json = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    arn: str = field(default="", compare=False)
    versions: tuple[PolicyVersion, ...] = field(default=(), compare=False)
    document_as_written: Json = field(default=None, compare=False)
    """The document in its author's spelling, never compared: on the desired side as the
    config wrote it (substituted, not normalized), which is what apply sends; on the live
    side as IAM holds it (decoded). Plans show this one."""

    kind = POLICY


# --- the force-MFA policy ----------------------------------------------------------------

_OWN_USER = "arn:${partition}:iam::*:user/${aws:username}"

_SELF_SERVICE_WITHOUT_MFA = [
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
]


def force_mfa_document() -> dict[str, Json]:
    """AWS's documented "manage own credentials, MFA required" policy.

    Users may manage their own password, access keys, signing certificates, SSH keys,
    service credentials and MFA device; everything else, except setting up MFA and
    changing their password, is denied until they sign in with MFA. Source:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_my-sec-creds-self-manage.html
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowViewAccountInfo",
                "Effect": "Allow",
                "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
                "Resource": "*",
            },
            {
                "Sid": "AllowManageOwnPasswords",
                "Effect": "Allow",
                "Action": ["iam:ChangePassword", "iam:GetUser"],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnAccessKeys",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateAccessKey",
                    "iam:DeleteAccessKey",
                    "iam:ListAccessKeys",
                    "iam:UpdateAccessKey",
                    "iam:GetAccessKeyLastUsed",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnSigningCertificates",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteSigningCertificate",
                    "iam:ListSigningCertificates",
                    "iam:UpdateSigningCertificate",
                    "iam:UploadSigningCertificate",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnSSHPublicKeys",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteSSHPublicKey",
                    "iam:GetSSHPublicKey",
                    "iam:ListSSHPublicKeys",
                    "iam:UpdateSSHPublicKey",
                    "iam:UploadSSHPublicKey",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnGitCredentials",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceSpecificCredential",
                    "iam:DeleteServiceSpecificCredential",
                    "iam:ListServiceSpecificCredentials",
                    "iam:ResetServiceSpecificCredential",
                    "iam:UpdateServiceSpecificCredential",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnVirtualMFADevice",
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice"],
                "Resource": "arn:${partition}:iam::*:mfa/*",
            },
            {
                "Sid": "AllowManageOwnUserMFA",
                "Effect": "Allow",
                "Action": [
                    "iam:DeactivateMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "DenyAllExceptListedIfNoMFA",
                "Effect": "Deny",
                "NotAction": list(_SELF_SERVICE_WITHOUT_MFA),
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            },
        ],
    }


def force_mfa_arn(partition: str, account_id: str) -> str:
    """The ARN of ``iamstate-force-mfa`` in an account."""
    return policy_arn(partition, account_id, "/", FORCE_MFA_POLICY)


def add_force_mfa(builder: Builder, where: Any) -> None:
    """Declare ``iamstate-force-mfa`` (a group said ``require_mfa: true`` at ``where``)."""
    address = Address(POLICY, FORCE_MFA_POLICY)
    document = builder.substitute(force_mfa_document())
    resource = ManagedPolicy(
        name=FORCE_MFA_POLICY,
        path="/",
        description=FORCE_MFA_DESCRIPTION,
        document=normalized(document),
        document_as_written=document,
        arn=force_mfa_arn(builder.partition, builder.account_id),
    )
    builder.add(address, resource, where)
    builder.documents_raw[address] = document


# --- references to policies --------------------------------------------------------------


def policy_refs(builder: Builder, d: Declared, key: str) -> Iterator[str]:
    """The ARNs a list of policy references (``policies:``) of a declaration stands for, as of
    the builder's ``now``: a temporary attachment (``{policy: REF, expires_at, reason}``) that
    has expired is left out."""
    for index, item in enumerate(d.data.get(key) or []):
        temporary = isinstance(item, dict)
        ref = str(item["policy"]) if temporary else str(item)
        arn = policy_ref(builder, d, (key, index, "policy") if temporary else (key, index), ref)
        if arn is not None and builder.holds(d, (key, index), item, GrantKind.ATTACHMENT, arn):
            yield arn


def boundary_ref(builder: Builder, d: Declared) -> str | None:
    """The ARN a declaration's ``permissions_boundary`` stands for, or None."""
    ref = d.data.get("permissions_boundary")
    if ref is None:
        return None
    return policy_ref(builder, d, ("permissions_boundary",), str(ref))


def policy_ref(builder: Builder, d: Declared, steps: tuple[str | int, ...], ref: str) -> str | None:
    """The ARN a policy reference stands for: a declared name, or an ARN as written."""
    if ref.startswith("arn:"):
        where = d.at(*steps)
        what = d.what(*steps)
        builder.check_variables([(ref, where, what)])
        arn = str(builder.substitute(ref))
        if not _POLICY_ARN.match(arn):
            builder.error(
                f"{what} '{ref}' is not a policy ARN",
                where,
                "e.g. arn:aws:iam::aws:policy/ReadOnlyAccess or arn:${partition}:iam::${account_id}:policy/x",
            )
            return None
        builder.policy_references.append(PolicyReference(arn, where, what))
        return arn
    policies = builder.declared_names(POLICY)
    declared = policies.get(ref)
    if declared is None:
        kind = "permissions boundary" if steps[0] == "permissions_boundary" else "policy"
        builder.error(
            f"{d.what(*steps)} refers to {kind} '{ref}', which is not declared",
            d.at(*steps),
            builder.did_you_mean(ref, policies) or "declare it under policies:, or give the policy's ARN",
        )
        return None
    return policy_arn(
        builder.partition, builder.account_id, str(declared.data.get("path", "/")), declared.name
    )


def normalized(document: Json, text: str | None = None) -> Json:
    """The canonical form; a document too malformed to normalize is kept as written for the rules.
    ``text``: ``repr(document)`` where the builder has it (:meth:`Builder.text_of`)."""
    try:
        return documents.normalize(document, text=text)
    except (ValueError, TypeError):
        return document


# --- live ----------------------------------------------------------------------------


def policy_name_of(detail: Mapping[str, Any]) -> str:
    """The name of a policy in a ``ManagedPolicyDetail``.

    AWS always sends PolicyName; some IAM emulators send only the ARN, whose last
    segment is the name (``arn:aws:iam::ID:policy/path/name``).
    """
    name = detail.get("PolicyName")
    return str(name) if name else str(detail["Arn"]).rsplit("/", 1)[-1]


def _owned_policy(item: Mapping[str, Any], scope: ReadScope) -> bool:
    return scope.owns(str(item.get("Path", "/")), policy_name_of(item))


POLICY_TAGS = PerItem(
    "policy_tags",
    "ListPolicyTags",
    over=AUTHORIZATION_DETAILS.name,
    items_key="Policies",
    param="PolicyArn",
    item_field="Arn",
    result_keys=("Tags",),
    paginated=True,
    select=_owned_policy,
)
"""GAAD returns no policy tags: one ListPolicyTags per customer policy the configuration owns."""


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def version_number(version_id: str) -> int:
    """``v12`` -> 12 (0 when it is not that shape)."""
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 0


def policy_from_detail(detail: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> ManagedPolicy:
    """A ManagedPolicy from a GAAD ``ManagedPolicyDetail`` (document: the default version).

    ``versions`` is ordered oldest first (by creation date, then version number),
    so that the oldest non-default version is the first non-default one.
    """
    raw_versions = list(detail.get("PolicyVersionList") or ())
    default_id = detail.get("DefaultVersionId")
    default = next((v for v in raw_versions if v.get("IsDefaultVersion")), None)
    if default is None:
        default = next((v for v in raw_versions if v.get("VersionId") == default_id), None)
    versions = sorted(
        (
            PolicyVersion(
                version_id=str(v["VersionId"]),
                is_default=v is default,
                create_date=_iso(v.get("CreateDate")),
            )
            for v in raw_versions
        ),
        key=lambda pv: (pv.create_date, version_number(pv.version_id)),
    )
    return ManagedPolicy(
        name=policy_name_of(detail),
        path=str(detail.get("Path", "/")),
        description=str(detail.get("Description") or ""),
        document=canonical_document(default.get("Document") or {}) if default else {},
        tags=dict(tags or {}),
        arn=str(detail.get("Arn", "")),
        versions=tuple(versions),
        document_as_written=decode_document(default.get("Document") or {}) if default else None,
    )


def sent_document(resource: ManagedPolicy) -> Json:
    """The document apply sends: as the config wrote it, so IAM shows the user's own spelling."""
    return resource.document_as_written if resource.document_as_written is not None else resource.document


class PolicyKind(KindSpec[ManagedPolicy]):
    """``policy.NAME``."""

    kind = POLICY
    resource = ManagedPolicy
    label = "policy"
    section = ("policies",)
    schema_def = "policy"
    arn_type = "policy"
    tags = TagApi("Policy", "PolicyArn", by_arn=True)
    replace_fields = ("path", "description")
    create_before = (Kind.USER, Kind.ROLE)
    """Users and roles are created with their permissions boundary."""
    delete_after = (Kind.GROUP, Kind.USER, Kind.ROLE)
    """A policy attached anywhere cannot be deleted."""
    rank = 1
    reads = (AUTHORIZATION_DETAILS, POLICY_TAGS)
    create_operations = ("CreatePolicy",)
    import_file = "policies.yaml"

    def replace_field_reason(self, name: str, before: Any, after: Any) -> str:
        if name == "description":
            return "a managed policy's description cannot change in place"
        return super().replace_field_reason(name, before, after)

    def build(self, declared: Declared, builder: Builder) -> None:
        d = declared
        if d.name.lower() == FORCE_MFA_POLICY:
            builder.error(
                f"the policy name '{d.name}' is reserved for the policy iamstate attaches to groups "
                "with require_mfa",
                d.at("name"),
                "rename the policy; to require MFA, set require_mfa: true on the group",
            )
            return
        if builder.is_broken(d):
            return
        if "document" in d.data:
            document: dict[str, Any] | None = dict(d.data["document"])
            builder.check_strings(document, d, "document")
        else:
            document = builder.read_document_file(d, "document_file")
            if document is None:
                return
        key = "document" if "document" in d.data else "document_file"
        substituted = builder.expiring_statements(d, key, builder.substitute(document))
        path = str(d.data.get("path", "/"))
        builder.register(
            d,
            ManagedPolicy(
                name=d.name,
                path=path,
                description=d.data.get("description", ""),
                document=normalized(substituted, builder.text_of(substituted)),
                document_as_written=substituted,
                tags=dict(d.data.get("tags") or {}),
                arn=policy_arn(builder.partition, builder.account_id, path, d.name),
            ),
        )
        builder.documents_raw[d.address] = substituted

    def from_live(self, responses: Responses) -> Iterable[ManagedPolicy]:
        tags: Mapping[str, Any] = responses.get(POLICY_TAGS.name) or {}
        for detail in listed(responses, AUTHORIZATION_DETAILS.name, "Policies"):
            arn = str(detail.get("Arn", ""))
            if arn in tags and tags[arn] is None:
                continue  # deleted while the account was read
            found = tags.get(arn)
            yield policy_from_detail(detail, _tags(found) if found is not None else None)

    def create_calls(self, resource: ManagedPolicy, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params: dict[str, Json] = {
            "PolicyName": resource.name,
            "Path": resource.path,
            "PolicyDocument": sent_document(resource),
        }
        if resource.description:
            params["Description"] = resource.description
        params["Tags"] = self.stack_tags(resource, ctx)
        return [ApiCall("CreatePolicy", params, order.create_phase, order=order.create_order)]

    def update_calls(self, before: ManagedPolicy, after: ManagedPolicy, ctx: CallContext) -> list[ApiCall]:
        calls: list[ApiCall] = []
        if before.document != after.document:
            calls += self._new_version(before, after, ctx)
        return calls + self.tag_calls(before, after, ctx)

    def _new_version(self, before: ManagedPolicy, after: ManagedPolicy, ctx: CallContext) -> list[ApiCall]:
        order = order_of(POLICY)
        calls: list[ApiCall] = []
        arn = before.arn or self.arn(after, ctx.partition, ctx.account_id)
        if len(before.versions) >= MAX_POLICY_VERSIONS:
            oldest = min(
                (v for v in before.versions if not v.is_default),
                key=lambda v: (v.create_date, version_number(v.version_id)),
            )
            calls.append(
                ApiCall(
                    "DeletePolicyVersion",
                    {"PolicyArn": arn, "VersionId": oldest.version_id},
                    order.create_phase,
                    note="IAM keeps at most 5 versions: the oldest non-default one goes first",
                    order=PRUNE_VERSION,
                )
            )
        params = {"PolicyArn": arn, "PolicyDocument": sent_document(after), "SetAsDefault": True}
        calls.append(ApiCall("CreatePolicyVersion", params, order.create_phase, order=order.create_order))
        return calls

    def delete_calls(self, resource: ManagedPolicy, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        arn = self.arn(resource, ctx.partition, ctx.account_id)
        calls: list[ApiCall] = []
        swap = _swap_arn(resource, ctx) if step.replacing and _boundary_holders(arn, ctx) else None
        if swap is not None:
            # A principal is never left without its boundary: it moves to a copy of the old
            # document first, and to the new policy as soon as that exists.
            params: dict[str, Json] = {
                "PolicyName": swap.rsplit("/", 1)[-1],
                "Path": resource.path,
                "PolicyDocument": resource.document,
                "Description": f"Temporary copy of {resource.name} while IAM replaces it",
                "Tags": self.stack_tags(resource, ctx),
            }
            calls.append(ApiCall("CreatePolicy", params, step.phase, order=SWAP_CREATE))
        for other in sorted(ctx.live.resources.values(), key=lambda e: (e.kind.value, e.name)):
            # An entity deleted by this plan goes before the policy does (unless the
            # policy is replaced, which happens in an earlier step.phase).
            if other.kind not in ENTITY_KEY or (not step.replacing and ctx.going(other.kind, other.name)):
                continue
            if arn in getattr(other, "policies", ()):
                calls += detach_policies(other.kind, other.name, [arn], step.phase, step.prereq)
            if getattr(other, "permissions_boundary", None) == arn:
                if swap is not None:
                    calls.append(
                        replace(
                            put_boundary(other.kind, other.name, swap), phase=step.phase, order=step.prereq
                        )
                    )
                elif step.replacing or ctx.desired.get(Address(other.kind, other.name)) is None:
                    # A declared principal's own update sets its boundary; removing this one
                    # after that would leave it unbounded.
                    calls.append(delete_boundary(other.kind, other.name, step.phase, step.prereq))
        calls += [
            ApiCall(
                "DeletePolicyVersion",
                {"PolicyArn": arn, "VersionId": v.version_id},
                step.phase,
                order=step.prereq,
            )
            for v in resource.versions
            if not v.is_default
        ]
        calls.append(ApiCall("DeletePolicy", {"PolicyArn": arn}, step.phase, order=step.final))
        if swap is not None:
            # Gone once no principal holds it: after the updates, with this plan's other deletes.
            order = order_of(POLICY)
            calls.append(ApiCall("DeletePolicy", {"PolicyArn": swap}, Phase.DELETE, order=order.delete_order))
        return calls

    def reattach_calls(self, resource: ManagedPolicy, ctx: CallContext) -> list[ApiCall]:
        arn = self.arn(resource, ctx.partition, ctx.account_id)
        swapped = bool(_boundary_holders(arn, ctx))
        order = order_of(POLICY)
        calls: list[ApiCall] = []
        for address in sorted(ctx.desired.resources):
            other = ctx.desired.resources[address]
            if other.kind not in ENTITY_KEY:
                continue
            if arn in getattr(other, "policies", ()) and other.name != resource.name:
                calls += attach_policies(other.kind, other.name, [arn])
            if getattr(other, "permissions_boundary", None) == arn:
                put = put_boundary(other.kind, other.name, arn)
                if swapped:
                    # Straight after the new policy exists, in the same phase.
                    put = replace(put, phase=order.create_phase, order=order.create_order + 1)
                calls.append(put)
        return calls

    def prepare_import(self, owned: Sequence[ManagedPolicy], ctx: ImportContext) -> None:
        live = ctx.live
        for p in owned:
            arn = p.arn or policy_arn(live.partition, live.account_id, p.path, p.name)
            if p.name.lower() == FORCE_MFA_POLICY:
                _check_force_mfa(ctx, p)
                if p.path == "/":
                    ctx.force_mfa_arn = arn
            else:
                ctx.declared_policies[arn] = p.name

    def to_config(self, resource: ManagedPolicy, ctx: ImportContext) -> dict[str, Json] | None:
        if resource.name.lower() == FORCE_MFA_POLICY:
            return None  # declared by require_mfa on its groups
        item: dict[str, Json] = {"name": resource.name}
        if resource.path != "/":
            item["path"] = resource.path
        if resource.description:
            item["description"] = resource.description
        tags = ctx_tags(resource.tags)
        if tags:
            item["tags"] = tags
        item["document"] = readable_document(resource.document, ctx.live.account_id, ctx.live.partition)
        return item

    def field_from_json(self, name: str, value: Json, f: Any) -> Any:
        if name == "versions":
            return tuple(PolicyVersion(**v) for v in value)
        return super().field_from_json(name, value, f)


def _boundary_holders(arn: str, ctx: CallContext) -> list[str]:
    """The live users and roles whose permissions boundary is the policy ``arn``."""
    return sorted(
        str(other.name)
        for other in ctx.live.resources.values()
        if other.kind in ENTITY_KEY and getattr(other, "permissions_boundary", None) == arn
    )


def _swap_arn(resource: ManagedPolicy, ctx: CallContext) -> str:
    """The ARN of the temporary copy of a boundary policy that is being replaced."""
    name = resource.name[: MAX_POLICY_NAME - len(SWAP_SUFFIX)] + SWAP_SUFFIX
    return policy_arn(ctx.partition, ctx.account_id, resource.path, name)


def _tags(found: Any) -> dict[str, str]:
    pairs = found.get("Tags") if isinstance(found, Mapping) else found
    return {str(p["Key"]): str(p.get("Value", "")) for p in pairs or ()}


def ctx_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags ``import`` writes: sorted, without ``aws:`` tags and the stack tag."""
    return dict(sorted(comparable_tags(tags).items()))


def _check_force_mfa(ctx: ImportContext, p: ManagedPolicy) -> None:
    """The force-MFA policy is declared by ``require_mfa`` on groups, never by name."""
    vars_ = {"partition": ctx.live.partition, "account_id": ctx.live.account_id}
    standard = documents.normalize(documents.substitute(force_mfa_document(), vars_))
    arn = p.arn or policy_arn(ctx.live.partition, ctx.live.account_id, p.path, p.name)
    groups = [g.name for g in ctx.owned.of_kind(Kind.GROUP) if arn in getattr(g, "policies", ())]
    if p.path != "/" or not groups:
        ctx.warnings.append(
            f"policy '{p.name}' has the name iamstate reserves for require_mfa but no group it owns "
            "attaches it at path /: the configuration cannot declare it, and apply would delete it"
        )
    elif p.document != standard:
        ctx.warnings.append(
            f"policy '{p.name}' differs from the force-MFA policy iamstate writes for require_mfa: "
            "apply would replace its document with the standard one"
        )


SPEC = PolicyKind()
