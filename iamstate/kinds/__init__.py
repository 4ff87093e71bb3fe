"""The registry of entity kinds: one module each, listed once here (pure).

Generic code loops over :func:`specs`; nothing outside a kind's own module needs
to know how that kind is declared, read, compared, created, changed, deleted,
ordered, tagged, imported or owned. Apply's order comes from the relations each
kind declares (``create_after``/``create_before``, ``delete_before``/
``delete_after``), as Terraform derives destroy order from its dependency edges:

- creation: a kind that another kind must be created after goes in the first
  create phase (``create_policies``), in layers, the most depended-upon first;
  the others are created in the ``create`` phase;
- deletion: a topological order of the delete relations, ties broken by the
  order of :data:`MODULES`; the n-th kind's deletes run at order ``10 * n``,
  each with its prerequisites just before.

Adding a kind: write ``iamstate/kinds/<kind>.py`` (see :mod:`iamstate.kinds.base`)
and add its module name to :data:`MODULES`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from typing import Any

from iamstate.calls import CREATE, REPLACE_DELETE, REPLACE_PREREQ, CallContext, sequenced
from iamstate.kinds.base import DeleteStep, KindSpec, OrderInfo, Ownership
from iamstate.model import Address, Kind, Resource
from iamstate.plan import Action, ApiCall, Change, Phase

MODULES = (
    "instance_profile",
    "user",
    "role",
    "group",
    "policy",
    "oidc_provider",
    "saml_provider",
    "account_alias",
    "password_policy",
)
"""Every kind module, in the order that breaks ties where no relation orders two kinds' deletes."""

DELETE_STEP = 10
"""Orders in the delete phase are multiples of this, leaving room for each kind's prerequisites."""

__all__ = [
    "MODULES",
    "KindSpec",
    "OrderInfo",
    "Ownership",
    "order_of",
    "plan_calls",
    "spec",
    "specs",
]


@functools.cache
def _registry() -> dict[Kind, KindSpec[Any]]:
    registry: dict[Kind, KindSpec[Any]] = {}
    for name in MODULES:
        module = importlib.import_module(f"iamstate.kinds.{name}")
        found: KindSpec[Any] = module.SPEC
        if found.kind in registry:
            raise ValueError(f"kind {found.kind} registered twice")
        registry[found.kind] = found
    return registry


def specs() -> list[KindSpec[Any]]:
    """Every kind's spec, in :data:`MODULES` order."""
    return list(_registry().values())


def spec(kind: Kind | str) -> KindSpec[Any]:
    """The spec of one kind."""
    return _registry()[Kind(kind) if not isinstance(kind, Kind) else kind]


def spec_of(resource: Resource) -> KindSpec[Any]:
    """The spec of a resource's kind."""
    return spec(resource.kind)


def spec_for_arn_type(arn_type: str) -> KindSpec[Any] | None:
    """The kind whose ARNs have this resource type (``oidc-provider``), if one is registered."""
    return next((s for s in specs() if s.arn_type == arn_type), None)


def kinds() -> list[Kind]:
    """Every registered kind, in :data:`MODULES` order."""
    return list(_registry())


# --- order ---------------------------------------------------------------------------


def _edges(forward: str, backward: str) -> dict[Kind, set[Kind]]:
    """``a -> {b, ...}``: a comes before b, from relations declared on either side."""
    edges: dict[Kind, set[Kind]] = {k: set() for k in _registry()}
    for s in specs():
        for other in getattr(s, forward):
            if other in edges:
                edges[s.kind].add(other)
        for other in getattr(s, backward):
            if other in edges:
                edges[other].add(s.kind)
    return edges


