"""What principals can do, by service and access level: for ``explain`` and the plan (pure).

Both read the effective permissions of :mod:`iamstate.analysis.effective`, so what a
principal is said to gain is what it can really do: a user's own policies and its
groups', minus explicit denies, within its permissions boundary (a ceiling, never a
grant), AWS-managed policies from their documents.

**Resource-aware.** Each action an analysis grants has a *reach*: every resource of
its type (a grant with ``*``, ``NotResource`` or a pattern open after the type,
:func:`iamstate.analysis.resources.unscoped_for`), or the resource patterns its grants
name. An action on one bucket is not "all of s3": a line says how many of its actions
reach every resource, and which patterns the others are limited to.

**The plan's access section** (:func:`principal_access`) lists, per declared principal,
what the plan changes in what it can do: the actions it gains or loses (or whose reach
widens or narrows), by service and access level with a count — at most one line per
service and level; the policies it starts or stops holding (through its own
attachments, a group's attachment, a membership, an AWS-managed policy) or that
change; its boundary when that changes; and the escalation methods and exposure
classes it gains or loses, its groups' included (a user added to a group that
escalates now escalates, though the finding stays the group's). A user whose change
is exactly its group's is folded into the group's entry as a member. Principals the plan deletes are left out (their
change block says so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from iamstate import catalog
from iamstate.analysis.account import AccountAnalysis
from iamstate.analysis.effective import CompiledDocument, Grant, Permissions, PolicySource
from iamstate.analysis.escalation import EscalationPath, Step, administrator_grant, format_path
from iamstate.analysis.exposure import SOURCE as EXPOSURE_SOURCE
from iamstate.analysis.resources import can_name, unscoped_for
from iamstate.model import Address, Json, Kind, State
from iamstate.plan import Action, Change

EVERY_RESOURCE = "*"
"""The reach of an action granted on every resource of its type."""
LEVEL_ORDER = (*catalog.ACCESS_LEVELS, catalog.UNKNOWN_LEVEL)
SHOWN_RESOURCES = 3
"""Resource patterns named per line; the rest are counted."""

Reach = frozenset[str]
"""``{"*"}`` for every resource, else the resource patterns the action's grants name."""


def reach_of(grants: Sequence[Grant]) -> Reach:
    """What the grants of one action reach (see the module docstring)."""
    patterns: set[str] = set()
    for grant in grants:
        if grant.not_resource or any(unscoped_for(r, grant.action) for r in grant.resources):
            return frozenset({EVERY_RESOURCE})
        patterns.update(r for r in grant.resources if can_name(r, grant.action))
    return frozenset(patterns)


def reaches(perms: Permissions) -> dict[str, tuple[Reach, tuple[Grant, ...]]]:
    """Every catalogued action ``perms`` grants (as AWS spells it), with its reach and grants."""
    out: dict[str, tuple[Reach, tuple[Grant, ...]]] = {}
    for action in perms.allowed_actions():
        grants = perms.grants(action)
        reach = reach_of(grants)
        if reach:
            out[action] = (reach, grants)
    return out


@dataclass(frozen=True)
class _Delta:
    action: str
    reach: Reach


def _level_lines(deltas: Iterable[_Delta]) -> list[dict[str, Json]]:
    """One line per service and access level: how many actions, how many on every resource,
    and the patterns the others are limited to."""
    groups: dict[tuple[str, str], list[_Delta]] = defaultdict(list)
    for delta in deltas:
        service = delta.action.split(":", 1)[0].lower()
        groups[(service, catalog.access_level(delta.action))].append(delta)
    out: list[dict[str, Json]] = []
    for (service, level), items in sorted(
        groups.items(), key=lambda i: (i[0][0], LEVEL_ORDER.index(i[0][1]))
    ):
        everywhere = sum(1 for d in items if EVERY_RESOURCE in d.reach)
        patterns = sorted({r for d in items if EVERY_RESOURCE not in d.reach for r in d.reach}, key=str.lower)
        line: dict[str, Json] = {"service": service, "access_level": level, "count": len(items)}
        total = catalog.level_counts(service).get(level, 0)
        if total:
            line["of"] = total
        line["on_every_resource"] = everywhere
        if patterns:
            line["resources"] = patterns[:SHOWN_RESOURCES]
        if len(patterns) > SHOWN_RESOURCES:
            line["more_resources"] = len(patterns) - SHOWN_RESOURCES
        out.append(line)
    return out


