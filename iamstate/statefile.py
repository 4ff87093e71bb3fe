"""State to and from plain JSON (pure): for planner test cases, saved plans and fingerprints.

Every field of every resource is kept, live-only ones included, so that a state
survives a round trip exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from iamstate.model import (
    Group,
    InstanceProfile,
    Json,
    Kind,
    LiveAccount,
    ManagedPolicy,
    PasswordPolicy,
    PolicyVersion,
    Resource,
    Role,
    State,
    User,
    address_of,
    to_json,
)

CLASSES: dict[Kind, type[Any]] = {
    Kind.POLICY: ManagedPolicy,
    Kind.GROUP: Group,
    Kind.USER: User,
    Kind.ROLE: Role,
    Kind.INSTANCE_PROFILE: InstanceProfile,
    Kind.PASSWORD_POLICY: PasswordPolicy,
}
_SETS = {"policies", "groups", "roles", "instance_profiles"}


def resource_to_json(resource: Resource) -> dict[str, Json]:
    """All fields of a resource, with its kind, as JSON values."""
    out: dict[str, Json] = {"kind": resource.kind.value}
    for f in dataclasses.fields(resource):
        out[f.name] = to_json(getattr(resource, f.name))
    return out


def resource_from_json(doc: Mapping[str, Json]) -> Resource:
    """The inverse of :func:`resource_to_json`; omitted fields take their defaults."""
    kind = Kind(doc["kind"])
    cls = CLASSES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(doc) - names - {"kind"}
    if unknown:
        raise ValueError(f"{kind.value}: unknown fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "kind":
            continue
        if key in _SETS:
            value = frozenset(value)
        elif key == "versions":
            value = tuple(PolicyVersion(**v) for v in value)
        values[key] = value
    resource: Resource = cls(**values)
    return resource


def state_to_json(state: State) -> list[dict[str, Json]]:
    """A state as a list of resources in address order."""
    return [resource_to_json(state.resources[a]) for a in sorted(state.resources)]


def state_from_json(items: list[Mapping[str, Json]]) -> State:
    """The inverse of :func:`state_to_json`."""
    resources = [resource_from_json(item) for item in items]
    return State({address_of(r): r for r in resources})


def live_to_json(live: LiveAccount) -> dict[str, Json]:
    """A live account as JSON (without the call counts)."""
    return {
        "account_id": live.account_id,
        "partition": live.partition,
        "caller_arn": live.caller_arn,
        "resources": state_to_json(live.state),
    }


def live_from_json(doc: Mapping[str, Json]) -> LiveAccount:
    """The inverse of :func:`live_to_json`."""
    return LiveAccount(
        state=state_from_json(doc.get("resources", [])),
        account_id=doc["account_id"],
        partition=doc.get("partition", "aws"),
        caller_arn=doc.get("caller_arn", f"arn:aws:iam::{doc['account_id']}:user/iamstate"),
    )


def fingerprint(value: Json) -> str:
    """A stable SHA-256 of a JSON value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
