"""What each principal of a state may do: its effective identity permissions (pure).

For every user, role and group of a :class:`~iamstate.model.State` (the desired
state from the config, or the live one; they have the same type):

- a user holds its own policies (attached, and inline in a live state) and those of
  its groups; a role its own; a group its own (standing for any of its members);
- customer policies come from the state, AWS-managed ones from a document provider
  (a mapping from ARN to document: :func:`iamstate.analysis.managed.builtin_documents`
  offline, the documents read at plan time otherwise); a policy whose document is
  not available is listed in :attr:`Permissions.unread` and grants nothing here;
- an Allow grants an action when it covers the action (``Action`` patterns, or every
  catalogued action ``NotAction`` does not list) and its conditions are not never
  true for it (:mod:`iamstate.analysis.conditions`);
- an explicit Deny without conditions takes the action away on the resources it
  names (all of them when unscoped); a Deny with conditions only applies to some
  requests, so it takes nothing away here;
- a permissions boundary is a ceiling, never a grant: an action survives only when
  the boundary allows it too, on the boundary's resources when the grant reached
  everything, and under the boundary's conditions. A boundary whose document is not
  available is listed in ``unread`` and caps nothing.

Every grant keeps its resources, its classified conditions and where it comes from
(the principal or group holding the policy, the policy's name, the statement), so
that a finding can say which policy grants which action.

Work is shared so that a 5,000-role account stays cheap: each distinct document is
compiled once; which of the analysis' actions of interest (escalation methods,
exposure classes) a document reaches is computed once per document by testing
only the actions of the services its patterns name; a group's policies are
resolved once for all its members; ``*`` is never expanded unless someone asks for
every action (:meth:`Permissions.allowed_actions`).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from iamstate import catalog
from iamstate.analysis.conditions import ConditionReading, Reading, overall, read_conditions
from iamstate.analysis.managed import is_aws_managed, managed_key
from iamstate.analysis.resources import (
    Principal,
    Scope,
    arn_matches,
    can_name,
    resource_patterns,
    scope,
    unscoped_for,
)
from iamstate.kinds.base import entity_arn
from iamstate.kinds.group import Group
from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role
from iamstate.kinds.user import User
from iamstate.model import Address, Json, Kind, State
from iamstate.rules.statements import ConditionEntry, Statement, labelled, matches


@dataclass(frozen=True)
class PolicySource:
    """Where a grant comes from: who holds the policy, and which policy it is."""

    holder: Address
    name: str
    arn: str = ""
    kind: str = "customer"
    """``customer``, ``aws-managed`` or ``inline``."""

    def describe(self) -> str:
        """``policy ops-deploy`` or ``inline policy deploy``."""
        return f"inline policy {self.name}" if self.kind == "inline" else f"policy {self.name}"


@dataclass(frozen=True)
class Grant:
    """One Allow statement reaching one action, after denies and the boundary."""

    action: str
    """The action as AWS spells it (or as written, when the catalogue does not know it)."""
    source: PolicySource
    statement: str
    """How messages name the statement: ``statement 2 (Sid Deploy)``."""
    through: str
    """The pattern that reaches the action (``iam:*``), or ``NotAction [...]``."""
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[ConditionReading, ...]
    entries: tuple[ConditionEntry, ...]
    """The statement's raw condition entries (for :func:`conditions.passed_to_services`)."""

    @property
    def reading(self) -> Reading:
        return overall(self.conditions)

    @property
    def narrowed(self) -> bool:
        """True when a condition narrows the grant (never-true grants are dropped before)."""
        return self.reading is not Reading.NOT_NARROWING

    @property
    def unscoped(self) -> bool:
        """True when the grant reaches every resource of the action's type."""
        return self.not_resource or any(unscoped_for(r, self.action) for r in self.resources)

    def scope(self, principal: Principal | None = None, resource_type: str = "") -> Scope:
        """The widest reach of the grant's resources for ``principal`` (see resources.scope)."""
        if self.not_resource:
            return Scope.UNSCOPED
        found = {scope(r, principal, resource_type) for r in self.resources if can_name(r, self.action)}
        for candidate in (Scope.UNSCOPED, Scope.SELF):
            if candidate in found:
                return candidate
        return Scope.SCOPED

    def reaches(self, arn: str, variables: Mapping[str, str] | None = None) -> bool:
        """True when the grant's resources include ``arn``."""
        if self.not_resource:
            return not any(arn_matches(r, arn, variables) for r in self.resources)
        return any(arn_matches(r, arn, variables) for r in self.resources)


