"""What iamstate knows about one kind of entity, as one unit: the contract of a kind module (pure).

A kind module (``iamstate/kinds/role.py``, ...) defines the kind's model (a frozen
dataclass) and one :class:`KindSpec` instance that says everything generic code
needs: where the kind is declared in YAML and how it is built from there, which
read calls bring it from live IAM and how their responses become model values,
which fields IAM cannot change in place, how the kind is tagged, what it must
come after when created and before when deleted, the API calls that create,
update and delete it, how ``import`` writes it, and how ownership applies to it.
Generic code (config build, live read, planner, call ordering, serializer,
importer, executor) loops over :mod:`iamstate.kinds`' registry and never names a
kind.

Pure: no boto3, typer or file I/O. Read calls are declared as data
(:class:`Listing`, :class:`PerItem`); the shell (:mod:`iamstate.aws.read`) makes them.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from iamstate import policy
from iamstate.calls import CallContext, tag_list, tag_update_calls
from iamstate.errors import AwsError, Diagnostic
from iamstate.model import STACK_TAG, Address, Json, Kind, LiveAccount, SourceLocation, State, to_json
from iamstate.plan import ApiCall, Phase
from iamstate.readable import template_arn

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

R = TypeVar("R")


class Ownership(StrEnum):
    """How a kind's live entities come to be owned by a configuration.

    ``path``: by ``scope.paths`` and ``scope.ignore`` (IAM entities with a path).
    ``declared``: an account-wide setting, owned only while the configuration
    declares it (the password policy, the account alias). ``tag``: owned when it
    carries this stack's ``iamstate:stack`` tag or is declared (identity providers,
    which have no path); an untagged provider nobody declared is never touched.
    """

    PATH = "path"
    DECLARED = "declared"
    TAG = "tag"


@dataclass(frozen=True)
class TagApi:
    """How a taggable kind is tagged: ``Tag{suffix}``/``Untag{suffix}`` with ``{id_param}``."""

    suffix: str
    id_param: str
    by_arn: bool = False
    """True when the id is the entity's ARN (policies, providers), else its name."""


