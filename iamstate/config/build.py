"""From parsed, schema-valid YAML files to a :class:`DesiredConfig`.

Merges the files (lists concatenate, sections appear once), checks names and
references across files, reads the files a configuration names (``document_file``,
``metadata_file``), substitutes ``${partition}`` and ``${account_id}``, and lets
each kind (:mod:`iamstate.kinds`) build its resources from its declarations.
Every problem becomes a located :class:`Diagnostic`; building goes on after one
so that all are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamstate import ownership, policy
from iamstate.config.docfile import load_document_file
from iamstate.config.files import read_referenced_file
from iamstate.config.iamchecks import declaration_problems
from iamstate.config.limits import MAX_METADATA_FILE_BYTES
from iamstate.config.where import did_you_mean, subject
from iamstate.config.yamlpos import YamlFile, YamlPath
from iamstate.constraints import Quotas
from iamstate.errors import Diagnostic
from iamstate.kinds import KindSpec, spec, specs
from iamstate.model import (
    DEFAULT_STACK,
    Address,
    CredentialSettings,
    DesiredConfig,
    Json,
    Kind,
    MfaSettings,
    PolicyReference,
    Resource,
    Scope,
    SourceLocation,
    State,
)

SETTINGS = ("account", "scope", "mfa", "credentials", "audit", "safety")
"""Top-level sections of settings; like a singleton kind's section, each may appear in one file only."""

PLACEHOLDER_ACCOUNT_ID = "000000000000"
"""Substituted for ``${account_id}`` when ``account.id`` is absent (validate needs no account)."""

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KNOWN_VARIABLES = ("account_id", "partition")
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
    """One declaration as written: the file, its path there (``("roles", 2)``), its value and name."""

    file: YamlFile
    path: YamlPath
    data: Any
    kind: Kind
    name: str

    @property
    def address(self) -> Address:
        return Address(self.kind, self.name)

    def at(self, *steps: str | int) -> SourceLocation:
        """Where a field of this declaration was written."""
        return self.file.at((*self.path, *steps))

    def key_at(self) -> SourceLocation:
        """Where the key that names this declaration (``password_policy:``) was written."""
        return self.file.key_at(self.path)

    def what(self, *steps: str | int) -> str:
        """How messages name a field of this declaration."""
        return subject(self.file, (*self.path, *steps))


def is_absent(d: Declared) -> bool:
    """True for a declaration that says ``absent: true``: the entity is to be deleted."""
    return isinstance(d.data, Mapping) and d.data.get("absent") is True


def singleton_sections() -> tuple[str, ...]:
    """Top-level sections that may appear in one file only: settings and singleton kinds' own."""
    own = [s.section[0] for s in specs() if s.singleton and s.section and len(s.section) == 1]
    return (*SETTINGS[:2], *own, *SETTINGS[2:])


