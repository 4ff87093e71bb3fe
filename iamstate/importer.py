"""Render the owned part of a live account as configuration files (``iamstate import``). Pure.

Live and desired state have the same type, so importing is rendering live state:
:func:`render_import` takes a :class:`~iamstate.model.LiveAccount` and returns the
YAML text of one file per kind (``account.yaml``, ``policies.yaml``,
``groups.yaml``, ``users.yaml``, ``roles.yaml``). Nothing here reads files or
calls AWS; :mod:`iamstate.commands.import_` is the shell that reads IAM, checks the
result against the safety rules and the planner, and writes the files.

How live state becomes configuration:

- Only what the scope and stack own is written (:func:`iamstate.ownership.split_live`).
- Entities come sorted by name; IAM's defaults are left out (path ``/``, empty
  description, ``max_session_duration: 3600``, no tags, policies or groups,
  ``instance_profile: false``).
- Policy references name the declared policy when it is one; other policies keep
  their ARN, with ``${partition}``/``${account_id}`` put back where the ARN holds
  this account's id (AWS-managed ARNs stay as they are).
- Documents are written readably and mean exactly what live IAM holds: ``Version``
  first, statement keys in IAM's usual order, action names and well-known
  condition keys in AWS's spelling, one-element lists as a single value.
- A role's trust policy becomes the ``trusted:`` shorthand when the shorthand
  generates the same policy, otherwise a full ``trust:`` document.
- Inline policies (which the configuration refuses) become managed policies named
  ``<entity>-<inline name>``, attached in their place; the plan then creates and
  attaches them before it deletes the inline ones, so no permission lapses.
- Instance profiles other than "one profile of the role's own name and path" cannot
  be declared; they are left out with a warning and, where the name allows, added
  to ``scope.ignore`` so that apply leaves them alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from iamstate import catalog, policy
from iamstate.calls import comparable_tags
from iamstate.config.documents import FORCE_MFA_POLICY, force_mfa_document, trust_from_shorthand
from iamstate.model import (
    DEFAULT_STACK,
    PASSWORD_POLICY_ADDRESS,
    Address,
    Group,
    InstanceProfile,
    Json,
    Kind,
    LiveAccount,
    ManagedPolicy,
    PasswordPolicy,
    Role,
    Scope,
    State,
    User,
    policy_arn,
)
from iamstate.ownership import split_live
from iamstate.plan import Action, Change, Finding
from iamstate.rules import RULES

ACCOUNT_FILE = "account.yaml"
KIND_FILES = {
    Kind.POLICY: "policies.yaml",
    Kind.GROUP: "groups.yaml",
    Kind.USER: "users.yaml",
    Kind.ROLE: "roles.yaml",
}
FILES = (ACCOUNT_FILE, *KIND_FILES.values())
"""Every file import may write, in the order it writes them."""

MAX_POLICY_NAME = 128
DEFAULT_MAX_SESSION_DURATION = 3600
_SECTION = {Kind.POLICY: "policies", Kind.GROUP: "groups", Kind.USER: "users", Kind.ROLE: "roles"}

# The schema's patterns for the `trusted:` shorthand (iamstate.schema.json, $defs.trusted):
# a value the shorthand cannot hold keeps the role on a full `trust:` document.
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_OIDC_PROVIDER = re.compile(r"(?!https?://)[^\s/]\S*")
_PRINCIPAL = re.compile(r"arn:\S+")

_TRUSTED_ORDER = ("services", "accounts", "principals", "oidc", "require_mfa", "external_id")
_STATEMENT_ORDER = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_DOCUMENT_ORDER = ("Version", "Id", "Statement")

_CONDITION_KEYS = (
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    "aws:referer",
    "aws:userid",
    "aws:username",
    "iam:AWSServiceName",
    "iam:PassedToService",
    "iam:PermissionsBoundary",
    "iam:PolicyARN",
    "sts:ExternalId",
    "sts:RoleSessionName",
    "sts:SourceIdentity",
    "sts:TransitiveTagKeys",
)
_CONDITION_KEY_PREFIXES = ("aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/", "iam:ResourceTag/")
"""Global condition keys as AWS spells them; IAM reads condition keys in any case."""
_CONDITION_KEY_SPELLING = {key.lower(): key for key in _CONDITION_KEYS}


@dataclass(frozen=True)
class InlineConversion:
    """One live inline policy, imported as a managed policy attached in its place."""

    kind: Kind
    entity: str
    inline_name: str
    policy_name: str

    @property
    def description(self) -> str:
        """The description the imported managed policy carries."""
        return f"Imported from the inline policy {self.inline_name} of {self.kind.value} {self.entity}"


@dataclass(frozen=True)
class ImportedFiles:
    """What :func:`render_import` produced: file name -> YAML text, and what it could not express."""

    texts: Mapping[str, str]
    warnings: tuple[str, ...] = ()
    conversions: tuple[InlineConversion, ...] = ()
    ignored: tuple[str, ...] = ()
    """Names added to ``scope.ignore`` for instance profiles the configuration cannot declare."""


@dataclass
class _Context:
    live: LiveAccount
    owned: State
    declared_policies: dict[str, str] = field(default_factory=dict)
    """ARN -> name of every policy the import declares."""
    force_mfa_arn: str = ""
    warnings: list[str] = field(default_factory=list)

    def ref(self, arn: str) -> str:
        """How the configuration refers to a policy: its declared name, or its ARN."""
        return self.declared_policies.get(arn) or template_arn(arn, self.live.account_id, self.live.partition)


def render_import(
    live: LiveAccount,
    *,
    scope: Scope | None = None,
    stack: str = DEFAULT_STACK,
    exceptions: Mapping[str, Mapping[str, str]] | None = None,
) -> ImportedFiles:
    """The configuration files that declare the owned part of ``live`` (pure).

    ``exceptions`` maps addresses (``user.alice``) to waivers to write on those
    entities (see :func:`waivers_for`). The result plans as no changes against
    ``live``, except for the inline policies it converts to managed policies.
    """
    scope = scope or Scope()
    waivers = {k: dict(v) for k, v in (exceptions or {}).items()}
    owned = split_live(live.state, scope, stack, manages_password_policy=True).owned
    ctx = _Context(live, owned)

    policies = [r for r in owned.of_kind(Kind.POLICY) if isinstance(r, ManagedPolicy)]
    declared = [p for p in policies if p.name.lower() != FORCE_MFA_POLICY]
    for p in policies:
        if p.name.lower() == FORCE_MFA_POLICY:
            _check_force_mfa(ctx, p)
            if p.path == "/":
                ctx.force_mfa_arn = p.arn or policy_arn(live.partition, live.account_id, p.path, p.name)
    for p in declared:
        ctx.declared_policies[p.arn or policy_arn(live.partition, live.account_id, p.path, p.name)] = p.name

    conversions = _conversions(live.state, owned)
    converted = {(c.kind, c.entity, c.inline_name): c for c in conversions}

    policy_items: list[tuple[str, dict[str, Json]]] = [(p.name, _policy(ctx, p)) for p in declared]
    for c in conversions:
        entity = owned.get(Address(c.kind, c.entity))
        assert isinstance(entity, (Group, User, Role))
        document = entity.inline_policies[c.inline_name]
        item: dict[str, Json] = {"name": c.policy_name, "description": c.description}
        item["document"] = readable_document(document, live.account_id, live.partition)
        policy_items.append((c.policy_name, item))

    def extra(kind: Kind, name: str) -> list[str]:
        return [
            c.policy_name
            for (k, entity, _), c in sorted(converted.items())
            if k is kind and entity == name  # names from the same entity, sorted by inline name
        ]

    group_items = [
        (g.name, _group(ctx, g, extra(Kind.GROUP, g.name)))
        for g in owned.of_kind(Kind.GROUP)
        if isinstance(g, Group)
    ]
    owned_groups = {g.name for g in owned.of_kind(Kind.GROUP)}
    user_items = [
        (u.name, _user(ctx, u, extra(Kind.USER, u.name), owned_groups))
        for u in owned.of_kind(Kind.USER)
        if isinstance(u, User)
    ]
    profiles = [p for p in owned.of_kind(Kind.INSTANCE_PROFILE) if isinstance(p, InstanceProfile)]
    with_profile = _roles_with_own_profile(owned, profiles)
    role_items = [
        (r.name, _role(ctx, r, extra(Kind.ROLE, r.name), r.name in with_profile))
        for r in owned.of_kind(Kind.ROLE)
        if isinstance(r, Role)
    ]
    declared_names = {
        name for items in (policy_items, group_items, user_items, role_items) for name, _ in items
    }
    ignored = _skipped_profiles(ctx, profiles, with_profile, declared_names)

    sections: dict[Kind, list[tuple[str, dict[str, Json]]]] = {
        Kind.POLICY: policy_items,
        Kind.GROUP: group_items,
        Kind.USER: user_items,
        Kind.ROLE: role_items,
    }
    texts: dict[str, str] = {ACCOUNT_FILE: _account_file(ctx, scope, stack, ignored, waivers)}
    for kind, items in sections.items():
        if not items:
            continue
        entries = []
        for name, item in sorted(items, key=lambda pair: pair[0].lower()):
            waived = waivers.get(str(Address(kind, name)))
            if waived:
                item["exceptions"] = dict(sorted(waived.items()))
            entries.append(item)
        texts[KIND_FILES[kind]] = _header(live) + dump_yaml({_SECTION[kind]: entries}, spaced=True)
    return ImportedFiles(texts, tuple(ctx.warnings), tuple(conversions), tuple(ignored))


# --- entities ------------------------------------------------------------------------


def _policy(ctx: _Context, p: ManagedPolicy) -> dict[str, Json]:
    item: dict[str, Json] = {"name": p.name}
    if p.path != "/":
        item["path"] = p.path
    if p.description:
        item["description"] = p.description
    tags = comparable_tags(p.tags)
    if tags:
        item["tags"] = dict(sorted(tags.items()))
    item["document"] = readable_document(p.document, ctx.live.account_id, ctx.live.partition)
    return item


def _group(ctx: _Context, g: Group, extra: list[str]) -> dict[str, Json]:
    item: dict[str, Json] = {"name": g.name}
    if g.path != "/":
        item["path"] = g.path
    attached = set(g.policies)
    if ctx.force_mfa_arn and ctx.force_mfa_arn in attached:
        attached.discard(ctx.force_mfa_arn)
        item["require_mfa"] = True
    refs = _refs(ctx, attached, extra)
    if refs:
        item["policies"] = refs
    return item


def _user(ctx: _Context, u: User, extra: list[str], owned_groups: set[str]) -> dict[str, Json]:
    item: dict[str, Json] = {"name": u.name}
    if u.path != "/":
        item["path"] = u.path
    groups = sorted(g for g in u.groups if g in owned_groups)
    for other in sorted(set(u.groups) - owned_groups):
        ctx.warnings.append(
            f"user '{u.name}' is a member of group '{other}', which this import does not own: "
            "the configuration cannot declare that membership, and apply would remove it"
        )
    if groups:
        item["groups"] = groups
    refs = _refs(ctx, u.policies, extra)
    if refs:
        item["policies"] = refs
    if u.permissions_boundary:
        item["permissions_boundary"] = ctx.ref(u.permissions_boundary)
    tags = comparable_tags(u.tags)
    if tags:
        item["tags"] = dict(sorted(tags.items()))
    return item


def _role(ctx: _Context, r: Role, extra: list[str], instance_profile: bool) -> dict[str, Json]:
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
    refs = _refs(ctx, r.policies, extra)
    if refs:
        item["policies"] = refs
    if r.max_session_duration != DEFAULT_MAX_SESSION_DURATION:
        item["max_session_duration"] = r.max_session_duration
    if r.permissions_boundary:
        item["permissions_boundary"] = ctx.ref(r.permissions_boundary)
    if instance_profile:
        item["instance_profile"] = True
    tags = comparable_tags(r.tags)
    if tags:
        item["tags"] = dict(sorted(tags.items()))
    return item


def _refs(ctx: _Context, arns: Iterable[str], names: Iterable[str] = ()) -> list[str]:
    """Policy references: declared names first, then ARNs, each sorted."""
    refs = [ctx.ref(arn) for arn in arns] + list(names)
    return sorted(refs, key=lambda ref: (ref.startswith("arn:"), ref.lower(), ref))


def _check_force_mfa(ctx: _Context, p: ManagedPolicy) -> None:
    """The force-MFA policy is declared by ``require_mfa`` on groups, never by name."""
    vars_ = {"partition": ctx.live.partition, "account_id": ctx.live.account_id}
    standard = policy.normalize(policy.substitute(force_mfa_document(), vars_))
    arn = p.arn or policy_arn(ctx.live.partition, ctx.live.account_id, p.path, p.name)
    groups = [g.name for g in ctx.owned.of_kind(Kind.GROUP) if isinstance(g, Group) and arn in g.policies]
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


def _roles_with_own_profile(owned: State, profiles: Sequence[InstanceProfile]) -> set[str]:
    """Roles that ``instance_profile: true`` describes: one profile of their name and path, holding only them."""
    out = set()
    for profile in profiles:
        role = owned.resources.get(Address(Kind.ROLE, profile.name))
        if isinstance(role, Role) and role.path == profile.path and profile.roles == frozenset({role.name}):
            out.add(role.name)
    return out


def _skipped_profiles(
    ctx: _Context, profiles: Sequence[InstanceProfile], expressed: set[str], declared_names: set[str]
) -> list[str]:
    """Warn about instance profiles the configuration cannot declare; the names to ignore."""
    ignored = []
    for profile in profiles:
        if profile.name in expressed:
            continue
        holds = ", ".join(sorted(profile.roles)) or "no role"
        if profile.name.lower() not in {n.lower() for n in declared_names}:
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


def _conversions(live: State, owned: State) -> list[InlineConversion]:
    """A managed policy for every inline policy of an owned group, user or role, with unique names."""
    taken = {r.name.lower() for r in live.of_kind(Kind.POLICY)} | {FORCE_MFA_POLICY}
    out = []
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
        for entity in owned.of_kind(kind):
            assert isinstance(entity, (Group, User, Role))
            for inline_name in sorted(entity.inline_policies):
                name = _unique_name(f"{entity.name}-{inline_name}", taken)
                taken.add(name.lower())
                out.append(InlineConversion(kind, entity.name, inline_name, name))
    return out


def _unique_name(wanted: str, taken: set[str]) -> str:
    name = wanted[:MAX_POLICY_NAME]
    counter = 2
    while name.lower() in taken:
        suffix = f"-{counter}"
        name = wanted[: MAX_POLICY_NAME - len(suffix)] + suffix
        counter += 1
    return name


# --- account ---------------------------------------------------------------------------


def _account_file(
    ctx: _Context,
    scope: Scope,
    stack: str,
    ignored: Sequence[str],
    waivers: Mapping[str, Mapping[str, str]],
) -> str:
    doc: dict[str, Json] = {"account": {"id": ctx.live.account_id}}
    if stack != DEFAULT_STACK:
        doc["account"]["stack"] = stack
    scope_doc: dict[str, Json] = {"paths": list(scope.paths)}
    ignore = list(dict.fromkeys([*scope.ignore, *ignored]))
    if ignore:
        scope_doc["ignore"] = ignore
    doc["scope"] = scope_doc
    password = ctx.owned.get(PASSWORD_POLICY_ADDRESS)
    if isinstance(password, PasswordPolicy):
        doc["password_policy"] = password_policy_doc(password)
        waived = waivers.get(str(PASSWORD_POLICY_ADDRESS))
        if waived:
            doc["password_policy"]["exceptions"] = dict(sorted(waived.items()))
    notes = "".join(f"#   - {warning}\n" for warning in ctx.warnings)
    if notes:
        notes = "#\n# Not imported as live IAM has it:\n" + notes
    return _header(ctx.live) + notes + dump_yaml(doc, blank_between_sections=True)


def password_policy_doc(p: PasswordPolicy) -> dict[str, Json]:
    """The ``password_policy:`` section for a live password policy, every field written (pure).

    Unlike entities, the password policy is written in full: each field is a
    security setting a reviewer should see. Only "no expiry" and "reuse allowed"
    are left out, as the configuration says them.
    """
    doc: dict[str, Json] = {
        "minimum_length": p.minimum_length,
        "require_uppercase": p.require_uppercase,
        "require_lowercase": p.require_lowercase,
        "require_numbers": p.require_numbers,
        "require_symbols": p.require_symbols,
        "allow_users_to_change": p.allow_users_to_change,
    }
    if p.max_age_days is not None:
        doc["max_age_days"] = p.max_age_days
    if p.reuse_prevention is not None:
        doc["reuse_prevention"] = p.reuse_prevention
    doc["hard_expiry"] = p.hard_expiry
    return doc


def _header(live: LiveAccount) -> str:
    return f"# Imported from account {live.account_id} by `iamstate import`. Review before merge.\n"


# --- documents -------------------------------------------------------------------------


def template_arn(value: str, account_id: str, partition: str) -> str:
    """``${partition}``/``${account_id}`` in an ARN that holds this account's id (pure).

    Other strings, and ARNs of other accounts or of AWS-managed policies, are
    returned as they are; so is a string that already contains ``${``, which the
    loader would otherwise substitute.
    """
    if not value.startswith("arn:") or "${" in value:
        return value
    templated = re.sub(rf"(?<!\d){re.escape(account_id)}(?!\d)", "${account_id}", value)
    if templated == value:
        return value
    prefix = f"arn:{partition}:"
    if templated.startswith(prefix):
        templated = "arn:${partition}:" + templated[len(prefix) :]
    return templated


def readable_document(document: Json, account_id: str, partition: str) -> Json:
    """A policy document as a person would write it, meaning exactly what ``document`` means (pure).

    ``Version`` comes first and statement keys follow IAM's usual order; action names
    and well-known condition keys take AWS's spelling; one-element lists become a
    single value; ARNs of this account use ``${partition}``/``${account_id}``.
    When the readable form would not normalize back to the same document, the
    canonical form is returned instead.
    """
    canonical = policy.normalize(document)
    variables = {"account_id": account_id, "partition": partition}
    try:
        readable = _readable(canonical, account_id, partition)
    except (TypeError, ValueError, AttributeError):
        return canonical
    if policy.normalize(policy.substitute(readable, variables)) == canonical:
        return readable
    return canonical


def _readable(document: Json, account_id: str, partition: str) -> Json:
    if not isinstance(document, dict):
        return document

    def strings(value: Json) -> Json:
        if isinstance(value, str):
            return template_arn(value, account_id, partition)
        if isinstance(value, list):
            return _one_or_many([strings(v) for v in value])
        return value

    out: dict[str, Json] = {}
    for key, value in _ordered(document, _DOCUMENT_ORDER).items():
        if key != "Statement":
            out[key] = value
            continue
        statements = value if isinstance(value, list) else [value]
        out[key] = [_readable_statement(s, strings) for s in statements]
    return out


def _readable_statement(statement: Json, strings: Any) -> Json:
    if not isinstance(statement, dict):
        return statement
    out: dict[str, Json] = {}
    for key, value in _ordered(statement, _STATEMENT_ORDER).items():
        if key in ("Action", "NotAction") and isinstance(value, list):
            out[key] = _one_or_many([aws_spelling(a) if isinstance(a, str) else a for a in value])
        elif key in ("Principal", "NotPrincipal") and isinstance(value, dict):
            out[key] = {kind: strings(values) for kind, values in value.items()}
        elif key == "Condition" and isinstance(value, dict):
            out[key] = {operator: _readable_block(block, strings) for operator, block in value.items()}
        elif key in ("Resource", "NotResource"):
            out[key] = strings(value)
        else:
            out[key] = value
    return out


def _readable_block(block: Json, strings: Any) -> Json:
    if not isinstance(block, dict):
        return block
    lowered = [k.lower() for k in block]
    # Keys kept apart only by their case were not folded by normalize; leave them be.
    respell = len(set(lowered)) == len(lowered)
    return {(condition_key_spelling(k) if respell else k): strings(v) for k, v in block.items()}


def aws_spelling(action: str) -> str:
    """An action or action pattern in AWS's spelling (``s3:getobject`` -> ``s3:GetObject``); pure.

    A pattern (``s3:get*``) takes the spelling of the first action it matches;
    what the catalogue does not know is returned as it is.
    """
    known = catalog.lookup(action)
    if known is not None:
        return known
    if "*" not in action and "?" not in action:
        return action
    prefix, sep, name = action.partition(":")
    if not sep or "*" in prefix or "?" in prefix:
        return action
    matches = catalog.expand(action)
    if not matches:
        return action
    pieces = re.split(r"([*?])", name)
    pattern = "".join(
        "(.*)" if piece == "*" else "(.)" if piece == "?" else f"({re.escape(piece)})" for piece in pieces
    )
    found = re.fullmatch(pattern, matches[0].partition(":")[2], re.IGNORECASE | re.DOTALL)
    if found is None:
        return action
    spelled = "".join(
        piece if piece in ("*", "?") else found.group(index + 1) for index, piece in enumerate(pieces)
    )
    return f"{prefix.lower()}:{spelled}"


def condition_key_spelling(key: str) -> str:
    """A global condition key in AWS's spelling (``aws:sourceaccount`` -> ``aws:SourceAccount``); pure."""
    lowered = key.lower()
    if lowered in _CONDITION_KEY_SPELLING:
        return _CONDITION_KEY_SPELLING[lowered]
    for prefix in _CONDITION_KEY_PREFIXES:
        if lowered.startswith(prefix.lower()):
            return prefix + key[len(prefix) :]
    return key


def _one_or_many(values: list[Json]) -> Json:
    return values[0] if len(values) == 1 else values


def _ordered(mapping: Mapping[str, Json], first: tuple[str, ...]) -> dict[str, Json]:
    rank = {k: i for i, k in enumerate(first)}
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: (rank.get(k, len(first)), k))}