# --- compiled documents -----------------------------------------------------------------


class _Statement:
    """One statement, ready to be asked about actions (shared by every holder of its document)."""

    def __init__(self, statement: Statement, now: datetime.datetime) -> None:
        self.statement = statement
        self.allow = statement.allow
        self.deny = statement.effect == "Deny"
        self.label = statement.label
        self.uses_not_action = "NotAction" in statement.data
        self.patterns = tuple(statement.not_actions if self.uses_not_action else statement.actions)
        self.not_resource = statement.has_not_resource
        self.resources = tuple(resource_patterns(statement))
        self.entries = tuple(statement.conditions)
        self.unconditional = not self.entries
        self.every_service = self.uses_not_action or any(
            "*" in p.split(":", 1)[0] or "?" in p.split(":", 1)[0] or ":" not in p for p in self.patterns
        )
        self.prefixes = frozenset(p.split(":", 1)[0] for p in self.patterns if ":" in p)
        # Large statements (AWS's read-only policies list thousands of patterns) are matched
        # through an index: literal actions in a set, wildcard patterns by service prefix.
        self._literal: dict[str, str] = {}
        self._wild: dict[str, list[str]] = defaultdict(list)
        self._wild_prefix: list[str] = []
        for pattern in self.patterns:
            prefix, _, name = pattern.partition(":")
            if "*" in prefix or "?" in prefix or not name:
                self._wild_prefix.append(pattern)
            elif "*" in name or "?" in name:
                self._wild[prefix.lower()].append(pattern)
            else:
                self._literal.setdefault(pattern.lower(), pattern)
        self.literal_only = not (self.uses_not_action or self._wild or self._wild_prefix)
        """Only literal actions, with Action: it covers an action exactly when it names it."""
        self.literals = self._literal.keys()
        self._now = now
        self._readings: dict[str, tuple[ConditionReading, ...]] = {}

    def _matching(self, action: str) -> str | None:
        """The pattern of Action/NotAction that matches ``action`` (lower case), or None."""
        found = self._literal.get(action)
        if found is not None:
            return found
        prefix = action.partition(":")[0]
        for pattern in self._wild.get(prefix, ()):
            if matches(pattern, action):
                return pattern
        for pattern in self._wild_prefix:
            if matches(pattern, action):
                return pattern
        return None

    def covers(self, action: str) -> bool:
        hit = self._matching(action) is not None
        return not hit if self.uses_not_action else hit

    def through(self, action: str) -> str:
        if self.uses_not_action:
            return f"NotAction {list(self.patterns)}"
        return self._matching(action) or action

    def readings(self, action: str) -> tuple[ConditionReading, ...]:
        if not self.entries:
            return ()
        found = self._readings.get(action)
        if found is None:
            found = read_conditions(self.entries, action, self._now)
            self._readings[action] = found
        return found