class Builder:
    """Builds one :class:`DesiredConfig` from files, collecting diagnostics as it goes.

    Kinds build through it: it resolves names across files, reads referenced
    files, substitutes variables and records resources, where each was declared,
    and its waivers.
    """

    def __init__(
        self, files: list[YamlFile], broken: set[tuple[str, YamlPath]], partition: str, *, root: Path
    ):
        self.root = root
        """The config root: files the configuration names must lie inside it."""
        self.files = files
        self.broken = broken
        self.partition = partition
        self.diagnostics: list[Diagnostic] = []
        self.require_mfa: set[Address] = set()
        """Roles declared with ``require_mfa: true`` beside a full ``trust:`` (for trust-mfa-missing)."""
        self.document_files: list[str] = []
        self.resources: dict[Address, Resource] = {}
        self.sources: dict[Address, SourceLocation] = {}
        self.exceptions: dict[Address, Mapping[str, str]] = {}
        self.documents_raw: dict[Address, Json] = {}
        self.account_id = PLACEHOLDER_ACCOUNT_ID
        self.sections: dict[str, tuple[YamlFile, Any]] = {}
        self.quotas = Quotas()
        self.policy_references: list[PolicyReference] = []
        """Policies named by ARN, with where (they must exist live: checked at plan time)."""
        self._declared: dict[Kind, list[Declared]] = {}
        self._declared_names: dict[Kind, dict[str, Declared]] = {}

    # --- services for the kinds -----------------------------------------------------

    def error(self, message: str, where: SourceLocation | None, hint: str = "") -> None:
        """Report one located problem."""
        self.diagnostics.append(Diagnostic(message, where, hint))

    def is_broken(self, d: Declared) -> bool:
        """True when the schema found a problem in this declaration (or the section holding it)."""
        return any((d.file.name, d.path[:end]) in self.broken for end in range(1, len(d.path) + 1))

    @property
    def variables(self) -> dict[str, str]:
        return {"account_id": self.account_id, "partition": self.partition}

    def substitute(self, value: Json) -> Json:
        """``${account_id}`` and ``${partition}`` replaced in every string of ``value``."""
        return policy.substitute(value, self.variables)

    def did_you_mean(self, word: str, choices: Iterable[str]) -> str:
        """A "did you mean" hint, or ""."""
        return did_you_mean(word, choices)

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

    def check_strings(self, value: Json, d: Declared, *steps: str | int, what: str | None = None) -> None:
        """Check the variables of every string in a value declared at ``steps`` of ``d``."""
        self.check_variables(_strings(value, d.file, (*d.path, *steps), what or d.what(*steps)))

    def declared(self, kind: Kind) -> list[Declared]:
        """The declarations of one kind, in file order (duplicates dropped)."""
        if kind not in self._declared:
            self._declared[kind] = list(spec(kind).declarations(self))
        return self._declared[kind]

    def declared_names(self, kind: Kind) -> dict[str, Declared]:
        """The declarations of one kind by name (built once: every reference looks here)."""
        if kind not in self._declared_names:
            self._declared_names[kind] = {d.name: d for d in self.declared(kind)}
        return self._declared_names[kind]

    def declarations_at(self, kind: KindSpec[Any], section: tuple[str, ...]) -> Iterator[Declared]:
        """The declarations at a kind's YAML path: list items across files, or a singleton's one value."""
        if kind.singleton:
            holder = self.sections.get(section[0])
            if holder is None:
                return
            file, value = holder
            for step in section[1:]:
                value = value.get(step) if isinstance(value, Mapping) else None
            name = kind.name_of(value) if value is not None else None
            if name is not None:
                yield Declared(file, section, value, kind.kind, name)
            return
        seen: dict[str, Declared] = {}
        for file in self.files:
            items = file.get(section)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                name = kind.name_of(item) if isinstance(item, dict) else None
                if name is None:
                    continue
                d = Declared(file, (*section, index), item, kind.kind, name)
                first = seen.get(name.lower())
                if first is not None:
                    same = "" if first.name == name else f" (as '{first.name}')"
                    self.error(
                        f"{kind.label} '{name}' declared twice: {first.at(kind.name_key)}{same} and "
                        f"{d.at(kind.name_key)}",
                        d.at(kind.name_key),
                        f"{kind.label} names are unique across all files, ignoring case; rename or remove one",
                    )
                    continue
                seen[name.lower()] = d
                yield d

    def register(self, d: Declared, resource: Resource, *, where: SourceLocation | None = None) -> None:
        """Record a resource a declaration stands for, where it was declared, and its waivers;
        report what IAM would refuse in it."""
        self.diagnostics.extend(declaration_problems(d, resource, self.quotas))
        self.resources[d.address] = resource
        self.sources[d.address] = where or d.at(spec(d.kind).name_key)
        if isinstance(d.data, Mapping):
            self._exceptions(d.address, d.file, d.path, d.data)

    def add(self, address: Address, resource: Resource, where: SourceLocation) -> None:
        """Record a resource that another declaration implies (a role's instance profile)."""
        self.resources[address] = resource
        self.sources[address] = where

    def require_mfa_in_trust(self, d: Declared, trust: Json) -> None:
        """A role declared ``require_mfa: true`` beside a full ``trust:``: recorded for the rule
        trust-mfa-missing, which checks that every AWS-principal statement needs MFA."""
        self.require_mfa.add(d.address)

    def read_document_file(self, d: Declared, key: str) -> dict[str, Json] | None:
        """A policy document from the JSON or YAML file a declaration names; None after an error."""
        where = d.at(key)
        found = load_document_file(
            self.root, where, str(d.data[key]), key=key, field=d.what(key), entity=d.what()
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

    def read_text_file(self, d: Declared, key: str, *, suffixes: tuple[str, ...]) -> str | None:
        """The text of a file a declaration names (relative to its YAML file); None after an error."""
        relative = str(d.data[key])
        where = d.at(key)
        if Path(relative).suffix.lower() not in suffixes:
            self.error(
                f"{d.what(key)} '{relative}' must be a {' or '.join(suffixes)} file",
                where,
            )
            return None
        found = read_referenced_file(
            self.root,
            where,
            relative,
            what=d.what(key),
            max_bytes=MAX_METADATA_FILE_BYTES,
            allowed_suffixes=suffixes,
            not_found_hint=f"{key} is relative to the YAML file that declares it",
        )
        if isinstance(found, Diagnostic):
            self.diagnostics.append(found)
            return None
        if found.name not in self.document_files:
            self.document_files.append(found.name)
        return found.text

    # --- the whole configuration -------------------------------------------------

    def build(self) -> DesiredConfig:
        self.sections = self._sections()
        account = self._section("account")
        declared_id = account.get("id") if isinstance(account.get("id"), str) else None
        if declared_id is not None:
            self.account_id = declared_id
        if isinstance(account.get("quotas"), dict):
            self.quotas = Quotas.from_config(account["quotas"])
        scope_data = self._section("scope")
        scope = Scope(
            paths=tuple(scope_data.get("paths") or ("/",)),
            ignore=tuple(scope_data.get("ignore") or ()),
            prune=str(scope_data.get("prune") or "tagged"),
            protect=tuple(scope_data.get("protect") or ()),
        )
        stack = str(account.get("stack") or DEFAULT_STACK)

        managed: set[Kind] = set()
        absent: set[Address] = set()
        for kind in specs():
            for d in self.declared(kind.kind):
                if is_absent(d):
                    self.sources[d.address] = d.at(kind.name_key)
                    if not self.is_broken(d):
                        absent.add(d.address)
                        self._exceptions(d.address, d.file, d.path, d.data)
                    continue
                kind.build(d, self)
                managed.add(kind.kind)
        self._check_ownership(scope, stack)

        mfa = self._section("mfa")
        credentials = self._section("credentials")
        audit = self._section("audit")
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
            manages_password_policy=Kind.PASSWORD_POLICY in managed,
            managed_kinds=frozenset(managed),
            sources=dict(self.sources),
            exceptions=dict(self.exceptions),
            documents_raw=dict(self.documents_raw),
            require_mfa=frozenset(self.require_mfa),
            files=tuple([f.name for f in self.files] + self.document_files),
            absent=frozenset(absent),
            in_use_days=int(self._section("safety").get("in_use_days", 30)),
            audits_account=bool(
                Kind.PASSWORD_POLICY in managed or "mfa" in self.sections or audit.get("account") is True
            ),
            policy_references=tuple(self.policy_references),
        )

    def _section(self, key: str) -> dict[str, Any]:
        found = self.sections.get(key)
        return found[1] if found is not None else {}

    def _sections(self) -> dict[str, tuple[YamlFile, Any]]:
        """The sections that may appear once, each from the one file that declares it."""
        found: dict[str, tuple[YamlFile, Any]] = {}
        first: dict[str, SourceLocation] = {}
        for file in self.files:
            for key in singleton_sections():
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
                if isinstance(value, dict) and (file.name, (key,)) not in self.broken:
                    found[key] = (file, value)
        return found

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

    # --- ownership ---------------------------------------------------------------

    def _check_ownership(self, scope: Scope, stack: str) -> None:
        """Declared entities must fall inside the scope, or apply could never converge."""
        for address, resource in self.resources.items():
            if not spec(address.kind).scoped(resource):
                continue
            verdict = ownership.standing(resource, scope, stack)
            if verdict not in (
                ownership.Standing.RESERVED,
                ownership.Standing.IGNORED,
                ownership.Standing.OUT_OF_SCOPE,
            ):
                continue  # a declared entity carries no tags yet: what is live decides the rest
            reason = {
                ownership.Standing.OUT_OF_SCOPE: f"its path '{resource.path}' is outside scope.paths "
                f"({', '.join(scope.paths)})",
                ownership.Standing.IGNORED: "its name matches a scope.ignore glob",
                ownership.Standing.RESERVED: "its name or path is reserved (by AWS, or /iamstate-lock/ by "
                "iamstate for its apply lock)",
            }.get(verdict, str(verdict))
            self.error(
                f"{address.kind.value} '{address.name}' is declared but this configuration would not own it: "
                f"{reason}",
                self.sources[address],
                "change its path or name, or widen scope",
            )


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
