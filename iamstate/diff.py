"""Desired versus live state: the changes a plan proposes (pure).

Entities are matched by kind and name, case-insensitively as IAM does. Both sides
are compared by their essence (model.essence) with tags that are not ours to
manage left out; documents were normalized when each side was built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepdiff import DeepDiff

from iamstate.calls import CallContext, comparable_tags, dedupe
from iamstate.errors import ConfigError, ConflictError
from iamstate.kinds import plan_calls, sort_changes, spec, specs
from iamstate.model import (
    Address,
    DesiredConfig,
    Json,
    LiveAccount,
    Resource,
    essence,
)
from iamstate.ownership import Standing, owned_by, owns_path_and_name
from iamstate.plan import Action, Change, FieldDiff, Finding, Plan

DOCUMENT_FIELDS = {"document", "trust"}
"""Fields holding one policy document, diffed as a whole (rendered as a unified diff)."""
PER_KEY_FIELDS = {"tags", "inline_policies"}
"""Mapping fields diffed key by key (``tags.team``, ``inline_policies.NAME``)."""


def comparable(resource: Resource) -> dict[str, Json]:
    """The essence of a resource with unmanaged tags left out (pure)."""
    out = essence(resource)
    if "tags" in out:
        out["tags"] = comparable_tags(out["tags"])
    return out


def replace_reason(before: Resource, after: Resource) -> str:
    """Why IAM cannot make this change in place, or "" when it can (pure)."""
    return spec(after.kind).replace_reason(before, after)


def field_diffs(before: Mapping[str, Json], after: Mapping[str, Json]) -> tuple[FieldDiff, ...]:
    """Field-level differences between two essences, documents whole, tags per key (pure)."""
    changed = DeepDiff(dict(before), dict(after), ignore_order=False).affected_root_keys
    out: list[FieldDiff] = []
    for key in sorted(changed, key=str):
        b, a = before.get(key), after.get(key)
        if key in PER_KEY_FIELDS and isinstance(b, dict) and isinstance(a, dict):
            for sub in sorted(set(b) | set(a)):
                if b.get(sub) != a.get(sub):
                    out.append(FieldDiff(f"{key}.{sub}", b.get(sub), a.get(sub)))
        else:
            out.append(FieldDiff(str(key), b, a))
    return tuple(out)


def _index(resources: Mapping[Address, Any]) -> dict[tuple[str, str], Address]:
    return {spec(address.kind).match_key(address): address for address in resources}


def _key(address: Address) -> tuple[str, str]:
    return spec(address.kind).match_key(address)


def plan_changes(config: DesiredConfig, live: LiveAccount) -> tuple[Change, ...]:
    """Every change that takes the owned part of live IAM to the desired state (pure).

    Raises ConflictError when the config declares an entity that iamstate must not
    touch: tagged for another stack, AWS-reserved, ignored or outside scope.
    """
    ownership = owned_by(config, live.state)
    desired = config.state.resources
    owned = ownership.owned.resources
    owned_by_key = _index(owned)
    others_by_key = _index(ownership.others)

    conflicts: list[str] = []
    pairs: list[tuple[Address, Resource | None, Resource | None]] = []
    for address in sorted(desired):
        resource = desired[address]
        where = config.sources.get(address)
        at = f" (declared at {where})" if where else ""
        if spec(address.kind).scoped(resource) and not owns_path_and_name(
            config.scope, resource.path, resource.name
        ):
            conflicts.append(f"{address}: declared outside what scope owns (path {resource.path}){at}")
            continue
        if _key(address) in others_by_key:
            other = others_by_key[_key(address)]
            standing = ownership.others[other]
            detail = ""
            if standing is Standing.FOREIGN:
                tags = getattr(live.state.resources[other], "tags", {})
                detail = f" (iamstate:stack={tags.get('iamstate:stack')!r})"
            conflicts.append(
                f"{address}: exists live but is {standing.value}{detail}; iamstate never touches it{at}"
            )
            continue
        live_address = owned_by_key.get(_key(address))
        pairs.append((address, owned[live_address] if live_address else None, resource))
    if conflicts:
        raise ConflictError("the configuration conflicts with live IAM:\n  " + "\n  ".join(conflicts))
    problems = [
        problem
        for kind in specs()
        for problem in kind.reference_problems(config.state, live.state, config.sources, live.account_id)
    ]
    if problems:
        raise ConfigError(problems)

    desired_keys = {_key(a) for a in desired}
    for address in sorted(owned):
        if _key(address) not in desired_keys:
            pairs.append((address, owned[address], None))

    actions: list[tuple[Address, Action, Resource | None, Resource | None, str]] = []
    for address, before, after in pairs:
        if before is None:
            actions.append((address, Action.CREATE, None, after, ""))
        elif after is None:
            actions.append((address, Action.DELETE, before, None, ""))
        else:
            after = spec(address.kind).for_diff(after, before)
            why = replace_reason(before, after)
            if why:
                actions.append((address, Action.REPLACE, before, after, why))
            elif comparable(before) != comparable(after):
                actions.append((address, Action.UPDATE, before, after, ""))

    ctx = CallContext(
        desired=config.state,
        live=live.state,
        partition=live.partition,
        account_id=live.account_id,
        stack=config.stack,
        deleted=frozenset(a for a, action, *_ in actions if action is Action.DELETE),
        replaced=frozenset(a for a, action, *_ in actions if action is Action.REPLACE),
    )
    calls = dedupe([list(plan_calls(action, before, after, ctx)) for _, action, before, after, _ in actions])
    changes = []
    for (address, action, before, after, reason), change_calls in zip(actions, calls, strict=True):
        b = comparable(before) if before is not None else None
        a = comparable(after) if after is not None else None
        fields = field_diffs(b or {}, a or {}) if action in (Action.UPDATE, Action.REPLACE) else ()
        changes.append(Change(address, action, b, a, reason, fields, tuple(change_calls)))
    return sort_changes(changes)


def build_plan(
    config: DesiredConfig,
    live: LiveAccount,
    findings: Sequence[Finding] = (),
    metadata: Mapping[str, Json] | None = None,
) -> Plan:
    """The plan for one config against one live account (pure)."""
    return Plan(
        account_id=live.account_id,
        stack=config.stack,
        changes=plan_changes(config, live),
        findings=tuple(findings),
        metadata=dict(metadata or {}),
    )
