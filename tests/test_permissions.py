"""`iamstate permissions`: the least policy iamstate needs, checked against what it really calls."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import botocore.session
import pytest
import yaml
from typer.testing import CliRunner

from iamstate import catalog
from iamstate.cli import app
from iamstate.config import load_config
from iamstate.kinds import specs
from iamstate.model import Kind
from iamstate.permissions import COMMANDS, OPERATIONS, least_policy, operations_for
from tests.support.authorize import Account, allows, denied_calls, resolve
from tests.support.cli import run_iamstate as run_cli
from tests.support.credentials import user_with_every_credential
from tests.support.strict import StrictIam
from tests.test_cli_apply import by_name, edit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "iamstate"
EXAMPLES = ROOT / "examples"
CASES = ROOT / "tests" / "cases"
CALL_SOURCES = [
    "calls.py",
    "audit.py",
    "aws/read.py",
    "aws/audit.py",
    "aws/managed.py",
    "aws/write.py",
    "aws/lock.py",
    *sorted(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "kinds").glob("*.py")),
]
"""Every module that plans or makes an AWS call (each kind module plans its own)."""


def _service_operations() -> dict[str, str]:
    """IAM and STS operation names, also reachable by their boto3 method names."""
    session = botocore.session.get_session()
    names: dict[str, str] = {}
    for service in ("iam", "sts"):
        model = session.get_service_model(service)
        for operation in model.operation_names:
            names[operation] = operation
            names[botocore.xform_name(operation)] = operation  # type: ignore[attr-defined]
    return names


KIND_NOUNS = "|".join(
    sorted(
        {"".join(part.title() for part in name.split("_")) for name in Kind.names()}
        | {s.tags.suffix for s in specs() if s.tags is not None}
    )
)
"""How IAM operation names spell iamstate's kinds: Policy, Group, Role, InstanceProfile, SAMLProvider, ..."""