class CompiledDocument:
    """A policy document's statements, and which actions of interest each reaches."""

    def __init__(self, document: Json, now: datetime.datetime, interest: _Interest) -> None:
        self.statements = tuple(_Statement(s, now) for s in labelled(document))
        self._covering: dict[str, tuple[_Statement, ...]] = {}
        self._open: dict[str, bool] = {}
        self.interest = interest.actions
        self.indexed: frozenset[str] = interest.reached_by(self.statements)

    def covering(self, action: str) -> tuple[_Statement, ...]:
        """The statements that apply to ``action`` (lower case), Allow and Deny alike."""
        found = self._covering.get(action)
        if found is None:
            found = tuple(s for s in self.statements if s.covers(action))
            self._covering[action] = found
        return found

    def may_be_open(self, action: str, spelled: str) -> bool:
        """Whether an Allow statement covering ``action`` (lower case; ``spelled`` as the catalogue
        spells it) reaches every resource of its type (asked once per document and action:
        thousands of principals hold the same documents)."""
        found = self._open.get(action)
        if found is None:
            found = self._open[action] = any(
                s.allow and (s.not_resource or any(unscoped_for(r, spelled) for r in s.resources))
                for s in self.covering(action)
            )
        return found


class _Interest:
    """The actions the analysis asks about, by service, so documents test only what they can reach."""

    def __init__(self, actions: Iterable[str]) -> None:
        self.actions = frozenset(a.lower() for a in actions)
        by_prefix: dict[str, set[str]] = defaultdict(set)
        for action in self.actions:
            by_prefix[action.split(":", 1)[0]].add(action)
        self.by_prefix = {p: frozenset(a) for p, a in by_prefix.items()}

    def reached_by(self, statements: Sequence[_Statement]) -> frozenset[str]:
        found: set[str] = set()
        for s in statements:
            if not s.allow:
                continue
            if s.every_service:
                found.update(a for a in self.actions if s.covers(a))
            elif s.literal_only:  # covers exactly its literal actions: a set intersection
                for p in s.prefixes:
                    found.update(s.literals & self.by_prefix.get(p, frozenset()))
            else:
                found.update(a for p in s.prefixes for a in self.by_prefix.get(p, ()) if s.covers(a))
        return frozenset(found)


class DocumentCache:
    """Compiled documents by their canonical text: each distinct document is compiled once."""

    def __init__(self, now: datetime.datetime, interest: Iterable[str] = ()) -> None:
        self.now = now
        self.interest = _Interest(interest)
        self._documents: dict[str, CompiledDocument] = {}
        self._by_identity: dict[int, tuple[Json, CompiledDocument]] = {}

    def compile(self, document: Json) -> CompiledDocument:
        # The same object (an AWS-managed document held by 500 roles) is looked up by
        # identity first, without serialising it again; the object is kept alive.
        seen = self._by_identity.get(id(document))
        if seen is not None and seen[0] is document:
            return seen[1]
        key = json.dumps(document, sort_keys=True, default=str)
        found = self._documents.get(key)
        if found is None:
            found = CompiledDocument(document, self.now, self.interest)
            self._documents[key] = found
        self._by_identity[id(document)] = (document, found)
        return found

    def __len__(self) -> int:
        return len(self._documents)


# --- principals --------------------------------------------------------------------------

Held = tuple[CompiledDocument, PolicySource]