def _topological(edges: dict[Kind, set[Kind]]) -> list[Kind]:
    """Kinds so that every edge points forward; ties in :data:`MODULES` order."""
    position = {k: i for i, k in enumerate(edges)}
    incoming = {k: 0 for k in edges}
    for targets in edges.values():
        for t in targets:
            incoming[t] += 1
    ready = sorted((k for k, n in incoming.items() if n == 0), key=position.__getitem__)
    out: list[Kind] = []
    while ready:
        current = ready.pop(0)
        out.append(current)
        for t in edges[current]:
            incoming[t] -= 1
            if incoming[t] == 0:
                ready.append(t)
        ready.sort(key=position.__getitem__)
    if len(out) != len(edges):
        cycle = sorted(k.value for k, n in incoming.items() if n)
        raise ValueError(f"the kinds' ordering relations form a cycle among {', '.join(cycle)}")
    return out


@functools.cache
def _orders() -> dict[Kind, OrderInfo]:
    # Creation: "b is created after a" is an edge a -> b.
    created_before = _edges("create_before", "create_after")
    depth: dict[Kind, int] = {}

    def dependents_depth(kind: Kind) -> int:
        if kind not in depth:
            after = created_before[kind]
            depth[kind] = 0 if not after else 1 + max(dependents_depth(k) for k in after)
        return depth[kind]

    for kind in created_before:
        dependents_depth(kind)
    _topological(created_before)  # reject cycles
    deepest = max(depth.values(), default=0)
    # Deletion: "a is deleted before b" is an edge a -> b.
    delete_sequence = _topological(_edges("delete_before", "delete_after"))
    out = {}
    for index, kind in enumerate(delete_sequence, start=1):
        d = depth[kind]
        phase = Phase.CREATE if d == 0 else Phase.CREATE_POLICIES
        create_order = CREATE if d == 0 else CREATE + (deepest - d)
        out[kind] = OrderInfo(phase, create_order, DELETE_STEP * index)
    return out


def order_of(kind: Kind) -> OrderInfo:
    """Where a kind's create and delete calls go in apply's order."""
    return _orders()[kind]


# --- the calls of one change ----------------------------------------------------------------


def plan_calls(
    action: Action, before: Resource | None, after: Resource | None, ctx: CallContext
) -> tuple[ApiCall, ...]:
    """The ordered IAM API calls that take one entity from ``before`` to ``after`` (pure)."""
    calls: list[ApiCall] = []
    if action is Action.CREATE:
        assert after is not None
        s = spec_of(after)
        calls += s.create_calls(after, ctx, order_of(s.kind))
        calls += s.attach_calls(after, ctx)
    elif action is Action.DELETE:
        assert before is not None
        s = spec_of(before)
        order = order_of(s.kind)
        calls += s.delete_calls(
            before, ctx, DeleteStep(Phase.DELETE, order.delete_prereq, order.delete_order)
        )
    elif action is Action.REPLACE:
        assert before is not None and after is not None
        s = spec_of(after)
        order = order_of(s.kind)
        calls += s.delete_calls(
            before, ctx, DeleteStep(order.create_phase, REPLACE_PREREQ, REPLACE_DELETE, replacing=True)
        )
        calls += s.create_calls(after, ctx, order)
        calls += s.attach_calls(after, ctx)
        calls += s.reattach_calls(after, ctx)
    else:
        assert before is not None and after is not None
        calls += spec_of(after).update_calls(before, after, ctx)
    # Listed in the order apply makes them: by phase, then order (stable within a step).
    return tuple(sorted(sequenced(calls), key=lambda call: (call.phase, call.order)))


def create_operations() -> frozenset[str]:
    """Every operation that creates an entity (EntityAlreadyExists on it means "already so")."""
    return frozenset(op for s in specs() for op in s.create_operations)


def in_reading_order() -> list[Kind]:
    """Every kind in a plan's reading order (each kind's ``rank``)."""
    return [s.kind for s in sorted(specs(), key=lambda s: s.rank)]


def sort_changes(changes: Iterable[Change]) -> tuple[Change, ...]:
    """Changes in a stable reading order: by kind (each kind's ``rank``), then name (pure)."""
    return tuple(sorted(changes, key=lambda c: (spec(c.address.kind).rank, c.address.name.lower())))


def addresses_of(resources: Iterable[Resource]) -> list[Address]:
    """The addresses of resources."""
    return [spec_of(r).address(r) for r in resources]
