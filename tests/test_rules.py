"""What safety rules' findings say, and how waivers and the plan-time rules work (SPEC §6).

Whether each rule fires is asserted case by case by tests/test_rule_fixtures.py,
on the fixtures in tests/rules/<rule id>/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamstate.config import load_config
from iamstate.kinds.user import User
from iamstate.model import STACK_TAG, Address, Kind, LiveAccount, State
from iamstate.plan import Action, Change, Finding, Severity
from iamstate.rules import RuleInput, apply_waivers, run_rules

ACCOUNT = "123456789012"
OTHER = "999999999999"
V = "2012-10-17"


@dataclass(frozen=True)
class Case:
    """A configuration (a mapping, or YAML text), with what plan time adds."""

    config: dict[str, Any] | str
    live: LiveAccount | None = None
    changes: tuple[Change, ...] = field(default=())


def run(tmp_path: Path, case: Case) -> list[Finding]:
    """Load the case's config and run the rules as validate (or, with live state, plan) does."""
    text = case.config if isinstance(case.config, str) else yaml.safe_dump(case.config, sort_keys=False)
    (tmp_path / "main.yaml").write_text(text)
    loaded = load_config(tmp_path / "main.yaml")
    config = loaded.config
    exceptions = {str(a): dict(e) for a, e in config.exceptions.items()}
    data = RuleInput(config, case.live, case.changes)
    return apply_waivers(loaded.findings, exceptions) + run_rules(data, live=case.live is not None)


def fired(tmp_path: Path, rule: str, case: Case) -> list[Finding]:
    return [f for f in run(tmp_path, case) if f.rule == rule and not f.waived]


# --- building configurations ------------------------------------------------------------


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def granted(*statements: dict[str, Any]) -> Case:
    """A policy with these statements, attached to a group (so it grants access)."""
    return Case(
        {
            "account": {"id": ACCOUNT},
            "policies": [{"name": "p", "document": {"Version": V, "Statement": list(statements)}}],
            "groups": [{"name": "g", "policies": ["p"]}],
        }
    )


def trust(*statements: dict[str, Any], **role: Any) -> Case:
    """A role with a full trust document of these statements."""
    return Case(
        {
            "account": {"id": ACCOUNT},
            "roles": [{"name": "r", "trust": {"Version": V, "Statement": list(statements)}, **role}],
        }
    )


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


def live(caller: str = f"arn:aws:iam::{ACCOUNT}:user/ci", owned: int = 0, foreign: int = 0) -> LiveAccount:
    resources: dict[Address, Any] = {}
    for i in range(owned):
        resources[Address(Kind.USER, f"u{i}")] = User(f"u{i}", tags={STACK_TAG: "iamstate"})
    for i in range(foreign):
        resources[Address(Kind.USER, f"f{i}")] = User(f"f{i}", tags={STACK_TAG: "other"})
    return LiveAccount(State(resources), ACCOUNT, caller_arn=caller)


def deletes(count: int, action: Action = Action.DELETE) -> tuple[Change, ...]:
    return tuple(Change(Address(Kind.USER, f"u{i}"), action, {}, None) for i in range(count))


def at_plan(caller: str, *changes: Change, owned: int = 10) -> Case:
    return Case({"account": {"id": ACCOUNT}}, live(caller, owned=owned), changes)


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}

# --- messages: the entity, the statement or action, where, and how to fix it ---------------


def test_a_finding_names_the_entity_the_statement_and_where(tmp_path: Path) -> None:
    case = granted(allow("s3:GetObject", "arn:aws:s3:::b/*"), {**allow("*"), "Sid": "BreakGlass"})
    (finding,) = fired(tmp_path, "policy-admin-star", case)
    assert finding.address == "policy.p"
    assert "policy 'p' statement 2 (Sid BreakGlass)" in finding.message
    assert finding.location == f"{tmp_path / 'main.yaml'}:4:9"


def test_unknown_action_suggests_the_nearest_real_action(tmp_path: Path) -> None:
    (finding,) = fired(tmp_path, "unknown-action", granted(allow("s3:GetObjekt", "arn:aws:s3:::b/*")))
    assert "s3:GetObjekt" in finding.message
    assert "did you mean s3:GetObject?" in finding.message


