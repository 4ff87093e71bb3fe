"""`iamstate apply` end to end: the real CLI against the strict local IAM layer, which
refuses out-of-order deletes as AWS does, injects faults and records every call."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.cli import run_iamstate as run_cli
from tests.support.credentials import user_with_every_credential
from tests.support.strict import StrictIam

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def assert_converged(strict: StrictIam, cwd: Path, path: str = "iam") -> None:
    result = run_cli(strict, cwd, "plan", path, "--detailed-exitcode", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    assert plan["changes"] == []
    assert plan["summary_line"] == "No changes. Live IAM matches the configuration."


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "iam")
    return tmp_path


def edit(path: Path, change: object) -> None:
    """Load a YAML file, let ``change`` mutate it, write it back."""
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def by_name(items: list[dict[str, object]], name: str) -> dict[str, object]:
    return next(item for item in items if item["name"] == name)


def test_full_lifecycle_through_the_strict_layer(strict_iam: StrictIam, work: Path) -> None:
    iam_dir = work / "iam"
    # 1. create everything in examples/
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Apply complete" in result.stdout
    assert_converged(strict_iam, work)

    # 2. a second apply makes no write call
    strict_iam.clear()
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stderr
    assert strict_iam.writes() == []

    # 3. change every kind of field
    def policies(d: dict) -> None:  # type: ignore[type-arg]
        reports = by_name(d["policies"], "reports-read")
        reports["document"]["Statement"][0]["Action"].append("s3:GetObjectVersion")  # type: ignore[index]
        reports["tags"] = {"team": "analytics", "cost-center": "42"}
        boundary = by_name(d["policies"], "dev-boundary")
        boundary["description"] = "Ceiling for every principal developers create (v2)"  # replace
        boundary["exceptions"] = {
            "replace-in-use": "Wording of the boundary fixed; roles move to a copy first"
        }

    def roles(d: dict) -> None:  # type: ignore[type-arg]
        ci = by_name(d["roles"], "ci-deploy")
        ci["description"] = "Deploys from main and release branches"
        ci["max_session_duration"] = 7200
        ci["trusted"]["oidc"]["subjects"].append("repo:acme/infra:ref:refs/heads/release")  # type: ignore[index]
        ci["tags"] = {"owner": "platform", "tier": "deploy"}
        del ci["permissions_boundary"]
        web = by_name(d["roles"], "web-server")
        web["instance_profile"] = False
        web["policies"] = ["lambda-logging"]
        by_name(d["roles"], "lambda-app")["path"] = "/app/v2/"  # replace

    def users(d: dict) -> None:  # type: ignore[type-arg]
        first = d["users"][0]
        first["path"] = "/people/"
        first["groups"] = ["read-only"]
        first["tags"] = {"team": "moved"}
        first["permissions_boundary"] = "dev-boundary"

    def groups(d: dict) -> None:  # type: ignore[type-arg]
        ro = by_name(d["groups"], "read-only")
        ro["path"] = "/readers/"
        ro["policies"] = ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]

    def account(d: dict) -> None:  # type: ignore[type-arg]
        d["password_policy"]["max_age_days"] = 60

    for name, change in [
        ("policies.yaml", policies),
        ("roles.yaml", roles),
        ("users.yaml", users),
        ("groups.yaml", groups),
        ("account.yaml", account),
    ]:
        edit(iam_dir / name, change)
    result = run_cli(strict_iam, work, "plan", "iam", "--no-color")
    assert result.returncode == 0, result.stderr
    for address in (
        "-/+ policy.dev-boundary",
        "-/+ role.lambda-app",
        "~ role.ci-deploy",
        "- instance_profile.web-server",
    ):
        assert address in result.stdout
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_converged(strict_iam, work)

    # 4. out-of-band credentials, inline policies and boundary uses that deletes must clear
    iam = strict_iam.client("iam")
    user = yaml.safe_load((iam_dir / "users.yaml").read_text())["users"][1]["name"]
    iam.create_user(UserName="walk-in")
    user_with_every_credential(iam, "walk-in-2")
    iam.add_user_to_group(GroupName="developers", UserName="walk-in-2")
    iam.create_access_key(UserName=user)
    iam.create_login_profile(UserName=user, Password="Str0ng!Passw0rd#2026")
    iam.put_user_policy(UserName=user, PolicyName="oob", PolicyDocument=ALLOW_LIST)
    iam.put_group_policy(GroupName="developers", PolicyName="oob", PolicyDocument=ALLOW_LIST)
    iam.put_role_policy(RoleName="ci-deploy", PolicyName="oob", PolicyDocument=ALLOW_LIST)
    boundary = f"arn:aws:iam::{strict_iam.account_id}:policy/dev-boundary"
    iam.put_role_permissions_boundary(RoleName="auditor", PermissionsBoundary=boundary)

    # 5. delete everything: what apply made, and (absent: true) the users made by hand
    for name in ("policies.yaml", "roles.yaml", "users.yaml", "groups.yaml"):
        (iam_dir / name).unlink()
    (iam_dir / "users.yaml").write_text(
        "users:\n  - {name: walk-in, absent: true}\n  - {name: walk-in-2, absent: true}\n"
    )
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve", "--allow-mass-delete")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_converged(strict_iam, work)
    assert strict_iam.refused() == []
    details = iam.get_account_authorization_details(Filter=["User", "Role", "Group", "LocalManagedPolicy"])
    assert details["UserDetailList"] == [] and details["RoleDetailList"] == []
    assert details["GroupDetailList"] == [] and details["Policies"] == []


def test_seven_document_changes_keep_at_most_five_versions(strict_iam: StrictIam, tmp_path: Path) -> None:
    config = tmp_path / "iam.yaml"
    for n in range(8):
        config.write_text(POLICY_CONFIG.format(n=n))
        result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve")
        assert result.returncode == 0, result.stdout + result.stderr
    iam = strict_iam.client("iam")
    versions = iam.list_policy_versions(PolicyArn=f"arn:aws:iam::{strict_iam.account_id}:policy/rotating")[
        "Versions"
    ]
    assert len(versions) <= 5
    default = next(v for v in versions if v["IsDefaultVersion"])
    document = iam.get_policy_version(
        PolicyArn=f"arn:aws:iam::{strict_iam.account_id}:policy/rotating", VersionId=default["VersionId"]
    )["PolicyVersion"]["Document"]
    assert "arn:aws:s3:::bucket-7/*" in str(document)
    assert strict_iam.refused() == []
    assert_converged(strict_iam, tmp_path, "iam.yaml")


def test_apply_converges_under_throttling_and_unavailability(strict_iam: StrictIam, work: Path) -> None:
    strict_iam.configure(throttle_rate=0.25, unavailable_rate=0.05, seed=7)
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve", "--parallelism", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    injected = [c for c in strict_iam.calls() if c.outcome == "injected"]
    assert len(injected) > 5, "the faults were not injected"
    strict_iam.configure()
    assert_converged(strict_iam, work)
    iam = strict_iam.client("iam")
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    declared = {r["name"] for r in yaml.safe_load((work / "iam" / "roles.yaml").read_text())["roles"]}
    assert names == declared


def test_apply_killed_midway_is_finished_by_the_next_apply(strict_iam: StrictIam, work: Path) -> None:
    strict_iam.configure(latency=0.15)
    process = subprocess.Popen(
        [sys.executable, "-m", "iamstate", "apply", "iam", "--auto-approve", "--parallelism", "1"],
        cwd=work,
        env=strict_iam.env(os.environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(strict_iam.writes()) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    written = len(strict_iam.writes())
    assert 8 <= written < 30, f"the kill should land midway, after {written} writes"
    result = run_cli(strict_iam, work, "plan", "iam", "--detailed-exitcode")
    assert result.returncode == 2  # the killed apply left work to do

    strict_iam.configure()
    # The killed apply could not release its lock: the next apply names it and writes nothing ...
    before = len(strict_iam.writes(lock=True))
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apply lock of stack 'platform'" in result.stderr and "is held: locked by arn:" in result.stderr
    assert [c.operation for c in strict_iam.writes(lock=True)[before:] if c.status == 200] == []
    # ... until `iamstate unlock` clears it (the same caller held it), and then it converges.
    result = run_cli(strict_iam, work, "unlock", "iam")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Released the apply lock of stack 'platform' (locked by arn:" in result.stdout
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_converged(strict_iam, work)
    assert strict_iam.refused() == []


def test_saved_plan_applies_exactly_and_a_stale_one_writes_nothing(strict_iam: StrictIam, work: Path) -> None:
    result = run_cli(strict_iam, work, "plan", "iam", "--out", "saved.json")
    assert result.returncode == 0, result.stderr
    # live IAM moves after the plan was saved
    strict_iam.client("iam").create_group(GroupName="sneaked-in")
    strict_iam.clear()
    result = run_cli(strict_iam, work, "apply", "iam", "--plan", "saved.json", "--auto-approve")
    assert result.returncode == 1
    assert "saved plan is stale" in result.stderr and "live IAM changed" in result.stderr
    assert strict_iam.writes() == []

    # a fresh saved plan, then the config moves
    result = run_cli(strict_iam, work, "plan", "iam", "--out", "saved.json")
    edit(work / "iam" / "roles.yaml", lambda d: d["roles"][0].update(description="changed after planning"))
    strict_iam.clear()
    result = run_cli(strict_iam, work, "apply", "iam", "--plan", "saved.json", "--auto-approve")
    assert result.returncode == 1
    assert "the configuration changed" in result.stderr
    assert strict_iam.writes() == []

    # a saved plan that still matches is applied as it was made
    result = run_cli(strict_iam, work, "plan", "iam", "--out", "saved.json")
    result = run_cli(strict_iam, work, "apply", "iam", "--plan", "saved.json", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_converged(strict_iam, work)


def test_apply_without_a_terminal_or_auto_approve_writes_nothing(strict_iam: StrictIam, work: Path) -> None:
    result = run_cli(strict_iam, work, "apply", "iam")
    assert result.returncode == 1
    assert "--auto-approve" in result.stderr and "Nothing was written" in result.stderr
    assert strict_iam.writes() == []


def test_permanent_error_stops_reports_and_the_rerun_converges(strict_iam: StrictIam, work: Path) -> None:
    strict_iam.fail_next("CreateRole", "AccessDenied", 403, count=1)
    result = run_cli(
        strict_iam, work, "apply", "iam", "--auto-approve", "--format", "json", "--out", "result.json"
    )
    assert result.returncode == 1
    import json

    doc = json.loads(result.stdout)
    assert doc["apply"]["ok"] is False
    assert [f["operation"] for f in doc["apply"]["failed"]] == ["CreateRole"]
    assert doc["apply"]["not_started"], "later steps must not start after a permanent error"
    assert json.loads((work / "result.json").read_text()) == doc
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_converged(strict_iam, work)


def test_root_caller_is_refused_and_nothing_is_written(strict_iam: StrictIam, work: Path) -> None:
    strict_iam.caller_is_root = True
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 3
    assert "[root-credentials-in-use]" in result.stderr
    assert strict_iam.writes() == []
    assert not [c for c in strict_iam.calls() if c.operation == "GetAccountAuthorizationDetails"]


def test_api_calls_are_logged_at_verbose(strict_iam: StrictIam, work: Path) -> None:
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve", "-v", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    events = [line for line in result.stderr.splitlines() if '"aws.call"' in line]
    assert len(events) >= len(strict_iam.writes()) > 0
    assert re.search(r'"operation": "CreateRole"', result.stderr)


POLICY_CONFIG = """
account: {{id: "123456789012"}}
policies:
  - name: rotating
    document:
      Version: "2012-10-17"
      Statement:
        - {{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::bucket-{n}/*"}}
"""
ALLOW_LIST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}'


ADMIN_STAR = """
account: {id: "123456789012"}
policies:
  - name: everything
    document:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: "*", Resource: "*"}
groups:
  - name: ops
    policies: [everything]
"""


def test_a_refused_plan_writes_nothing(strict_iam: StrictIam, tmp_path: Path) -> None:
    (tmp_path / "iam.yaml").write_text(ADMIN_STAR)
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve", "--no-color")
    assert result.returncode == 3
    assert "[policy-admin-star] policy.everything" in result.stdout
    assert "iam.yaml:" in result.stdout
    assert strict_iam.writes() == []

    waived = ADMIN_STAR.replace(
        '        - {Effect: Allow, Action: "*", Resource: "*"}',
        '        - {Effect: Allow, Action: "*", Resource: "*"}\n'
        "    exceptions:\n"
        "      policy-admin-star: Break-glass access for incident response, approved in SEC-42.",
    )
    (tmp_path / "iam.yaml").write_text(waived)
    result = run_cli(strict_iam, tmp_path, "apply", "iam.yaml", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Waived: [policy-admin-star] policy.everything" in result.stdout
    assert "  reason: Break-glass access" in result.stdout
    assert "Error:" not in result.stdout
    assert strict_iam.writes()


def test_require_mfa_groups_get_the_force_mfa_policy(strict_iam: StrictIam, work: Path) -> None:
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    iam = strict_iam.client("iam")
    groups = yaml.safe_load((work / "iam" / "groups.yaml").read_text())["groups"]
    for group in groups:
        attached = {
            p["PolicyName"]
            for p in iam.list_attached_group_policies(GroupName=group["name"])["AttachedPolicies"]
        }
        assert ("iamstate-force-mfa" in attached) == bool(group.get("require_mfa")), group["name"]
    assert_converged(strict_iam, work)


def test_a_file_that_is_not_a_saved_plan_is_refused_before_any_call(
    strict_iam: StrictIam, work: Path
) -> None:
    (work / "notes.json").write_text('{"hello": "world"}')
    result = run_cli(strict_iam, work, "apply", "iam", "--plan", "notes.json", "--auto-approve")
    assert result.returncode == 1
    assert "is not a plan written by `iamstate plan --out`" in result.stderr
    assert strict_iam.calls() == []


def test_ctrl_c_stops_new_calls_reports_and_the_rerun_converges(strict_iam: StrictIam, work: Path) -> None:
    strict_iam.configure(latency=0.15)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iamstate",
            "apply",
            "iam",
            "--auto-approve",
            "--parallelism",
            "2",
            "--no-color",
        ],
        cwd=work,
        env=strict_iam.env(os.environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(strict_iam.writes()) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 1, stdout + stderr
    assert "Stopping: no new calls will start" in stderr
    assert "Apply interrupted" in stdout and "Run apply again" in stdout
    written = len(strict_iam.writes())
    time.sleep(0.5)
    assert len(strict_iam.writes()) == written, "no call may start after apply returned"
    assert written < 30

    strict_iam.configure()
    result = run_cli(strict_iam, work, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_converged(strict_iam, work)