@dataclass
class Permissions:
    """The effective identity permissions of one principal (or of a group, for any member)."""

    address: Address
    principal: Principal
    held: tuple[Held, ...]
    boundary: Held | None = None
    unread: tuple[str, ...] = ()
    """ARNs of held policies (and the boundary) whose documents were not available."""
    _grants: dict[str, tuple[Grant, ...]] = field(default_factory=dict, repr=False)
    _indexed: frozenset[str] | None = field(default=None, repr=False)

    @property
    def arn(self) -> str:
        return self.principal.arn

    @property
    def policies(self) -> tuple[PolicySource, ...]:
        """The identity policies held, own first, then each group's."""
        return tuple(source for _, source in self.held)

    @property
    def interest(self) -> frozenset[str]:
        """The actions the index covers (lower case); empty when built without one."""
        return self.held[0][0].interest if self.held else frozenset()

    def indexed_actions(self) -> frozenset[str]:
        """The actions of interest that some held Allow statement covers (before denies), lower case."""
        if self._indexed is None:
            self._indexed = frozenset().union(*(document.indexed for document, _ in self.held))
        return self._indexed

    def may_reach_all(self, actions: frozenset[str]) -> bool:
        """:meth:`may_reach` for every one of ``actions`` (lower case) at once."""
        if not self.held:
            return False
        interest = self.interest
        if not interest:
            return True
        return (actions & interest) <= self.indexed_actions()

    def may_reach(self, action: str) -> bool:
        """False when ``action`` is of interest and no held Allow statement covers it (cheap);
        True otherwise, including for actions outside the index (ask :meth:`grants`)."""
        key = action.lower()
        if not self.held:
            return False
        return key not in self.interest or key in self.indexed_actions()

    def grants(self, action: str, *, catalogued: bool = False, keep: bool = True) -> tuple[Grant, ...]:
        """The Allow statements that grant ``action``: denies, the boundary and never-true
        conditions applied (see the module docstring). ``catalogued``: ``action`` is already
        spelled as the catalogue spells it (no lookup, which loads its service's data).
        ``keep=False``: do not remember the answer (for questions asked once per principal,
        whose answers for every principal of a large account would take much memory)."""
        key = action.lower()
        found = self._grants.get(key)
        if found is None:
            found = tuple(self._compute(key, action if catalogued else None))
            if keep:
                self._grants[key] = found
        return found

    def allows(self, action: str) -> bool:
        """True when some grant reaches ``action`` at all."""
        return bool(self.grants(action))

    def open_grants(self, action: str, *, catalogued: bool = False, keep: bool = True) -> tuple[Grant, ...]:
        """The grants of ``action`` on every resource without a narrowing condition."""
        key = action.lower()
        if key not in self._grants and not self._may_be_open(key, action if catalogued else None):
            return ()
        grants = self.grants(action, catalogued=catalogued, keep=keep)
        return tuple(g for g in grants if g.unscoped and not g.narrowed)

    def _may_be_open(self, action: str, spelled: str | None) -> bool:
        """False when no held Allow statement covering ``action`` (lower case) reaches every
        resource of its type: then no grant of it does either, for denies and the boundary
        only ever take resources away (cheap: no grant is built)."""
        spelled = spelled or catalog.lookup(action) or action
        return any(document.may_be_open(action, spelled) for document, _ in self.held)

    def allowed_actions(self) -> list[str]:
        """Every catalogued action some grant reaches, as AWS spells them (expands wildcards: slow)."""
        candidates: set[str] = set()
        for document, _ in self.held:
            for s in document.statements:
                if not s.allow:
                    continue
                if s.every_service:
                    candidates.update(a.lower() for a in catalog.expand("*"))
                else:
                    for pattern in s.patterns:
                        expanded = catalog.expand(pattern)
                        candidates.update(a.lower() for a in expanded or [pattern.lower()])
        return sorted(
            (catalog.lookup(a) or a for a in candidates if self.grants(a)),
            key=str.lower,
        )

    def _compute(self, action: str, spelled: str | None = None) -> Iterator[Grant]:
        spelled = spelled or catalog.lookup(action) or action
        denies = [
            s for document, _ in self.held for s in document.covering(action) if s.deny and s.unconditional
        ]
        for document, source in self.held:
            for s in document.covering(action):
                if not s.allow:
                    continue
                readings = s.readings(action)
                if overall(readings) is Reading.NEVER_TRUE:
                    continue
                grant = Grant(
                    spelled,
                    source,
                    s.label,
                    s.through(action),
                    s.resources,
                    s.not_resource,
                    readings,
                    s.entries,
                )
                bounded = self._within_boundary(self._after_denies(grant, denies, action), action)
                if bounded is not None:
                    yield bounded

    def _after_denies(self, grant: Grant, denies: Sequence[_Statement], action: str) -> Grant | None:
        if not denies or grant.not_resource:
            return grant
        kept = list(grant.resources)
        variables = self.principal.variables or {}
        for deny in denies:
            if deny.not_resource:
                continue
            if any(unscoped_for(r, action) for r in deny.resources):
                return None
            kept = [
                r for r in kept if not any(d == r or arn_matches(d, r, variables) for d in deny.resources)
            ]
        if not kept:
            return None
        return grant if len(kept) == len(grant.resources) else _with(grant, resources=tuple(kept))

    def _within_boundary(self, grant: Grant | None, action: str) -> Grant | None:
        if grant is None or self.boundary is None:
            return grant
        document, _ = self.boundary
        statements = document.covering(action)
        if any(
            s.deny and s.unconditional and any(unscoped_for(r, action) for r in s.resources)
            for s in statements
        ):
            return None
        ceilings = [
            (s, s.readings(action))
            for s in statements
            if s.allow and overall(s.readings(action)) is not Reading.NEVER_TRUE
        ]
        if not ceilings:
            return None
        for s, readings in ceilings:
            if (s.not_resource or any(unscoped_for(r, action) for r in s.resources)) and not readings:
                return grant
        wide = [
            (s, r) for s, r in ceilings if s.not_resource or any(unscoped_for(x, action) for x in s.resources)
        ]
        if wide:
            s, readings = wide[0]
            return _with(grant, conditions=grant.conditions + readings)
        resources = tuple(dict.fromkeys(r for s, _ in ceilings for r in s.resources))
        conditions = grant.conditions + tuple(r for _, readings in ceilings for r in readings)
        if grant.unscoped:
            return _with(grant, resources=resources, not_resource=False, conditions=conditions)
        return _with(grant, conditions=conditions)


