"""The escalation corpus through the rule engine: ``privilege-escalation`` fires on every published
path of ``tests/escalation/paths`` and on none of ``tests/escalation/quiet``, nor on AWS's
read-only policies — as ``validate`` and ``plan`` run it, not only as the library finds it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import yaml

from iamstate.config import load_config
from iamstate.kinds.group import Group
from iamstate.kinds.user import User
from iamstate.model import Address, Kind, LiveAccount, State
from iamstate.plan import Finding
from iamstate.policy import normalize
from iamstate.rules import RuleInput, run_rules
from tests.analysis.corpus import CORPUS, NOW

RULE = "privilege-escalation"
PATHS = sorted((CORPUS / "paths").iterdir())
QUIET = sorted((CORPUS / "quiet").iterdir())


def escalations(folder: Path, live: LiveAccount | None = None) -> tuple[list[Finding], State]:
    """The rule's unwaived findings on a corpus folder's configuration (validate, or plan with ``live``)."""
    with contextlib.chdir(folder):
        loaded = load_config("config.yaml")
    data = RuleInput(loaded.config, live, loaded=loaded.findings, now=NOW)
    found = [f for f in run_rules(data, live=live is not None) if f.rule == RULE and not f.waived]
    return found, loaded.config.state


def reported_for(principal: str, state: State) -> set[str]:
    """Where a principal's path is reported: at the principal, or, for a user whose path is
    wholly one of its groups', at that group."""
    address = Address.parse(principal)
    places = {principal}
    user = state.get(address)
    if isinstance(user, User):
        places |= {str(Address(Kind.GROUP, g)) for g in user.groups}
    return places


def test_the_corpus_is_the_analysis_corpus() -> None:
    assert len(PATHS) >= 40 and len(QUIET) >= 40


@pytest.mark.parametrize("folder", PATHS, ids=lambda p: p.name)
def test_the_rule_fires_on_every_published_path(folder: Path) -> None:
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    found, state = escalations(folder)
    places = reported_for(expected["principal"], state)
    assert [f for f in found if f.address in places], [f"{f.address}: {f.message}" for f in found]
    for finding in found:
        assert finding.severity.value == "error" and finding.location
        assert "https://" in finding.message and " → " in finding.message


@pytest.mark.parametrize("folder", QUIET, ids=lambda p: p.name)
def test_the_rule_stays_quiet_on_scoped_or_guarded_policies(folder: Path) -> None:
    found, _ = escalations(folder)
    assert [f"{f.address}: {f.message}" for f in found] == []


@pytest.mark.parametrize(
    ("case", "principal", "method"),
    [
        (
            "iam-009-attach-role-policy-alone",
            "role.worker",
            "AttachRolePolicy (https://pathfinding.cloud/paths/iam-009)",
        ),
        (
            "iam-007-put-user-policy-username",
            "user.dave",
            "PutUserPolicy (https://pathfinding.cloud/paths/iam-007)",
        ),
        ("lambda-003-function-arn-wildcards", None, "UpdateExistingLambdaFunctionCode"),
        ("iamfullaccess-by-arn", None, "(policy IAMFullAccess: "),
    ],
)
def test_the_cases_the_old_rule_missed_fire(case: str, principal: str | None, method: str) -> None:
    found, _ = escalations(CORPUS / "paths" / case)
    assert found, case
    if principal is not None:
        assert [f.address for f in found] == [principal]
    assert any(method in f.message for f in found), [f.message for f in found]


def test_passrole_scoped_to_one_role_and_service_stays_quiet() -> None:
    found, _ = escalations(CORPUS / "quiet" / "passrole-one-role-passed-to-service")
    assert found == []


def _moto_managed() -> dict[str, dict[str, object]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


@pytest.mark.parametrize("name", ["ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit"])
def test_aws_read_only_family_stays_quiet_at_plan_time(tmp_path: Path, name: str) -> None:
    data = _moto_managed()[name]
    arn = f"arn:aws:iam::aws:policy{data['Path']}{name}"
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump(
            {"account": {"id": "111111111111"}, "groups": [{"name": "readers", "policies": [arn]}]}
        )
    )
    live = LiveAccount(
        State({Address(Kind.GROUP, "readers"): Group("readers", policies=frozenset({arn}))}),
        "111111111111",
        caller_arn="arn:aws:iam::111111111111:user/ci",
        managed_documents={arn: normalize(data["Document"])},
    )
    found, _ = escalations(tmp_path, live)
    assert found == []
    # The document was read: the same group with IAMFullAccess beside it does escalate.
    full = "arn:aws:iam::aws:policy/IAMFullAccess"
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump(
            {"account": {"id": "111111111111"}, "groups": [{"name": "readers", "policies": [arn, full]}]}
        )
    )
    found, _ = escalations(tmp_path, live)
    assert [f.address for f in found] == ["group.readers"]
