"""The contract every registered kind keeps: cases that plan it, a schema definition, a place in
the plan format, a computed place in apply's order, and a round trip through ``import``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from iamstate import kinds
from iamstate.config import load_config, schema
from iamstate.diff import build_plan
from iamstate.importer import render_import, unexpected_changes
from iamstate.model import Kind, LiveAccount
from iamstate.plan import Phase
from iamstate.statefile import live_from_json, state_from_json, state_to_json
from tests.casekit import CASES, _normalize_documents, case_names, run_case

SPECS = kinds.specs()
IDS = [s.kind.value for s in SPECS]
PLAN_SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "iamstate" / "schemas" / "plan.schema.json").read_text()
)


def _planned() -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for name in case_names():
        doc, _ = run_case(name)
        for change in (doc or {}).get("changes", []):
            seen.setdefault(change["kind"], set()).add(change["action"])
    return seen


PLANNED = _planned()


@pytest.mark.parametrize("kind", SPECS, ids=IDS)
def test_cases_create_change_and_delete_every_kind(kind: kinds.KindSpec[Any]) -> None:
    actions = PLANNED.get(kind.kind.value, set())
    assert "create" in actions, f"no case creates a {kind.kind}"
    assert actions & {"update", "replace"}, f"no case changes a {kind.kind}"
    if not kind.deletable:
        return
    # A singleton's old value is deleted by the replace that puts the new one in its place.
    deleting = {"delete", "replace"} if kind.singleton else {"delete"}
    assert actions & deleting, f"no case deletes a {kind.kind}"


@pytest.mark.parametrize("kind", SPECS, ids=IDS)
def test_the_schema_declares_every_kind_where_its_section_says(kind: kinds.KindSpec[Any]) -> None:
    config_schema = schema()
    if kind.schema_def is not None:
        assert kind.schema_def in config_schema["$defs"], f"$defs.{kind.schema_def} is missing"
    if kind.section is None:
        return
    node: dict[str, Any] = config_schema
    for step in kind.section:
        assert step in node.get("properties", {}), f"the schema has no {'.'.join(kind.section)}"
        node = node["properties"][step]
    if kind.singleton:
        return
    assert "array" in node["type"]
    assert node["items"] == {"$ref": f"#/$defs/{kind.schema_def}"}


def test_the_plan_format_names_exactly_the_registered_kinds() -> None:
    change = PLAN_SCHEMA["$defs"]["change"]["properties"]
    assert sorted(change["kind"]["enum"]) == sorted(IDS) == sorted(Kind.names())
    pattern = change["address"]["pattern"]
    assert pattern == "^(" + "|".join(change["kind"]["enum"]) + ")\\..+$"


def test_apply_order_comes_from_the_relations_and_keeps_saved_plans_valid() -> None:
    # The numbers plans written before the registry carried: the JSON format stays "1".
    order = {k: kinds.order_of(k) for k in kinds.kinds()}
    assert {
        k.value: o.delete_order
        for k, o in order.items()
        if k.value in ("instance_profile", "user", "role", "group", "policy")
    } == {
        "instance_profile": 10,
        "user": 20,
        "role": 30,
        "group": 40,
        "policy": 50,
    }
    assert order[Kind.POLICY].create_phase is Phase.CREATE_POLICIES
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE, Kind.INSTANCE_PROFILE):
        assert order[kind].create_phase is Phase.CREATE
    # Every declared relation holds.
    for s in SPECS:
        for other in s.create_after:
            assert (order[other].create_phase, order[other].create_order) < (
                order[s.kind].create_phase,
                order[s.kind].create_order,
            ), f"{s.kind} is not created after {other}"
        for other in s.create_before:
            assert (order[s.kind].create_phase, order[s.kind].create_order) < (
                order[other].create_phase,
                order[other].create_order,
            ), f"{s.kind} is not created before {other}"
        for other in s.delete_before:
            assert order[s.kind].delete_order < order[other].delete_order, (
                f"{s.kind} not deleted before {other}"
            )
        for other in s.delete_after:
            assert order[other].delete_order < order[s.kind].delete_order, (
                f"{s.kind} not deleted after {other}"
            )


def _all_cases_live() -> LiveAccount:
    """Every entity of every case's live.json (the first of a name wins), as one account."""
    resources: dict[str, dict[str, Any]] = {}
    for name in case_names():
        raw = json.loads((CASES / name / "live.json").read_text())
        for item in raw["resources"]:
            resources.setdefault(f"{item['kind']}.{str(item.get('name', 'account')).lower()}", item)
    return live_from_json(
        {
            "account_id": "123456789012",
            "partition": "aws",
            "caller_arn": "arn:aws:iam::123456789012:role/importer",
            "resources": list(resources.values()),
        }
    )


def test_live_state_imports_as_configuration_that_plans_no_changes() -> None:
    live = _all_cases_live()
    # Documents in live.json are written as IAM returns them; normalize like the reader does.
    live = LiveAccount(
        state_from_json([_normalize_documents(r) for r in state_to_json(live.state)]),
        live.account_id,
        live.partition,
        live.caller_arn,
    )
    rendered = render_import(live)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in rendered.texts.items():
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        config = load_config(tmp).config
    imported = {a.kind for a in config.state}
    for s in SPECS:
        if s.kind in {a.kind for a in live.state}:
            assert s.kind in imported, f"import wrote no {s.kind}"
    changes = build_plan(config, live).changes
    # Only what import said it could not express may change (instance profiles of odd shapes).
    for change in unexpected_changes(changes, rendered.conversions):
        name = change.rsplit(".", 1)[-1].split(" ")[0]
        assert any(f"'{name}'" in w and "cannot be declared" in w for w in rendered.warnings), change