def _with(grant: Grant, **changes: object) -> Grant:
    return replace(grant, **changes)  # type: ignore[arg-type]


# --- building the account -----------------------------------------------------------------


@dataclass(frozen=True)
class AccountContext:
    """The account a state lives in, for ARNs the state does not carry."""

    account_id: str = ""
    partition: str = "aws"


def _arn_of(resource: User | Role | Group | ManagedPolicy, context: AccountContext) -> str:
    if resource.arn:
        return resource.arn
    return entity_arn(
        context.partition, context.account_id, resource.kind.value, resource.path, resource.name
    )


class _Resolver:
    """Finds policy documents by ARN: customer policies in the state, AWS-managed ones from the provider."""

    def __init__(
        self, state: State, managed: Mapping[str, Json], cache: DocumentCache, context: AccountContext
    ) -> None:
        self.cache = cache
        self.customer: dict[str, ManagedPolicy] = {}
        for resource in state.of_kind(Kind.POLICY):
            assert isinstance(resource, ManagedPolicy)
            self.customer[_arn_of(resource, context).lower()] = resource
        self.managed = {managed_key(arn): document for arn, document in managed.items()}

    def held(self, arn: str, holder: Address) -> Held | None:
        if is_aws_managed(arn):
            document = self.managed.get(managed_key(arn))
            if document is None:
                return None
            name = arn.rsplit("/", 1)[-1]
            return self.cache.compile(document), PolicySource(holder, name, arn, "aws-managed")
        policy = self.customer.get(arn.lower())
        if policy is None:
            return None
        return self.cache.compile(policy.document), PolicySource(holder, policy.name, arn, "customer")

    def inline(self, name: str, document: Json, holder: Address) -> Held:
        return self.cache.compile(document), PolicySource(holder, name, "", "inline")

    def attached(
        self, arns: Iterable[str], inline: Mapping[str, Json], holder: Address
    ) -> tuple[list[Held], list[str]]:
        held: list[Held] = []
        unread: list[str] = []
        for arn in sorted(arns, key=str.lower):
            found = self.held(arn, holder)
            if found is None:
                unread.append(arn)
            else:
                held.append(found)
        held += [self.inline(name, inline[name], holder) for name in sorted(inline)]
        return held, unread


