"""The IAM entities iamstate manages, as frozen values.

Pure: no boto3, typer or file I/O. Desired state (from YAML) and live state (from
IAM) have the same type, :class:`State`, a mapping from :class:`Address` to a
resource, so that the diff is symmetric and ``import`` is "render live state".

Fields declared with ``field(compare=False)`` are live-only facts (ARNs, version
lists, counts) that apply needs but that never take part in the comparison.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from iamstate.temporary import Grant, Review

Json = Any
"""A JSON-compatible value (dict, list, str, int, float, bool, None)."""

STACK_TAG = "iamstate:stack"
DEFAULT_STACK = "iamstate"
RESERVED_PATH_PREFIXES = ("/aws-service-role/", "/aws-reserved/", "/iamstate-lock/")
"""Paths no configuration owns: AWS's, and the one of iamstate's apply lock (:mod:`iamstate.lock`)."""


class Kind(str):
    """The kind of an entity: the stable name before the dot of an address (``role``).

    Kinds are registered by :mod:`iamstate.kinds`, one module each; ``Kind("role")``
    returns the registered kind and raises ValueError for a name no module registered.
    The constants below name the kinds that code outside their own module refers to.
    """

    __slots__ = ()
    _registered: ClassVar[dict[str, Kind]] = {}

    POLICY: ClassVar[Kind]
    GROUP: ClassVar[Kind]
    USER: ClassVar[Kind]
    ROLE: ClassVar[Kind]
    INSTANCE_PROFILE: ClassVar[Kind]
    PASSWORD_POLICY: ClassVar[Kind]

    def __new__(cls, value: str) -> Kind:
        found = cls._registered.get(value)
        if found is None:
            # Kinds outside this module register when their module loads: load the registry once.
            from iamstate.kinds import kinds

            kinds()
            found = cls._registered.get(value)
        if found is None:
            raise ValueError(f"{value!r} is not a kind of entity")
        return found

    @classmethod
    def define(cls, value: str) -> Kind:
        """Register a kind name (idempotent) and return it."""
        found = cls._registered.get(value)
        if found is None:
            found = str.__new__(cls, value)
            cls._registered[value] = found
        return found

    @classmethod
    def names(cls) -> list[str]:
        """Every registered kind name, in registration order."""
        return list(cls._registered)

    @property
    def value(self) -> str:
        """The kind's name as plain text."""
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Kind({str.__str__(self)!r})"

    def __reduce__(self) -> tuple[type[Kind], tuple[str]]:
        return (Kind, (str.__str__(self),))


Kind.POLICY = Kind.define("policy")
Kind.GROUP = Kind.define("group")
Kind.USER = Kind.define("user")
Kind.ROLE = Kind.define("role")
Kind.INSTANCE_PROFILE = Kind.define("instance_profile")
Kind.PASSWORD_POLICY = Kind.define("password_policy")


@dataclass(frozen=True, order=True)
class Address:
    """``KIND.NAME``: how one entity is named in plans and findings."""

    kind: Kind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}.{self.name}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse ``"role.ci-deploy"`` into an Address; ValueError when malformed."""
        kind, sep, name = text.partition(".")
        if not sep or not name:
            raise ValueError(f"not an address: {text!r}")
        return cls(Kind(kind), name)

    @property
    def key(self) -> tuple[str, str]:
        """Matching key: IAM names are unique case-insensitively."""
        return (self.kind.value, self.name.lower())

    @property
    def label(self) -> str:
        """How messages name the entity, in the loader's words: ``policy 'reports-read'``."""
        return f"{self.kind.value.replace('_', ' ')} '{self.name}'"


PASSWORD_POLICY_ADDRESS = Address(Kind.PASSWORD_POLICY, "account")


class Resource(Protocol):
    """One entity of any kind: a frozen dataclass defined by its kind module (:mod:`iamstate.kinds`).

    Fields declared with ``field(compare=False)`` are live-only facts (ARNs, version
    lists, counts) that apply needs but that never take part in the comparison.
    """

    @property
    def kind(self) -> Kind: ...

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...


def address_of(resource: Resource) -> Address:
    """The address of a resource."""
    return Address(resource.kind, resource.name)