def access_lines(perms: Permissions) -> list[dict[str, Json]]:
    """What ``perms`` can do, one line per service and access level (for ``explain``)."""
    return _level_lines(_Delta(a, reach) for a, (reach, _) in reaches(perms).items())


def _gained(before: Mapping[str, Reach], after: Mapping[str, Reach]) -> list[_Delta]:
    """The actions of ``after`` that ``before`` lacks, or reaches less of (with the new reach)."""
    out = []
    for action, reach in after.items():
        old = before.get(action)
        if old is None:
            out.append(_Delta(action, reach))
        elif EVERY_RESOURCE in old:
            continue
        elif EVERY_RESOURCE in reach:
            out.append(_Delta(action, reach))
        elif reach - old:
            out.append(_Delta(action, reach - old))
    return out


# --- the plan's access section ---------------------------------------------------------------


def _source(source: PolicySource) -> str:
    """``group.ops (policy deploy)``, ``role.ci (policy ReadOnlyAccess, AWS-managed)``."""
    kind = {"aws-managed": ", AWS-managed", "inline": ", inline"}.get(source.kind, "")
    return f"{source.holder} (policy {source.name}{kind})"


def _held(perms: Permissions | None) -> dict[str, int]:
    """Each policy held (as :func:`_source` names it) -> the identity of its compiled document."""
    if perms is None:
        return {}
    return {_source(source): id(document) for document, source in perms.held}


def _boundary_name(perms: Permissions | None) -> str | None:
    if perms is None or perms.boundary is None:
        return None
    return perms.boundary[1].name


def _signature(perms: Permissions | None) -> tuple[object, ...]:
    if perms is None:
        return ()
    boundary = id(perms.boundary[0]) if perms.boundary is not None else None
    return (tuple(id(document) for document, _ in perms.held), boundary, tuple(perms.unread))


def _methods(analysis: AccountAnalysis, address: Address) -> list[str]:
    return sorted({" then ".join(m.name for m in p.methods) for p in analysis.escalations.get(address, ())})


def _classes(analysis: AccountAnalysis, address: Address) -> list[str]:
    return sorted({str(e.exposure) for e in analysis.exposures(address)})


def _added_removed(before: Iterable[str], after: Iterable[str]) -> dict[str, Json]:
    old, new = list(before), list(after)
    return {"gained": [x for x in new if x not in old], "lost": [x for x in old if x not in new]}


class _Reaches:
    """Reaches computed once per document, and once per distinct set of held documents."""

    def __init__(self) -> None:
        self._principals: dict[tuple[object, ...], dict[str, Reach]] = {}
        self._documents: dict[int, tuple[CompiledDocument, dict[str, Reach]]] = {}

    def of(self, perms: Permissions | None) -> dict[str, Reach]:
        if perms is None:
            return {}
        key: tuple[object, ...] = _signature(perms)
        # Policy variables (${aws:username}) can make the same documents deny differently.
        if any("${" in r for document, _ in perms.held for s in document.statements for r in s.resources):
            key = (*key, tuple(sorted((perms.principal.variables or {}).items())))
        found = self._principals.get(key)
        if found is None:
            found = self._compute(perms)
            self._principals[key] = found
        return found

    def _compute(self, perms: Permissions) -> dict[str, Reach]:
        denies = any(s.deny for document, _ in perms.held for s in document.statements)
        if denies or perms.boundary is not None:
            return {action: reach for action, (reach, _) in reaches(perms).items()}
        # Without denies and a boundary, what a principal reaches is what its documents reach.
        combined: dict[str, Reach] = {}
        for document, source in perms.held:
            for action, reach in self._document(document, source, perms).items():
                known = combined.get(action)
                if known is None or EVERY_RESOURCE in reach:
                    combined[action] = reach
                elif EVERY_RESOURCE not in known:
                    combined[action] = known | reach
        return combined

    def _document(
        self, document: CompiledDocument, source: PolicySource, perms: Permissions
    ) -> dict[str, Reach]:
        found = self._documents.get(id(document))
        if found is None or found[0] is not document:
            alone = Permissions(perms.address, perms.principal, ((document, source),))
            found = (document, {action: reach for action, (reach, _) in reaches(alone).items()})
            self._documents[id(document)] = found
        return found[1]


