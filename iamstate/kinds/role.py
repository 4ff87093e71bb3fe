"""Roles: ``roles:`` (pure).

A role's trust policy is a full ``trust:`` document or the ``trusted:`` shorthand
(services, accounts, principals, an OIDC or SAML provider, with ``require_mfa``
and ``external_id``); ``import`` writes the shorthand back whenever it generates
the same policy. A role's path cannot change in place (a replace). Identity
providers a trust policy names must exist: declared, or live.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from iamstate import kinds
from iamstate import policy as documents
from iamstate.calls import (
    CallContext,
    attach_policies,
    boundary_update,
    delete_inline,
    detach_policies,
    policy_attachment_updates,
    profile_role,
)
from iamstate.errors import Diagnostic
from iamstate.kinds.base import (
    AUTHORIZATION_DETAILS,
    DeleteStep,
    ImportContext,
    KindSpec,
    Listing,
    OrderInfo,
    Responses,
    TagApi,
    attached_from,
    boundary_from,
    canonical_document,
    decode_document,
    entity_arn,
    inline_policies_as_written,
    inline_policies_from,
    listed,
    tags_from,
)
from iamstate.kinds.policy import boundary_ref, ctx_tags, normalized, policy_refs
from iamstate.model import Address, Json, Kind, SourceLocation, State
from iamstate.plan import ApiCall, Phase
from iamstate.readable import readable_document, template_arn
from iamstate.temporary import CURRENT_TIME_KEY, EXPIRY_OPERATOR, GrantKind

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

ROLE = Kind.ROLE
VERSION = "2012-10-17"
DEFAULT_MAX_SESSION_DURATION = 3600
SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
"""The ``SAML:aud`` of a SAML sign-in to the AWS console and APIs."""

LIST_ROLES = Listing("roles", "ListRoles", ("Roles",), keep=("RoleName", "Description", "MaxSessionDuration"))
"""For what GetAccountAuthorizationDetails lacks: each role's description and maximum session."""
"""GAAD's role details lack the description and maximum session duration; ListRoles has both."""

# The schema's patterns for the `trusted:` shorthand (iamstate.schema.json, $defs.trusted):
# a value the shorthand cannot hold keeps the role on a full `trust:` document.
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_OIDC_PROVIDER = re.compile(r"(?!https?://)[^\s/]\S*")
_SAML_PROVIDER = re.compile(r"[\w._-]{1,128}")
_PRINCIPAL = re.compile(r"arn:\S+")
_TRUSTED_ORDER = ("services", "accounts", "principals", "oidc", "saml", "require_mfa", "external_id")
_FEDERATED_ARN = re.compile(r"arn:[^:]+:iam::(\d{12}):([a-z-]+)/(.+)")


@dataclass(frozen=True)
class Role:
    """An IAM role. ``trust`` is the canonical assume-role policy document."""

    name: str
    path: str = "/"
    description: str = ""
    trust: Json = field(default_factory=dict)
    policies: frozenset[str] = frozenset()
    max_session_duration: int = DEFAULT_MAX_SESSION_DURATION
    permissions_boundary: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    inline_policies: Mapping[str, Json] = field(default_factory=dict)
    arn: str = field(default="", compare=False)
    instance_profiles: frozenset[str] = field(default=frozenset(), compare=False)
    trust_as_written: Json = field(default=None, compare=False)
    """The trust policy in its author's spelling, never compared: as the config wrote it
    (substituted, not normalized; what apply sends), or as IAM holds it (decoded) on the live side."""
    inline_policies_as_written: Mapping[str, Json] = field(default_factory=dict, compare=False)
    """Live inline policies as IAM holds them (decoded), for the plan that removes them."""
    last_used: str = field(default="", compare=False)
    """When the role was last assumed (ISO 8601; live only, from GAAD's RoleLastUsed)."""

    kind = ROLE


