"""From parsed, schema-valid YAML files to a :class:`DesiredConfig`.

Merges the files (lists concatenate, sections appear once), checks names and
references across files, reads ``document_file``s, substitutes ``${partition}`` and
``${account_id}``, generates trust policies from the ``trusted`` shorthand and the
force-MFA policy, and builds the model's resources. Every problem becomes a
located :class:`Diagnostic`; building goes on after one so that all are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamstate import ownership, policy
from iamstate.config.docfile import load_document_file
from iamstate.config.documents import FORCE_MFA_POLICY, force_mfa_document, trust_from_shorthand
from iamstate.config.where import did_you_mean, subject
from iamstate.config.yamlpos import YamlFile, YamlPath
from iamstate.errors import Diagnostic
from iamstate.model import (
    DEFAULT_STACK,
    PASSWORD_POLICY_ADDRESS,
    Address,
    CredentialSettings,
    DesiredConfig,
    Group,
    InstanceProfile,
    Json,
    Kind,
    ManagedPolicy,
    MfaSettings,
    PasswordPolicy,
    Resource,
    Role,
    Scope,
    SourceLocation,
    State,
    User,
    entity_arn,
    policy_arn,
)
from iamstate.plan import Finding
from iamstate.rules.trust import mfa_finding

SECTIONS = ("account", "scope", "password_policy", "mfa", "credentials")
"""Top-level keys that may appear in one file only."""

PLACEHOLDER_ACCOUNT_ID = "000000000000"
"""Substituted for ``${account_id}`` when ``account.id`` is absent (validate needs no account)."""

_KINDS = {"policies": Kind.POLICY, "groups": Kind.GROUP, "users": Kind.USER, "roles": Kind.ROLE}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KNOWN_VARIABLES = ("account_id", "partition")
_POLICY_ARN = re.compile(r"^arn:[a-z-]+:iam::(?:aws|\d{12}):policy/(?:[!-.0-~]+/)*[\w+=,.@-]{1,128}$")
_PLACEHOLDER_REASONS = {
    "",
    "-",
    "--",
    "?",
    "...",
    "x",
    "xx",
    "xxx",
    "n/a",
    "na",
    "none",
    "todo",
    "tbd",
    "tbc",
    "fixme",
    "reason",
    "because",
    "ok",
    "yes",
    "test",
    "temp",
    "wip",
}
_MIN_REASON_CHARS = 10


@dataclass(frozen=True)
class Declared:
    """One entity as written: the file, its path there (``("roles", 2)``) and its mapping."""

    file: YamlFile
    path: YamlPath
    data: dict[str, Any]
    kind: Kind

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def address(self) -> Address:
        return Address(self.kind, self.name)

    def at(self, *steps: str | int) -> SourceLocation:
        """Where a field of this entity was written."""
        return self.file.at((*self.path, *steps))

    def what(self, *steps: str | int) -> str:
        """How messages name a field of this entity."""
        return subject(self.file, (*self.path, *steps))


class Builder:
    """Builds one :class:`DesiredConfig` from files, collecting diagnostics as it goes."""

    def __init__(
        self, files: list[YamlFile], broken: set[tuple[str, YamlPath]], partition: str, *, root: Path
    ):
        self.root = root
        """The config root: files the configuration names must lie inside it."""
        self.files = files
        self.broken = broken
        self.partition = partition
        self.diagnostics: list[Diagnostic] = []
        self.findings: list[Finding] = []
        """Safety findings that need what only the YAML says (trust-mfa-missing)."""
        self.document_files: list[str] = []
        self.resources: dict[Address, Resource] = {}
        self.sources: dict[Address, SourceLocation] = {}
        self.exceptions: dict[Address, Mapping[str, str]] = {}
        self.documents_raw: dict[Address, Json] = {}
        self.account_id = PLACEHOLDER_ACCOUNT_ID

    # --- helpers -----------------------------------------------------------------

    def error(self, message: str, where: SourceLocation, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(message, where, hint))

    def is_broken(self, file: YamlFile, path: YamlPath) -> bool:
        return (file.name, path) in self.broken

    @property
    def variables(self) -> dict[str, str]:
        return {"account_id": self.account_id, "partition": self.partition}

    def substitute(self, value: Json) -> Json:
        return policy.substitute(value, self.variables)

    def check_variables(self, where: Iterable[tuple[str, SourceLocation, str]]) -> None:
        """Report ``${name}`` references that are neither iamstate's variables nor IAM's."""
        for text, location, what in where:
            for match in _VARIABLE.finditer(text):
                name = match.group(1)
                # IAM's own policy variables contain a colon (${aws:username}) or are ${*}, ${?}, ${$}.
                if ":" in name or name in _KNOWN_VARIABLES or name in ("*", "?", "$"):
                    continue
                hint = (
                    did_you_mean(name, _KNOWN_VARIABLES) or "iamstate replaces ${account_id} and ${partition}"
                )
                self.error(f"{what} uses the unknown variable '${{{name}}}'", location, hint)

    # --- the whole configuration -------------------------------------------------

    def build(self) -> DesiredConfig:
        sections = self._sections()
        account = sections.get("account", {})
        declared_id = account.get("id") if isinstance(account.get("id"), str) else None
        if declared_id is not None:
            self.account_id = declared_id
        scope_data = sections.get("scope", {})
        scope = Scope(
            paths=tuple(scope_data.get("paths") or ("/",)),
            ignore=tuple(scope_data.get("ignore") or ()),
        )
        stack = str(account.get("stack") or DEFAULT_STACK)

        entities = self._entities()
        policies = {d.name: d for d in entities[Kind.POLICY]}
        groups = {d.name: d for d in entities[Kind.GROUP]}

        for d in entities[Kind.POLICY]:
            self._add_policy(d)
        force_mfa_at: SourceLocation | None = None
        for d in entities[Kind.GROUP]:
            force_mfa_at = self._add_group(d, policies) or force_mfa_at
        for d in entities[Kind.USER]:
            self._add_user(d, policies, groups)
        for d in entities[Kind.ROLE]:
            self._add_role(d, policies)
        if force_mfa_at is not None:
            self._add_force_mfa(force_mfa_at)

        manages_password_policy = "password_policy" in sections
        if manages_password_policy:
            self._add_password_policy(sections["password_policy"])
        self._check_ownership(scope, stack)

        mfa = sections.get("mfa", {})
        credentials = sections.get("credentials", {})
        return DesiredConfig(
            state=State(dict(self.resources)),
            account_id=declared_id,
            stack=stack,
            scope=scope,
            mfa=MfaSettings(root=mfa.get("root"), console_users=mfa.get("console_users")),
            credentials=CredentialSettings(
                max_access_key_age_days=credentials.get("max_access_key_age_days"),
                max_unused_days=credentials.get("max_unused_days"),
                stale_access_keys=credentials.get("stale_access_keys", "report"),
            ),
            manages_password_policy=manages_password_policy,
            sources=dict(self.sources),
            exceptions=dict(self.exceptions),
            documents_raw=dict(self.documents_raw),
            files=tuple([f.name for f in self.files] + self.document_files),
        )

    def _sections(self) -> dict[str, dict[str, Any]]:
        """The singleton sections, each from the one file that declares it."""
        found: dict[str, dict[str, Any]] = {}
        first: dict[str, SourceLocation] = {}
        for file in self.files:
            for key in SECTIONS:
                if not isinstance(file.data, dict) or key not in file.data:
                    continue
                where = file.key_at((key,))
                if key in first:
                    self.error(
                        f"'{key}' declared twice: {first[key]} and {where}",
                        where,
                        f"'{key}' may appear in one file only; merge the two",
                    )
                    continue
                first[key] = where
                value = file.data[key]
                if isinstance(value, dict) and not self.is_broken(file, (key,)):
                    found[key] = value
                    if key == "password_policy":
                        self.sources[PASSWORD_POLICY_ADDRESS] = where
                        self._exceptions(PASSWORD_POLICY_ADDRESS, file, (key,), value)
        return found

    def _entities(self) -> dict[Kind, list[Declared]]:
        """Declared entities per kind, in file order; duplicates reported and dropped.

        An entity whose fields failed the schema is still registered by name (so that
        references to it do not add errors of their own) but is not built.
        """
        out: dict[Kind, list[Declared]] = {kind: [] for kind in _KINDS.values()}
        for section, kind in _KINDS.items():
            seen: dict[str, Declared] = {}
            for file in self.files:
                items = file.data.get(section) if isinstance(file.data, dict) else None
                if not isinstance(items, list):
                    continue
                for index, item in enumerate(items):
                    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                        continue
                    d = Declared(file, (section, index), item, kind)
                    first = seen.get(d.name.lower())
                    if first is not None:
                        same = "" if first.name == d.name else f" (as '{first.name}')"
                        self.error(
                            f"{kind.value} '{d.name}' declared twice: {first.at('name')}{same} and {d.at('name')}",
                            d.at("name"),
                            f"{kind.value} names are unique across all files, ignoring case; rename or remove one",
                        )
                        continue
                    seen[d.name.lower()] = d
                    out[kind].append(d)
        return out

    # --- entities ----------------------------------------------------------------

    def _register(self, d: Declared, resource: Resource) -> None:
        self.resources[d.address] = resource
        self.sources[d.address] = d.at("name")
        self._exceptions(d.address, d.file, d.path, d.data)

    def _exceptions(self, address: Address, file: YamlFile, path: YamlPath, data: Mapping[str, Any]) -> None:
        waivers = data.get("exceptions")
        if not isinstance(waivers, dict) or not waivers:
            return
        for rule, reason in waivers.items():
            if not _is_real_reason(str(reason)):
                self.error(
                    f"{subject(file, (*path, 'exceptions', rule))}: {str(reason)!r} does not say why "
                    f"the rule is waived",
                    file.at((*path, "exceptions", rule)),
                    'write a reason a reviewer can check, e.g. "Break-glass role, approved in SEC-42"',
                )
        self.exceptions[address] = {str(rule): str(reason) for rule, reason in waivers.items()}

    def _add_policy(self, d: Declared) -> None:
        if d.name.lower() == FORCE_MFA_POLICY:
            self.error(
                f"the policy name '{d.name}' is reserved for the policy iamstate attaches to groups "
                "with require_mfa",
                d.at("name"),
                "rename the policy; to require MFA, set require_mfa: true on the group",
            )
            return
        if self.is_broken(d.file, d.path):
            return
        document = self._document(d)
        if document is None:
            return
        substituted = self.substitute(document)
        path = d.data.get("path", "/")
        self._register(
            d,
            ManagedPolicy(
                name=d.name,
                path=path,
                description=d.data.get("description", ""),
                document=_normalize(substituted),
                document_as_written=substituted,
                tags=dict(d.data.get("tags") or {}),
                arn=policy_arn(self.partition, self.account_id, path, d.name),
            ),
        )
        self.documents_raw[d.address] = substituted

    def _document(self, d: Declared) -> dict[str, Json] | None:
        """The policy's document as written, inline or from ``document_file``."""
        if "document" in d.data:
            document = d.data["document"]
            self.check_variables(_strings(document, d.file, (*d.path, "document"), d.what("document")))
            return dict(document)
        where = d.at("document_file")
        found = load_document_file(
            self.root, where, str(d.data["document_file"]), field=d.what("document_file"), entity=d.what()
        )
        if isinstance(found, list):
            self.diagnostics.extend(found)
            return None
        shown, loaded = found.name, found.data
        if shown not in self.document_files:
            self.document_files.append(shown)
        if not isinstance(loaded, dict):
            self.error(
                f"the document of {d.what()} in {shown} must be a mapping (a JSON object), "
                f"not {type(loaded).__name__}",
                where,
            )
            return None
        self.check_variables((s, where, f"{d.what()} document {shown}") for s in _all_strings(loaded))
        return loaded

    def _add_group(self, d: Declared, policies: Mapping[str, Declared]) -> SourceLocation | None:
        """Add a group; returns where ``require_mfa: true`` was written, if it was."""
        if self.is_broken(d.file, d.path):
            return None
        attached = set(self._policy_refs(d, "policies", policies))
        require_mfa = bool(d.data.get("require_mfa"))
        if require_mfa:
            attached.add(policy_arn(self.partition, self.account_id, "/", FORCE_MFA_POLICY))
        path = d.data.get("path", "/")
        self._register(
            d,
            Group(
                name=d.name,
                path=path,
                policies=frozenset(attached),
                arn=entity_arn(self.partition, self.account_id, Kind.GROUP, path, d.name),
            ),
        )
        return d.at("require_mfa") if require_mfa else None

    def _add_force_mfa(self, where: SourceLocation) -> None:
        address = Address(Kind.POLICY, FORCE_MFA_POLICY)
        document = self.substitute(force_mfa_document())
        self.resources[address] = ManagedPolicy(
            name=FORCE_MFA_POLICY,
            path="/",
            description="Managed by iamstate: deny everything but MFA setup until signed in with MFA",
            document=_normalize(document),
            document_as_written=document,
            arn=policy_arn(self.partition, self.account_id, "/", FORCE_MFA_POLICY),
        )
        self.sources[address] = where
        self.documents_raw[address] = document

    def _add_user(
        self, d: Declared, policies: Mapping[str, Declared], groups: Mapping[str, Declared]
    ) -> None:
        if self.is_broken(d.file, d.path):
            return
        member_of = set()
        for index, group in enumerate(d.data.get("groups") or []):
            if group in groups:
                member_of.add(group)
                continue
            self.error(
                f"{d.what('groups', index)} refers to group '{group}', which is not declared",
                d.at("groups", index),
                did_you_mean(group, groups) or "declare it under groups:",
            )
        path = d.data.get("path", "/")
        self._register(
            d,
            User(
                name=d.name,
                path=path,
                groups=frozenset(member_of),
                policies=frozenset(self._policy_refs(d, "policies", policies)),
                permissions_boundary=self._boundary(d, policies),
                tags=dict(d.data.get("tags") or {}),
                arn=entity_arn(self.partition, self.account_id, Kind.USER, path, d.name),
            ),
        )

    def _add_role(self, d: Declared, policies: Mapping[str, Declared]) -> None:
        if self.is_broken(d.file, d.path):
            return
        trust = self._trust(d)
        path = d.data.get("path", "/")
        instance_profile = bool(d.data.get("instance_profile"))
        self._register(
            d,
            Role(
                name=d.name,
                path=path,
                description=d.data.get("description", ""),
                trust=_normalize(trust),
                trust_as_written=trust,
                policies=frozenset(self._policy_refs(d, "policies", policies)),
                max_session_duration=int(d.data.get("max_session_duration", 3600)),
                permissions_boundary=self._boundary(d, policies),
                tags=dict(d.data.get("tags") or {}),
                arn=entity_arn(self.partition, self.account_id, Kind.ROLE, path, d.name),
                instance_profiles=frozenset({d.name}) if instance_profile else frozenset(),
            ),
        )
        self.documents_raw[d.address] = trust
        self._check_require_mfa(d, trust)
        if instance_profile:
            address = Address(Kind.INSTANCE_PROFILE, d.name)
            self.resources[address] = InstanceProfile(
                name=d.name,
                path=path,
                roles=frozenset({d.name}),
                arn=entity_arn(self.partition, self.account_id, Kind.INSTANCE_PROFILE, path, d.name),
            )
            self.sources[address] = d.at("instance_profile")

    def _check_require_mfa(self, d: Declared, trust: Json) -> None:
        """``require_mfa`` next to a full ``trust:`` document: every AWS-principal statement needs MFA."""
        if not d.data.get("require_mfa"):
            return
        if "trusted" in d.data:
            self.error(
                f"{d.what('require_mfa')} applies to a full trust: document",
                d.at("require_mfa"),
                "with trusted:, write require_mfa: true inside trusted:",
            )
            return
        finding = mfa_finding(str(d.address), trust, str(d.at("name")))
        if finding is not None:
            self.findings.append(finding)

    def _trust(self, d: Declared) -> Json:
        """The role's trust policy as written (substituted), from ``trust`` or ``trusted``."""
        if "trust" in d.data:
            document = d.data["trust"]
            self.check_variables(_strings(document, d.file, (*d.path, "trust"), d.what("trust")))
            return self.substitute(document)
        trusted: dict[str, Any] = d.data["trusted"]
        for modifier in ("require_mfa", "external_id"):
            if trusted.get(modifier) and not (trusted.get("accounts") or trusted.get("principals")):
                self.error(
                    f"{d.what('trusted', modifier)} applies to accounts and principals, and none are listed",
                    d.at("trusted", modifier),
                    "remove it, or list the accounts/principals it should guard",
                )
        self.check_variables(
            _strings(trusted.get("principals") or [], d.file, (*d.path, "trusted", "principals"), d.what())
        )
        return self.substitute(trust_from_shorthand(trusted))

    def _add_password_policy(self, data: Mapping[str, Any]) -> None:
        fields = {k: v for k, v in data.items() if k != "exceptions"}
        self.resources[PASSWORD_POLICY_ADDRESS] = PasswordPolicy(**fields)

    # --- references --------------------------------------------------------------

    def _policy_refs(self, d: Declared, key: str, policies: Mapping[str, Declared]) -> Iterator[str]:
        for index, ref in enumerate(d.data.get(key) or []):
            arn = self._policy_ref(d, (key, index), str(ref), policies)
            if arn is not None:
                yield arn

    def _boundary(self, d: Declared, policies: Mapping[str, Declared]) -> str | None:
        ref = d.data.get("permissions_boundary")
        if ref is None:
            return None
        return self._policy_ref(d, ("permissions_boundary",), str(ref), policies)

    def _policy_ref(
        self, d: Declared, steps: tuple[str | int, ...], ref: str, policies: Mapping[str, Declared]
    ) -> str | None:
        """The ARN a policy reference stands for: a declared name, or an ARN as written."""
        where = d.at(*steps)
        what = d.what(*steps)
        if ref.startswith("arn:"):
            self.check_variables([(ref, where, what)])
            arn = str(self.substitute(ref))
            if not _POLICY_ARN.match(arn):
                self.error(
                    f"{what} '{ref}' is not a policy ARN",
                    where,
                    "e.g. arn:aws:iam::aws:policy/ReadOnlyAccess or arn:${partition}:iam::${account_id}:policy/x",
                )
                return None
            return arn
        declared = policies.get(ref)
        if declared is None:
            kind = "permissions boundary" if steps[0] == "permissions_boundary" else "policy"
            self.error(
                f"{what} refers to {kind} '{ref}', which is not declared",
                where,
                did_you_mean(ref, policies) or "declare it under policies:, or give the policy's ARN",
            )
            return None
        return policy_arn(self.partition, self.account_id, str(declared.data.get("path", "/")), declared.name)

    # --- ownership ---------------------------------------------------------------

    def _check_ownership(self, scope: Scope, stack: str) -> None:
        """Declared entities must fall inside the scope, or apply could never converge."""
        for address, resource in self.resources.items():
            if address.kind in (Kind.PASSWORD_POLICY, Kind.INSTANCE_PROFILE):
                continue
            verdict = ownership.standing(resource, scope, stack)
            if verdict is ownership.Standing.OWNED:
                continue
            reason = {
                ownership.Standing.OUT_OF_SCOPE: f"its path '{resource.path}' is outside scope.paths "
                f"({', '.join(scope.paths)})",
                ownership.Standing.IGNORED: "its name matches a scope.ignore glob",
                ownership.Standing.RESERVED: "its name or path is reserved by AWS",
            }.get(verdict, str(verdict))
            self.error(
                f"{address.kind.value} '{address.name}' is declared but this configuration would not own it: "
                f"{reason}",
                self.sources[address],
                "change its path or name, or widen scope",
            )


def _normalize(document: Json) -> Json:
    """The canonical form; a document too malformed to normalize is kept as written for the rules."""
    try:
        return policy.normalize(document)
    except (ValueError, TypeError):
        return document


def _is_real_reason(reason: str) -> bool:
    text = reason.strip()
    squashed = text.lower().strip(" .!?:;,")
    if squashed in _PLACEHOLDER_REASONS or squashed.startswith(("todo", "tbd", "fixme")):
        return False
    return len(text) >= _MIN_REASON_CHARS and len(text.split()) >= 2


def _all_strings(value: Json) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield str(key)
            yield from _all_strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _all_strings(child)


def _strings(
    value: Json, file: YamlFile, path: YamlPath, what: str
) -> Iterator[tuple[str, SourceLocation, str]]:
    """Every string in ``value`` that names a variable, with where it was written (keys at the key)."""
    if isinstance(value, str):
        if "${" in value:
            yield value, file.at(path), what
    elif isinstance(value, dict):
        for key, child in value.items():
            if "${" in str(key):
                yield str(key), file.key_at((*path, key)), what
            yield from _strings(child, file, (*path, key), what)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, file, (*path, index), what)
