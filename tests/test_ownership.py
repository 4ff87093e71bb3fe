"""Safe on a lived-in account, end to end: the real CLI against the strict local IAM layer.

iamstate deletes only what this stack owns (its tag, ``absent: true``, or ``scope.prune:
all``), never what is protected or CloudFormation's, never detaches a policy from what
another stack holds, and never leaves a principal without its permissions boundary."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tests.support.cli import run_iamstate as run_cli
from tests.support.strict import StrictIam

ACCOUNT = "123456789012"
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ORG_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
READ = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)


def tags(**pairs: str) -> list[dict[str, str]]:
    """``tags(iamstate_stack="x")`` -> ``[{"Key": "iamstate:stack", "Value": "x"}]``."""
    return [{"Key": k.replace("_", ":"), "Value": v} for k, v in pairs.items()]


def write(folder: Path, text: str, name: str = "iam.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return folder


def plan_json(strict: StrictIam, cwd: Path, *args: str, expect: int = 0) -> dict[str, Any]:
    result = run_cli(strict, cwd, "plan", ".", "--format", "json", *args)
    assert result.returncode == expect, result.stdout + result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def changes(doc: dict[str, Any]) -> dict[str, str]:
    return {c["address"]: c["action"] for c in doc["changes"]}


FOUR_ROLES = """\
account:
  id: "123456789012"
  stack: platform
roles:
  - {name: api, trusted: {services: [lambda.amazonaws.com]}}
  - {name: worker, trusted: {services: [lambda.amazonaws.com]}}
  - {name: cron, trusted: {services: [lambda.amazonaws.com]}}
  - {name: web, trusted: {services: [lambda.amazonaws.com]}}
