"""The analysis at plan time, end to end: AWS-managed policies read once each, the per-principal
access section, and the findings, through the real CLI against a local IAM endpoint."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.cli import run_iamstate
from tests.support.moto_server import LocalIam

ACCOUNT = "123456789012"
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
IAM_FULL = "arn:aws:iam::aws:policy/IAMFullAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"
STACK = [{"Key": "iamstate:stack", "Value": "iamstate"}]


def write(folder: Path, text: str) -> Path:
    (folder / "iam.yaml").write_text(textwrap.dedent(text))
    return folder


def plan_json(endpoint: LocalIam, folder: Path, *extra: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result = run_iamstate(endpoint, folder, "plan", ".", "--format", "json", "--log-format", "json", *extra)
    assert result.returncode in (0, 3), result.stdout + result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "plan.schema.json").read_text())).validate(doc)
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return doc, events


def access_of(doc: dict[str, Any], address: str) -> dict[str, Any]:
    return next(e for e in doc["metadata"]["access"] if e["address"] == address)


ADMINS = f"""
account: {{id: "{ACCOUNT}"}}
groups:
  - name: admins
    policies: ["{IAM_FULL}", "{POWER_USER}"]
"""


def test_a_group_with_iamfullaccess_and_poweruseraccess_fires_in_validate_and_in_plan(
    iam_endpoint: LocalIam, tmp_path: Path
) -> None:
    folder = write(tmp_path, ADMINS)
    validated = run_iamstate(iam_endpoint, folder, "validate", ".", "--format", "json")
    assert validated.returncode == 3
    (offline,) = [f for f in json.loads(validated.stdout)["findings"] if f["rule"] == "privilege-escalation"]
    assert offline["address"] == "group.admins" and "policy IAMFullAccess" in offline["message"]

    doc, _ = plan_json(iam_endpoint, folder)
    (finding,) = [f for f in doc["findings"] if f["rule"] == "privilege-escalation"]
    assert finding["address"] == "group.admins" and not finding["waived"]
    entry = access_of(doc, "group.admins")
    assert entry["new"] is True
    assert "group.admins (policy IAMFullAccess, AWS-managed)" in entry["policies"]["gained"]
    iam = next(
        line
        for line in entry["gained"]
        if (line["service"], line["access_level"]) == ("iam", "Permissions management")
    )
    assert iam["on_every_resource"] == iam["count"] > 10

    text = run_iamstate(iam_endpoint, folder, "plan", ".", "--no-color")
    assert text.returncode == 3
    assert "Access changes, by principal:\n  group.admins (new)\n" in text.stdout
    assert "    + iam Permissions management: " in text.stdout
    assert "[privilege-escalation] group.admins: group 'admins' can escalate by" in text.stdout


def test_aws_managed_policies_are_read_once_each_then_from_the_cache(
    iam_endpoint: LocalIam, tmp_path: Path
) -> None:
    roles = "\n".join(
        f"""  - name: reader-{i}
    trusted: {{services: [ec2.amazonaws.com]}}
    policies: ["{READ_ONLY}", "{SECURITY_AUDIT}"]"""
        for i in range(12)
    )
    folder = write(tmp_path, f'account: {{id: "{ACCOUNT}"}}\nroles:\n{roles}\n')
    _, events = plan_json(iam_endpoint, folder)
    read = next(e for e in events if e["event"] == "aws.read")
    assert read["managed_policies"] == 2 and read["managed_from_cache"] == 0
    assert read["api_calls"]["GetPolicy"] == 2 and read["api_calls"]["GetPolicyVersion"] == 2

    _, events = plan_json(iam_endpoint, folder)
    again = next(e for e in events if e["event"] == "aws.read")
    assert again["managed_from_cache"] == 2
    assert again["api_calls"]["GetPolicy"] == 2 and "GetPolicyVersion" not in again["api_calls"]


MEMBERSHIP = f"""
account: {{id: "{ACCOUNT}"}}
policies:
  - name: deploy
    document:
      Version: "2012-10-17"
      Statement:
        - {{Effect: Allow, Action: [iam:PassRole, ec2:RunInstances], Resource: "*"}}
        - {{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::artifacts/*"}}
    exceptions:
      passrole-star: The deploy group passes the instance roles it launches; reviewed in SEC-9.
groups:
  - name: ops
    policies: [deploy]
    exceptions:
      privilege-escalation: The deploy group launches instances with their roles; reviewed in SEC-9.
      resource-exposure: PassRole on every role is how the group deploys; reviewed in SEC-9.
users:
  - name: dave
    groups: [ops]
"""


def build_ops_without_dave(endpoint: LocalIam) -> None:
    iam = endpoint.client("iam")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/*"},
        ],
    }
    arn = iam.create_policy(PolicyName="deploy", PolicyDocument=json.dumps(document), Tags=STACK)["Policy"][
        "Arn"
    ]
    iam.create_group(GroupName="ops")
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    iam.create_user(UserName="dave", Tags=STACK)


def test_a_membership_change_shows_what_the_user_gains_through_the_group(
    iam_endpoint: LocalIam, tmp_path: Path
) -> None:
    build_ops_without_dave(iam_endpoint)
    folder = write(tmp_path, MEMBERSHIP)
    doc, _ = plan_json(iam_endpoint, folder)
    assert [c["address"] for c in doc["changes"]] == ["user.dave"]
    assert [e["address"] for e in doc["metadata"]["access"]] == ["user.dave"]
    entry = access_of(doc, "user.dave")
    assert entry["new"] is False
    assert entry["policies"]["gained"] == ["group.ops (policy deploy)"]
    assert entry["escalations"]["gained"] == ["PassRoleToNewEC2Instance"]
    s3 = next(line for line in entry["gained"] if line["service"] == "s3")
    assert s3["on_every_resource"] == 0 and s3["resources"] == ["arn:aws:s3:::artifacts/*"]
    # The group's waiver speaks for its members: the user is not reported, the plan passes.
    assert [f["address"] for f in doc["findings"] if f["rule"] == "privilege-escalation"] == ["group.ops"]
    assert all(f["waived"] for f in doc["findings"] if f["severity"] == "error")

    markdown = run_iamstate(iam_endpoint, folder, "plan", ".", "--format", "markdown").stdout
    assert "#### Access changes, by principal" in markdown
    assert (
        "<details><summary><code>user.dave</code>: can now escalate by PassRoleToNewEC2Instance; "
        "newly exposed: resource-exposure</summary>" in markdown
    )
    assert "| + | s3 | Read | 1 of " in markdown and "| arn:aws:s3:::artifacts/\\* |" in markdown


def test_an_unchanged_account_lists_no_access_changes(iam_endpoint: LocalIam, tmp_path: Path) -> None:
    build_ops_without_dave(iam_endpoint)
    iam_endpoint.client("iam").add_user_to_group(GroupName="ops", UserName="dave")
    folder = write(tmp_path, MEMBERSHIP)
    doc, _ = plan_json(iam_endpoint, folder)
    assert doc["changes"] == [] and doc["metadata"]["access"] == []
    result = run_iamstate(iam_endpoint, folder, "plan", ".", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Access changes" not in result.stdout


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_plan_and_drift_judge_an_unmanaged_live_role_anyone_may_assume(
    iam_endpoint: LocalIam, tmp_path: Path, command: str
) -> None:
    iam = iam_endpoint.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="legacy-admin", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="legacy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    folder = write(
        tmp_path,
        f"""
        account: {{id: "{ACCOUNT}"}}
        scope: {{ignore: [legacy-*]}}
        policies:
          - name: assume-any
            document:
              Version: "2012-10-17"
              Statement:
                - {{Effect: Allow, Action: sts:AssumeRole, Resource: "*"}}
        groups:
          - name: ops
            policies: [assume-any]
        """,
    )
    validated = run_iamstate(iam_endpoint, folder, "validate", ".")
    assert validated.returncode == 0, validated.stdout  # offline, the role is not in sight
    result = run_iamstate(iam_endpoint, folder, command, ".", "--no-color")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "[privilege-escalation] group.ops: group 'ops' can escalate by FullAdministrator" in result.stdout
    assert "group.ops → group.ops (policy assume-any: sts:AssumeRole) → role.legacy-admin" in result.stdout