def operations_in_source() -> set[str]:
    """Every operation the product's call-making modules can name: string constants, boto3
    method names called on a client, and f-strings such as ``f"Tag{kind}"`` with each kind."""
    known = _service_operations()
    found: set[str] = set()
    for module in CALL_SOURCES:
        tree = ast.parse((PACKAGE / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
                found.add(known[node.value])
            elif isinstance(node, ast.Attribute) and node.attr in known and isinstance(node.value, ast.Name):
                if node.value.id in ("iam", "sts"):
                    found.add(known[node.attr])
            elif isinstance(node, ast.JoinedStr):
                pattern = "".join(
                    re.escape(part.value) if isinstance(part, ast.Constant) else f"(?:{KIND_NOUNS})"
                    for part in node.values
                )
                found.update(op for op in set(known.values()) if re.fullmatch(pattern, op))
    return found


def test_every_operation_the_code_can_make_is_in_the_table() -> None:
    found = operations_in_source()
    assert len(found) > 50, "the scan found too few operations to be working"
    assert {"CreateRole", "TagInstanceProfile", "DetachGroupPolicy", "ListPolicyTags"} <= found
    assert sorted(found - set(OPERATIONS)) == [], "operations iamstate makes but `permissions` does not grant"
    assert sorted(set(OPERATIONS) - found) == [], "operations in the table that no code makes"


def test_every_operation_of_the_planner_cases_is_in_the_table() -> None:
    planned = {
        call["operation"]
        for expected in CASES.glob("*/expected.json")
        for change in json.loads(expected.read_text())["changes"]
        for call in change["api_calls"]
    }
    assert len(planned) > 20
    assert sorted(planned - set(OPERATIONS)) == []


def test_the_table_agrees_with_the_action_catalogue() -> None:
    for name, operation in OPERATIONS.items():
        for grant in operation.grants:
            assert catalog.lookup(grant.action) == grant.action, (
                f"{name}: {grant.action} is not spelt as AWS does"
            )
            types = catalog.resource_types(grant.action)
            if grant.resource:
                assert grant.resource in types, f"{name}: {grant.action} does not act on {grant.resource}"
            else:
                assert types == (), f"{name}: {grant.action} acts on {types}, not on *"


def _policy_config(tmp_path: Path, documents: dict[str, dict[str, object]]) -> Path:
    policies = [
        {"name": f"iamstate-{command}", "document_file": f"iamstate-{command}.json"} for command in documents
    ]
    roles = [
        {
            "name": f"iamstate-{command}",
            "trusted": {"services": ["codebuild.amazonaws.com"]},
            "policies": [f"iamstate-{command}"],
        }
        for command in documents
    ]
    for command, document in documents.items():
        (tmp_path / f"iamstate-{command}.json").write_text(json.dumps(document))
    config = tmp_path / "iam.yaml"
    config.write_text(
        yaml.safe_dump({"account": {"id": "123456789012"}, "policies": policies, "roles": roles})
    )
    return config


def test_the_policies_pass_iamstates_own_document_checks(tmp_path: Path) -> None:
    config = load_config(str(EXAMPLES)).config
    documents = {command: least_policy(config, command) for command in COMMANDS}
    result = CliRunner().invoke(
        app, ["validate", str(_policy_config(tmp_path, documents)), "--format", "json"]
    )
    findings = json.loads(result.stdout)["findings"]
    grammar = ("malformed-policy", "unknown-action", "unknown-condition-key", "condition-type-mismatch")
    assert [f for f in findings if f["rule"] in (*grammar, "resource-type-mismatch", "malformed-arn")] == []
    # What does fire is what the apply policy really allows: changing IAM.
    assert {(f["rule"], f["address"]) for f in findings} == {
        ("privilege-escalation", "role.iamstate-apply"),
        ("resource-exposure", "role.iamstate-apply"),
    }


def test_every_command_may_read_the_aws_managed_policies() -> None:
    config = load_config(str(EXAMPLES)).config
    for command in COMMANDS:
        (statement,) = [
            s for s in least_policy(config, command)["Statement"] if s["Sid"] == "ReadAwsManagedPolicies"
        ]  # type: ignore[index]
        assert statement["Action"] == ["iam:GetPolicy", "iam:GetPolicyVersion"]  # type: ignore[index]
        assert statement["Resource"] == "arn:${partition}:iam::aws:policy/*"  # type: ignore[index]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_example_policy_files_are_what_the_command_prints(command: str) -> None:
    result = CliRunner().invoke(app, ["permissions", str(EXAMPLES), "--for", command])
    assert result.exit_code == 0, result.output
    path = EXAMPLES / "policies" / f"iamstate-{command}.json"
    assert path.read_text() == result.stdout, (
        f"regenerate: iamstate permissions examples --for {command} > {path}"
    )


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_plan_and_drift_policies_hold_no_write_action(command: str) -> None:
    config = load_config(str(EXAMPLES)).config
    actions = [a for s in least_policy(config, command)["Statement"] for a in s["Action"]]  # type: ignore[union-attr,index]
    assert "iam:GetAccountAuthorizationDetails" in actions
    assert {catalog.access_level(a) for a in actions} <= {"List", "Read"}
    apply_actions = [a for s in least_policy(config, "apply")["Statement"] for a in s["Action"]]  # type: ignore[union-attr,index]
    assert "Write" in {catalog.access_level(a) for a in apply_actions}


SCOPED = """
account: {id: "123456789012", stack: payments}
scope: {paths: ["/payments/", "/payments/batch/", "/shared/"]}
credentials: {max_access_key_age_days: 90, stale_access_keys: deactivate}
password_policy: {minimum_length: 14, reuse_prevention: 24}
groups:
  - {name: payers, path: /payments/}
roles:
  - name: worker
    path: /payments/
    trusted: {services: [ec2.amazonaws.com]}
    instance_profile: true
  - name: lambda
    path: /payments/
    trusted: {services: [lambda.amazonaws.com]}
"""


def _scoped(tmp_path: Path, text: str = SCOPED) -> dict[str, object]:
    (tmp_path / "iam.yaml").write_text(text)
    return resolve(least_policy(load_config(str(tmp_path)).config, "apply"), "aws", "123456789012")  # type: ignore[return-value]


def test_apply_writes_are_scoped_to_the_paths_and_the_stack(tmp_path: Path) -> None:
    policy = _scoped(tmp_path)
    ours = {"aws:ResourceTag/iamstate:stack": "payments"}
    role = "arn:aws:iam::123456789012:role/payments/worker"
    assert allows(policy, "iam:DeleteRole", role, ours)
    assert allows(policy, "iam:DeleteRole", role)  # untagged: iamstate adopts it
    assert allows(policy, "iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/shared/x", ours)
    assert not allows(policy, "iam:DeleteRole", role, {"aws:ResourceTag/iamstate:stack": "other"})
    assert not allows(policy, "iam:DeleteRole", "arn:aws:iam::123456789012:role/admin/root-ish", ours)
    assert not allows(policy, "iam:DeleteRole", "arn:aws:iam::123456789012:role/paymentsx/y", ours)
    # Creates must carry this stack's tag.
    created = "arn:aws:iam::123456789012:user/payments/new"
    assert allows(policy, "iam:CreateUser", created, {"aws:RequestTag/iamstate:stack": "payments"})
    assert not allows(policy, "iam:CreateUser", created)
    assert not allows(policy, "iam:CreateUser", created, {"aws:RequestTag/iamstate:stack": "other"})
    # Groups take no tags: bounded by path alone.
    assert allows(policy, "iam:DeleteGroup", "arn:aws:iam::123456789012:group/payments/payers")
    assert not allows(policy, "iam:DeleteGroup", "arn:aws:iam::123456789012:group/ops/admins")
    assert allows(policy, "iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/shared/x", ours)
    assert not allows(policy, "iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/other", ours)
    # PassRole only for the role an instance profile holds.
    assert allows(policy, "iam:PassRole", role, ours)
    assert not allows(policy, "iam:PassRole", "arn:aws:iam::123456789012:role/payments/lambda", ours)
    # Declared password policy and stale-key deactivation bring their actions.
    assert allows(policy, "iam:UpdateAccountPasswordPolicy", "*")
    assert allows(policy, "iam:UpdateAccessKey", "arn:aws:iam::123456789012:user/payments/bob", ours)
    sids = [s["Sid"] for s in policy["Statement"]]  # type: ignore[attr-defined]
    assert len(sids) == len(set(sids))
    resources = next(s["Resource"] for s in policy["Statement"] if s["Sid"] == "ManageRoles")  # type: ignore[attr-defined]
    assert resources == [
        "arn:aws:iam::123456789012:role/payments/*",
        "arn:aws:iam::123456789012:role/shared/*",
    ]


def test_operations_follow_the_config(tmp_path: Path) -> None:
    (tmp_path / "iam.yaml").write_text('account: {id: "123456789012"}\n')
    bare = load_config(str(tmp_path)).config
    assert "UpdateAccountPasswordPolicy" not in operations_for("apply", bare)
    assert "UpdateAccessKey" not in operations_for("apply", bare)
    assert "ListAccessKeys" not in operations_for("plan", bare)
    # Plan reads the report whenever it deletes a user (was it in use?); drift always.
    assert "GetCredentialReport" in operations_for("plan", bare)
    assert "GetCredentialReport" in operations_for("drift", bare)
    (tmp_path / "iam.yaml").write_text(SCOPED)
    scoped = load_config(str(tmp_path)).config
    assert {"UpdateAccountPasswordPolicy", "UpdateAccessKey"} <= set(operations_for("apply", scoped))
    assert {"GetCredentialReport", "ListAccessKeys"} <= set(operations_for("plan", scoped))
    assert "UpdateAccessKey" not in operations_for("plan", scoped)


def test_the_yaml_form_declares_the_same_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["permissions", str(EXAMPLES), "--for", "drift", "--format", "yaml"])
    assert result.exit_code == 0, result.output
    entry = yaml.safe_load(result.stdout)["policies"][0]
    assert entry["name"] == "iamstate-drift"
    assert entry["document"] == least_policy(load_config(str(EXAMPLES)).config, "drift")


def test_a_broken_config_is_reported_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "iam.yaml").write_text("groups:\n  - name: a\n    polices: []\n")
    result = CliRunner().invoke(app, ["permissions", str(tmp_path), "--for", "plan"])
    assert result.exit_code == 1
    assert "iam.yaml:3:5: error: unknown key 'polices'" in result.output


