"""Saved-plan fingerprints: the fast encoding hashes exactly what the states' JSON forms say."""

from __future__ import annotations

import contextlib
import hashlib
import json

import pytest

from iamstate.config import load_config
from iamstate.model import State
from iamstate.statefile import fingerprint, live_from_json, state_for_fingerprint, state_to_json
from tests.casekit import CASES, _normalize_documents, case_names


def reference(state: State) -> str:
    """The definition: SHA-256 of the canonical JSON of :func:`state_to_json`."""
    text = json.dumps(state_to_json(state), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def case_states(name: str) -> list[State]:
    folder = CASES / name
    raw = json.loads((folder / "live.json").read_text())
    raw["resources"] = [_normalize_documents(item) for item in raw.get("resources", [])]
    live = live_from_json(raw)
    states = [live.state]
    with contextlib.chdir(folder), contextlib.suppress(Exception):
        states.append(load_config("config.yaml", partition=live.partition).config.state)
    return states


@pytest.mark.parametrize("name", case_names())
def test_fingerprint_of_every_case_state_is_that_of_its_json_form(name: str) -> None:
    for state in case_states(name):
        assert fingerprint(state_for_fingerprint(state)) == reference(state)


def test_a_changed_field_changes_the_fingerprint() -> None:
    live = case_states("create_everything")[-1]
    address = sorted(live.resources)[0]
    import dataclasses

    resource = live.resources[address]
    changed = State({**live.resources, address: dataclasses.replace(resource, path="/elsewhere/")})
    assert fingerprint(state_for_fingerprint(changed)) != fingerprint(state_for_fingerprint(live))


def test_fingerprint_of_a_mapping_holding_a_state_is_that_of_its_json_form() -> None:
    state = case_states("create_everything")[-1]
    value = {
        "state": state_for_fingerprint(state),
        "account_id": "123456789012",
        "é": [1, {"b": None, "a": 2.5}],
    }
    text = json.dumps({**value, "state": state_to_json(state)}, sort_keys=True, separators=(",", ":"))
    assert fingerprint(value) == hashlib.sha256(text.encode()).hexdigest()
