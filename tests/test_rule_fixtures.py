"""Every registered rule has cases that fire and cases that stay quiet (SPEC §6).

``tests/rules/<rule id>/fires/`` and ``tests/rules/<rule id>/quiet/`` hold at least
three cases each; adding a rule means adding its folder. A case is one of:

- ``CASE.yaml``: a configuration file; the rules run as ``validate`` runs them.
- ``CASE/`` with ``config.yaml`` and ``live.json``: the live account (the planner
  cases' JSON, with ``caller_arn``) and, if ``changes`` lists them
  (``{"address", "action"}``), the planned changes, else the plan the config makes
  against that account; the rules run as ``plan`` runs them.
- for a live rule of drift, ``CASE/`` with ``config.yaml``, ``live.json`` (the live
  account, plus ``now``, ``account_summary`` and ``virtual_mfa``) and
  ``credential_report.csv``; the live audit runs as ``drift`` runs it.

A case fires when the rule reports an unwaived finding (of any severity); a quiet
case has no unwaived error of the rule, and no finding at all of a warning rule. A
rule whose findings may be errors or warnings (``unknown-action``, the lint rules)
may also have ``tests/rules/<rule id>/warns/``: cases where it reports warnings only.

Rules judge conditions on time at :data:`tests.analysis.corpus.NOW`. A ``live.json``
may carry ``managed_policies`` (ARN -> document): the AWS-managed documents plan
would read.

Every case is evaluated as of one time, as a command evaluates it: the ``now`` of
its ``live.json``, else :data:`FIXTURE_NOW` (what ``--at`` would say).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from iamstate.audit import LiveFinding, audit_input, parse_credential_report
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.model import Address
from iamstate.plan import Action, Change, Finding, Severity
from iamstate.rules import LIVE_RULES, RULES, RuleInput, live_findings, run_rules
from iamstate.statefile import live_from_json
from tests.analysis.corpus import NOW

FIXTURES = Path(__file__).parent / "rules"
FIXTURE_NOW = datetime.fromisoformat("2026-06-01T12:00:00+00:00")
"""The time cases without a ``now`` of their own are evaluated at."""
SIDES = ("fires", "quiet")
MIN_CASES = 3


def cases(rule: str, side: str) -> list[Path]:
    """The cases of one side of a rule's folder: YAML files and case folders, sorted."""
    folder = FIXTURES / rule / side
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() or p.suffix in (".yaml", ".yml"))


def _change(doc: dict[str, str]) -> Change:
    action = Action(doc["action"])
    before = None if action is Action.CREATE else {}
    after = None if action is Action.DELETE else {}
    return Change(Address.parse(doc["address"]), action, before, after)


def run_config_case(case: Path) -> list[Finding]:
    """The findings of validate (a YAML file) or of plan (a folder with live.json) for a case."""
    folder, name = (case, "config.yaml") if case.is_dir() else (case.parent, case.name)
    doc = json.loads((case / "live.json").read_text()) if case.is_dir() else {}
    now = datetime.fromisoformat(doc["now"]) if "now" in doc else FIXTURE_NOW
    # Relative paths keep locations the same on every checkout.
    with contextlib.chdir(folder):
        loaded = load_config(name, now=now)
    config = loaded.config
    if not case.is_dir():
        return run_rules(RuleInput(config, loaded=loaded.findings, now=NOW), live=False)
    live = live_from_json(doc)
    if "changes" in doc:
        changes = tuple(_change(c) for c in doc["changes"])
    else:
        changes = build_plan(config, live).changes
    return run_rules(RuleInput(config, live, changes, loaded.findings, now=NOW), live=True)


def run_live_case(case: Path) -> tuple[LiveFinding, ...]:
    """The live findings drift reports for a case folder."""
    doc = json.loads((case / "live.json").read_text())
    now = datetime.fromisoformat(doc["now"])
    with contextlib.chdir(case):
        config = load_config("config.yaml", now=now).config
    report = case / "credential_report.csv"
    live = live_from_json(doc)
    inp = audit_input(
        config,
        live,
        parse_credential_report(report.read_text()) if report.exists() else (),
        doc.get("account_summary", {}),
        now=now,
        mfa_users=frozenset(doc.get("virtual_mfa", {}).get("users", [])),
        root_virtual_mfa=bool(doc.get("virtual_mfa", {}).get("root", False)),
        unmanaged=build_plan(config, live).unmanaged,
    )
    return live_findings(inp)


def test_every_rule_has_fixtures_that_fire_and_that_stay_quiet() -> None:
    registered = set(RULES) | set(LIVE_RULES)
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == registered, (
        f"no rule for {folders - registered}; no fixtures for {registered - folders}"
    )
    for rule in sorted(registered):
        for side in SIDES:
            found = cases(rule, side)
            assert len(found) >= MIN_CASES, f"tests/rules/{rule}/{side}/ holds {len(found)} cases"


def _params(side: str) -> list[object]:
    return [
        pytest.param(rule, case, id=f"{rule}/{side}/{case.stem}")
        for rule in sorted(set(RULES) | set(LIVE_RULES))
        for case in cases(rule, side)
    ]


@pytest.mark.parametrize(("rule", "case"), _params("fires"))
def test_rule_fires(rule: str, case: Path) -> None:
    if rule in LIVE_RULES:
        live = [f for f in run_live_case(case) if f.rule == rule]
        assert live, f"{rule} did not fire"
        assert all(f.message and f.remedy == LIVE_RULES[rule].remedy for f in live)
        return
    found = [f for f in run_config_case(case) if f.rule == rule and not f.waived]
    assert found, f"{rule} did not fire"
    for f in found:
        assert f.message and f.remedy == RULES[rule].remedy
        assert f.severity is RULES[rule].severity


@pytest.mark.parametrize(("rule", "case"), _params("warns"))
def test_rule_warns(rule: str, case: Path) -> None:
    found = [f for f in run_config_case(case) if f.rule == rule and not f.waived]
    assert found, f"{rule} did not fire"
    assert {f.severity for f in found} == {Severity.WARNING}, [f.message for f in found]
    assert RULES[rule].severity is Severity.ERROR, "a warning rule's cases all warn: put them in fires/"


@pytest.mark.parametrize(("rule", "case"), _params("quiet"))
def test_rule_stays_quiet(rule: str, case: Path) -> None:
    if rule in LIVE_RULES:
        assert not [f.message for f in run_live_case(case) if f.rule == rule]
        return
    warning = RULES[rule].severity is Severity.WARNING
    found = [
        f.message
        for f in run_config_case(case)
        if f.rule == rule and not f.waived and (f.severity is Severity.ERROR or warning)
    ]
    assert not found
