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
from enum import Enum, StrEnum
from typing import Any

Json = Any
"""A JSON-compatible value (dict, list, str, int, float, bool, None)."""

STACK_TAG = "iamstate:stack"
DEFAULT_STACK = "iamstate"
RESERVED_PATH_PREFIXES = ("/aws-service-role/", "/aws-reserved/")


class Kind(StrEnum):
    """The kinds of entity, with the stable names used in addresses."""

    POLICY = "policy"
    GROUP = "group"
    USER = "user"
    ROLE = "role"
    INSTANCE_PROFILE = "instance_profile"
    PASSWORD_POLICY = "password_policy"

    def __str__(self) -> str:
        return self.value


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


PASSWORD_POLICY_ADDRESS = Address(Kind.PASSWORD_POLICY, "account")


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
    """The document as the config wrote it (substituted, not normalized): what apply sends."""

    kind = Kind.POLICY


@dataclass(frozen=True)
class Group:
    """An IAM group. Membership is declared on users, never here."""

    name: str
    path: str = "/"
    policies: frozenset[str] = frozenset()
    inline_policies: Mapping[str, Json] = field(default_factory=dict)
    arn: str = field(default="", compare=False)

    kind = Kind.GROUP


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

    kind = Kind.USER


@dataclass(frozen=True)
class Role:
    """An IAM role. ``trust`` is the canonical assume-role policy document."""

    name: str
    path: str = "/"
    description: str = ""
    trust: Json = field(default_factory=dict)
    policies: frozenset[str] = frozenset()
    max_session_duration: int = 3600
    permissions_boundary: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    inline_policies: Mapping[str, Json] = field(default_factory=dict)
    arn: str = field(default="", compare=False)
    instance_profiles: frozenset[str] = field(default=frozenset(), compare=False)
    trust_as_written: Json = field(default=None, compare=False)
    """The trust policy as the config wrote it (substituted, not normalized): what apply sends."""

    kind = Kind.ROLE


@dataclass(frozen=True)
class InstanceProfile:
    """An instance profile and the roles it holds (IAM allows at most one)."""

    name: str
    path: str = "/"
    roles: frozenset[str] = frozenset()
    tags: Mapping[str, str] = field(default_factory=dict)
    arn: str = field(default="", compare=False)

    kind = Kind.INSTANCE_PROFILE


@dataclass(frozen=True)
class PasswordPolicy:
    """The account password policy; every field is always sent on update."""

    minimum_length: int = 8
    require_uppercase: bool = False
    require_lowercase: bool = False
    require_numbers: bool = False
    require_symbols: bool = False
    allow_users_to_change: bool = False
    max_age_days: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool = False

    kind = Kind.PASSWORD_POLICY
    name = "account"
    path = "/"


Resource = ManagedPolicy | Group | User | Role | InstanceProfile | PasswordPolicy


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
    for f in dataclasses.fields(resource):
        if not f.compare:
            continue
        out[f.name] = to_json(getattr(resource, f.name))
    return out


def to_json(value: Any) -> Json:
    """Convert model values (frozensets, mappings, tuples, dataclasses) to JSON values."""
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
        return [self.resources[a] for a in sorted(self.resources) if a.kind is kind]


@dataclass(frozen=True)
class Scope:
    """What a configuration owns (SPEC §3)."""

    paths: tuple[str, ...] = ("/",)
    ignore: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class SourceLocation:
    """Where something was declared: ``file:line:column`` (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


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
    sources: Mapping[Address, SourceLocation] = field(default_factory=dict)
    exceptions: Mapping[Address, Mapping[str, str]] = field(default_factory=dict)
    documents_raw: Mapping[Address, Json] = field(default_factory=dict)
    """Policy documents (and role trust) as written, before normalization, for the rules."""
    require_mfa: frozenset[Address] = frozenset()
    """Roles declared with ``require_mfa: true`` next to a full ``trust:`` document."""
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveAccount:
    """What was read from IAM: the whole account, before ownership filtering."""

    state: State
    account_id: str
    partition: str = "aws"
    caller_arn: str = ""
    api_calls: Mapping[str, int] = field(default_factory=dict)


def policy_arn(partition: str, account_id: str, path: str, name: str) -> str:
    """The ARN of a customer-managed policy."""
    return f"arn:{partition}:iam::{account_id}:policy{path}{name}"


def entity_arn(partition: str, account_id: str, kind: Kind, path: str, name: str) -> str:
    """The ARN of a group, user, role or instance profile."""
    iam_kind = {
        Kind.GROUP: "group",
        Kind.USER: "user",
        Kind.ROLE: "role",
        Kind.INSTANCE_PROFILE: "instance-profile",
        Kind.POLICY: "policy",
    }[kind]
    return f"arn:{partition}:iam::{account_id}:{iam_kind}{path}{name}"
