"""`iamstate explain` end to end: the real CLI in a subprocess against a local IAM endpoint."""

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

CONFIG = f"""
account:
  id: "{ACCOUNT}"
policies:
  - name: pass-roles
    document:
      Version: "2012-10-17"
      Statement:
        - {{Effect: Allow, Action: iam:PassRole, Resource: "*"}}
  - name: lambda-admin
    document:
      Version: "2012-10-17"
      Statement:
        - {{Effect: Allow, Action: [lambda:CreateFunction, lambda:InvokeFunction], Resource: "*"}}
        - {{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::reports/*"}}
groups:
  - name: ops
    policies: [lambda-admin]
  - name: admins
    policies: ["{IAM_FULL}", "{POWER_USER}"]
users:
  - name: dave
    groups: [ops]
    policies: [pass-roles]
    exceptions:
      user-direct-policy: The case needs a policy of the user's own beside its group's.
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "iam.yaml").write_text(textwrap.dedent(CONFIG))
    return tmp_path


def explained(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout + result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    schema = json.loads((SCHEMAS / "explain.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc


def test_offline_explains_a_split_escalation_with_the_policy_behind_each_action(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    result = run_iamstate(iam_endpoint, workdir, "explain", "user.dave", "--offline", "--no-color")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("user.dave: as the configuration declares it (offline), account 123456789012\n")
    assert "    user.dave: policy pass-roles\n    group.ops: policy lambda-admin\n" in out
    assert (
        "s3 Read: 1 of " in out
        and "actions on arn:aws:s3:::reports/*  [group.ops (policy lambda-admin)]" in out
    )
    assert "PassRoleToNewLambdaThenInvoke (https://pathfinding.cloud/paths/lambda-001)" in out
    assert (
        "user.dave → user.dave (policy pass-roles: iam:PassRole) + group.ops (policy lambda-admin: "
        "lambda:CreateFunction, lambda:InvokeFunction)"
    ) in out


def test_offline_json_matches_the_schema_and_reads_aws_managed_policies_from_the_table(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    doc = explained(
        run_iamstate(iam_endpoint, workdir, "explain", "group.admins", "--offline", "--format", "json")
    )
    assert doc["view"] == "offline" and doc["address"] == "group.admins"
    assert {p["name"] for p in doc["policies"]} == {"IAMFullAccess", "PowerUserAccess"}
    assert doc["unread"] == []
    methods = {m["id"] for p in doc["escalations"] for m in p["methods"]}
    assert {"iam-001", "lambda-003"} <= methods
    iam = next(
        line
        for line in doc["access"]
        if (line["service"], line["access_level"]) == ("iam", "Permissions management")
    )
    assert iam["on_every_resource"] == iam["count"] and iam["policies"] == [
        "group.admins (policy IAMFullAccess, AWS-managed)"
    ]
    assert {e["class"] for e in doc["exposures"]} == {
        "data-exfiltration",
        "resource-exposure",
        "credentials-exposure",
    }


def test_live_explains_what_is_in_the_account_reading_each_managed_policy_once(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    iam = iam_endpoint.client("iam")
    iam.create_group(GroupName="legacy")
    iam.attach_group_policy(GroupName="legacy", PolicyArn=POWER_USER)
    for name in ("erin", "frank"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="legacy", UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn=POWER_USER)

    result = run_iamstate(
        iam_endpoint, workdir, "explain", "user.erin", "--format", "json", "--log-format", "json"
    )
    doc = explained(result)
    assert doc["view"] == "live" and doc["account_id"] == ACCOUNT
    assert {(p["holder"], p["name"]) for p in doc["policies"]} == {
        ("user.erin", "PowerUserAccess"),
        ("group.legacy", "PowerUserAccess"),
    }
    assert "lambda-003" in {m["id"] for p in doc["escalations"] for m in p["methods"]}
    read = next(json.loads(line) for line in result.stderr.splitlines() if '"aws.read"' in line)
    # PowerUserAccess is held five times over, IAMFullAccess is declared: two documents.
    assert read["api_calls"]["GetPolicy"] == 2 and read["api_calls"]["GetPolicyVersion"] == 2


def test_a_declared_principal_that_is_not_live_yet_is_explained_with_desired(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    live = run_iamstate(iam_endpoint, workdir, "explain", "user.dave")
    assert live.returncode == 1
    assert "user.dave is not in the live account (use --desired" in live.stderr
    assert "Traceback" not in live.stderr

    doc = explained(
        run_iamstate(iam_endpoint, workdir, "explain", "user.dave", "--desired", "--format", "json")
    )
    assert doc["view"] == "desired"
    assert "lambda-001" in {m["id"] for p in doc["escalations"] for m in p["methods"]}


def test_an_address_that_is_not_a_principal_is_an_error_that_says_what_to_write(
    iam_endpoint: LocalIam, workdir: Path
) -> None:
    result = run_iamstate(iam_endpoint, workdir, "explain", "policy.lambda-admin", "--offline")
    assert result.returncode == 1
    assert "'policy.lambda-admin' is not the address of a user, group or role" in result.stderr
    unknown = run_iamstate(iam_endpoint, workdir, "explain", "user.dav", "--offline")
    assert unknown.returncode == 1 and "did you mean user.dave?" in unknown.stderr
