"""Desired versus live state: the changes a plan proposes (pure).

Entities are matched by kind and name, case-insensitively as IAM does. Both sides
are compared by their essence (model.essence) with tags that are not ours to
manage left out; documents were normalized when each side was built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from iamstate.calls import CallContext, comparable_tags, dedupe
from iamstate.errors import ConfigError, ConflictError
from iamstate.kinds import plan_calls, sort_changes, spec, specs
from iamstate.model import (
    STACK_TAG,
    Address,
    DesiredConfig,
    Json,
    Kind,
    LiveAccount,
    Resource,
    Scope,
    State,
    essence,
)
from iamstate.ownership import (
    UNTOUCHABLE,
    Split,
    Standing,
    cloudformation_stack,
    is_protected,
    owned_by,
    owns_path_and_name,
)
from iamstate.plan import Action, Change, FieldDiff, Finding, Plan, Unmanaged

DOCUMENT_FIELDS = {"document", "trust"}
"""Fields holding one policy document, diffed as a whole (rendered as a unified diff)."""
PER_KEY_FIELDS = {"tags", "inline_policies"}
"""Mapping fields diffed key by key (``tags.team``, ``inline_policies.NAME``)."""


AS_WRITTEN = "_as_written"
"""The suffix of the ``compare=False`` field that holds a document field in its author's spelling."""


def comparable(resource: Resource) -> dict[str, Json]:
    """The essence of a resource with unmanaged tags left out (pure)."""
    out = essence(resource)
    if "tags" in out:
        out["tags"] = comparable_tags(out["tags"])
    return out


def as_written(resource: Resource) -> dict[str, Json]:
    """:func:`comparable` with each document in its author's spelling (pure): as the config wrote
    it on the desired side, as IAM holds it on the live side, wherever the resource kept that
    text (``FIELD_as_written``); the normalized document otherwise. What plans show."""
    out = comparable(resource)
    for name, value in out.items():
        written = getattr(resource, name + AS_WRITTEN, None)
        if written is None:
            continue
        if name in PER_KEY_FIELDS and isinstance(value, dict) and isinstance(written, Mapping):
            out[name] = {key: _plain(written[key]) if key in written else item for key, item in value.items()}
        else:
            out[name] = _plain(written)
    return out


def normalized_documents(resource: Resource) -> dict[str, Json]:
    """The documents of :func:`comparable` whose spelling :func:`as_written` shows (pure):
    for machines that compare by meaning."""
    out = comparable(resource)
    return {name: value for name, value in out.items() if value and hasattr(resource, name + AS_WRITTEN)}


