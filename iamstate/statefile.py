"""State to and from plain JSON (pure): for planner test cases, saved plans and fingerprints.

Every field of every resource is kept, live-only ones included, so that a state
survives a round trip exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from iamstate.kinds import spec
from iamstate.model import Json, LiveAccount, Resource, State, to_json


def resource_to_json(resource: Resource) -> dict[str, Json]:
    """All fields of a resource, with its kind, as JSON values."""
    return spec(resource.kind).to_json(resource)


def resource_from_json(doc: Mapping[str, Json]) -> Resource:
    """The inverse of :func:`resource_to_json`; omitted fields take their defaults."""
    resource: Resource = spec(str(doc["kind"])).from_json(doc)
    return resource


def state_to_json(state: State) -> list[dict[str, Json]]:
    """A state as a list of resources in address order."""
    return [resource_to_json(state.resources[a]) for a in sorted(state.resources)]


def state_from_json(items: list[Mapping[str, Json]]) -> State:
    """The inverse of :func:`state_to_json`."""
    resources = [resource_from_json(item) for item in items]
    return State({spec(r.kind).address(r): r for r in resources})


def live_to_json(live: LiveAccount) -> dict[str, Json]:
    """A live account as JSON (without the call counts); ``managed_policies`` holds the
    AWS-managed documents read, when there are any."""
    doc: dict[str, Json] = {
        "account_id": live.account_id,
        "partition": live.partition,
        "caller_arn": live.caller_arn,
        "resources": state_to_json(live.state),
    }
    if live.managed_documents:
        doc["managed_policies"] = dict(live.managed_documents)
    return doc


def live_from_json(doc: Mapping[str, Json]) -> LiveAccount:
    """The inverse of :func:`live_to_json`."""
    return LiveAccount(
        state=state_from_json(doc.get("resources", [])),
        account_id=doc["account_id"],
        partition=doc.get("partition", "aws"),
        caller_arn=doc.get("caller_arn", f"arn:aws:iam::{doc['account_id']}:user/iamstate"),
        managed_documents=dict(doc.get("managed_policies") or {}),
        read_at=str(doc.get("read_at", "")),
        user_last_used=dict(doc.get("user_last_used", {})),
    )


def fingerprint(value: object) -> str:
    """A stable SHA-256 of a JSON value; model values in it (resources, frozensets, mappings,
    enums) count as their :func:`iamstate.model.to_json` forms, resources with their kind
    (as :func:`resource_to_json` writes them)."""
    digest = hashlib.sha256()
    for chunk in _canonical(value, 2):
        digest.update(chunk.encode())
    return digest.hexdigest()


def _canonical(value: object, levels: int) -> Iterator[str]:
    """The canonical JSON text of ``value`` (sorted keys, no spaces) in pieces: mappings and
    lists of the top ``levels`` piece by piece, so that a whole account's text is never held
    at once; the pieces joined are ``json.dumps(value, sort_keys=True, separators=(",", ":"))``."""
    if levels > 0 and type(value) is dict and all(type(k) is str for k in value):
        yield "{"
        for index, key in enumerate(sorted(value)):
            yield ("," if index else "") + json.dumps(key) + ":"
            yield from _canonical(value[key], levels - 1)
        yield "}"
    elif levels > 0 and type(value) is list:
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _canonical(item, levels - 1)
        yield "]"
    else:
        yield json.dumps(value, sort_keys=True, separators=(",", ":"), default=_as_json)


def state_for_fingerprint(state: State) -> list[dict[str, Any]]:
    """A state as :func:`fingerprint` reads it: the same value as :func:`state_to_json`, but each
    resource only one level deep (the encoder converts the fields as it writes them)."""
    out = []
    for address in sorted(state.resources):
        resource: Any = state.resources[address]
        shallow: dict[str, Any] = {"kind": resource.kind.value}
        for f in dataclasses.fields(resource):
            shallow[f.name] = getattr(resource, f.name)
        out.append(shallow)
    return out


def _as_json(value: Any) -> Json:
    """The encoder's fallback: one level of a model value's JSON form (it encodes the rest)."""
    if isinstance(value, (frozenset, set)):
        items = list(value)
        if all(type(v) is str for v in items):
            return sorted(items)
        return sorted(to_json(v) for v in items)
    if isinstance(value, Mapping) and all(type(k) is str for k in value):
        return dict(value)
    return to_json(value)
