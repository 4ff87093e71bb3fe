"""Temporary access end to end: the real CLI against the strict local IAM layer, with ``--at``
moving the clock (no test sleeps). Grants with ``expires_at`` and a reason apply, plan empty
while they hold, are removed (or stop being honoured by AWS) after, are reported by drift
when still live, and come due in the output; a saved plan made before an expiry is refused
after it; ``iamstate grant`` edits the YAML in place."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iamstate.temporary import format_timestamp
from tests.support.cli import run_iamstate as run_cli
from tests.support.strict import StrictIam
from tests.test_cli_drift import VALIDATOR as DRIFT_VALIDATOR
from tests.test_cli_plan import SCHEMAS

ACCOUNT = "123456789012"
EXPIRED = "expired-access-live"
PLAN_VALIDATOR = jsonschema.Draft202012Validator(json.loads((SCHEMAS / "plan.schema.json").read_text()))


def at(when: datetime) -> str:
    return format_timestamp(when)


def whole_second(delta: timedelta = timedelta(0)) -> datetime:
    return (datetime.now(UTC) + delta).replace(microsecond=0)


def write(folder: Path, text: str) -> Path:
    path = folder / "iam.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def breakglass(expires_at: datetime, reason: str = "INC-4411 on-call") -> str:
    return f"""
    account: {{id: "{ACCOUNT}"}}
    groups:
      - name: developers
      - name: prod-breakglass
    users:
      - name: alice
        groups:
          - developers
          - {{group: prod-breakglass, expires_at: "{at(expires_at)}", reason: "{reason}"}}
    """


def plan_json(strict: StrictIam, cwd: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(strict, cwd, "plan", "iam.yaml", "--format", "json", "--detailed-exitcode", *args)
    assert result.returncode in (0, 2), result.stdout + result.stderr
    doc = json.loads(result.stdout)
    PLAN_VALIDATOR.validate(doc)
    return result.returncode, doc


def calls(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(c["operation"], c["params"]) for change in doc["changes"] for c in change["api_calls"]]


def groups_of(strict: StrictIam, user: str) -> set[str]:
    return {g["GroupName"] for g in strict.client("iam").list_groups_for_user(UserName=user)["Groups"]}


# --- memberships --------------------------------------------------------------------------


def test_a_break_glass_membership_applies_holds_and_is_removed_after_its_expiry(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    expires = whole_second(timedelta(hours=1))
    write(tmp_path, breakglass(expires))
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert groups_of(strict_iam, "alice") == {"developers", "prod-breakglass"}
    # The plan names the grant, its expiry, its reason and how long is left.
    assert "Temporary access (as of " in result.stdout
    assert (
        f"user.alice: membership of group 'prod-breakglass' until {at(expires)} (" in result.stdout
        and "left): INC-4411 on-call" in result.stdout
    )

    code, doc = plan_json(strict_iam, tmp_path, "--at", at(expires - timedelta(seconds=1)))
    assert code == 0 and doc["changes"] == []
    grant = doc["metadata"]["temporary_access"]["grants"][0]
    assert grant == {
        "address": "user.alice",
        "kind": "membership",
        "grant": "membership of group 'prod-breakglass'",
        "target": "prod-breakglass",
        "expires_at": at(expires),
        "reason": "INC-4411 on-call",
        "seconds_left": 1,
        "left": "1s",
        "status": "expiring",
        "location": "iam.yaml:10:46",
        "added_by_plan": False,
        "beyond_warn_days": False,
    }

    # At its expiry the membership is no longer desired: the first plan after removes it.
    code, doc = plan_json(strict_iam, tmp_path, "--at", at(expires))
    assert code == 2
    assert calls(doc) == [("RemoveUserFromGroup", {"GroupName": "prod-breakglass", "UserName": "alice"})]
    assert doc["metadata"]["temporary_access"]["grants"][0]["status"] == "expired"

    # Still live after its expiry: drift reports it (high), in every format.
    later = at(expires + timedelta(minutes=5))
    result = run_cli(strict_iam, tmp_path, "drift", "iam.yaml", "--format", "json", "--at", later)
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    DRIFT_VALIDATOR.validate(report)
    expired = [f for f in report["live_findings"] if f["rule"] == EXPIRED]
    assert [(f["level"], f["address"]) for f in expired] == [("high", "user.alice")]
    assert expired[0]["message"] == (
        f"user 'alice' membership of group 'prod-breakglass' expired at {at(expires)} "
        "(5m ago; INC-4411 on-call) and is still live"
    )
    text = run_cli(strict_iam, tmp_path, "drift", "iam.yaml", "--no-color", "--at", later).stdout
    assert "High: [expired-access-live] user.alice: user 'alice' membership of group" in text
    assert "(expired 5m ago; no longer granted): INC-4411 on-call" in text
    markdown = run_cli(
        strict_iam, tmp_path, "drift", "iam.yaml", "--format", "markdown", "--at", later
    ).stdout
    assert "> - **high** `expired-access-live` `user.alice`" in markdown
    assert "| `user.alice` | membership of group 'prod-breakglass' |" in markdown

    # An hour before, drift lists it as coming due (a warning of its plan), and nothing as expired.
    before = at(expires - timedelta(hours=1))
    soon = json.loads(
        run_cli(strict_iam, tmp_path, "drift", "iam.yaml", "--format", "json", "--at", before).stdout
    )
    assert [f["rule"] for f in soon["plan"]["findings"]] == ["expiring-soon"]
    assert [f for f in soon["live_findings"] if f["rule"] == EXPIRED] == []


def test_an_expired_membership_put_back_by_hand_is_drift_until_apply_removes_it(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    expired = whole_second(-timedelta(hours=1))
    write(tmp_path, breakglass(expired))
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert groups_of(strict_iam, "alice") == {"developers"}

    strict_iam.client("iam").add_user_to_group(GroupName="prod-breakglass", UserName="alice")
    result = run_cli(strict_iam, tmp_path, "drift", "iam.yaml", "--format", "json")
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert [f["rule"] for f in report["live_findings"] if f["rule"] == EXPIRED] == [EXPIRED]
    assert calls(report["plan"]) == [
        ("RemoveUserFromGroup", {"GroupName": "prod-breakglass", "UserName": "alice"})
    ]

    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert groups_of(strict_iam, "alice") == {"developers"}
    result = run_cli(strict_iam, tmp_path, "drift", "iam.yaml", "--format", "json")
    assert [f for f in json.loads(result.stdout)["live_findings"] if f["rule"] == EXPIRED] == []


def test_a_temporary_attachment_goes_with_the_first_plan_after_its_expiry(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    expires = whole_second(timedelta(days=2))
    write(
        tmp_path,
        f"""
        account: {{id: "{ACCOUNT}"}}
        roles:
          - name: incident-responder
            trusted: {{accounts: ["{ACCOUNT}"], require_mfa: true}}
            policies:
              - arn:aws:iam::aws:policy/ReadOnlyAccess
              - {{policy: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", expires_at: {at(expires)}, reason: INC-77}}
        """,
    )
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    code, doc = plan_json(strict_iam, tmp_path, "--at", at(expires + timedelta(seconds=1)))
    assert code == 2
    assert calls(doc) == [
        (
            "DetachRolePolicy",
            {
                "RoleName": "incident-responder",
                "PolicyArn": "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            },
        )
    ]


def test_an_expired_user_entry_is_deleted_and_reported_while_it_lives(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    expires = whole_second(timedelta(days=30))
    config = f"""
    account: {{id: "{ACCOUNT}"}}
    users:
      - name: contractor
        expires_at: "{at(expires)}"
        reason: Q4 data migration, SOW-12
    """
    write(tmp_path, config)
    assert run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve").returncode == 0
    code, doc = plan_json(strict_iam, tmp_path, "--at", at(expires))
    assert code == 2
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [("user.contractor", "delete")]
    result = run_cli(strict_iam, tmp_path, "drift", "iam.yaml", "--format", "json", "--at", at(expires))
    findings = json.loads(result.stdout)["live_findings"]
    assert [f["address"] for f in findings if f["rule"] == EXPIRED] == ["user.contractor"]


# --- statements and trust ------------------------------------------------------------------


def test_a_statement_with_expires_at_is_live_with_its_condition_and_replans_empty(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    expires = whole_second(timedelta(days=2))
    write(
        tmp_path,
        f"""
        account: {{id: "{ACCOUNT}"}}
        policies:
          - name: incident-debug
            document:
              Version: "2012-10-17"
              Statement:
                - Sid: ReadLogs
                  Effect: Allow
                  Action: [logs:GetLogEvents]
                  Resource: "*"
                  Condition: {{Bool: {{aws:SecureTransport: "true"}}}}
                  expires_at: {at(expires)}
                  reason: INC-4411 debugging
        roles:
          - name: auditor
            trusted:
              accounts:
                - "111122223333"
                - {{account: "444455556666", expires_at: "{at(expires)}", reason: AUD-9 external audit}}
        """,
    )
    result = run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--no-color")
    assert result.returncode == 0, result.stderr
    # The plan shows the condition iamstate adds, as part of the document.
    document = result.stdout.split("+ policy.incident-debug", 1)[1].split("# API calls", 1)[0]
    assert '"DateLessThan": {' in document and '"aws:CurrentTime": ' in document
    assert f'"{at(expires)}"' in document
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr

    iam = strict_iam.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/incident-debug"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    statement = document["Statement"][0]
    assert "expires_at" not in statement and "reason" not in statement
    assert statement["Condition"] == {
        "Bool": {"aws:SecureTransport": "true"},
        "DateLessThan": {"aws:CurrentTime": at(expires)},
    }
    trust = iam.get_role(RoleName="auditor")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"DateLessThan": {"aws:CurrentTime": at(expires)}},
        },
    ]

    assert plan_json(strict_iam, tmp_path)[0] == 0
    # After the expiry AWS itself refuses the statement: nothing to change, it says so.
    code, doc = plan_json(strict_iam, tmp_path, "--at", at(expires + timedelta(days=1)))
    assert code == 0
    states = {(g["address"], g["kind"], g["status"]) for g in doc["metadata"]["temporary_access"]["grants"]}
    assert states == {("policy.incident-debug", "statement", "expired"), ("role.auditor", "trust", "expired")}
    text = run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--no-color", "--at", at(expires)).stdout
    assert "policy.incident-debug: statement 1 (Sid ReadLogs) until" in text
    assert "(expired 0s ago; AWS no longer honours it): INC-4411 debugging" in text


# --- waivers --------------------------------------------------------------------------------


def test_an_expired_waiver_makes_its_finding_refuse_again(strict_iam: StrictIam, tmp_path: Path) -> None:
    expires = whole_second(timedelta(hours=8))
    write(
        tmp_path,
        f"""
        account: {{id: "{ACCOUNT}"}}
        roles:
          - name: break-glass
            trusted: {{accounts: ["{ACCOUNT}"], require_mfa: true}}
            policies: ["arn:aws:iam::aws:policy/AdministratorAccess"]
            exceptions:
              attach-admin-managed:
                reason: Break-glass for INC-4411, approved in SEC-42
                expires_at: "{at(expires)}"
        """,
    )
    before = run_cli(
        strict_iam, tmp_path, "plan", "iam.yaml", "--no-color", "--at", at(expires - timedelta(hours=1))
    )
    assert before.returncode == 0, before.stdout + before.stderr
    assert "Waived: [attach-admin-managed] role.break-glass" in before.stdout
    assert "  reason: Break-glass for INC-4411" in before.stdout

    after = run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--no-color", "--at", at(expires))
    assert after.returncode == 3, after.stdout + after.stderr
    assert (
        "Error: [attach-admin-managed] role.break-glass: role 'break-glass' has "
        "arn:aws:iam::aws:policy/AdministratorAccess attached" in after.stdout
    )
    assert "(waived" not in after.stdout.split("[attach-admin-managed]", 1)[1].split("\n", 1)[0]
    assert "role.break-glass: waiver of rule attach-admin-managed until" in after.stdout
    validate = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--at", at(expires))
    assert validate.returncode == 3
    assert strict_iam.writes() == []


# --- what validation refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "column"),
    [
        ('"+4h"', 65),
        ("tomorrow", 65),
        ("2026-12-05", 65),
        ("2026-12-05 18:00:00", 65),
        ('"2026-12-05T18:00:00+02:00"', 65),
        ("2026-12-05T18:00:00", 65),
    ],
)
def test_a_relative_or_zoneless_expiry_fails_validation_with_its_place(
    strict_iam: StrictIam, tmp_path: Path, written: str, column: int
) -> None:
    write(
        tmp_path,
        """
        groups: [{name: ops}]
        users:
          - name: alice
            groups: [{group: ops, reason: INC-4411 on-call, expires_at: WHEN}]
        """.replace("WHEN", written),
    )
    result = run_cli(strict_iam, tmp_path, "validate", "iam.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith(f"iam.yaml:5:{column}: error: user 'alice' groups[0].expires_at ")
    assert "2026-12-05T18:00:00Z" in result.stderr and "relative dates" in result.stderr


def test_an_unquoted_timestamp_reads_as_the_quoted_one(strict_iam: StrictIam, tmp_path: Path) -> None:
    template = """
    groups: [{name: ops}]
    users:
      - name: alice
        groups: [{group: ops, reason: INC-1 on-call, expires_at: WHEN}]
    """
    outputs = []
    for written in ("2026-12-05T18:00:00Z", '"2026-12-05T18:00:00Z"'):
        write(tmp_path, template.replace("WHEN", written))
        result = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--at", "2026-12-05T12:00:00Z")
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert "expires in 6h, at 2026-12-05T18:00:00Z (INC-1 on-call)" in outputs[0]


def test_a_missing_reason_fails_validation_with_its_place(strict_iam: StrictIam, tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        groups: [{name: ops}]
        policies:
          - name: p
            document:
              Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Action: s3:ListAllMyBuckets
                  Resource: "*"
                  expires_at: 2026-12-05T18:00:00Z
        users:
          - name: alice
            groups:
              - {group: ops, expires_at: 2026-12-05T18:00:00Z}
        """,
    )
    result = run_cli(strict_iam, tmp_path, "validate", "iam.yaml")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "iam.yaml:11:11: error: policy 'p' document.Statement[0] has expires_at but no reason "
        '(say why it is granted, for reviewers: reason: "INC-4411 on-call")',
        "iam.yaml:15:22: error: user 'alice' groups[0] has expires_at but no reason "
        '(say why it is granted, for reviewers: reason: "INC-4411 on-call")',
    ]