# --- trust shorthand ---------------------------------------------------------------------


def trusted_shorthand(trust: Json, account_id: str, partition: str) -> dict[str, Json] | None:
    """The ``trusted:`` shorthand that generates exactly ``trust``, or None (pure).

    Recognises what the shorthand writes: one ``sts:AssumeRole`` statement for
    services, one for accounts and principal ARNs (optionally with the MFA and
    external-id conditions), one ``sts:AssumeRoleWithWebIdentity`` statement for an
    OIDC provider of this account. The candidate is accepted only when the
    shorthand generates a policy equal in meaning to ``trust``.
    """
    canonical = policy.normalize(trust)
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
    generated = policy.normalize(policy.substitute(trust_from_shorthand(shorthand), variables))
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


# --- safety rules ------------------------------------------------------------------------


def waivers_for(findings: Iterable[Finding], on: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Waivers for the blocking findings that can be waived, and warnings for those that cannot (pure).

    ``on`` is the import's date (``2024-05-01``), written into each reason so that a
    reviewer sees the waiver came from an import and was not yet reviewed.
    """
    waivers: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for f in findings:
        if not f.blocking:
            continue
        rule = RULES.get(f.rule)
        try:
            address = Address.parse(f.address)
        except ValueError:
            address = None
        writable = address is not None and (address.kind in _SECTION or address == PASSWORD_POLICY_ADDRESS)
        if rule is not None and rule.waivable and writable:
            reason = f"Imported as found on {on}; review before merge"
            if f.rule == "user-direct-policy":
                reason = f"Imported as found on {on}; move these policies to a group (review before merge)"
            waivers.setdefault(f.address, {})[f.rule] = reason
            warnings.append(f"{f.address}: {f.rule} waived as imported: {f.message}")
        else:
            warnings.append(f"{f.address}: {f.rule} cannot be waived: {f.message} ({f.remedy})")
    return waivers, warnings


# --- checking the plan -------------------------------------------------------------------


def unexpected_changes(changes: Iterable[Change], conversions: Sequence[InlineConversion]) -> list[str]:
    """Changes a plan of the imported files shows beyond the inline-policy conversions (pure).

    Expected: creating each converted policy, and on the entities that held the
    inline policies, attaching it and deleting the inline one.
    """
    created = {c.policy_name.lower() for c in conversions}
    entities = {(c.kind, c.entity.lower()) for c in conversions}
    out = []
    for change in changes:
        address = change.address
        if change.action is Action.CREATE and address.kind is Kind.POLICY and address.name.lower() in created:
            continue
        if (
            change.action is Action.UPDATE
            and (address.kind, address.name.lower()) in entities
            and all(f.path == "policies" or f.path.startswith("inline_policies.") for f in change.fields)
        ):
            continue
        fields = ", ".join(f.path for f in change.fields)
        detail = f" ({fields})" if fields else ""
        out.append(f"the imported files plan a change: {change.action.value} {address}{detail}")
    return out


# --- YAML --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, no anchors, unambiguous scalars."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def choose_scalar_style(self) -> str:
        # One quoting style throughout: double quotes wherever YAML needs quotes.
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    # Digits are numbers to YAML 1.2 readers even with a leading zero (account ids).
    if value.isdigit():
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Json, *, spaced: bool = False, blank_between_sections: bool = False) -> str:
    """YAML text in iamstate's style (pure): block style, insertion order, 2-space indents.

    ``spaced`` puts a blank line between the items of a top-level list;
    ``blank_between_sections`` between top-level keys.
    """
    text = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096
    )
    lines = text.splitlines()
    out: list[str] = []
    for index, line in enumerate(lines):
        if index and spaced and line.startswith("  - ") and out[-1].startswith(" "):
            out.append("")
        if index and blank_between_sections and line[:1] not in (" ", "-", "") and not line.startswith("#"):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"
