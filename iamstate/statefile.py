"""State to and from plain JSON (pure): for planner test cases, saved plans and fingerprints.

Every field of every resource is kept, live-only ones included, so that a state
survives a round trip exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from iamstate.kinds import spec
from iamstate.model import Json, LiveAccount, Resource, State


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


def fingerprint(value: Json) -> str:
    """A stable SHA-256 of a JSON value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