def role_from_detail(detail: Mapping[str, Any], listed_role: Mapping[str, Any] | None) -> Role:
    """A Role from a GAAD ``RoleDetail`` and its ListRoles entry (None if ListRoles missed it).

    GAAD's RoleDetail has no Description or MaxSessionDuration; ListRoles has both
    but no tags or permissions boundary, so a role needs the two together.
    """
    listed_role = listed_role or {}
    return Role(
        name=str(detail["RoleName"]),
        path=str(detail.get("Path", "/")),
        description=str(listed_role.get("Description") or ""),
        trust=canonical_document(detail.get("AssumeRolePolicyDocument") or {}),
        trust_as_written=decode_document(detail.get("AssumeRolePolicyDocument") or {}),
        policies=attached_from(detail.get("AttachedManagedPolicies")),
        max_session_duration=int(listed_role.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_DURATION),
        permissions_boundary=boundary_from(detail),
        tags=tags_from(detail.get("Tags")),
        inline_policies=inline_policies_from(detail.get("RolePolicyList")),
        inline_policies_as_written=inline_policies_as_written(detail.get("RolePolicyList")),
        arn=str(detail.get("Arn", "")),
        instance_profiles=frozenset(
            str(p["InstanceProfileName"]) for p in detail.get("InstanceProfileList") or ()
        ),
        last_used=_iso((detail.get("RoleLastUsed") or {}).get("LastUsedDate")),
    )


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def sent_trust(role: Role) -> Json:
    """The trust policy apply sends: as the config wrote it."""
    return role.trust_as_written if role.trust_as_written is not None else role.trust


def trust_from_shorthand(trusted: Mapping[str, Json]) -> dict[str, Json]:
    """The assume-role policy that a role's ``trusted:`` shorthand stands for.

    One statement per kind of principal, in this order: services (``sts:AssumeRole``),
    accounts and principal ARNs together (``sts:AssumeRole``, with the ``require_mfa``
    and ``external_id`` conditions), OIDC (``sts:AssumeRoleWithWebIdentity``, scoped
    by audience and subjects), SAML (``sts:AssumeRoleWithSAML``, for the AWS sign-in
    audience). A single value is written as a string, several as a list.

    An item written ``{account: ID, expires_at: T, reason: ...}`` (or ``service``,
    ``principal``) is trusted until T: items of one kind with the same ``expires_at``
    share a statement of their own, after the lasting one, that carries
    ``DateLessThan aws:CurrentTime: T`` besides its usual conditions; an ``oidc`` or
    ``saml`` with ``expires_at`` gets that condition on its statement.
    """
    statements: list[dict[str, Json]] = []
    for services, until in _by_expiry(trusted.get("services"), "service"):
        statements.append(
            _statement({"Service": _one_or_many(services)}, "sts:AssumeRole", _until({}, until))
        )
    accounts = [
        (f"arn:${{partition}}:iam::{account}:root", until)
        for account, until in _items(trusted.get("accounts"), "account")
    ]
    for aws, until in _grouped([*accounts, *_items(trusted.get("principals"), "principal")]):
        condition: dict[str, Json] = {}
        if trusted.get("require_mfa"):
            condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
        if trusted.get("external_id"):
            condition["StringEquals"] = {"sts:ExternalId": trusted["external_id"]}
        statements.append(_statement({"AWS": _one_or_many(aws)}, "sts:AssumeRole", _until(condition, until)))
    oidc = trusted.get("oidc")
    if isinstance(oidc, Mapping):
        provider = str(oidc["provider"])
        condition = {}
        if oidc.get("audience") is not None:
            condition["StringEquals"] = {f"{provider}:aud": oidc["audience"]}
        if oidc.get("subjects") is not None:
            condition["StringLike"] = {f"{provider}:sub": oidc["subjects"]}
        federated = f"arn:${{partition}}:iam::${{account_id}}:oidc-provider/{provider}"
        condition = _until(condition, oidc.get("expires_at"))
        statements.append(_statement({"Federated": federated}, "sts:AssumeRoleWithWebIdentity", condition))
    saml = trusted.get("saml")
    if isinstance(saml, Mapping):
        federated = f"arn:${{partition}}:iam::${{account_id}}:saml-provider/{saml['provider']}"
        condition = _until({"StringEquals": {"SAML:aud": SAML_AUDIENCE}}, saml.get("expires_at"))
        statements.append(_statement({"Federated": federated}, "sts:AssumeRoleWithSAML", condition))
    return {"Version": VERSION, "Statement": statements}


