"""`iamstate drift` end to end (the real CLI in a subprocess, through the strict IAM layer),
stale-key deactivation by plan/apply, and the credential report reader's polling."""

from __future__ import annotations

import datetime
import json
import subprocess
import textwrap
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.stub import Stubber
from moto.iam.models import iam_backends
from referencing import Registry, Resource

from iamstate.aws.audit import read_credential_report
from iamstate.errors import AwsError
from tests.support.cli import run_iamstate as run_cli
from tests.support.strict import StrictIam

ACCOUNT = "123456789012"
CLEAN_LINE = "No drift. Live IAM matches the configuration and no live findings.\n"
REPORT_OPERATIONS = {"GenerateCredentialReport", "GetCredentialReport"}
AUDIT_OPERATIONS = REPORT_OPERATIONS | {"GetAccountSummary", "ListVirtualMFADevices"}
READ_OPERATIONS = {
    "GetCallerIdentity",
    "GetAccountAuthorizationDetails",
    "ListRoles",
    "ListInstanceProfiles",
    "GetAccountPasswordPolicy",
    "ListPolicyTags",
    "ListAccountAliases",
    "ListOpenIDConnectProviders",
    "ListSAMLProviders",
}
PASSWORD_POLICY = """
password_policy:
  minimum_length: 14
  require_uppercase: true
  require_lowercase: true
  require_numbers: true
  require_symbols: true
  allow_users_to_change: true
  max_age_days: 90
  reuse_prevention: 24
"""
CONFIG = f"""
account:
  id: "{ACCOUNT}"
{PASSWORD_POLICY}
mfa:
  root: required
  console_users: required
credentials:
  max_access_key_age_days: 90
  max_unused_days: 45
groups:
  - name: analysts
users:
  - name: alice
    groups: [analysts]
"""


def _schema_validator() -> jsonschema.Draft202012Validator:
    folder = resources.files("iamstate") / "schemas"
    plan = json.loads((folder / "plan.schema.json").read_text())
    drift = json.loads((folder / "drift.schema.json").read_text())
    registry: Registry[Any] = Registry().with_resource("plan.schema.json", Resource.from_contents(plan))
    return jsonschema.Draft202012Validator(drift, registry=registry)


VALIDATOR = _schema_validator()


def drift_in_every_format(
    strict: StrictIam, cwd: Path, *args: str
) -> dict[str, subprocess.CompletedProcess[str]]:
    results = {
        fmt: run_cli(strict, cwd, "drift", "iam.yaml", "--no-color", "--format", fmt, *args)
        for fmt in ("text", "markdown", "json")
    }
    VALIDATOR.validate(json.loads(results["json"].stdout))
    return results


def build_clean_account(iam: Any) -> None:
    """The live account CONFIG declares, made out of band."""
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        RequireNumbers=True,
        RequireSymbols=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
        HardExpiry=False,
    )
    iam.create_group(GroupName="analysts")
    iam.create_user(UserName="alice", Tags=STACK_TAGS)
    iam.add_user_to_group(GroupName="analysts", UserName="alice")


STACK_TAGS = [{"Key": "iamstate:stack", "Value": "iamstate"}]
"""What an earlier apply left on the users it created."""


def backdate_access_key(user: str, access_key_id: str, days: int) -> None:
    """Make a key look ``days`` old: moto (in this process) has no API for it."""
    backend = iam_backends[ACCOUNT]["aws"]
    key = next(k for k in backend.get_user(user).access_keys if k.access_key_id == access_key_id)
    key.create_date -= datetime.timedelta(days=days)


@pytest.fixture
def clean(strict_iam: StrictIam, tmp_path: Path) -> Path:
    """A clean account (root with MFA and no keys) matching CONFIG in tmp_path/iam.yaml."""
    (tmp_path / "iam.yaml").write_text(textwrap.dedent(CONFIG))
    build_clean_account(strict_iam.client("iam"))
    strict_iam.root_mfa = True
    strict_iam.clear()
    return tmp_path