# --- what iamstate really calls, recorded by the strict layer ---------------------------


def _record(strict: StrictIam, work: Path, command: str, *args: str, expect: int = 0) -> list[str]:
    """Run ``command`` on work/iam and return what its policy would deny, call by call."""
    account = Account.snapshot(strict.client("iam"), strict.account_id)
    strict.clear()
    result = run_cli(strict, work, command, "iam", *args)
    assert result.returncode == expect, result.stdout + result.stderr
    calls = strict.calls()
    assert calls, "nothing was recorded"
    policy = least_policy(load_config(str(work / "iam")).config, command)
    return [
        f"{d.operation}: {d.action} on {d.resource} {dict(d.context)}"
        for d in denied_calls(policy, calls, account)
    ]


def test_the_policies_allow_every_call_plan_apply_and_drift_make(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "iam")
    iam_dir = tmp_path / "iam"
    strict_iam.root_mfa = True
    assert _record(strict_iam, tmp_path, "plan", "--detailed-exitcode", expect=2) == []
    assert _record(strict_iam, tmp_path, "apply", "--auto-approve") == []
    assert _record(strict_iam, tmp_path, "drift") == []

    # Out of band: an untagged role to adopt, and a user with every credential to delete (absent: true).
    iam = strict_iam.client("iam")
    iam.create_role(RoleName="adopted", AssumeRolePolicyDocument=json.dumps(_ec2_trust()), Description="old")
    user_with_every_credential(iam, "walk-in")
    iam.add_user_to_group(GroupName="developers", UserName="walk-in")

    def roles(d: dict) -> None:  # type: ignore[type-arg]
        d["roles"].append(
            {"name": "adopted", "description": "new", "trusted": {"services": ["ec2.amazonaws.com"]}}
        )
        web = by_name(d["roles"], "web-server")
        web["instance_profile"] = False
        by_name(d["roles"], "lambda-app")["path"] = "/app/v2/"  # a replace
        ci = by_name(d["roles"], "ci-deploy")
        del ci["permissions_boundary"]
        ci["tags"] = {"tier": "deploy"}

    def policies(d: dict) -> None:  # type: ignore[type-arg]
        reports = by_name(d["policies"], "reports-read")
        reports["document"]["Statement"][0]["Action"].append("s3:GetObjectVersion")  # type: ignore[index]
        reports["tags"] = {"team": "analytics"}

    def users(d: dict) -> None:  # type: ignore[type-arg]
        d["users"] = [u for u in d["users"] if u["name"] != "carol"] + [{"name": "walk-in", "absent": True}]
        by_name(d["users"], "bob")["path"] = "/people/"
        by_name(d["users"], "bob")["permissions_boundary"] = "dev-boundary"

    def groups(d: dict) -> None:  # type: ignore[type-arg]
        by_name(d["groups"], "read-only")["path"] = "/readers/"

    def account(d: dict) -> None:  # type: ignore[type-arg]
        d["password_policy"]["max_age_days"] = 60

    for name, change in [
        ("roles.yaml", roles),
        ("policies.yaml", policies),
        ("users.yaml", users),
        ("groups.yaml", groups),
        ("account.yaml", account),
    ]:
        edit(iam_dir / name, change)
    assert _record(strict_iam, tmp_path, "apply", "--auto-approve") == []
    made = set(strict_iam.operations())
    for operation in (
        "TagRole",
        "UpdateRole",
        "DeleteRole",
        "CreateRole",
        "DeleteInstanceProfile",
        "CreatePolicyVersion",
        "UntagRole",
        "DeleteRolePermissionsBoundary",
        "PutUserPermissionsBoundary",
        "UpdateUser",
        "UpdateGroup",
        "DeleteUser",
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DeleteSSHPublicKey",
        "DeleteSigningCertificate",
        "DeleteServiceSpecificCredential",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "UpdateAccountPasswordPolicy",
    ):
        assert operation in made, f"the scenario no longer exercises {operation}"
    assert _record(strict_iam, tmp_path, "plan") == []


def test_the_replay_catches_a_call_the_policy_does_not_allow(strict_iam: StrictIam, tmp_path: Path) -> None:
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "iam.yaml").write_text(
        f'account: {{id: "{strict_iam.account_id}"}}\n'
        "roles:\n  - {name: app, path: /app/, trusted: {services: [ec2.amazonaws.com]}}\n"
    )
    iam = strict_iam.client("iam")
    iam.create_role(
        RoleName="app",
        Path="/app/",
        AssumeRolePolicyDocument=json.dumps(_ec2_trust()),
        Tags=[{"Key": "iamstate:stack", "Value": "iamstate"}],
    )
    account = Account.snapshot(iam, strict_iam.account_id)
    strict_iam.clear()
    iam.delete_role(RoleName="app")  # as a holder of the plan policy might try
    plan_policy = least_policy(load_config(str(tmp_path / "iam")).config, "plan")
    denied = denied_calls(plan_policy, strict_iam.calls(), account)
    assert [(d.action, d.resource) for d in denied] == [
        ("iam:DeleteRole", f"arn:aws:iam::{strict_iam.account_id}:role/app/app")
    ]


def _ec2_trust() -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