def _items(values: Json, key: str) -> list[tuple[Json, str | None]]:
    """The items of a ``trusted:`` list with their ``expires_at`` (None: lasting)."""
    out: list[tuple[Json, str | None]] = []
    for item in values or []:
        if isinstance(item, Mapping):
            out.append((item[key], str(item["expires_at"]) if item.get("expires_at") else None))
        else:
            out.append((item, None))
    return out


def _grouped(items: list[tuple[Json, str | None]]) -> list[tuple[list[Json], str | None]]:
    """Values sharing a statement: the lasting ones first, then one group per ``expires_at``."""
    groups: dict[str | None, list[Json]] = {}
    for value, until in items:
        groups.setdefault(until, []).append(value)
    order = sorted(groups, key=lambda until: (until is not None, until or ""))
    return [(groups[until], until) for until in order]


def _by_expiry(values: Json, key: str) -> list[tuple[list[Json], str | None]]:
    return _grouped(_items(values, key))


def _until(condition: dict[str, Json], expires_at: Json) -> dict[str, Json]:
    """``condition`` with ``DateLessThan aws:CurrentTime`` when the trust ends at ``expires_at``."""
    if not expires_at:
        return condition
    return {**condition, EXPIRY_OPERATOR: {CURRENT_TIME_KEY: str(expires_at)}}


def _statement(principal: dict[str, Json], action: str, condition: Json = None) -> dict[str, Json]:
    out: dict[str, Json] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        out["Condition"] = condition
    return out


def _one_or_many(values: list[Json]) -> Json:
    return values[0] if len(values) == 1 else values


def trusted_shorthand(trust: Json, account_id: str, partition: str) -> dict[str, Json] | None:
    """The ``trusted:`` shorthand that generates exactly ``trust``, or None (pure).

    Recognises what the shorthand writes: one ``sts:AssumeRole`` statement for
    services, one for accounts and principal ARNs (optionally with the MFA and
    external-id conditions), one ``sts:AssumeRoleWithWebIdentity`` statement for an
    OIDC provider of this account. The candidate is accepted only when the
    shorthand generates a policy equal in meaning to ``trust``.
    """
    canonical = documents.normalize(trust)
    if not isinstance(canonical, dict) or set(canonical) != {"Version", "Statement"}:
        return None
    statements = canonical["Statement"]
    if not isinstance(statements, list) or not statements:
        return None
    shorthand: dict[str, Json] = {}
    for statement in statements:
        if not _shorthand_statement(statement, shorthand, account_id, partition):
            return None
    variables = {"account_id": account_id, "partition": partition}
    generated = documents.normalize(documents.substitute(trust_from_shorthand(shorthand), variables))
    if generated != canonical:
        return None
    return {key: shorthand[key] for key in _TRUSTED_ORDER if key in shorthand}


