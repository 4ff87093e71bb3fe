"""What access a plan adds and removes, by service and AWS access level, for reviewers.

For every managed policy that a plan creates, updates, replaces or deletes, the
actions its document allows before and after are expanded against the action
catalogue (:mod:`iamstate.catalog`) and compared. Resources and conditions are not
weighed: the summary answers "which actions could this policy now allow", and the
safety rules judge how broadly. An unconditional ``Deny`` on ``*`` takes actions
away; a ``NotAction`` allows every catalogued action it does not list.

Pure apart from reading the catalogue's package data (once, cached).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from iamstate import catalog
from iamstate.model import Json, Kind
from iamstate.plan import Change
from iamstate.rules.statements import Statement, labelled, matches_any, unscoped_resource

PERMISSIONS_MANAGEMENT = "Permissions management"
LEVEL_ORDER = (*catalog.ACCESS_LEVELS, catalog.UNKNOWN_LEVEL)
MAX_LISTED = 20
"""Actions listed by name per service and level; beyond that only the count is given."""


def allowed_actions(document: Json) -> set[str]:
    """The actions a policy document allows, as AWS spells them (unknown ones as written)."""
    statements = labelled(document) if document else []
    allowed: set[str] = set()
    for s in statements:
        if s.allow:
            allowed |= _reached(s)
    for s in statements:
        if s.effect == "Deny" and not s.conditions and any(unscoped_resource(r) for r in s.resources):
            allowed -= _reached(s)
    return allowed


def _reached(s: Statement) -> set[str]:
    if "Action" in s.data:
        out: set[str] = set()
        for pattern in s.actions:
            expanded = catalog.expand(pattern)
            out |= set(expanded) if expanded else {pattern}
        return out
    if "NotAction" in s.data:
        return {a for a in catalog.expand("*") if not matches_any(s.not_actions, a)}
    return set()


def _document(essence: Json | None) -> Json:
    return essence.get("document") if isinstance(essence, Mapping) else None


def _by_service_and_level(actions: Iterable[str]) -> list[dict[str, Json]]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for action in actions:
        service = action.split(":", 1)[0].lower()
        groups[(service, catalog.access_level(action))].append(action)
    out: list[dict[str, Json]] = []
    for (service, level), names in sorted(
        groups.items(), key=lambda i: (i[0][0], LEVEL_ORDER.index(i[0][1]))
    ):
        names.sort(key=str.lower)
        entry: dict[str, Json] = {"service": service, "access_level": level, "count": len(names)}
        total = catalog.level_counts(service).get(level, 0)
        if total:
            entry["of"] = total
        entry["actions"] = names[:MAX_LISTED]
        out.append(entry)
    return out


def policy_summary(address: str, action: str, before: Json, after: Json) -> dict[str, Json]:
    """One policy's entry: the access its change adds and removes."""
    old, new = allowed_actions(before), allowed_actions(after)
    added = _by_service_and_level(new - old)
    removed = _by_service_and_level(old - new)
    return {
        "address": address,
        "action": action,
        "added": added,
        "removed": removed,
        "adds_permissions_management": any(e["access_level"] == PERMISSIONS_MANAGEMENT for e in added),
    }


def access_summary(changes: Iterable[Change]) -> list[dict[str, Json]]:
    """The access each policy change adds and removes, as JSON values, in the changes' order.

    Shape of one entry::

        {"address": "policy.ci-deploy", "action": "update",
         "added": [{"service": "iam", "access_level": "Permissions management",
                    "count": 1, "of": 60, "actions": ["iam:PassRole"]}],
         "removed": [...],
         "adds_permissions_management": true}

    ``count`` is how many actions of that service and level are added (or removed),
    ``of`` how many the service has at that level (absent for a service the catalogue
    does not know), ``actions`` the first 20 of them by name. Changes that are not to
    managed policies, or that leave the allowed actions as they were, are left out.
    """
    out = []
    for change in changes:
        if change.address.kind is not Kind.POLICY:
            continue
        entry = policy_summary(
            str(change.address), change.action.value, _document(change.before), _document(change.after)
        )
        if entry["added"] or entry["removed"]:
            out.append(entry)
    return out