# --- live reads, declared as data -------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """One read that lists entities: a paginated operation (pages of ``page_size``) or a single call.

    Its responses are merged into ``{result_key: [items...]}`` (a single call's
    ``result_key`` may hold a mapping, kept as it is). ``missing_ok``: an answer of
    NoSuchEntity means "none" (the password policy), stored as ``None``.
    """

    name: str
    operation: str
    result_keys: tuple[str, ...]
    params: Mapping[str, Json] = field(default_factory=dict)
    paginated: bool = True
    missing_ok: bool = False
    page_size: int | None = 1000
    keep: tuple[str, ...] = ()
    """The fields of each item the kinds read (all when empty): the rest is dropped as each
    page arrives, so that what another read also brings is not held twice."""


@dataclass(frozen=True)
class PerItem:
    """One call per item of another read (``over``'s ``items_key``), for the items ``select`` keeps.

    The responses are stored as ``{item id: response}`` (``None`` when the item
    vanished, NoSuchEntity); a paginated call's ``result_keys`` lists are merged.
    ``select(item, scope)`` gets the item and a :class:`ReadScope` so that, say, only
    owned policies' tags are read.
    """

    name: str
    operation: str
    over: str
    items_key: str
    param: str
    item_field: str
    result_keys: tuple[str, ...] = ()
    paginated: bool = False
    select: Callable[[Mapping[str, Any], ReadScope], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReadScope:
    """What per-item reads may ask about the configuration: is a path and name in its scope,
    is an entity declared. (Tags of entities the configuration could delete are worth a call.)"""

    owns: Callable[[str, str], bool] = lambda path, name: True
    declared: Callable[[Kind, str], bool] = lambda kind, name: False


ReadSpec = Listing | PerItem
Responses = Mapping[str, Any]
"""What the read calls returned, by read name (see :class:`Listing`, :class:`PerItem`)."""


def listed(responses: Responses, name: str, key: str) -> list[Mapping[str, Any]]:
    """The items a :class:`Listing` returned under ``key`` (empty when absent)."""
    found = responses.get(name) or {}
    return list(found.get(key) or ())


def tags_from(pairs: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` as ``{k: v}``."""
    return {str(p["Key"]): str(p.get("Value", "")) for p in pairs or ()}


def decode_document(value: Json) -> Json:
    """A policy document as JSON values, whether IAM's URL-encoded text or already decoded.

    IAM returns documents URL-encoded (RFC 3986); botocore usually decodes them,
    but leaves the text as it was when decoding fails, and other tools hand over
    plain JSON text.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return json.loads(urllib.parse.unquote(value))
    except ValueError as error:
        raise AwsError(f"IAM returned a policy document that is not JSON: {value[:80]!r}") from error


def canonical_document(value: Json) -> Json:
    """A policy document from a response, decoded and normalized."""
    return policy.normalize(decode_document(value))


def inline_policies_from(entries: Iterable[Mapping[str, Any]] | None) -> dict[str, Json]:
    """``[{"PolicyName", "PolicyDocument"}, ...]`` as ``{name: canonical document}``."""
    return {str(e["PolicyName"]): canonical_document(e["PolicyDocument"]) for e in entries or ()}


def inline_policies_as_written(entries: Iterable[Mapping[str, Any]] | None) -> dict[str, Json]:
    """``[{"PolicyName", "PolicyDocument"}, ...]`` as ``{name: document as IAM holds it, decoded}``."""
    return {str(e["PolicyName"]): decode_document(e["PolicyDocument"]) for e in entries or ()}


def attached_from(entries: Iterable[Mapping[str, Any]] | None) -> frozenset[str]:
    """The ARNs of ``AttachedManagedPolicies``, as IAM wrote them."""
    return frozenset(str(e["PolicyArn"]) for e in entries or ())


def boundary_from(detail: Mapping[str, Any]) -> str | None:
    """The permissions-boundary policy ARN of a user or role detail, or None."""
    boundary = detail.get("PermissionsBoundary") or {}
    arn = boundary.get("PermissionsBoundaryArn")
    return str(arn) if arn else None


AUTHORIZATION_DETAILS = Listing(
    "authorization_details",
    "GetAccountAuthorizationDetails",
    ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"),
    # Everything but AWS-managed policies, which are never owned and number over a thousand.
    params={"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]},
)
"""The one read that brings every user, group, role and customer policy, in pages."""


# --- the contract ------------------------------------------------------------------------


class KindSpec(Generic[R]):
    """Everything generic code needs to know about one kind; each kind module defines one.

    Class attributes describe the kind; methods with a default here are the usual
    behaviour, overridden where the kind differs.
    """

    kind: ClassVar[Kind]
    resource: ClassVar[type[Any]]
    """The kind's model: a frozen dataclass with ``name`` and ``path``."""
    label: ClassVar[str]
    """How messages name the kind (``role 'ci-deploy'``, ``instance profile 'web'``)."""
    section: ClassVar[tuple[str, ...] | None] = None
    """Where the kind is declared: a list at this YAML path (``("roles",)``,
    ``("identity_providers", "oidc")``), or with :attr:`singleton` one mapping or
    value there (``("password_policy",)``, ``("account", "alias")``). None: the kind
    is not declared by a section of its own (instance profiles come from roles)."""
    name_key: ClassVar[str] = "name"
    """The key of a declaration that holds (or gives) the entity's name."""
    singleton: ClassVar[bool] = False
    """At most one per account (the password policy, the alias): matched by kind alone."""
    deletable: ClassVar[bool] = True
    """False for a setting that is changed but never deleted (the password policy)."""
    schema_def: ClassVar[str | None] = None
    """The name of the kind's definition under ``$defs`` in ``iamstate.schema.json``."""
    arn_type: ClassVar[str | None] = None
    """The resource type in the kind's ARNs (``role``, ``instance-profile``); None: no ARN."""
    ownership: ClassVar[Ownership] = Ownership.PATH
    tags: ClassVar[TagApi | None] = None
    """How the kind is tagged; None when IAM gives it no tags (groups)."""
    tags_read_when_declared: ClassVar[bool] = True
    """False when live tags are read only for entities a plan could delete (instance
    profiles): a declared one is then never shown as an adoption."""
    replace_fields: ClassVar[tuple[str, ...]] = ()
    """Fields IAM cannot change in place: a difference there is a replace."""
    create_after: ClassVar[tuple[Kind, ...]] = ()
    """Kinds that must exist before this kind is created (a role's boundary policy)."""
    create_before: ClassVar[tuple[Kind, ...]] = ()
    """Kinds created after this one (the same relation, declared from this side)."""
    delete_before: ClassVar[tuple[Kind, ...]] = ()
    """Kinds deleted after this one (a user leaves its groups before they go)."""
    delete_after: ClassVar[tuple[Kind, ...]] = ()
    """Kinds deleted before this one (the same relation, declared from this side)."""
    rank: ClassVar[int] = 100
    """Reading order of changes in a plan (lower first); display only."""
    reads: ClassVar[tuple[ReadSpec, ...]] = ()
    """The read calls that bring this kind from live IAM; shared ones are made once."""
    create_operations: ClassVar[tuple[str, ...]] = ()
    """Operations that create the entity: EntityAlreadyExists means "already so"."""
    import_file: ClassVar[str | None] = None
    """The file ``import`` writes the kind's entries into; None when not written by itself."""

    # --- identity ----------------------------------------------------------------

    def address(self, resource: R) -> Address:
        """The address of a resource of this kind."""
        return Address(self.kind, str(resource.name))  # type: ignore[attr-defined]

    def match_key(self, address: Address) -> tuple[str, str]:
        """What pairs a declared entity with a live one: the kind and the name, case-insensitively."""
        return (self.kind.value, "" if self.singleton else address.name.lower())

    def arn(self, resource: R, partition: str, account_id: str) -> str:
        """The entity's ARN (its live ARN when read)."""
        arn = getattr(resource, "arn", "")
        if arn:
            return str(arn)
        return entity_arn(
            partition,
            account_id,
            self.arn_type or self.kind.value,
            str(getattr(resource, "path", "/")),
            str(resource.name),  # type: ignore[attr-defined]
        )

    # --- configuration -------------------------------------------------------------

    def name_of(self, data: Any) -> str | None:
        """The entity's name in one YAML declaration; None when it has none (the schema says why)."""
        if isinstance(data, dict):
            name = data.get("name")
            return name if isinstance(name, str) and name else None
        return None

    def declarations(self, builder: Builder) -> Iterator[Declared]:
        """Every declaration of this kind, across the files (the default reads :attr:`section`)."""
        if self.section is not None:
            yield from builder.declarations_at(self, self.section)

    def build(self, declared: Declared, builder: Builder) -> None:
        """Add the resources one declaration stands for to ``builder`` (with ``builder.register``)."""
        raise NotImplementedError

    def scoped(self, resource: R) -> bool:
        """True when ``scope.paths``/``scope.ignore`` decide whether a declared entity may be owned."""
        return self.ownership is Ownership.PATH

    # --- live state -----------------------------------------------------------------

    def from_live(self, responses: Responses) -> Iterable[R]:
        """The live entities of this kind in what :attr:`reads` returned."""
        return ()

    # --- comparing ------------------------------------------------------------------

    def for_diff(self, desired: R, live: R) -> R:
        """The desired entity with what the configuration leaves unmanaged taken from ``live``."""
        return desired

    def replace_reason(self, before: R, after: R) -> str:
        """Why IAM cannot make this change in place, or "" when it can."""
        reasons = []
        b_name, a_name = str(before.name), str(after.name)  # type: ignore[attr-defined]
        if b_name != a_name and not self.singleton:
            reasons.append(f"name case differs ({b_name!r} → {a_name!r}); IAM cannot rename it")
        for name in self.replace_fields:
            b, a = getattr(before, name), getattr(after, name)
            if b != a:
                reasons.append(self.replace_field_reason(name, b, a))
        return "; ".join(reasons)

    def replace_field_reason(self, name: str, before: Any, after: Any) -> str:
        """How the plan explains a replace caused by one field."""
        if name == "path":
            return f"path cannot change in place ({before} → {after})"
        return f"{name} cannot change in place"

    # --- calls ----------------------------------------------------------------------

    def create_calls(self, resource: R, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        """The call that creates the entity (in :meth:`OrderInfo.create_phase`)."""
        raise NotImplementedError

    def attach_calls(self, resource: R, ctx: CallContext) -> list[ApiCall]:
        """Attachments and memberships of a newly created entity (attach phase)."""
        return []

    def update_calls(self, before: R, after: R, ctx: CallContext) -> list[ApiCall]:
        """The calls that take the entity from ``before`` to ``after`` in place."""
        return self.tag_calls(before, after, ctx)

    def delete_calls(self, resource: R, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        """Prerequisites (at ``step.prereq``) and the delete call (at ``step.final``).

        ``step.replacing``: the delete is the first half of a replace, which runs
        before anything else in the plan is deleted.
        """
        raise NotImplementedError

    def reattach_calls(self, resource: R, ctx: CallContext) -> list[ApiCall]:
        """After a replace: put the new entity back where other declared entities use it."""
        return []

    # --- tags -----------------------------------------------------------------------

    def stack_tags(self, resource: R, ctx: CallContext) -> list[dict[str, str]]:
        """The entity's tags plus the stack tag, in IAM's ``[{Key, Value}]`` form."""
        return tag_list({**getattr(resource, "tags", {}), STACK_TAG: ctx.stack})

    def tag_calls(self, before: R, after: R, ctx: CallContext) -> list[ApiCall]:
        """Tag and untag calls that take the live tags to the declared ones (plus the stack tag)."""
        if self.tags is None:
            return []
        api = self.tags
        target = self.arn(after, ctx.partition, ctx.account_id) if api.by_arn else str(after.name)  # type: ignore[attr-defined]
        return tag_update_calls(
            getattr(before, "tags", {}), getattr(after, "tags", {}), api.suffix, api.id_param, target, ctx
        )

    # --- import ---------------------------------------------------------------------

    def prepare_import(self, owned: Sequence[R], ctx: ImportContext) -> None:
        """Before any entry is written: note in ``ctx`` what other kinds' entries need."""

    def to_config(self, resource: R, ctx: ImportContext) -> dict[str, Json] | None:
        """The YAML entry ``import`` writes for a live entity; None: expressed elsewhere."""
        return None

    def finish_import(self, owned: Sequence[R], ctx: ImportContext, declared: set[str]) -> list[str]:
        """After every entry is written (``declared``: their names, lower-cased): names to add to
        ``scope.ignore`` for entities the configuration cannot declare."""
        return []

    # --- serializing ----------------------------------------------------------------

    def to_json(self, resource: R) -> dict[str, Json]:
        """Every field of a resource (live-only ones too) as JSON values, with its kind."""
        out: dict[str, Json] = {"kind": self.kind.value}
        for f in dataclasses.fields(resource):  # type: ignore[arg-type]
            out[f.name] = to_json(getattr(resource, f.name))
        return out

    def from_json(self, doc: Mapping[str, Json]) -> R:
        """The inverse of :meth:`to_json`; omitted fields take their defaults."""
        fields = {f.name: f for f in dataclasses.fields(self.resource)}
        unknown = set(doc) - set(fields) - {"kind"}
        if unknown:
            raise ValueError(f"{self.kind.value}: unknown fields {sorted(unknown)}")
        values: dict[str, Any] = {}
        for key, value in doc.items():
            if key == "kind":
                continue
            values[key] = self.field_from_json(key, value, fields[key])
        resource: R = self.resource(**values)
        return resource

    def field_from_json(self, name: str, value: Json, f: dataclasses.Field[Any]) -> Any:
        """One field's model value from JSON: sets for set fields, tuples for tuple fields."""
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if isinstance(default, frozenset) and isinstance(value, list):
            return frozenset(value)
        if isinstance(default, tuple) and isinstance(value, list):
            return tuple(value)
        return value

    # --- live references -------------------------------------------------------------

    def reference_problems(
        self, desired: State, live: State, sources: Mapping[Address, SourceLocation], account_id: str
    ) -> Iterator[Diagnostic]:
        """What the declared entities of this kind name that exists neither declared nor live."""
        return iter(())


@dataclass
class ImportContext:
    """What a kind's :meth:`KindSpec.to_config` may consult while ``import`` renders live state."""

    live: LiveAccount
    owned: State
    declared_policies: dict[str, str] = field(default_factory=dict)
    """ARN -> name of every policy the import declares."""
    force_mfa_arn: str = ""
    extra_policies: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(kind, entity name) -> names of the managed policies its inline policies become."""
    roles_with_profile: set[str] = field(default_factory=set)
    """Roles whose instance profile ``instance_profile: true`` describes."""
    files: dict[str, str] = field(default_factory=dict)
    """Extra files the import writes beside the YAML (relative path -> text)."""
    warnings: list[str] = field(default_factory=list)

    def ref(self, arn: str) -> str:
        """How the configuration refers to a policy: its declared name, or its ARN."""
        return self.declared_policies.get(arn) or template_arn(arn, self.live.account_id, self.live.partition)

    def refs(self, arns: Iterable[str], names: Iterable[str] = ()) -> list[str]:
        """Policy references: declared names first, then ARNs, each sorted."""
        refs = [self.ref(arn) for arn in arns] + list(names)
        return sorted(refs, key=lambda ref: (ref.startswith("arn:"), ref.lower(), ref))

    def extra(self, kind: Kind, name: str) -> list[str]:
        """The managed policies an entity's inline policies become, by inline name."""
        return list(self.extra_policies.get((kind.value, name), []))


@dataclass(frozen=True)
class DeleteStep:
    """Where a delete's calls go: its phase, the order of its prerequisites and of the delete
    itself, and whether it is the first half of a replace (which runs before other deletes)."""

    phase: Phase
    prereq: int
    final: int
    replacing: bool = False


@dataclass(frozen=True)
class OrderInfo:
    """Where a kind's calls go in apply's order, computed from the kinds' relations."""

    create_phase: Phase
    create_order: int
    delete_order: int

    @property
    def delete_prereq(self) -> int:
        """The order of a delete's prerequisites (just before the delete itself)."""
        return self.delete_order - 1


def entity_arn(partition: str, account_id: str, arn_type: str, path: str, name: str) -> str:
    """``arn:PARTITION:iam::ACCOUNT:TYPE/PATH/NAME`` (an entity without a path has ``/``)."""
    return f"arn:{partition}:iam::{account_id}:{arn_type}{path}{name}"