"""


def test_a_lived_in_account_keeps_what_this_stack_does_not_own(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam = strict_iam.client("iam")
    iam.create_role(
        RoleName="app-ExecutionRole-1A2B3C4D5E6F7",
        AssumeRolePolicyDocument=LAMBDA_TRUST,
        Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "app"}],
    )
    iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=ORG_TRUST)
    iam.create_user(UserName="jenkins")
    iam.create_access_key(UserName="jenkins")
    work = write(tmp_path, FOUR_ROLES)

    doc = plan_json(strict_iam, work)

    assert set(changes(doc).values()) == {"create"}
    assert doc["summary_line"] == "Plan: 4 to add, 0 to change, 0 to destroy."
    standing = {u["address"]: u["standing"] for u in doc["unmanaged"]}
    assert standing == {
        "role.app-ExecutionRole-1A2B3C4D5E6F7": "cloudformation",
        "role.OrganizationAccountAccessRole": "protected",
        "user.jenkins": "unmanaged",
    }
    text = run_cli(strict_iam, work, "plan", ".", "--no-color")
    assert "role.app-ExecutionRole-1A2B3C4D5E6F7: created by CloudFormation (stack app)" in text.stdout
    applied = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not [c for c in strict_iam.writes() if c.operation.startswith("Delete")]
    assert iam.list_access_keys(UserName="jenkins")["AccessKeyMetadata"], "the key was left alone"


def test_prune_all_is_the_exclusive_scope_minus_what_is_protected(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=ORG_TRUST)
    iam.create_role(
        RoleName="cdk-hnb659fds-deploy-role-123456789012-us-east-1", AssumeRolePolicyDocument=ORG_TRUST
    )
    iam.create_role(RoleName="hand-made", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.create_user(UserName="walk-in")
    work = write(tmp_path, FOUR_ROLES + "scope:\n  prune: all\n")

    doc = plan_json(strict_iam, work)

    assert changes(doc) == {
        "role.api": "create",
        "role.cron": "create",
        "role.web": "create",
        "role.worker": "create",
        "role.hand-made": "delete",
        "user.walk-in": "delete",
    }
    assert {u["address"] for u in doc["unmanaged"]} == {
        "role.OrganizationAccountAccessRole",
        "role.cdk-hnb659fds-deploy-role-123456789012-us-east-1",
    }


def test_absent_deletes_an_untagged_entity_but_never_a_protected_one(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    iam.create_user(UserName="walk-in")
    iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=ORG_TRUST)
    work = write(tmp_path, 'account: {id: "123456789012"}\nusers:\n  - {name: walk-in, absent: true}\n')
    assert changes(plan_json(strict_iam, work)) == {"user.walk-in": "delete"}
    applied = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "walk-in" not in {u["UserName"] for u in iam.list_users()["Users"]}

    write(
        work,
        'account: {id: "123456789012"}\nroles:\n  - {name: OrganizationAccountAccessRole, absent: true}\n',
    )
    strict_iam.clear()
    result = run_cli(strict_iam, work, "plan", ".")
    assert result.returncode == 1
    assert (
        "role.OrganizationAccountAccessRole: is protected and never deleted (declared absent at iam.yaml:3:12)"
        in result.stderr
    )
    assert strict_iam.writes() == []


def test_import_apply_then_a_second_stack_deletes_nothing_of_the_first(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    arn = iam.create_policy(PolicyName="read", PolicyDocument=READ)["Policy"]["Arn"]
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=arn)
    for name in ("ann", "ben"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="readers", UserName=name)
    for name in ("svc-a", "svc-b", "svc-c"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    iam.create_instance_profile(InstanceProfileName="svc-a")
    iam.add_role_to_instance_profile(InstanceProfileName="svc-a", RoleName="svc-a")

    first = tmp_path / "first"
    imported = run_cli(strict_iam, tmp_path, "import", "--out", "first", "--stack", "platform")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    applied = run_cli(strict_iam, first, "apply", ".", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for user in ("ann", "ben"):
        assert {"Key": "iamstate:stack", "Value": "platform"} in iam.list_user_tags(UserName=user)["Tags"]
    for role in ("svc-a", "svc-b", "svc-c"):
        assert {"Key": "iamstate:stack", "Value": "platform"} in iam.list_role_tags(RoleName=role)["Tags"]

    second = write(
        tmp_path / "second",
        """\
        account: {id: "123456789012", stack: data}
        roles:
          - {name: etl, trusted: {services: [lambda.amazonaws.com]}}
        """,
    )
    doc = plan_json(strict_iam, second)
    assert changes(doc) == {"role.etl": "create"}
    applied = run_cli(strict_iam, second, "apply", ".", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not [c for c in strict_iam.writes() if c.operation.startswith(("Delete", "Detach", "Remove"))]


def test_a_scoped_stack_never_deletes_another_stacks_instance_profiles(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    for name in ("batch-1", "batch-2"):
        iam.create_instance_profile(
            InstanceProfileName=name, Path="/services/", Tags=tags(iamstate_stack="other")
        )
    iam.create_instance_profile(
        InstanceProfileName="mine", Path="/services/", Tags=tags(iamstate_stack="svc")
    )
    work = write(tmp_path, 'account: {id: "123456789012", stack: svc}\nscope:\n  paths: ["/services/"]\n')

    doc = plan_json(strict_iam, work)

    assert changes(doc) == {"instance_profile.mine": "delete"}


def test_a_policy_another_stack_uses_is_never_detached_from_it(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam = strict_iam.client("iam")
    arn = iam.create_policy(
        PolicyName="shared-guard",
        PolicyDocument=READ,
        Description="old",
        Tags=tags(iamstate_stack="platform"),
    )["Policy"]["Arn"]
    iam.create_role(
        RoleName="their-app",
        AssumeRolePolicyDocument=LAMBDA_TRUST,
        PermissionsBoundary=arn,
        Tags=tags(iamstate_stack="data"),
    )
    iam.attach_role_policy(RoleName="their-app", PolicyArn=arn)
    work = write(
        tmp_path,
        """\
        account: {id: "123456789012", stack: platform}
        policies:
          - name: shared-guard
            description: new wording
            document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
        """,
    )
    strict_iam.clear()

    result = run_cli(strict_iam, work, "apply", ".", "--auto-approve")

    assert result.returncode == 1
    assert (
        "policy.shared-guard: would be replaced, but role.their-app (tagged for another stack) use it"
        in result.stderr
    )
    assert strict_iam.writes() == []
    role = iam.get_role(RoleName="their-app")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn


BOUNDED = """\
account:
  id: "123456789012"
policies:
  - name: guard
    description: {description}
    document: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Action: "s3:*", Resource: "*"}}]}}
{waiver}roles:
"""
WAIVED = """    exceptions:
      replace-in-use: "Boundary wording fixed in SEC-77; apply moves every role to a copy first"
