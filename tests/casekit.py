"""Planner case folders: ``tests/cases/<name>/`` with ``config.yaml``, ``live.json`` and the
expected plan (``expected.json``, ``expected.txt`` and the pull-request markdown
``expected.md``), or ``expected_error.txt`` for cases that must fail. Regenerate with
``make cases`` and review the diff."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from iamstate import policy
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.errors import IamstateError
from iamstate.render.markdown import render_markdown
from iamstate.render.text import render_text
from iamstate.rules import RuleInput, apply_waivers, run_rules
from iamstate.statefile import live_from_json

CASES = Path(__file__).parent / "cases"


def case_names() -> list[str]:
    """Every case folder, sorted."""
    return sorted(p.name for p in CASES.iterdir() if (p / "live.json").exists())


def _normalize_documents(item: dict[str, Any]) -> dict[str, Any]:
    # live.json holds documents as IAM returns them, in any equivalent spelling; the
    # reader keeps that text (FIELD_as_written) and compares the normalized form, so
    # the case loader does the same.
    for key in ("document", "trust"):
        if key in item:
            item.setdefault(f"{key}_as_written", item[key])
            item[key] = policy.normalize(item[key])
    if "inline_policies" in item:
        item.setdefault("inline_policies_as_written", dict(item["inline_policies"]))
        item["inline_policies"] = {k: policy.normalize(v) for k, v in item["inline_policies"].items()}
    return item


def run_case(name: str) -> tuple[dict[str, Any] | None, str]:
    """The plan's JSON form and its text rendering, or (None, error text) for failing cases."""
    folder = CASES / name
    raw = json.loads((folder / "live.json").read_text())
    raw["resources"] = [_normalize_documents(item) for item in raw.get("resources", [])]
    live = live_from_json(raw)
    try:
        # Relative paths keep locations in expected output the same on every checkout.
        with contextlib.chdir(folder):
            loaded = load_config("config.yaml", partition=live.partition)
        config = loaded.config
        findings = apply_waivers(loaded.findings, {str(a): dict(e) for a, e in config.exceptions.items()})
        base = build_plan(config, live)
        findings += run_rules(RuleInput(config, live, base.changes), live=True)
        plan = build_plan(config, live, findings)
    except IamstateError as error:
        return None, str(error) + "\n"
    doc = plan.to_json()
    return doc, render_text(doc, color=False)


def write_expected(name: str) -> None:
    """(Re)write a case's expected files from the current code."""
    folder = CASES / name
    doc, text = run_case(name)
    for stale in ("expected.json", "expected.txt", "expected.md", "expected_error.txt"):
        (folder / stale).unlink(missing_ok=True)
    if doc is None:
        (folder / "expected_error.txt").write_text(text)
    else:
        (folder / "expected.json").write_text(json.dumps(doc, indent=2) + "\n")
        (folder / "expected.txt").write_text(text)
        (folder / "expected.md").write_text(render_markdown(doc))