def test_a_clean_account_has_no_drift(strict_iam: StrictIam, clean: Path) -> None:
    results = drift_in_every_format(strict_iam, clean)
    assert {fmt: r.returncode for fmt, r in results.items()} == {"text": 0, "markdown": 0, "json": 0}
    assert results["text"].stdout == CLEAN_LINE
    assert f"**{CLEAN_LINE.strip()}**" in results["markdown"].stdout
    doc = json.loads(results["json"].stdout)
    assert doc["summary"]["drift"] is False and doc["live_findings"] == [] and doc["plan"]["changes"] == []
    # GenerateCredentialReport is the only call with a write's name; it changes nothing.
    assert {c.operation for c in strict_iam.writes()} == {"GenerateCredentialReport"}


def test_an_out_of_band_attachment_is_drift_in_every_format(strict_iam: StrictIam, clean: Path) -> None:
    strict_iam.client("iam").attach_group_policy(
        GroupName="analysts", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    results = drift_in_every_format(strict_iam, clean)
    for fmt, result in results.items():
        assert result.returncode == 2, (fmt, result.stdout, result.stderr)
        assert "group.analysts" in result.stdout, fmt
    assert "  ~ group.analysts" in results["text"].stdout
    assert (
        "DetachGroupPolicy(GroupName=analysts, PolicyArn=arn:aws:iam::aws:policy/ReadOnlyAccess)"
        in results["text"].stdout
    )
    assert results["text"].stdout.splitlines()[-1] == "Drift: 1 change, 0 live findings."
    assert "<code>~ group.analysts</code>" in results["markdown"].stdout
    doc = json.loads(results["json"].stdout)
    assert [c["address"] for c in doc["plan"]["changes"]] == ["group.analysts"]
    assert doc["summary"]["changes"] == 1 and doc["summary"]["drift"] is True


def test_a_console_user_without_mfa_is_named_in_every_format(strict_iam: StrictIam, clean: Path) -> None:
    iam = strict_iam.client("iam")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    results = drift_in_every_format(strict_iam, clean)
    for fmt, result in results.items():
        assert result.returncode == 2, (fmt, result.stdout, result.stderr)
        assert "console-user-no-mfa" in result.stdout and "user.alice" in result.stdout, fmt
    assert (
        "  High: [console-user-no-mfa] user.alice: user alice can sign in to the console without MFA "
        "(mfa.console_users: required)"
    ) in results["text"].stdout
    assert "> [!CAUTION]" in results["markdown"].stdout
    doc = json.loads(results["json"].stdout)
    assert [(f["rule"], f["level"], f["address"], f["managed"]) for f in doc["live_findings"]] == [
        ("console-user-no-mfa", "high", "user.alice", True)
    ]
    assert doc["summary_line"] == "Drift: 0 changes, 1 live finding (1 high)."

    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == CLEAN_LINE


def test_root_access_keys_are_named_in_every_format(strict_iam: StrictIam, clean: Path) -> None:
    strict_iam.root_access_keys = True
    results = drift_in_every_format(strict_iam, clean)
    for fmt, result in results.items():
        assert result.returncode == 2, (fmt, result.stdout, result.stderr)
        assert "root-access-keys" in result.stdout and "account.root" in result.stdout, fmt
    assert (
        "  Critical: [root-access-keys] account.root: the root user has access keys" in results["text"].stdout
    )
    assert "> - **critical** `root-access-keys` `account.root`" in results["markdown"].stdout
    doc = json.loads(results["json"].stdout)
    assert doc["summary"]["levels"] == {"critical": 1, "high": 0, "medium": 0, "low": 0}


def test_root_without_mfa_is_critical_when_required(strict_iam: StrictIam, clean: Path) -> None:
    strict_iam.root_mfa = False
    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--format", "json")
    assert result.returncode == 2
    assert [(f["rule"], f["level"]) for f in json.loads(result.stdout)["live_findings"]] == [
        ("root-no-mfa", "critical")
    ]


@pytest.mark.parametrize(
    ("fail_on", "code"), [(None, 2), ("low", 2), ("medium", 2), ("high", 0), ("critical", 0)]
)
def test_fail_on_sets_the_lowest_level_that_is_drift(
    strict_iam: StrictIam, clean: Path, fail_on: str | None, code: int
) -> None:
    # Only a medium finding: no password policy, and the config does not manage one.
    (clean / "iam.yaml").write_text(textwrap.dedent(CONFIG).replace(textwrap.dedent(PASSWORD_POLICY), ""))
    strict_iam.client("iam").delete_account_password_policy()
    args = ["--fail-on", fail_on] if fail_on else []
    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--no-color", *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert "  Medium: [no-password-policy] account: the account has no password policy" in result.stdout
    if code == 0:
        assert result.stdout.splitlines()[-1] == (
            f"No drift at --fail-on {fail_on}. Live IAM matches the configuration; "
            f"1 live finding (1 medium) below {fail_on}."
        )


def test_unmanaged_users_are_audited_and_marked(strict_iam: StrictIam, clean: Path) -> None:
    (clean / "iam.yaml").write_text(textwrap.dedent(CONFIG) + 'scope:\n  ignore: ["ext-*"]\n')
    iam = strict_iam.client("iam")
    iam.create_user(UserName="ext-bot")
    iam.create_access_key(UserName="ext-bot")
    iam.create_access_key(UserName="ext-bot")
    results = drift_in_every_format(strict_iam, clean)
    assert (
        "  Low: [multiple-active-keys] user.ext-bot: user ext-bot has 2 active access keys (not managed by this configuration)"
        in results["text"].stdout
    )
    doc = json.loads(results["json"].stdout)
    assert doc["plan"]["changes"] == []  # never touched
    assert [(f["address"], f["managed"]) for f in doc["live_findings"]] == [("user.ext-bot", False)]


def test_the_audit_costs_fixed_calls_not_calls_per_user(strict_iam: StrictIam, clean: Path) -> None:
    iam = strict_iam.client("iam")
    users = [f"user-{n:02}" for n in range(20)]
    for name in users:
        iam.create_user(UserName=name, Tags=STACK_TAGS)
        iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
        iam.create_access_key(UserName=name)
    config = textwrap.dedent(CONFIG) + "".join(f"  - name: {name}\n" for name in users)
    (clean / "iam.yaml").write_text(config)
    strict_iam.clear()

    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--format", "json", "-v", "--log-format", "json")

    assert result.returncode == 2, result.stderr  # 20 console users without MFA
    assert len(json.loads(result.stdout)["live_findings"]) == 20
    calls = Counter(strict_iam.operations())
    assert set(calls) <= READ_OPERATIONS | AUDIT_OPERATIONS, calls
    assert sum(calls[op] for op in REPORT_OPERATIONS) <= 6
    assert calls["GetCredentialReport"] == 1 and calls["GetAccountSummary"] == 1
    assert not [c for c in strict_iam.calls() if "UserName" in c.params], "no per-user call"
    assert sum(calls.values()) <= 13
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    done = [e for e in events if e["event"] == "drift.done"]
    assert len(done) == 1
    assert done[0]["api_calls"] == dict(sorted(calls.items()))
    assert done[0]["command"] == "drift" and done[0]["account"] == ACCOUNT
    assert done[0]["live_findings"]["high"] == 20 and done[0]["changes"] == 0


def test_a_root_caller_is_refused_before_the_audit(strict_iam: StrictIam, clean: Path) -> None:
    strict_iam.caller_is_root = True
    result = run_cli(strict_iam, clean, "drift", "iam.yaml")
    assert result.returncode == 3
    assert "root-credentials-in-use" in result.stderr and result.stdout == ""
    assert not AUDIT_OPERATIONS & set(strict_iam.operations())


def test_a_config_that_plan_refuses_is_refused_with_the_report_shown(
    strict_iam: StrictIam, clean: Path
) -> None:
    admin = '  - name: admin\n    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}\n'
    (clean / "iam.yaml").write_text(textwrap.dedent(CONFIG) + "policies:\n" + admin)
    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--no-color")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Error: [policy-admin-star] policy.admin" in result.stdout
    assert result.stdout.splitlines()[-1] == "Drift: 1 change, 0 live findings."


def test_out_writes_the_json_report(strict_iam: StrictIam, clean: Path) -> None:
    strict_iam.root_access_keys = True
    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--out", "reports/drift.json")
    assert result.returncode == 2
    saved = json.loads((clean / "reports" / "drift.json").read_text())
    VALIDATOR.validate(saved)
    assert saved["summary_line"] == result.stdout.splitlines()[-1]


def test_show_renders_a_saved_report_as_drift_printed_it(strict_iam: StrictIam, clean: Path) -> None:
    strict_iam.root_access_keys = True
    no_aws: Any = type("NoAws", (), {"env": staticmethod(lambda base=None: dict(base or {}))})
    for fmt in ("text", "markdown"):
        drift = run_cli(
            strict_iam, clean, "drift", "iam.yaml", "--format", fmt, "--no-color", "--out", "drift.json"
        )
        assert drift.returncode == 2, drift.stderr
        shown = run_cli(no_aws, clean, "show", "drift.json", "--format", fmt, "--no-color")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout == drift.stdout, fmt
        assert "root" in shown.stdout.lower()


# --- stale access keys: deactivate -------------------------------------------------------

DEACTIVATE = CONFIG.replace(
    "  max_unused_days: 45\n", "  max_unused_days: 45\n  stale_access_keys: deactivate\n"
)


def test_apply_deactivates_stale_keys_and_never_deletes_them(strict_iam: StrictIam, clean: Path) -> None:
    (clean / "iam.yaml").write_text(textwrap.dedent(DEACTIVATE))
    iam = strict_iam.client("iam")
    old = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    fresh = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    backdate_access_key("alice", old, days=200)

    result = run_cli(strict_iam, clean, "plan", "iam.yaml", "--no-color", "--detailed-exitcode")
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "  ~ user.alice  # stale access keys are deactivated (credentials.stale_access_keys: deactivate)"
        in result.stdout
    )
    assert f'      ~ access_keys.{old}: "Active" → "Inactive"' in result.stdout
    # The call with its note is longer than a line: it wraps at its parameters.
    assert "        UpdateAccessKey(UserName=alice,\n" in result.stdout
    assert f"            AccessKeyId={old},\n            Status=Inactive)  # 200 days old" in result.stdout
    assert fresh not in result.stdout

    strict_iam.clear()
    result = run_cli(strict_iam, clean, "apply", "iam.yaml", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    writes = [
        (c.operation, c.params) for c in strict_iam.writes() if c.operation != "GenerateCredentialReport"
    ]
    assert writes == [("UpdateAccessKey", {"UserName": "alice", "AccessKeyId": old, "Status": "Inactive"})]
    keys = {
        k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    }
    assert keys == {old: "Inactive", fresh: "Active"}

    result = run_cli(strict_iam, clean, "plan", "iam.yaml", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "No changes. Live IAM matches the configuration.\n"


def test_deactivation_joins_the_users_other_changes_and_shows_in_drift(
    strict_iam: StrictIam, clean: Path
) -> None:
    (clean / "iam.yaml").write_text(
        textwrap.dedent(DEACTIVATE).replace(
            "groups: [analysts]", "groups: [analysts]\n    tags: {team: data}"
        )
    )
    iam = strict_iam.client("iam")
    old = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    backdate_access_key("alice", old, days=60)  # unused for 60 days > 45

    result = run_cli(strict_iam, clean, "drift", "iam.yaml", "--format", "json")
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    VALIDATOR.validate(doc)
    (change,) = doc["plan"]["changes"]
    assert change["address"] == "user.alice" and change["action"] == "update"
    assert [f["path"] for f in change["fields"]] == ["tags.team", f"access_keys.{old}"]
    assert [c["operation"] for c in change["api_calls"]] == ["TagUser", "UpdateAccessKey"]
    assert [(f["rule"], f["address"]) for f in doc["live_findings"]] == [("credential-unused", "user.alice")]
    assert Counter(strict_iam.operations())["GetCredentialReport"] == 1  # one report, shared


def test_plans_without_deactivation_read_no_credentials(strict_iam: StrictIam, clean: Path) -> None:
    iam = strict_iam.client("iam")
    old = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    backdate_access_key("alice", old, days=200)
    strict_iam.clear()
    result = run_cli(strict_iam, clean, "plan", "iam.yaml", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(strict_iam.operations()) <= READ_OPERATIONS


def test_a_saved_plan_is_stale_when_the_keys_to_deactivate_changed(
    strict_iam: StrictIam, clean: Path
) -> None:
    (clean / "iam.yaml").write_text(textwrap.dedent(DEACTIVATE))
    iam = strict_iam.client("iam")
    old = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    backdate_access_key("alice", old, days=200)
    result = run_cli(strict_iam, clean, "plan", "iam.yaml", "--out", "plan.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((clean / "plan.json").read_text())["metadata"]["stale_access_keys"] == [f"alice/{old}"]

    iam.update_access_key(UserName="alice", AccessKeyId=old, Status="Inactive")
    strict_iam.clear()
    result = run_cli(strict_iam, clean, "apply", "iam.yaml", "--plan", "plan.json", "--auto-approve")
    assert result.returncode == 1
    assert (
        "saved plan is stale" in result.stderr and "stale access keys to deactivate changed" in result.stderr
    )
    assert [c.operation for c in strict_iam.writes()] == ["GenerateCredentialReport"]


# --- the report reader: bounded polling ----------------------------------------------------

REPORT_CSV = b"user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n"


def _stubbed() -> tuple[Any, Stubber]:
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="http://127.0.0.1:9",
    )
    return iam, Stubber(iam)


def test_the_reader_polls_with_backoff_until_complete() -> None:
    iam, stub = _stubbed()
    stub.add_response("generate_credential_report", {"State": "STARTED"})
    stub.add_client_error("generate_credential_report", "LimitExceeded", http_status_code=409)
    stub.add_response("generate_credential_report", {"State": "INPROGRESS"})
    stub.add_response("generate_credential_report", {"State": "COMPLETE"})
    stub.add_client_error("get_credential_report", "ReportInProgress", http_status_code=404)
    stub.add_response("generate_credential_report", {"State": "COMPLETE"})
    generated = datetime.datetime(2026, 5, 1, 12, tzinfo=datetime.UTC)
    stub.add_response(
        "get_credential_report",
        {"Content": REPORT_CSV, "ReportFormat": "text/csv", "GeneratedTime": generated},
    )
    slept: list[float] = []
    with stub:
        report = read_credential_report(iam, sleep=slept.append, clock=lambda: sum(slept))
    stub.assert_no_pending_responses()
    assert slept == [0.25, 0.5, 1.0, 2.0]
    assert report.rows == () and report.polls == 5
    assert report.generated_time == "2026-05-01T12:00:00+00:00"


def test_the_reader_gives_up_after_its_timeout() -> None:
    iam, stub = _stubbed()
    for _ in range(20):
        stub.add_response("generate_credential_report", {"State": "STARTED"})
    slept: list[float] = []
    with stub, pytest.raises(AwsError, match=r"credential report was not ready after \d+ polls"):
        read_credential_report(iam, timeout=30, sleep=slept.append, clock=lambda: sum(slept))
    assert sum(slept) <= 30 and max(slept) == 8.0


def test_the_reader_reports_other_errors_with_the_operation() -> None:
    iam, stub = _stubbed()
    stub.add_client_error("generate_credential_report", "AccessDenied", "not allowed", http_status_code=403)
    with (
        stub,
        pytest.raises(AwsError, match="iam:GenerateCredentialReport failed: AccessDenied: not allowed"),
    ):
        read_credential_report(iam, sleep=lambda s: None)