def _variables(resource: User | Role | Group) -> dict[str, str]:
    variables: dict[str, str] = {}
    if isinstance(resource, User):
        variables["aws:username"] = resource.name
        variables["aws:principaltype"] = "User"
    elif isinstance(resource, Role):
        variables["aws:principaltype"] = "AssumedRole"
    for key, value in getattr(resource, "tags", {}).items():
        variables[f"aws:principaltag/{key.lower()}"] = value
    return variables


def effective_permissions(
    state: State,
    *,
    managed: Mapping[str, Json],
    now: datetime.datetime,
    context: AccountContext | None = None,
    interest: Iterable[str] = (),
    cache: DocumentCache | None = None,
) -> dict[Address, Permissions]:
    """The effective permissions of every user, role and group of ``state`` (pure).

    ``managed`` maps AWS-managed policy ARNs to their documents; ``now`` is the
    evaluation time for conditions on time; ``interest`` names the actions that
    :meth:`Permissions.indexed_actions` indexes (those of the escalation methods
    and exposure classes, usually). Pass ``cache`` to share compiled documents
    between calls made with the same ``now``.
    """
    context = context or AccountContext()
    cache = cache if cache is not None else DocumentCache(now, interest)
    resolver = _Resolver(state, managed, cache, context)
    out: dict[Address, Permissions] = {}

    groups: dict[str, tuple[Group, list[Held], list[str]]] = {}
    for resource in state.of_kind(Kind.GROUP):
        assert isinstance(resource, Group)
        address = Address(Kind.GROUP, resource.name)
        held, unread = resolver.attached(resource.policies, resource.inline_policies, address)
        groups[resource.name.lower()] = (resource, held, unread)

    def own_policies(held: Iterable[Held]) -> frozenset[str]:
        return frozenset(source.arn for _, source in held if source.kind == "customer")

    for group, held, unread in groups.values():
        address = Address(Kind.GROUP, group.name)
        arn = _arn_of(group, context)
        principal = Principal("group", arn, frozenset({arn}), own_policies(held), {})
        out[address] = Permissions(address, principal, tuple(held), None, tuple(unread))

    for resource in state.of_kind(Kind.USER):
        assert isinstance(resource, User)
        address = Address(Kind.USER, resource.name)
        held, unread = resolver.attached(resource.policies, resource.inline_policies, address)
        group_arns: set[str] = set()
        for group_name in sorted(resource.groups, key=str.lower):
            entry = groups.get(group_name.lower())
            if entry is None:
                continue
            group, group_held, group_unread = entry
            group_arns.add(_arn_of(group, context))
            held += group_held
            unread += group_unread
        boundary, boundary_unread = _boundary(resolver, resource.permissions_boundary, address)
        principal = Principal(
            "user",
            _arn_of(resource, context),
            frozenset(group_arns),
            own_policies(held),
            _variables(resource),
        )
        out[address] = Permissions(
            address, principal, tuple(held), boundary, tuple(dict.fromkeys(unread + boundary_unread))
        )

    for resource in state.of_kind(Kind.ROLE):
        assert isinstance(resource, Role)
        address = Address(Kind.ROLE, resource.name)
        held, unread = resolver.attached(resource.policies, resource.inline_policies, address)
        boundary, boundary_unread = _boundary(resolver, resource.permissions_boundary, address)
        principal = Principal(
            "role", _arn_of(resource, context), frozenset(), own_policies(held), _variables(resource)
        )
        out[address] = Permissions(address, principal, tuple(held), boundary, tuple(unread + boundary_unread))
    return out


def document_permissions(address: Address, document: Json, cache: DocumentCache) -> Permissions:
    """What one policy document grants by itself, as if a principal held it alone (pure): for the
    rules that judge one policy at a time, with the readings every other rule uses."""
    source = PolicySource(address, address.name)
    principal = Principal(address.kind.value, "")
    return Permissions(address, principal, ((cache.compile(document), source),))


def _boundary(resolver: _Resolver, arn: str | None, holder: Address) -> tuple[Held | None, list[str]]:
    if not arn:
        return None, []
    found = resolver.held(arn, holder)
    return (found, []) if found is not None else (None, [arn])