def test_an_unknown_service_is_only_a_warning(tmp_path: Path) -> None:
    (finding,) = fired(tmp_path, "unknown-action", granted(allow("brandnewservice:DoThing")))
    assert finding.severity is Severity.WARNING
    assert "brandnewservice" in finding.message


def test_escalation_names_the_method_its_source_and_the_policy_behind_each_action(tmp_path: Path) -> None:
    case = Case(
        {
            "account": {"id": ACCOUNT},
            "policies": [
                {"name": "pass", "document": {"Version": V, "Statement": [allow("iam:PassRole")]}},
                {"name": "run", "document": {"Version": V, "Statement": [allow("ec2:RunInstances")]}},
            ],
            "groups": [{"name": "ops", "policies": ["run"]}],
            "users": [{"name": "dave", "groups": ["ops"], "policies": ["pass"]}],
        }
    )
    (finding,) = fired(tmp_path, "privilege-escalation", case)
    assert finding.address == "user.dave"
    assert finding.message == (
        "user 'dave' can escalate by PassRoleToNewEC2Instance (https://pathfinding.cloud/paths/ec2-001): "
        "user.dave → user.dave (policy pass: iam:PassRole) + group.ops (policy run: ec2:RunInstances)"
    )
    assert finding.location == f"{tmp_path / 'main.yaml'}:23:9"


def test_a_user_is_not_reported_again_for_what_its_group_grants(tmp_path: Path) -> None:
    case = granted(allow("lambda:UpdateFunctionCode"))
    assert isinstance(case.config, dict)
    case.config["users"] = [{"name": f"u{i}", "groups": ["g"]} for i in range(3)]
    assert [f.address for f in fired(tmp_path, "privilege-escalation", case)] == ["group.g"]


def test_a_privilege_escalation_waiver_on_a_policy_is_named_as_misplaced(tmp_path: Path) -> None:
    case = granted(allow("iam:CreatePolicyVersion"))
    assert isinstance(case.config, dict)
    case.config["policies"][0]["exceptions"] = {"privilege-escalation": "Reviewed: the group deploys IAM."}
    (finding,) = fired(tmp_path, "privilege-escalation", case)
    assert finding.address == "group.g"
    assert finding.message.endswith(
        "(the privilege-escalation waiver on policy 'p' does not apply: "
        "waive it on group 'g', the principal that escalates)"
    )


def test_mfa_finding_names_the_statements_without_mfa(tmp_path: Path) -> None:
    case = trust(assume({"AWS": OTHER}, Condition=MFA), assume({"AWS": ACCOUNT}), require_mfa=True)
    (finding,) = fired(tmp_path, "trust-mfa-missing", case)
    assert "statement 2" in finding.message and "statement 1" not in finding.message


def test_roles_sharing_one_trust_text_each_get_their_own_findings(tmp_path: Path) -> None:
    # One distinct document is checked once per run; every role holding it is still reported,
    # at its own place, and a rule that reads the role (require_mfa) still tells them apart.
    open_trust = {"Version": V, "Statement": [assume("*")]}
    mfa_trust = {"Version": V, "Statement": [assume({"AWS": OTHER})]}
    roles = [{"name": f"open-{i}", "trust": open_trust} for i in range(3)]
    roles += [{"name": "mfa", "trust": mfa_trust, "require_mfa": True}, {"name": "plain", "trust": mfa_trust}]
    found = run(tmp_path, Case({"account": {"id": ACCOUNT}, "roles": roles}))
    anyone = [f for f in found if f.rule == "trust-any-principal"]
    assert [f.address for f in anyone] == [f"role.open-{i}" for i in range(3)]
    assert len({f.location for f in anyone}) == 3
    assert all("role 'open-" in f.message and "trust statement 1" in f.message for f in anyone)
    assert [f.address for f in found if f.rule == "trust-mfa-missing"] == ["role.mfa"]


def test_require_mfa_next_to_trusted_is_a_config_error(tmp_path: Path) -> None:
    from iamstate.errors import ConfigError

    case = Case({"roles": [{"name": "r", "trusted": {"accounts": [OTHER]}, "require_mfa": True}]})
    with pytest.raises(ConfigError, match="applies to a full trust: document"):
        run(tmp_path, case)


# --- waivers ------------------------------------------------------------------------------