def essence(resource: Resource) -> dict[str, Json]:
    """The comparable fields of a resource as plain JSON values (pure).

    Live-only fields (``compare=False``) are dropped, sets become sorted lists,
    mappings become dicts with sorted keys, so that two resources are equal
    exactly when their essences are.
    """
    out: dict[str, Json] = {}
    instance: Any = resource
    for f in dataclasses.fields(instance):
        if not f.compare:
            continue
        out[f.name] = to_json(getattr(resource, f.name))
    return out


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types :func:`to_json` returns as they are (exactly these: an enum member is converted)."""


def to_json(value: Any) -> Json:
    """Convert model values (frozensets, mappings, tuples, dataclasses) to JSON values."""
    # Documents are most of what is converted: plain values, dicts and lists first, by exact
    # type, before the general checks (the same results, without an ABC check per string).
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {str(k): to_json(value[k]) for k in sorted(value)}
    if kind is list or kind is tuple:
        return [to_json(v) for v in value]
    if isinstance(value, (frozenset, set)):
        return sorted(to_json(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): to_json(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    return value


@dataclass(frozen=True)
class State:
    """A set of IAM entities keyed by address: desired and live alike."""

    resources: Mapping[Address, Resource] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Address]:
        return iter(sorted(self.resources))

    def __len__(self) -> int:
        return len(self.resources)

    def get(self, address: Address) -> Resource | None:
        """The resource at ``address``, matching names case-insensitively."""
        found = self.resources.get(address)
        if found is not None:
            return found
        key = address.key
        for other, resource in self.resources.items():
            if other.key == key:
                return resource
        return None

    def of_kind(self, kind: Kind) -> list[Resource]:
        """The resources of one kind, in name order."""
        return [self.resources[a] for a in self._addresses_by_kind().get(kind, ())]

    def items_of_kind(self, kind: Kind) -> list[tuple[Address, Resource]]:
        """The addresses and resources of one kind, in name order (the addresses held here)."""
        resources = self.resources
        return [(a, resources[a]) for a in self._addresses_by_kind().get(kind, ())]

    def _addresses_by_kind(self) -> Mapping[Kind, list[Address]]:
        """The addresses of each kind, in name order: sorted once, not on every :meth:`of_kind`
        (made again should entries be added or removed after the first call)."""
        index = self.__dict__.get("_by_kind")
        if index is None or index[0] != len(self.resources):
            by_kind: dict[Kind, list[Address]] = {}
            for address in sorted(self.resources):
                by_kind.setdefault(address.kind, []).append(address)
            index = (len(self.resources), by_kind)
            self.__dict__["_by_kind"] = index
        found: Mapping[Kind, list[Address]] = index[1]
        return found


@dataclass(frozen=True)
class Scope:
    """What a configuration owns (SPEC §3)."""

    paths: tuple[str, ...] = ("/",)
    ignore: tuple[str, ...] = ()
    prune: str = "tagged"
    """``tagged``: an undeclared entity is deleted only when it carries this stack's tag;
    ``all``: the scope is exclusive, every undeclared entity in it is deleted."""
    protect: tuple[str, ...] = ()
    """Name globs never deleted, beside the built-in protected names."""


@dataclass(frozen=True)
class MfaSettings:
    """``mfa:`` — drift requirements for root and console users."""

    root: str | None = None
    console_users: str | None = None


@dataclass(frozen=True)
class CredentialSettings:
    """``credentials:`` — limits that drift and apply enforce on live credentials."""

    max_access_key_age_days: int | None = None
    max_unused_days: int | None = None
    stale_access_keys: str = "report"


DEFAULT_WARN_DAYS = 7
"""``access.warn_days`` when the configuration does not say: how far ahead ``expiring-soon`` looks."""


@dataclass(frozen=True)
class AccessSettings:
    """``access:`` — how far ahead expiries are announced, and how long a temporary grant may last."""

    warn_days: int = DEFAULT_WARN_DAYS
    max_temporary_days: int | None = None


@dataclass(frozen=True)
class SourceLocation:
    """Where something was declared: ``file:line:column`` (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class PolicyReference:
    """A policy ARN that a declaration names (``policies``, ``permissions_boundary``), and where."""

    arn: str
    location: SourceLocation | None
    what: str
    """How messages name the referring value: ``role 'ci' policies[2]``."""


@dataclass(frozen=True)
class DesiredConfig:
    """A loaded, validated configuration: desired state plus account settings."""

    state: State
    account_id: str | None = None
    stack: str = DEFAULT_STACK
    scope: Scope = Scope()
    mfa: MfaSettings = MfaSettings()
    credentials: CredentialSettings = CredentialSettings()
    manages_password_policy: bool = False
    managed_kinds: frozenset[Kind] = frozenset()
    """Kinds the configuration declares at least one of (account-wide settings are managed only then)."""
    sources: Mapping[Address, SourceLocation] = field(default_factory=dict)
    exceptions: Mapping[Address, Mapping[str, str]] = field(default_factory=dict)
    documents_raw: Mapping[Address, Json] = field(default_factory=dict)
    """Policy documents (and role trust) as written, before normalization, for the rules."""
    require_mfa: frozenset[Address] = frozenset()
    """Roles declared with ``require_mfa: true`` next to a full ``trust:`` document."""
    files: tuple[str, ...] = ()
    absent: frozenset[Address] = frozenset()
    """Entities declared ``absent: true``: deleted whether tagged or not (their place is in ``sources``)."""
    in_use_days: int = 30
    """``safety.in_use_days``: deleting a role or user used within this many days is refused."""
    audits_account: bool = False
    """The configuration manages the account as a whole (``password_policy``, ``mfa`` or
    ``audit.account: true``): account-wide findings (root, password policy) are its to report."""
    policy_references: tuple[PolicyReference, ...] = ()
    """Every policy named by its ARN, for the checks that need live IAM (it must exist there)."""
    as_of: datetime | None = None
    """The time expiry was evaluated at (``--at``, or the command's clock); None: never evaluated."""
    temporary: tuple[Grant, ...] = ()
    """Every grant declared with ``expires_at``, expired ones included (:mod:`iamstate.temporary`)."""
    reviews: Mapping[Address, Review] = field(default_factory=dict)
    """``review_by`` of users, roles and policies."""
    access: AccessSettings = AccessSettings()


@dataclass(frozen=True)
class LiveAccount:
    """What was read from IAM: the whole account, before ownership filtering."""

    state: State
    account_id: str
    partition: str = "aws"
    caller_arn: str = ""
    api_calls: Mapping[str, int] = field(default_factory=dict)
    managed_documents: Mapping[str, Json] = field(default_factory=dict)
    """The default-version documents of the AWS-managed policies the account and the
    configuration attach, by ARN (read at plan time; empty when not read)."""
    read_at: str = ""
    """When the account was read (ISO 8601, UTC): the "now" of what was read."""
    user_last_used: Mapping[str, str] = field(default_factory=dict)
    """User name -> when its console password or an access key was last used (ISO 8601), from
    the credential report; read only when a plan deletes users."""


def policy_arn(partition: str, account_id: str, path: str, name: str) -> str:
    """The ARN of a customer-managed policy."""
    return f"arn:{partition}:iam::{account_id}:policy{path}{name}"
