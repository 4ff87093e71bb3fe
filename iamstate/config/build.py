"""From parsed, schema-valid YAML files to a :class:`DesiredConfig`.

Merges the files (lists concatenate, sections appear once), checks names and
references across files, reads the files a configuration names (``document_file``,
``metadata_file``), substitutes ``${partition}`` and ``${account_id}``, and lets
each kind (:mod:`iamstate.kinds`) build its resources from its declarations.
Every problem becomes a located :class:`Diagnostic`; building goes on after one
so that all are reported.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from iamstate import ownership, policy
from iamstate.config.docfile import load_document_file
from iamstate.config.files import read_referenced_file
from iamstate.config.iamchecks import declaration_problems
from iamstate.config.limits import MAX_METADATA_FILE_BYTES
from iamstate.config.where import did_you_mean, subject
from iamstate.config.yamlpos import YamlFile, YamlPath, located
from iamstate.constraints import Quotas
from iamstate.errors import Diagnostic
from iamstate.kinds import KindSpec, spec, specs
from iamstate.model import (
    DEFAULT_STACK,
    AccessSettings,
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
from iamstate.temporary import (
    REASON_HINT,
    TIMESTAMP_EXAMPLE,
    Grant,
    GrantKind,
    Review,
    format_timestamp,
    parse_review_date,
    parse_timestamp,
    with_expiry,
)

SETTINGS = ("account", "scope", "mfa", "credentials", "audit", "safety", "access")
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

    @functools.cached_property
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
    return isinstance(d.data, dict) and d.data.get("absent") is True


def singleton_sections() -> tuple[str, ...]:
    """Top-level sections that may appear in one file only: settings and singleton kinds' own."""
    own = [s.section[0] for s in specs() if s.singleton and s.section and len(s.section) == 1]
    return (*SETTINGS[:2], *own, *SETTINGS[2:])


class Sources(Mapping[Address, SourceLocation]):
    """Where each entity was declared: kept as its file's name and its packed place there, and
    made a location only when read (a large configuration declares thousands; a message
    names a few). The parsed file is not kept."""

    __slots__ = ("_places",)

    def __init__(self) -> None:
        self._places: dict[Address, SourceLocation | tuple[str, int]] = {}

    def declared_at(self, address: Address, file: YamlFile, path: YamlPath) -> None:
        """``address`` was declared at ``path`` of ``file``."""
        self._places[address] = (file.name, file.place(path))

    def __setitem__(self, address: Address, where: SourceLocation) -> None:
        self._places[address] = where

    def __getitem__(self, address: Address) -> SourceLocation:
        found = self._places[address]
        if isinstance(found, tuple):
            found = self._places[address] = located(*found)
        return found

    def __contains__(self, address: object) -> bool:
        return address in self._places

    def __iter__(self) -> Iterator[Address]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