def _shorthand_statement(statement: Json, out: dict[str, Json], account_id: str, partition: str) -> bool:
    """Add what one statement says to ``out``; False when the shorthand cannot say it."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    if not set(statement) <= {"Effect", "Principal", "Action", "Condition"}:
        return False
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or len(principal) != 1:
        return False
    ((kind, values),) = principal.items()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return False
    action = statement.get("Action")
    condition = statement.get("Condition") or {}
    if kind == "Service":
        if action != ["sts:assumerole"] or condition or "services" in out:
            return False
        if not all(_SERVICE_PRINCIPAL.fullmatch(v) for v in values):
            return False
        out["services"] = list(values)
        return True
    if kind == "AWS":
        return _shorthand_aws(values, action, condition, out, account_id, partition)
    if kind == "Federated":
        if action == ["sts:assumerolewithsaml"]:
            return _shorthand_saml(values, condition, out, account_id, partition)
        return _shorthand_oidc(values, action, condition, out, account_id, partition)
    return False


def _shorthand_aws(
    values: list[str], action: Json, condition: Json, out: dict[str, Json], account_id: str, partition: str
) -> bool:
    if action != ["sts:assumerole"] or "accounts" in out or "principals" in out:
        return False
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if operator == "Bool" and block == {"aws:multifactorauthpresent": ["true"]}:
            out["require_mfa"] = True
        elif operator == "StringEquals" and isinstance(block, dict) and set(block) == {"sts:externalid"}:
            ids = block["sts:externalid"]
            if len(ids) != 1 or not isinstance(ids[0], str) or not _EXTERNAL_ID.fullmatch(ids[0]):
                return False
            out["external_id"] = ids[0]
        else:
            return False
    root = re.compile(rf"arn:{re.escape(partition)}:iam::(\d{{12}}):root")
    accounts = [m.group(1) for m in (root.fullmatch(v) for v in values) if m]
    principals = [template_arn(v, account_id, partition) for v in values if not root.fullmatch(v)]
    if not all(_PRINCIPAL.fullmatch(p) for p in principals):
        return False
    if accounts:
        out["accounts"] = accounts
    if principals:
        out["principals"] = principals
    return True


def _shorthand_oidc(
    values: list[str], action: Json, condition: Json, out: dict[str, Json], account_id: str, partition: str
) -> bool:
    if action != ["sts:assumerolewithwebidentity"] or "oidc" in out or len(values) != 1:
        return False
    prefix = f"arn:{partition}:iam::{account_id}:oidc-provider/"
    if not values[0].startswith(prefix):
        return False
    provider = values[0][len(prefix) :]
    if not _OIDC_PROVIDER.fullmatch(provider) or not isinstance(condition, dict):
        return False
    oidc: dict[str, Json] = {"provider": provider}
    for operator, block in condition.items():
        if not isinstance(block, dict) or len(block) != 1:
            return False
        ((key, given),) = block.items()
        if operator == "StringEquals" and key == f"{provider.lower()}:aud":
            oidc["audience"] = _one_or_many(list(given))
        elif operator == "StringLike" and key == f"{provider.lower()}:sub":
            oidc["subjects"] = list(given)
        else:
            return False
    out["oidc"] = oidc
    return True


def _shorthand_saml(
    values: list[str], condition: Json, out: dict[str, Json], account_id: str, partition: str
) -> bool:
    prefix = f"arn:{partition}:iam::{account_id}:saml-provider/"
    if "saml" in out or len(values) != 1 or not values[0].startswith(prefix):
        return False
    provider = values[0][len(prefix) :]
    if not _SAML_PROVIDER.fullmatch(provider):
        return False
    if condition != {"StringEquals": {"saml:aud": [SAML_AUDIENCE]}}:
        return False
    out["saml"] = {"provider": provider}
    return True


def federated_principals(trust: Json) -> Iterator[str]:
    """Every ``Federated`` principal an Allow statement of a trust policy names."""
    statements = trust.get("Statement") if isinstance(trust, Mapping) else None
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            continue
        value = principal.get("Federated")
        yield from (str(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))


class RoleKind(KindSpec[Role]):
    """``role.NAME``."""

    kind = ROLE
    resource = Role
    label = "role"
    section = ("roles",)
    schema_def = "role"
    arn_type = "role"
    tags = TagApi("Role", "RoleName")
    replace_fields = ("path",)
    delete_before = (Kind.POLICY,)
    rank = 3
    reads = (AUTHORIZATION_DETAILS, LIST_ROLES)
    create_operations = ("CreateRole",)
    import_file = "roles.yaml"

    def build(self, declared: Declared, builder: Builder) -> None:
        d = declared
        if builder.is_broken(d):
            return
        trust = self._trust(d, builder)
        path = str(d.data.get("path", "/"))
        builder.register(
            d,
            Role(
                name=d.name,
                path=path,
                description=d.data.get("description", ""),
                trust=normalized(trust, builder.text_of(trust)),
                trust_as_written=trust,
                policies=frozenset(policy_refs(builder, d, "policies")),
                max_session_duration=int(d.data.get("max_session_duration", DEFAULT_MAX_SESSION_DURATION)),
                permissions_boundary=boundary_ref(builder, d),
                tags=dict(d.data.get("tags") or {}),
                arn=entity_arn(builder.partition, builder.account_id, "role", path, d.name),
                instance_profiles=frozenset({d.name}) if d.data.get("instance_profile") else frozenset(),
            ),
        )
        builder.documents_raw[d.address] = trust
        if d.data.get("require_mfa"):
            if "trusted" in d.data:
                builder.error(
                    f"{d.what('require_mfa')} applies to a full trust: document",
                    d.at("require_mfa"),
                    "with trusted:, write require_mfa: true inside trusted:",
                )
            else:
                builder.require_mfa_in_trust(d, trust)

    def _trust(self, d: Declared, builder: Builder) -> Json:
        """The role's trust policy as written (substituted), from ``trust`` or ``trusted``."""
        if "trust" in d.data:
            document = d.data["trust"]
            builder.check_strings(document, d, "trust")
            return builder.expiring_statements(d, "trust", builder.substitute(document))
        trusted: dict[str, Any] = d.data["trusted"]
        self._trust_grants(d, builder, trusted)
        for modifier in ("require_mfa", "external_id"):
            if trusted.get(modifier) and not (trusted.get("accounts") or trusted.get("principals")):
                builder.error(
                    f"{d.what('trusted', modifier)} applies to accounts and principals, and none are listed",
                    d.at("trusted", modifier),
                    "remove it, or list the accounts/principals it should guard",
                )
        builder.check_strings(trusted.get("principals") or [], d, "trusted", "principals", what=d.what())
        return builder.substitute(trust_from_shorthand(trusted))

    def _trust_grants(self, d: Declared, builder: Builder, trusted: Mapping[str, Any]) -> None:
        """Check and record each entry of ``trusted:`` that has an ``expires_at``."""
        for key, item_key, noun in (
            ("services", "service", "service"),
            ("accounts", "account", "account"),
            ("principals", "principal", "principal"),
        ):
            for index, item in enumerate(trusted.get(key) or []):
                if isinstance(item, Mapping):
                    target = f"{noun} {item[item_key]}"
                    builder.holds(d, ("trusted", key, index), item, GrantKind.TRUST, target)
        for key, noun in (("oidc", "OIDC provider"), ("saml", "SAML provider")):
            item = trusted.get(key)
            if isinstance(item, Mapping):
                builder.holds(d, ("trusted", key), item, GrantKind.TRUST, f"{noun} {item['provider']}")

    def from_live(self, responses: Responses) -> Iterable[Role]:
        by_name = {str(r["RoleName"]): r for r in listed(responses, LIST_ROLES.name, "Roles")}
        return [
            role_from_detail(detail, by_name.get(str(detail["RoleName"])))
            for detail in listed(responses, AUTHORIZATION_DETAILS.name, "RoleDetailList")
        ]

    def create_calls(self, resource: Role, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        r = resource
        params: dict[str, Json] = {
            "RoleName": r.name,
            "Path": r.path,
            "AssumeRolePolicyDocument": sent_trust(r),
        }
        if r.description:
            params["Description"] = r.description
        params["MaxSessionDuration"] = r.max_session_duration
        if r.permissions_boundary:
            params["PermissionsBoundary"] = r.permissions_boundary
        params["Tags"] = self.stack_tags(r, ctx)
        return [ApiCall("CreateRole", params, order.create_phase, order=order.create_order)]

    def attach_calls(self, resource: Role, ctx: CallContext) -> list[ApiCall]:
        return attach_policies(ROLE, resource.name, sorted(resource.policies))

    def update_calls(self, before: Role, after: Role, ctx: CallContext) -> list[ApiCall]:
        calls: list[ApiCall] = []
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
            params = {"RoleName": after.name, "PolicyDocument": sent_trust(after)}
            calls.append(ApiCall("UpdateAssumeRolePolicy", params, Phase.UPDATE))
        calls += boundary_update(ROLE, after.name, before.permissions_boundary, after.permissions_boundary)
        calls += policy_attachment_updates(
            ROLE, after.name, before.policies, after.policies, before.inline_policies, after.inline_policies
        )
        return calls + self.tag_calls(before, after, ctx)

    def delete_calls(self, resource: Role, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        r = resource
        calls = [
            profile_role("RemoveRoleFromInstanceProfile", p, r.name, step.phase, step.prereq)
            for p in sorted(r.instance_profiles)
            if step.replacing or not ctx.going(Kind.INSTANCE_PROFILE, p)
        ]
        calls += delete_inline(ROLE, r.name, sorted(r.inline_policies), step.phase, step.prereq)
        calls += detach_policies(ROLE, r.name, sorted(r.policies), step.phase, step.prereq)
        calls.append(ApiCall("DeleteRole", {"RoleName": r.name}, step.phase, order=step.final))
        return calls

    def reattach_calls(self, resource: Role, ctx: CallContext) -> list[ApiCall]:
        return [
            profile_role("AddRoleToInstanceProfile", other.name, resource.name, Phase.ATTACH)
            for other in ctx.desired.of_kind(Kind.INSTANCE_PROFILE)
            if resource.name in getattr(other, "roles", ())
        ]

    def to_config(self, resource: Role, ctx: ImportContext) -> dict[str, Json] | None:
        r = resource
        account_id, partition = ctx.live.account_id, ctx.live.partition
        item: dict[str, Json] = {"name": r.name}
        if r.path != "/":
            item["path"] = r.path
        if r.description:
            item["description"] = r.description
        trusted = trusted_shorthand(r.trust, account_id, partition)
        if trusted is not None:
            item["trusted"] = trusted
        else:
            item["trust"] = readable_document(r.trust, account_id, partition)
        refs = ctx.refs(r.policies, ctx.extra(ROLE, r.name))
        if refs:
            item["policies"] = refs
        if r.max_session_duration != DEFAULT_MAX_SESSION_DURATION:
            item["max_session_duration"] = r.max_session_duration
        if r.permissions_boundary:
            item["permissions_boundary"] = ctx.ref(r.permissions_boundary)
        if r.name in ctx.roles_with_profile:
            item["instance_profile"] = True
        tags = ctx_tags(r.tags)
        if tags:
            item["tags"] = tags
        return item

    def reference_problems(
        self, desired: State, live: State, sources: Mapping[Address, SourceLocation], account_id: str
    ) -> Iterator[Diagnostic]:
        """Identity providers of this account that a declared trust policy names must exist."""
        for role in desired.of_kind(ROLE):
            trust = getattr(role, "trust_as_written", None) or getattr(role, "trust", None)
            for principal in sorted(set(federated_principals(trust))):
                match = _FEDERATED_ARN.fullmatch(principal)
                if match is None or match.group(1) != account_id:
                    continue
                provider = kinds.spec_for_arn_type(match.group(2))
                if provider is None:
                    continue
                address = Address(provider.kind, match.group(3))
                if desired.get(address) is None and live.get(address) is None:
                    yield Diagnostic(
                        f"role '{role.name}' trusts {provider.label} '{match.group(3)}', which is neither "
                        "declared nor in the account",
                        sources.get(Address(ROLE, role.name)),
                        f"declare it under {'.'.join(provider.section or ())}, or fix the name",
                    )


SPEC = RoleKind()