def test_an_expiry_beyond_max_temporary_days_fails_validation(strict_iam: StrictIam, tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        access: {max_temporary_days: 30}
        groups: [{name: ops}]
        users:
          - name: alice
            groups: [{group: ops, expires_at: "2027-01-15T00:00:00Z", reason: contractor onboarding}]
        """,
    )
    result = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--at", "2026-12-01T00:00:00Z")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "iam.yaml:6:39: error: user 'alice' groups[0] expires_at 2027-01-15T00:00:00Z is 45.0 days from now "
        "(2026-12-01T00:00:00Z); access.max_temporary_days allows at most 30 "
        "(choose an expires_at before 2026-12-31T00:00:00Z)"
    ]
    inside = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--at", "2026-12-16T00:00:00Z")
    assert inside.returncode == 0, inside.stderr


def test_at_must_be_an_rfc_3339_time(strict_iam: StrictIam, tmp_path: Path) -> None:
    write(tmp_path, "groups: [{name: ops}]\n")
    result = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--at", "tomorrow")
    assert result.returncode == 1
    assert "--at 'tomorrow' is not an RFC 3339 time" in result.stderr
    with_offset = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--at", "2026-12-05T20:00:00+02:00")
    assert with_offset.returncode == 0, with_offset.stderr


# --- coming due -------------------------------------------------------------------------------


def test_grants_within_warn_days_and_overdue_reviews_are_warnings(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    write(
        tmp_path,
        """
        access: {warn_days: 3}
        groups: [{name: ops}]
        users:
          - name: alice
            review_by: 2026-12-31
            groups: [{group: ops, expires_at: "2026-12-10T00:00:00Z", reason: INC-4411 on-call}]
        """,
    )
    far = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--no-color", "--at", "2026-12-06T00:00:00Z")
    assert far.returncode == 0 and "Warning" not in far.stdout
    near = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--no-color", "--at", "2026-12-07T00:00:00Z")
    assert near.returncode == 0
    assert near.stdout.splitlines()[0] == (
        "Warning: [expiring-soon] user.alice: user 'alice' membership of group 'ops' expires in 3d, "
        "at 2026-12-10T00:00:00Z (INC-4411 on-call)"
    )
    due = run_cli(strict_iam, tmp_path, "validate", "iam.yaml", "--no-color", "--at", "2027-01-01T06:00:00Z")
    assert due.returncode == 0
    assert (
        "Warning: [review-overdue] user.alice: user 'alice' was due for review by 2026-12-31 (overdue by 6h)"
        in (due.stdout)
    )
    assert "expiring-soon" not in due.stdout


def test_the_markdown_banner_names_grants_the_change_makes_longer_than_warn_days(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    now = whole_second()
    write(
        tmp_path,
        f"""
        account: {{id: "{ACCOUNT}"}}
        groups: [{{name: ops}}, {{name: audit}}]
        users:
          - name: alice
            groups:
              - {{group: ops, expires_at: "{at(now + timedelta(days=30))}", reason: "Q1 rotation, OPS-1"}}
              - {{group: audit, expires_at: "{at(now + timedelta(days=2))}", reason: "INC-9"}}
        """,
    )
    result = run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--format", "markdown", "--at", at(now))
    assert result.returncode == 0, result.stderr
    banner = result.stdout.split("> [!IMPORTANT]\n", 1)[1].split("\n\n", 1)[0]
    assert banner.splitlines() == [
        "> This change grants temporary access for longer than access.warn_days (7 days):",
        ">",
        f"> - `user.alice` membership of group 'ops' until {at(now + timedelta(days=30))} (30d left): "
        "Q1 rotation, OPS-1",
    ]
    assert "#### Temporary access" in result.stdout
    assert (
        f"| `user.alice` | membership of group 'audit' | {at(now + timedelta(days=2))} | 2d left | INC-9 |"
        in (result.stdout)
    )

    # Applied, the grants are no longer this change's: no banner.
    assert run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve").returncode == 0
    again = run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--format", "markdown", "--at", at(now))
    assert "[!IMPORTANT]" not in again.stdout and "#### Temporary access" in again.stdout


# --- saved plans -------------------------------------------------------------------------------


def test_a_saved_plan_made_before_an_expiry_is_refused_after_it(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    expires = whole_second(-timedelta(minutes=30))
    write(tmp_path, breakglass(expires))
    made = at(expires - timedelta(hours=1))
    result = run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--at", made, "--out", "plan.json")
    assert result.returncode == 0, result.stderr
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["metadata"]["made_at"] == made
    assert ("AddUserToGroup", {"GroupName": "prod-breakglass", "UserName": "alice"}) in calls(saved)

    strict_iam.clear()
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--plan", "plan.json", "--auto-approve")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: saved plan is stale: user 'alice' membership of group 'prod-breakglass' expired at "
        f"{at(expires)}, after the plan was made ({made}); first difference: change user.alice: the saved "
        'plan\'s call 3, AddUserToGroup(GroupName="prod-breakglass", UserName="alice"), is not in the plan '
        "made now. Nothing was written; run plan again."
    )
    assert strict_iam.writes() == []


def test_a_saved_plan_made_for_a_later_time_is_refused(strict_iam: StrictIam, tmp_path: Path) -> None:
    write(tmp_path, breakglass(whole_second(timedelta(hours=1))))
    later = at(whole_second(timedelta(hours=2)))
    assert (
        run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--at", later, "--out", "plan.json").returncode == 0
    )
    strict_iam.clear()
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--plan", "plan.json", "--auto-approve")
    assert result.returncode == 1
    assert f"saved plan is stale: it was made as of {later}, later than now" in result.stderr
    assert strict_iam.writes() == []


def test_a_saved_plan_that_no_expiry_crossed_applies(strict_iam: StrictIam, tmp_path: Path) -> None:
    write(tmp_path, breakglass(whole_second(timedelta(hours=1))))
    earlier = at(whole_second(-timedelta(minutes=10)))
    assert (
        run_cli(strict_iam, tmp_path, "plan", "iam.yaml", "--at", earlier, "--out", "plan.json").returncode
        == 0
    )
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--plan", "plan.json", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert groups_of(strict_iam, "alice") == {"developers", "prod-breakglass"}


# --- iamstate grant -----------------------------------------------------------------------------

USERS = """\
# People of the data team.
users:
  - name: alice     # on call this week
    groups:
      - developers  # everyone
    tags: {team: 'data'}

  - {name: bob, groups: [developers]}
  - name: carol
    path: /
"""


def _grant_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "iam"
    folder.mkdir()
    (folder / "groups.yaml").write_text("groups:\n  - name: developers\n  - name: prod-breakglass\n")
    (folder / "users.yaml").write_text(USERS)
    return folder


def _granted(stdout: str) -> datetime:
    found = re.search(r'expires_at: "([^"]+)"', stdout)
    assert found, stdout
    return datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_grant_adds_the_membership_in_place_and_prints_the_diff(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    folder = _grant_folder(tmp_path)
    before = whole_second()
    result = run_cli(
        strict_iam,
        tmp_path,
        "grant",
        "user.alice",
        "prod-breakglass",
        "--for",
        "4h",
        "--reason",
        "INC-4411",
        "iam",
    )
    after = whole_second()
    assert result.returncode == 0, result.stderr
    expires = _granted(result.stdout)
    assert before + timedelta(hours=4) <= expires <= after + timedelta(hours=4)
    line = f'      - {{group: prod-breakglass, expires_at: "{at(expires)}", reason: "INC-4411"}}\n'
    assert (folder / "users.yaml").read_text() == USERS.replace(
        "      - developers  # everyone\n", "      - developers  # everyone\n" + line
    )
    assert result.stdout == (
        "--- a/iam/users.yaml\n+++ b/iam/users.yaml\n@@ -3,6 +3,7 @@\n"
        "   - name: alice     # on call this week\n     groups:\n       - developers  # everyone\n"
        f"+{line}     tags: {{team: 'data'}}\n \n   - {{name: bob, groups: [developers]}}\n"
    )
    assert f"user 'alice' joins group 'prod-breakglass' until {at(expires)}" in result.stderr

    # The other shapes: a flow list, and a user without groups.
    for user in ("bob", "carol"):
        done = run_cli(
            strict_iam,
            tmp_path,
            "grant",
            f"user.{user}",
            "prod-breakglass",
            "--for",
            "1d2h",
            "--reason",
            "INC-4412 handover",
            "iam",
        )
        assert done.returncode == 0, done.stderr
    text = (folder / "users.yaml").read_text()
    bob, carol = re.findall(r'expires_at: "([^"]+)", reason: "INC-4412 handover"', text)
    assert (
        f'  - {{name: bob, groups: [developers, {{group: prod-breakglass, expires_at: "{bob}", reason: "INC-4412 handover"}}]}}\n'
        in text
    )
    assert text.endswith(
        f'    path: /\n    groups: [{{group: prod-breakglass, expires_at: "{carol}", reason: "INC-4412 handover"}}]\n'
    )
    assert run_cli(strict_iam, tmp_path, "validate", "iam").returncode == 0


def test_grant_renews_a_temporary_membership_and_writes_nothing_that_would_not_validate(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    folder = _grant_folder(tmp_path)
    first = run_cli(
        strict_iam,
        tmp_path,
        "grant",
        "user.alice",
        "prod-breakglass",
        "--for",
        "1h",
        "--reason",
        "INC-1 pager",
        "iam",
    )
    assert first.returncode == 0, first.stderr
    renewed = run_cli(
        strict_iam,
        tmp_path,
        "grant",
        "user.alice",
        "prod-breakglass",
        "--for",
        "2h",
        "--reason",
        "INC-1 still open",
        "iam",
    )
    assert renewed.returncode == 0, renewed.stderr
    assert (folder / "users.yaml").read_text().count("prod-breakglass") == 1
    assert 'reason: "INC-1 still open"' in (folder / "users.yaml").read_text()

    written = (folder / "users.yaml").read_bytes()
    refused = [
        ("user.alice", "no-such-group", "4h", "INC-2 typo"),  # not declared
        ("user.alice", "developers", "4h", "INC-3 already"),  # already a member for good
        ("user.nobody", "prod-breakglass", "4h", "INC-4 who"),  # no such user
        ("user.alice", "prod-breakglass", "+4h", "INC-5 bad"),  # not a duration
        ("user.alice", "prod-breakglass", "4h", "todo"),  # a placeholder reason
    ]
    for address, group, duration, reason in refused:
        result = run_cli(
            strict_iam, tmp_path, "grant", address, group, "--for", duration, "--reason", reason, "iam"
        )
        assert result.returncode == 1, (address, group, result.stdout, result.stderr)
        assert result.stdout == "" and "nothing was written" in result.stderr.lower()
        assert (folder / "users.yaml").read_bytes() == written


def test_grant_policy_attaches_to_a_role_for_a_while(strict_iam: StrictIam, tmp_path: Path) -> None:
    roles = (
        "# Roles of the incident process.\n"
        "roles:\n"
        "  - name: incident-responder   # paged\n"
        f'    trusted: {{accounts: ["{ACCOUNT}"], require_mfa: true}}\n'
        "    policies:\n"
        "      - arn:aws:iam::aws:policy/ReadOnlyAccess  # always\n"
    )
    (tmp_path / "iam.yaml").write_text(f'account: {{id: "{ACCOUNT}"}}\n' + roles)
    view = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    args = ("grant", "role.incident-responder", view, "--policy", "--for", "2h", "--reason", "INC-77 triage")
    result = run_cli(strict_iam, tmp_path, *args, "iam.yaml")
    assert result.returncode == 0, result.stderr
    expires = _granted(result.stdout)
    line = f'      - {{policy: "{view}", expires_at: "{at(expires)}", reason: "INC-77 triage"}}\n'
    assert (tmp_path / "iam.yaml").read_text() == f'account: {{id: "{ACCOUNT}"}}\n' + roles + line
    assert f"policy '{view}' is attached to role 'incident-responder' until {at(expires)}" in result.stderr

    assert run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve").returncode == 0
    attached = strict_iam.client("iam").list_attached_role_policies(RoleName="incident-responder")
    assert {p["PolicyArn"] for p in attached["AttachedPolicies"]} == {
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        view,
    }
    code, doc = plan_json(strict_iam, tmp_path, "--at", at(expires))
    assert code == 2
    assert calls(doc) == [("DetachRolePolicy", {"RoleName": "incident-responder", "PolicyArn": view})]

    # Without --policy the target is a group, and a role holds none; a lasting attachment
    # cannot be made temporary by it.
    written = (tmp_path / "iam.yaml").read_bytes()
    for refused in (
        ("grant", "role.incident-responder", "ops"),
        ("grant", "role.incident-responder", "arn:aws:iam::aws:policy/ReadOnlyAccess", "--policy"),
    ):
        result = run_cli(strict_iam, tmp_path, *refused, "--for", "1h", "--reason", "INC-79 x", "iam.yaml")
        assert result.returncode != 0 and "nothing was written" in result.stderr.lower(), result.stderr
        assert (tmp_path / "iam.yaml").read_bytes() == written


def test_statements_of_a_document_file_expire_too(strict_iam: StrictIam, tmp_path: Path) -> None:
    (tmp_path / "debug.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "logs:GetLogEvents",
                        "Resource": "*",
                        "expires_at": "2026-12-02T00:00:00Z",
                        "reason": "INC-1 logs",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "logs:FilterLogEvents",
                        "Resource": "*",
                        "expires_at": "2026-12-03T00:00:00Z",
                        "reason": "INC-2 logs",
                    },
                ],
            }
        )
    )
    write(tmp_path, "policies:\n  - name: debug\n    document_file: debug.json\n")
    result = run_cli(
        strict_iam, tmp_path, "validate", "iam.yaml", "--no-color", "--at", "2026-12-01T00:00:00Z"
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("Warning")]
    assert warnings == [
        "Warning: [expiring-soon] policy.debug: policy 'debug' statement 1 expires in 1d, "
        "at 2026-12-02T00:00:00Z (INC-1 logs)",
        "Warning: [expiring-soon] policy.debug: policy 'debug' statement 2 expires in 2d, "
        "at 2026-12-03T00:00:00Z (INC-2 logs)",
    ]
    assert result.stdout.count("  at: iam.yaml:3:20") == 2


def test_a_statement_cannot_have_expires_at_and_its_own_current_time_bound(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    write(
        tmp_path,
        """
        policies:
          - name: p
            document:
              Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Action: s3:ListAllMyBuckets
                  Resource: "*"
                  Condition: {DateLessThan: {aws:CurrentTime: "2027-01-01T00:00:00Z"}}
                  expires_at: 2026-12-05T18:00:00Z
                  reason: INC-4411 on-call
        """,
    )
    result = run_cli(strict_iam, tmp_path, "validate", "iam.yaml")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "iam.yaml:11:23: error: policy 'p' document.Statement[0] (statement 1) has expires_at and its own "
        "DateLessThan on aws:CurrentTime (keep one of the two)"
    ]


def test_grant_keeps_windows_line_endings(strict_iam: StrictIam, tmp_path: Path) -> None:
    folder = _grant_folder(tmp_path)
    original = b"users:\r\n  - name: alice\r\n    groups: [developers]  # devs\r\n"
    (folder / "users.yaml").write_bytes(original)
    result = run_cli(
        strict_iam,
        tmp_path,
        "grant",
        "user.alice",
        "prod-breakglass",
        "--for",
        "30m",
        "--reason",
        "INC-8",
        "iam",
    )
    assert result.returncode == 0, result.stderr
    expires = at(_granted(result.stdout))
    item = f'{{group: prod-breakglass, expires_at: "{expires}", reason: "INC-8"}}'
    assert (folder / "users.yaml").read_bytes() == original.replace(
        b"[developers]", f"[developers, {item}]".encode()
    )
