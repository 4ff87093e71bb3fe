"""Planner case folders: config + live state → the expected plan, exactly."""

from __future__ import annotations

import json

import pytest

from iamstate.render.markdown import render_markdown
from tests.casekit import CASES, case_names, run_case


@pytest.mark.parametrize("name", case_names())
def test_case(name: str) -> None:
    folder = CASES / name
    doc, text = run_case(name)
    if (folder / "expected_error.txt").exists():
        assert doc is None, f"{name}: expected an error, got a plan"
        assert text == (folder / "expected_error.txt").read_text()
        return
    assert doc is not None, f"{name}: unexpected error: {text}"
    assert doc == json.loads((folder / "expected.json").read_text())
    assert text == (folder / "expected.txt").read_text()
    assert render_markdown(doc) == (folder / "expected.md").read_text()


def test_there_are_replace_cases_for_roles_and_policies() -> None:
    # Every kind's create, update and delete cases are checked by tests/test_kinds.py.
    seen: set[tuple[str, str]] = set()
    for name in case_names():
        doc, _ = run_case(name)
        for change in (doc or {}).get("changes", []):
            seen.add((change["kind"], change["action"]))
    assert ("role", "replace") in seen and ("policy", "replace") in seen