class Builder:
    """Builds one :class:`DesiredConfig` from files, collecting diagnostics as it goes.

    Kinds build through it: it resolves names across files, reads referenced
    files, substitutes variables and records resources, where each was declared,
    and its waivers.
    """

    def __init__(
        self,
        files: list[YamlFile],
        broken: set[tuple[str, YamlPath]],
        partition: str,
        now: datetime,
        *,
        root: Path,
        checks: bool = True,
    ):
        self.root = root
        """The config root: files the configuration names must lie inside it."""
        self.checks = checks
        """False: skip the checks that only report (what IAM would refuse in a declaration,
        entities outside the scope); what is built is the same. For a second process
        whose configuration another one checks."""
        self.files = files
        self.broken = broken
        self.partition = partition
        self.now = now
        """The time expiry is evaluated at: what has expired by then is no longer granted."""
        self.access = AccessSettings()
        self.grants: dict[tuple[str, YamlPath], Grant] = {}
        self.reviews: dict[Address, Review] = {}
        self.diagnostics: list[Diagnostic] = []
        self.require_mfa: set[Address] = set()
        """Roles declared with ``require_mfa: true`` beside a full ``trust:`` (for trust-mfa-missing)."""
        self._asked: tuple[Json, str, bool] = (None, "", False)
        """The last value asked whether it names a variable, its text, and the answer."""
        self.document_files: list[str] = []
        self.resources: dict[Address, Resource] = {}
        self.sources = Sources()
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
        if not self.broken:
            return False  # a valid configuration: nothing to look for
        return any((d.file.name, d.path[:end]) in self.broken for end in range(1, len(d.path) + 1))

    @property
    def variables(self) -> dict[str, str]:
        return {"account_id": self.account_id, "partition": self.partition}

    def substitute(self, value: Json) -> Json:
        """``${account_id}`` and ``${partition}`` replaced in every string of ``value`` (the value
        itself when it names no variable: most documents)."""
        if not self._names_variable(value):
            return value
        return policy.substitute(value, self.variables)

    def _names_variable(self, value: Json) -> bool:
        """False when no string of ``value`` (a key or a value) holds ``${``, which :func:`_strings`
        looks for: told from the value's ``repr`` without a walk (a string's ``repr`` keeps ``$``
        and ``{`` as written, and nothing else in it puts a ``{`` right after a ``$``). The
        answer and the text it read are kept for the last value asked about: a document is
        checked, then substituted, then normalized."""
        if self._asked[0] is not value:
            text = value if isinstance(value, str) else repr(value)
            self._asked = (value, text, "${" in text)
        return self._asked[2]

    def text_of(self, value: Json) -> str | None:
        """``repr(value)`` when ``value`` is the last value asked whether it names a variable
        (the normalization of a document can then skip writing it out again), else None."""
        asked, text, _ = self._asked
        return text if asked is value and not isinstance(value, str) else None

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
        if not self._names_variable(value):
            return
        found = list(_strings(value, d.file, (*d.path, *steps), ""))
        if found:  # most values name no variable: the field's name is made only for those that do
            label = what or d.what(*steps)
            self.check_variables((text, where, label) for text, where, _ in found)

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
                value = value.get(step) if isinstance(value, dict) else None
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
        if self.checks:
            self.diagnostics.extend(declaration_problems(d, resource, self.quotas))
        address = d.address
        self.resources[address] = resource
        if where is None:
            self.sources.declared_at(address, d.file, (*d.path, spec(d.kind).name_key))
        else:
            self.sources[address] = where
        if isinstance(d.data, dict):
            self._exceptions(d)
            self._review(d)

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

    def holds(
        self,
        d: Declared,
        steps: YamlPath,
        item: Any,
        kind: GrantKind,
        target: str,
        *,
        holder: Address | None = None,
    ) -> bool:
        """Check and record the ``expires_at`` and ``reason`` of ``item``, a mapping written at
        ``steps`` of ``d``; True while the grant holds as of :attr:`now` (always, without an expiry).

        ``holder`` is the entity that holds the grant (``d``'s own by default).
        """
        if not isinstance(item, dict) or "expires_at" not in item:
            return True
        path = (*d.path, *steps)
        known = self.grants.get((d.file.name, path))
        if known is not None:
            return not known.expired(self.now)
        what = d.what(*steps) if steps else d.what()
        written = item["expires_at"]
        where = d.file.at((*path, "expires_at"))
        expires_at = parse_timestamp(written) if isinstance(written, str) else None
        if expires_at is None:
            self.error(
                f"{what} expires_at {str(written)!r} is not an absolute UTC time in RFC 3339",
                where,
                f"write the time it ends, such as {TIMESTAMP_EXAMPLE}; relative dates (+4h, tomorrow), "
                "dates without a time and other time zones are not accepted",
            )
            return True
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            self.error(
                f"{what} has expires_at but no reason",
                d.file.key_at((*path, "expires_at")),
                REASON_HINT,
            )
            return True
        if not _is_real_grant_reason(reason):
            self.error(
                f"{what} reason {reason!r} does not say why the grant exists",
                d.file.at((*path, "reason")),
                'name the incident, ticket or task, e.g. "INC-4411 on-call"',
            )
        longest = self.access.max_temporary_days
        if longest is not None and expires_at - self.now > timedelta(days=longest):
            days = (expires_at - self.now) / timedelta(days=1)
            self.error(
                f"{what} expires_at {format_timestamp(expires_at)} is {days:.1f} days from now "
                f"({format_timestamp(self.now)}); access.max_temporary_days allows at most {longest}",
                where,
                f"choose an expires_at before {format_timestamp(self.now + timedelta(days=longest))}",
            )
        grant = Grant(holder or d.address, kind, target, expires_at, reason.strip(), where)
        self.grants[(d.file.name, path)] = grant
        return not grant.expired(self.now)

    def entry_holds(self, d: Declared) -> bool:
        """False for a user or role entry whose own ``expires_at`` has passed: it counts as
        ``absent: true`` from then on."""
        return self.holds(d, (), d.data, GrantKind.ENTITY, "")

    def is_gone(self, d: Declared) -> bool:
        """True for a declaration of an entity that must not exist: ``absent: true``, or expired."""
        return is_absent(d) or (not self.is_broken(d) and not self.entry_holds(d))

    def expiring_statements(self, d: Declared, key: str, document: Json) -> Json:
        """``document`` (declared at ``key`` of ``d``, or read from the file it names) with every
        statement's ``expires_at`` and ``reason`` taken out and turned into ``DateLessThan
        aws:CurrentTime``, which AWS enforces; the grants are recorded. Problems in a
        document read from a file point at ``key``."""
        if not isinstance(document, dict) or "Statement" not in document:
            return document
        statements = document["Statement"]
        single = isinstance(statements, dict)
        items = [statements] if single else statements
        if not isinstance(items, list):
            return document
        out = []
        for index, statement in enumerate(items):
            if not isinstance(statement, dict) or not ({"expires_at", "reason"} & set(statement)):
                out.append(statement)
                continue
            steps: YamlPath = (key, "Statement") if single else (key, "Statement", index)
            label = policy.statement_label(index + 1, statement)
            self.holds(d, steps, statement, GrantKind.STATEMENT, label)
            kept = {k: v for k, v in statement.items() if k not in ("expires_at", "reason")}
            if (d.file.name, (*d.path, *steps)) in self.grants:
                expiring = with_expiry(kept, str(statement["expires_at"]))
                if expiring is None:
                    self.error(
                        f"{d.what(*steps)} ({label}) has expires_at and its own DateLessThan on "
                        "aws:CurrentTime",
                        d.file.at((*d.path, *steps, "expires_at")),
                        "keep one of the two",
                    )
                else:
                    kept = expiring
            out.append(kept)
        if all(new is old for new, old in zip(out, items, strict=True)):
            return document  # no statement holds an expiry: the document as it came
        return {**document, "Statement": out[0] if single else out}

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
        access = self._section("access")
        self.access = AccessSettings(
            warn_days=int(access.get("warn_days", self.access.warn_days)),
            max_temporary_days=access.get("max_temporary_days"),
        )

        managed: set[Kind] = set()
        absent: set[Address] = set()
        for kind in specs():
            for d in self.declared(kind.kind):
                if self.is_gone(d):
                    self.sources.declared_at(d.address, d.file, (*d.path, kind.name_key))
                    if not self.is_broken(d):
                        absent.add(d.address)
                        self._exceptions(d)
                    continue
                kind.build(d, self)
                managed.add(kind.kind)
        if self.checks:
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
            sources=self.sources,
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
            as_of=self.now,
            temporary=tuple(self.grants.values()),
            reviews=dict(self.reviews),
            access=self.access,
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

    def _exceptions(self, d: Declared) -> None:
        waivers = d.data.get("exceptions")
        if not isinstance(waivers, dict) or not waivers:
            return
        kept: dict[str, str] = {}
        for rule, waiver in waivers.items():
            # A waiver is a reason, or {reason, expires_at}.
            temporary = isinstance(waiver, dict)
            reason = waiver.get("reason") if temporary else waiver
            if not _is_real_reason(str(reason)):
                self.error(
                    f"{d.what('exceptions', rule)}: {str(reason)!r} does not say why the rule is waived",
                    d.at("exceptions", rule, "reason") if temporary else d.at("exceptions", rule),
                    'write a reason a reviewer can check, e.g. "Break-glass role, approved in SEC-42"',
                )
            # An expired waiver stops waiving: the finding comes back as it was.
            if self.holds(d, ("exceptions", rule), waiver, GrantKind.WAIVER, str(rule)):
                kept[str(rule)] = str(reason)
        self.exceptions[d.address] = kept

    def _review(self, d: Declared) -> None:
        """Record a declaration's ``review_by`` (the schema checked its shape)."""
        written = d.data.get("review_by")
        if written is None:
            return
        due = parse_review_date(str(written))
        if due is None:
            self.error(
                f"{d.what('review_by')} {str(written)!r} is not a date (2027-03-31) or an absolute UTC time",
                d.at("review_by"),
            )
            return
        self.reviews[d.address] = Review(d.address, due, str(written), d.at("review_by"))

    # --- ownership ---------------------------------------------------------------

    def _check_ownership(self, scope: Scope, stack: str) -> None:
        """Declared entities must fall inside the scope, or apply could never converge."""
        for address, resource in self.resources.items():
            if not spec(address.kind).scoped(resource):
                continue
            verdict = ownership.scope_standing(resource, scope, stack)  # CloudFormation's names aside
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
    return _is_real_grant_reason(text) and len(text) >= _MIN_REASON_CHARS and len(text.split()) >= 2


def _is_real_grant_reason(reason: str) -> bool:
    """A grant's reason may be as short as a ticket id (``INC-4411``), but not a placeholder."""
    squashed = reason.strip().lower().strip(" .!?:;,")
    return squashed not in _PLACEHOLDER_REASONS and not squashed.startswith(("todo", "tbd", "fixme"))


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