def principal_access(
    before: AccountAnalysis,
    after: AccountAnalysis,
    *,
    declared: State,
    changes: Sequence[Change] = (),
) -> list[dict[str, Json]]:
    """What each declared principal gains or loses in a plan, as JSON values (see the module
    docstring). ``before`` analyses the live account, ``after`` the account as apply leaves it.

    One entry::

        {"address": "group.ops", "members": ["user.dave"], "new": false,
         "policies": {"gained": ["group.ops (policy deploy)"], "lost": [], "changed": []},
         "boundary": {"before": null, "after": "dev-boundary"},
         "gained": [{"service": "s3", "access_level": "Read", "count": 3, "of": 40,
                     "on_every_resource": 1, "resources": ["arn:aws:s3:::reports/*"]}],
         "lost": [...],
         "escalations": {"gained": ["PassRoleToNewEC2Instance"], "lost": []},
         "exposures": {"gained": ["data-exfiltration"], "lost": []}}

    ``count`` actions of that service and level are gained (or lost, or reach more or
    less), ``of`` the service has at that level, ``on_every_resource`` of them on every
    resource of their type; the others on ``resources`` (the first three patterns, and
    ``more_resources`` beyond). ``members``, ``boundary``, ``resources`` and
    ``more_resources`` appear only when there are any; an entry with nothing to say is
    left out.
    """
    deleted = {c.address.key for c in changes if c.action is Action.DELETE}
    memo = _Reaches()
    entries: dict[Address, dict[str, Json]] = {}
    # Groups first, so that the users folded into one follow from it.
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
        for resource in declared.of_kind(kind):
            address = Address(kind, resource.name)
            if address.key in deleted:
                continue
            entry = _entry(address, before, after, memo)
            if entry is not None:
                entries[address] = entry
    return list(_fold_members(entries).values())


def _entry(
    address: Address, before: AccountAnalysis, after: AccountAnalysis, memo: _Reaches
) -> dict[str, Json] | None:
    old, new = before.permissions.get(address), after.permissions.get(address)
    if new is None:
        return None
    escalations = _added_removed(_methods(before, address), _methods(after, address))
    same = old is not None and _signature(old) == _signature(new)
    if same and not escalations["gained"] and not escalations["lost"]:
        return None
    entry: dict[str, Json] = {"address": str(address), "new": old is None}
    held_before, held_after = _held(old), _held(new)
    policies = _added_removed(held_before, held_after)
    policies["changed"] = [s for s, doc in held_after.items() if s in held_before and held_before[s] != doc]
    entry["policies"] = policies
    if _boundary_name(old) != _boundary_name(new) or (
        old is not None
        and new.boundary is not None
        and old.boundary is not None
        and id(old.boundary[0]) != id(new.boundary[0])
    ):
        entry["boundary"] = {"before": _boundary_name(old), "after": _boundary_name(new)}
    if same:
        entry["gained"], entry["lost"] = [], []
    else:
        reach_before, reach_after = memo.of(old), memo.of(new)
        entry["gained"] = _level_lines(_gained(reach_before, reach_after))
        entry["lost"] = _level_lines(_gained(reach_after, reach_before))
    entry["escalations"] = escalations
    entry["exposures"] = _added_removed(_classes(before, address), _classes(after, address))
    said = (
        entry["gained"]
        or entry["lost"]
        or "boundary" in entry
        or any(policies.values())
        or any(escalations.values())
        or any(entry["exposures"].values())
    )
    return entry if said else None