def _plain(value: Json) -> Json:
    """A JSON copy that keeps the author's key order (tuples as lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def replace_reason(before: Resource, after: Resource) -> str:
    """Why IAM cannot make this change in place, or "" when it can (pure)."""
    return spec(after.kind).replace_reason(before, after)


def field_diffs(
    before: Mapping[str, Json],
    after: Mapping[str, Json],
    shown: tuple[Mapping[str, Json], Mapping[str, Json]] | None = None,
) -> tuple[FieldDiff, ...]:
    """Field-level differences between two essences, documents whole, tags per key (pure).

    The essences are compared as given (normalized documents: by meaning); each difference
    carries the values of ``shown`` (the essences :func:`as_written` makes) when given.
    """
    from deepdiff import DeepDiff  # imported by the first change only: most commands never diff

    changed = DeepDiff(dict(before), dict(after), ignore_order=False).affected_root_keys
    shown_before, shown_after = shown if shown is not None else (before, after)
    out: list[FieldDiff] = []
    for key in sorted(changed, key=str):
        b, a = before.get(key), after.get(key)
        sb, sa = shown_before.get(key), shown_after.get(key)
        if key in PER_KEY_FIELDS and isinstance(b, dict) and isinstance(a, dict):
            sb, sa = sb if isinstance(sb, dict) else b, sa if isinstance(sa, dict) else a
            for sub in sorted(set(b) | set(a)):
                if b.get(sub) != a.get(sub):
                    out.append(FieldDiff(f"{key}.{sub}", sb.get(sub), sa.get(sub)))
        else:
            out.append(FieldDiff(str(key), sb, sa))
    return tuple(out)


def _index(resources: Mapping[Address, Any]) -> dict[tuple[str, str], Address]:
    return {spec(address.kind).match_key(address): address for address in resources}


def _key(address: Address) -> tuple[str, str]:
    return spec(address.kind).match_key(address)


def plan_changes(config: DesiredConfig, live: LiveAccount) -> tuple[Change, ...]:
    """Every change that takes the owned part of live IAM to the desired state (pure).

    Raises ConflictError when the config declares an entity that iamstate must not
    touch: tagged for another stack, created by CloudFormation, AWS-reserved, ignored
    or outside scope; or asks to delete or replace a protected one.
    """
    return _plan(config, live)[0]


def _conflict(address: Address, standing: Standing, resource: Resource, at: str) -> str:
    detail = ""
    if standing is Standing.FOREIGN:
        detail = f" (iamstate:stack={getattr(resource, 'tags', {}).get(STACK_TAG)!r})"
    elif standing is Standing.CLOUDFORMATION:
        detail = f" (stack {cloudformation_stack(resource)}); manage it there"
    return f"{address}: exists live but is {standing.value}{detail}; iamstate never touches it{at}"


def _plan(config: DesiredConfig, live: LiveAccount) -> tuple[tuple[Change, ...], tuple[Unmanaged, ...]]:
    split = owned_by(config, live.state)
    desired = config.state.resources
    owned = split.owned.resources
    owned_by_key = _index(owned)
    others_by_key = _index(split.others)

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
            conflicts.append(_conflict(address, split.others[other], live.state.resources[other], at))
            continue
        live_address = owned_by_key.get(_key(address))
        pairs.append((address, owned[live_address] if live_address else None, resource))

    # absent: true deletes the entity whether it is tagged or not, never a protected one.
    absent_keys = {_key(a) for a in config.absent}
    for address in sorted(config.absent):
        at = f" (declared absent at {config.sources[address]})" if address in config.sources else ""
        live_address = owned_by_key.get(_key(address)) or others_by_key.get(_key(address))
        if live_address is None:
            continue
        resource = live.state.resources[live_address]
        standing = split.others.get(live_address, Standing.OWNED)
        if is_protected(resource.name, config.scope):
            conflicts.append(f"{address}: is protected and never deleted{at}")
        elif standing in UNTOUCHABLE:
            conflicts.append(_conflict(address, standing, resource, at))
        else:
            pairs.append((live_address, resource, None))
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
        if _key(address) not in desired_keys and _key(address) not in absent_keys:
            pairs.append((address, owned[address], None))

    actions: list[tuple[Address, Action, Resource | None, Resource | None, str, bool]] = []
    for address, before, after in pairs:
        if before is None:
            actions.append((address, Action.CREATE, None, after, "", False))
        elif after is None:
            actions.append((address, Action.DELETE, before, None, "", False))
        else:
            importing = _live_address(owned_by_key, address) in split.adopted
            after = spec(address.kind).for_diff(after, before)
            why = replace_reason(before, after)
            if why:
                if is_protected(before.name, config.scope):
                    raise ConflictError(
                        f"the configuration conflicts with live IAM:\n  {address}: is protected and never "
                        f"deleted, but the change needs a replace ({why})"
                    )
                actions.append((address, Action.REPLACE, before, after, why, importing))
            elif comparable(before) != comparable(after):
                actions.append(
                    (address, Action.UPDATE, before, after, ADOPTION if importing else "", importing)
                )
            elif importing:
                actions.append((address, Action.IMPORT, before, after, ADOPTION, True))

    _check_outside_uses(actions, split, live.state)

    ctx = CallContext(
        desired=config.state,
        live=live.state,
        partition=live.partition,
        account_id=live.account_id,
        stack=config.stack,
        deleted=frozenset(a for a, action, *_ in actions if action is Action.DELETE),
        replaced=frozenset(a for a, action, *_ in actions if action is Action.REPLACE),
    )
    calls = dedupe(
        [
            list(plan_calls(Action.UPDATE if action is Action.IMPORT else action, before, after, ctx))
            for _, action, before, after, _, _ in actions
        ]
    )
    changes = []
    for (address, action, before, after, reason, importing), change_calls in zip(actions, calls, strict=True):
        b = as_written(before) if before is not None else None
        a = as_written(after) if after is not None else None
        fields: tuple[FieldDiff, ...] = ()
        if action in (Action.UPDATE, Action.REPLACE):
            assert before is not None and after is not None
            fields = field_diffs(comparable(before), comparable(after), shown=(b or {}, a or {}))
        if importing and action is not Action.REPLACE:
            fields = (FieldDiff(f"tags.{STACK_TAG}", None, config.stack), *fields)
        normalized = {
            side: normalized_documents(resource)
            for side, resource in (("before", before), ("after", after))
            if resource is not None and normalized_documents(resource)
        }
        changes.append(
            Change(
                address,
                action,
                b,
                a,
                reason,
                fields,
                tuple(change_calls),
                importing=importing,
                normalized=normalized,
            )
        )
    going = {_key(c.address) for c in changes}
    left_alone = tuple(u for u in _unmanaged(split, live.state, config.scope) if _key(u.address) not in going)
    return sort_changes(changes), left_alone


def _check_outside_uses(
    actions: Sequence[tuple[Address, Action, Resource | None, Resource | None, str, bool]],
    split: Split,
    live: State,
) -> None:
    """A policy deleted or replaced must not be detached from what another stack or another scope
    holds: iamstate never changes what it does not own (raises ConflictError naming them)."""
    problems = []
    for address, action, before, _, _, _ in actions:
        if action not in (Action.DELETE, Action.REPLACE) or before is None or address.kind is not Kind.POLICY:
            continue
        arn = getattr(before, "arn", "")
        users = []
        for other_address, standing in sorted(split.others.items()):
            if standing not in UNTOUCHABLE:
                continue
            other = live.resources[other_address]
            if arn and (
                arn in getattr(other, "policies", ()) or getattr(other, "permissions_boundary", None) == arn
            ):
                users.append(f"{other_address} ({standing.value})")
        if users:
            problems.append(
                f"{address}: would be {'replaced' if action is Action.REPLACE else 'deleted'}, but "
                f"{', '.join(users)} use it; iamstate never detaches a policy from what it does not own"
            )
    if problems:
        raise ConflictError("the configuration conflicts with live IAM:\n  " + "\n  ".join(problems))


def _live_address(by_key: Mapping[tuple[str, str], Address], address: Address) -> Address | None:
    return by_key.get(_key(address))


ADOPTION = "import: declared and live, not yet tagged for this stack; apply adopts it"

REMEDIES = {
    Standing.UNMANAGED: "declare it (or `iamstate import` it), add it to scope.ignore, or set "
    "scope.prune: all to delete what the configuration does not declare",
    Standing.CLOUDFORMATION: "manage it in its CloudFormation stack, or add it to scope.ignore",
    Standing.PROTECTED: "nothing: protected entities are never deleted (declare it to manage it)",
}


def _unmanaged(split: Split, live: State, scope: Scope) -> tuple[Unmanaged, ...]:
    """In-scope live entities the plan leaves alone, with why and what to do (pure)."""
    out = []
    for address in sorted(split.others):
        standing = split.others[address]
        if standing not in REMEDIES:
            continue
        reason = standing.value
        if standing is Standing.CLOUDFORMATION:
            reason = f"created by CloudFormation (stack {cloudformation_stack(live.resources[address])})"
        out.append(Unmanaged(address, standing.name.lower(), reason, REMEDIES[standing]))
    return tuple(out)


def build_plan(
    config: DesiredConfig,
    live: LiveAccount,
    findings: Sequence[Finding] = (),
    metadata: Mapping[str, Json] | None = None,
) -> Plan:
    """The plan for one config against one live account (pure)."""
    changes, unmanaged = _plan(config, live)
    return Plan(
        account_id=live.account_id,
        stack=config.stack,
        changes=changes,
        findings=tuple(findings),
        metadata=dict(metadata or {}),
        unmanaged=unmanaged,
    )