def test_a_waived_finding_stays_visible_and_marked(tmp_path: Path) -> None:
    case = granted(allow("*"))
    assert isinstance(case.config, dict)
    case.config["policies"][0]["exceptions"] = {"policy-admin-star": "Break-glass policy, approved in SEC-42"}
    (finding,) = [f for f in run(tmp_path, case) if f.rule == "policy-admin-star"]
    assert finding.waived and not finding.blocking
    assert finding.waiver_reason == "Break-glass policy, approved in SEC-42"


def test_an_exception_waives_only_its_own_entity_and_rule(tmp_path: Path) -> None:
    case = Case(
        {
            "policies": [
                {
                    "name": "a",
                    "document": {"Version": V, "Statement": [allow("*")]},
                    "exceptions": {"service-wildcard": "Covered by SEC-1 review"},
                },
                {
                    "name": "b",
                    "document": {"Version": V, "Statement": [allow("*")]},
                    "exceptions": {"policy-admin-star": "Break-glass, SEC-42"},
                },
            ],
            "groups": [{"name": "g", "policies": ["a", "b"]}],
        }
    )
    admin = {f.address: f.waived for f in run(tmp_path, case) if f.rule == "policy-admin-star"}
    assert admin == {"policy.a": False, "policy.b": True}


def test_mass_delete_is_waived_by_the_flag_only(tmp_path: Path) -> None:
    case = Case({"account": {"id": ACCOUNT}}, live(owned=6), deletes(5))
    (tmp_path / "main.yaml").write_text(yaml.safe_dump(case.config))
    config = load_config(tmp_path / "main.yaml").config
    data = RuleInput(config, case.live, case.changes)
    (blocking,) = [f for f in run_rules(data, live=True) if f.rule == "mass-delete"]
    assert blocking.blocking and "deletes 5 of 6 owned live entities" in blocking.message
    (allowed,) = [f for f in run_rules(data, live=True, allow_mass_delete=True) if f.rule == "mass-delete"]
    assert allowed.waived and allowed.waiver_reason == "allowed by --allow-mass-delete"


def test_validate_does_not_run_the_plan_time_rules(tmp_path: Path) -> None:
    case = at_plan(f"arn:aws:iam::{ACCOUNT}:root", *deletes(30), owned=30)
    (tmp_path / "main.yaml").write_text(yaml.safe_dump(case.config))
    config = load_config(tmp_path / "main.yaml").config
    assert run_rules(RuleInput(config, case.live, case.changes), live=False) == []
    plan_time = {f.rule for f in run_rules(RuleInput(config, case.live, case.changes), live=True)}
    assert plan_time == {"root-credentials-in-use", "mass-delete"}


def test_findings_are_json_values(tmp_path: Path) -> None:
    for f in run(tmp_path, granted(allow("*"), allow("s3:*"))):
        json.dumps(f.to_json())


# --- the catalogue: a rule is one file ------------------------------------------------------

NEW_RULE = '''"""``no-tags``: a test rule (pure)."""

from iamstate.model import Kind, Resource
from iamstate.plan import Severity
from iamstate.rules.base import EntityRule, Found, RuleInput


class NoTags(EntityRule):
    id = "no-tags"
    severity = Severity.WARNING
    waivable = True
    order = 399
    kinds = (Kind.GROUP, Kind.USER, Kind.ROLE)
    summary = "an entity has no tags"
    remedy = "tag it"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"

    def check(self, entity: Resource, data: RuleInput) -> Found:
        if not getattr(entity, "tags", None):
            yield "has no tags"
'''


def test_adding_a_rule_file_is_enough(tmp_path: Path) -> None:
    package = Path(__file__).resolve().parent.parent / "iamstate"
    shutil.copytree(package, tmp_path / "iamstate", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "iamstate" / "rules" / "attach" / "no_tags.py").write_text(NEW_RULE)
    (tmp_path / "main.yaml").write_text("groups:\n  - name: admins\n")
    code = (
        "from iamstate.config import load_config\n"
        "from iamstate.rules import RULES, RuleInput, run_rules\n"
        "from iamstate.rules.table import table\n"
        "config = load_config('main.yaml').config\n"
        "print(list(RULES).index('no-tags') == list(RULES).index('user-direct-policy') + 1)\n"
        "print([f.message for f in run_rules(RuleInput(config), live=False)])\n"
        "print('| `no-tags` | warning | yes | an entity has no tags |' in table())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True", "[\"group 'admins' has no tags\"]", "True"]