def _fold_members(entries: dict[Address, dict[str, Json]]) -> dict[Address, dict[str, Json]]:
    """Users whose change comes from one group alone, and is that group's, become its members."""
    groups = {a: e for a, e in entries.items() if a.kind is Kind.GROUP}
    out: dict[Address, dict[str, Json]] = {}
    for address, entry in entries.items():
        home = _folding_group(entry, groups) if address.kind is Kind.USER else None
        if home is None:
            out[address] = entry
            continue
        members = groups[home].setdefault("members", [])
        assert isinstance(members, list)
        members.append(str(address))
    return out


def _folding_group(entry: Mapping[str, Json], groups: Mapping[Address, dict[str, Json]]) -> Address | None:
    if "boundary" in entry:
        return None
    policies = entry.get("policies") or {}
    assert isinstance(policies, Mapping)
    holders = {
        str(p).split(" ", 1)[0] for key in ("gained", "lost", "changed") for p in policies.get(key) or []
    }
    if len(holders) != 1:
        return None
    group = groups.get(Address.parse(holders.pop()))
    if group is None:
        return None
    same = all(
        entry.get(k) == group.get(k)
        for k in ("new", "policies", "gained", "lost", "escalations", "exposures")
    )
    return Address.parse(str(group["address"])) if same else None


# --- one principal, for explain ----------------------------------------------------------------


def _step(step: Step) -> dict[str, Json]:
    return {
        "action": step.action,
        "holder": str(step.holder),
        "policy": step.policy,
        "policy_kind": step.policy_kind,
        "statement": step.statement,
    }


def _path(path: EscalationPath) -> dict[str, Json]:
    return {
        "methods": [{"id": m.id, "name": m.name, "source": m.source} for m in path.methods],
        "path": format_path(path),
        "steps": [_step(s) for s in path.steps],
        "hops": [
            {
                "how": hop.how,
                "role": str(hop.role),
                "service": hop.service or None,
                "trusted_by_name": hop.trusted_by_name,
                "steps": [_step(s) for s in hop.steps],
            }
            for hop in path.hops
        ],
    }


def _policy(source: PolicySource) -> dict[str, Json]:
    return {"holder": str(source.holder), "name": source.name, "arn": source.arn or None, "kind": source.kind}


def explain(analysis: AccountAnalysis, address: Address) -> dict[str, Json]:
    """What one principal of ``analysis`` can do, as JSON values (``explain``'s document, without
    its envelope; see ``schemas/explain.schema.json``): the policies it holds and its
    boundary, its access by service and access level with the policies behind each line,
    each escalation path, each exposure class, and whether it is a full administrator."""
    perms = analysis.permissions[address]
    found = reaches(perms)
    lines = _level_lines(_Delta(a, reach) for a, (reach, _) in found.items())
    behind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for action, (_, grants) in found.items():
        key = (action.split(":", 1)[0].lower(), catalog.access_level(action))
        for grant in grants:
            named = _source(grant.source)
            if named not in behind[key]:
                behind[key].append(named)
    for line in lines:
        line["policies"] = behind[(str(line["service"]), str(line["access_level"]))]
    admin = administrator_grant(perms)
    return {
        "address": str(address),
        "arn": perms.arn or None,
        "policies": [_policy(source) for source in perms.policies],
        "boundary": _policy(perms.boundary[1]) if perms.boundary is not None else None,
        "unread": list(perms.unread),
        "administrator": None if admin is None else _source(admin.source),
        "access": lines,
        "escalations": [_path(p) for p in analysis.escalations.get(address, ())],
        "exposures": [
            {"class": str(e.exposure), "source": EXPOSURE_SOURCE, "steps": [_step(s) for s in e.steps]}
            for e in analysis.exposures(address)
        ],
    }