"""


def test_replacing_a_boundary_policy_never_leaves_a_role_without_one(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    roles = "".join(
        f"  - {{name: app-{n}, trusted: {{services: [lambda.amazonaws.com]}}, permissions_boundary: guard}}\n"
        for n in range(10)
    )
    work = write(tmp_path, BOUNDED.format(description="v1", waiver="") + roles)
    applied = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    iam = strict_iam.client("iam")

    def boundaries() -> set[str]:
        return {
            iam.get_role(RoleName=f"app-{n}")["Role"]
            .get("PermissionsBoundary", {})
            .get("PermissionsBoundaryArn", "")
            for n in range(10)
        }

    # Refused unless waived: IAM cannot change a description in place.
    write(work, BOUNDED.format(description="v2", waiver="") + roles)
    strict_iam.clear()
    refused = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "[replace-in-use] policy.guard:" in refused.stdout + refused.stderr
    assert strict_iam.writes() == []

    # Waived, but the new policy cannot be created: the apply stops half way. (Its first
    # CreatePolicy takes the apply lock, its second creates the swap copy, the third would
    # create the new policy.)
    write(work, BOUNDED.format(description="v2", waiver=WAIVED) + roles)
    strict_iam.fail_next("CreatePolicy", "AccessDenied", 403, after=2)
    failed = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert failed.returncode == 1
    assert "" not in boundaries(), "a role lost its permissions boundary"
    assert boundaries() == {f"arn:aws:iam::{ACCOUNT}:policy/guard-iamstate-swap"}

    # The next apply finishes the job: every role bounded by the new policy, the copy gone.
    applied = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert boundaries() == {f"arn:aws:iam::{ACCOUNT}:policy/guard"}
    names = {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
    assert "guard-iamstate-swap" not in names
    assert not strict_iam.refused()
    again = run_cli(strict_iam, work, "plan", ".", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout


def use_credentials(strict: StrictIam, key_id: str, secret: str, token: str | None = None) -> None:
    """One IAM call signed with these credentials: the endpoint records the key (and role) as used."""
    import boto3

    client = boto3.client(
        "iam",
        endpoint_url=strict.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )
    client.list_users()


def test_deleting_a_user_whose_key_was_just_used_is_refused(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam = strict_iam.client("iam")
    iam.create_user(UserName="jenkins", Tags=tags(iamstate_stack="iamstate"))
    key = iam.create_access_key(UserName="jenkins")["AccessKey"]
    use_credentials(strict_iam, key["AccessKeyId"], key["SecretAccessKey"])
    work = write(tmp_path, 'account: {id: "123456789012"}\n')
    strict_iam.clear()

    result = run_cli(strict_iam, work, "apply", ".", "--auto-approve")

    assert result.returncode == 3, result.stdout + result.stderr
    assert (
        "[delete-in-use] user.jenkins: the plan deletes user.jenkins, whose password or access key was used"
        in result.stdout
    )
    assert {c.operation for c in strict_iam.writes()} == {"GenerateCredentialReport"}, "nothing changed"
    assert "GenerateCredentialReport" in strict_iam.operations(), "the report is read when users are deleted"

    # Deleted on purpose: absent: true with a reason.
    write(
        work,
        'account: {id: "123456789012"}\nusers:\n  - name: jenkins\n    absent: true\n'
        '    exceptions: {delete-in-use: "CI moved to role ci-deploy in CHG-8812; the key is retired"}\n',
    )
    result = run_cli(strict_iam, work, "apply", ".", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "jenkins" not in {u["UserName"] for u in iam.list_users()["Users"]}


def test_a_plan_that_deletes_no_user_reads_no_credential_report(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    work = write(tmp_path, FOUR_ROLES)
    strict_iam.clear()
    plan_json(strict_iam, work)
    assert "GenerateCredentialReport" not in strict_iam.operations()


def test_deleting_a_role_assumed_minutes_ago_is_refused(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam = strict_iam.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    iam.create_role(RoleName="nightly", AssumeRolePolicyDocument=trust, Tags=tags(iamstate_stack="iamstate"))
    creds = strict_iam.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/nightly", RoleSessionName="batch"
    )["Credentials"]
    use_credentials(strict_iam, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    work = write(tmp_path, 'account: {id: "123456789012"}\n')

    doc = plan_json(strict_iam, work, expect=3)

    [finding] = [f for f in doc["findings"] if f["rule"] == "delete-in-use"]
    assert finding["address"] == "role.nightly" and "was assumed within the last day" in finding["message"]
    assert not finding["waived"]
    warning = [f for f in doc["findings"] if f["rule"] == "principal-references-break"]
    assert warning and warning[0]["address"] == "role.nightly"
