"""The boto3 executor against a real local IAM endpoint: apply a plan, then the next plan is empty."""

from __future__ import annotations

import datetime
import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff
from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import NoSuchEntity
from moto.iam.responses import IamResponse

from iamstate.apply import CreatedPrincipals, PermanentError, ProgressKind, RetryableError, apply_plan
from iamstate.aws.read import read_account
from iamstate.aws.write import Boto3Executor, already_so, is_virtual_mfa, request_params
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.ownership import owns_path_and_name
from iamstate.plan import Action, ApiCall, Phase, Plan
from iamstate.render.results import apply_text
from tests.support.credentials import user_with_every_credential
from tests.support.moto_server import LocalIam
from tests.support.strict import StrictIam

ACCOUNT = "123456789012"

FULL_CONFIG = f"""
account:
  id: "{ACCOUNT}"
password_policy:
  minimum_length: 14
  require_uppercase: true
  require_lowercase: true
  require_numbers: true
  require_symbols: true
  allow_users_to_change: true
  max_age_days: 90
  reuse_prevention: 24
policies:
  - name: reports-read
    description: Read the reports bucket
    document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [s3:GetObject, s3:ListBucket]
          Resource: ["arn:${{partition}}:s3:::reports-${{account_id}}", "arn:${{partition}}:s3:::reports-${{account_id}}/*"]
    tags: {{team: data}}
  - name: dev-boundary
    document:
      Version: "2012-10-17"
      Statement:
        - {{Effect: Allow, Action: ["s3:*", "logs:*"], Resource: "*"}}
groups:
  - name: developers
    policies: [reports-read, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
  - name: auditors
    policies: ["arn:aws:iam::aws:policy/SecurityAudit"]
users:
  - name: alice
    groups: [developers, auditors]
    tags: {{team: data}}
    permissions_boundary: dev-boundary
  - name: bob
    groups: [developers]
roles:
  - name: app-ec2
    path: /app/
    trusted: {{services: [ec2.amazonaws.com]}}
    policies: [reports-read]
    instance_profile: true
    tags: {{owner: platform}}
  - name: auditor
    description: Cross-account audit
    max_session_duration: 7200
    trusted:
      accounts: ["210987654321"]
      require_mfa: true
    policies: [reports-read, "arn:aws:iam::aws:policy/SecurityAudit"]
    permissions_boundary: dev-boundary
"""

KEEP_ONLY_TEAM = f"""
account:
  id: "{ACCOUNT}"
scope:
  prune: all  # the account is this configuration's alone: what it does not declare goes
groups:
  - name: team
"""


def _plan(path: Path, iam: Any, sts: Any) -> Plan:
    config = load_config(path).config
    live = read_account(iam, sts, owns_policy=lambda p, n: owns_path_and_name(config.scope, p, n))
    return build_plan(config, live)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "iam.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def _operations(plan: Plan) -> list[str]:
    return [c.operation for _, c in plan.ordered_calls()]


# --- moto gap: service-specific credentials -------------------------------------------


@pytest.fixture(autouse=True)
def service_specific_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, dict[str, Any]]]:
    """Create/List/DeleteServiceSpecificCredential, which moto does not implement.

    Every user deletion lists them, so every test here needs them.
    """
    store: dict[str, dict[str, Any]] = {}

    def create(self: Any) -> ActionResult:
        user = self._get_param("UserName")
        self.backend.get_user(user)  # NoSuchEntity as on AWS
        credential_id = "ACCA" + uuid.uuid4().hex[:17].upper()
        credential = {
            "CreateDate": datetime.datetime.now(datetime.UTC),
            "ServiceName": self._get_param("ServiceName"),
            "ServiceUserName": f"{user}-at-{ACCOUNT}",
            "ServicePassword": "not-a-secret",
            "ServiceSpecificCredentialId": credential_id,
            "UserName": user,
            "Status": "Active",
        }
        store[credential_id] = credential
        return ActionResult({"ServiceSpecificCredential": credential})

    def list_(self: Any) -> ActionResult:
        user = self._get_param("UserName")
        self.backend.get_user(user)
        items = [
            {k: v for k, v in c.items() if k != "ServicePassword"}
            for c in store.values()
            if c["UserName"] == user
        ]
        return ActionResult({"ServiceSpecificCredentials": items})

    def delete(self: Any) -> ActionResult:
        credential_id = self._get_param("ServiceSpecificCredentialId")
        if credential_id not in store:
            raise NoSuchEntity(f"No such credential {credential_id}")
        del store[credential_id]
        return EmptyResult()

    monkeypatch.setattr(IamResponse, "create_service_specific_credential", create, raising=False)
    monkeypatch.setattr(IamResponse, "list_service_specific_credentials", list_, raising=False)
    monkeypatch.setattr(IamResponse, "delete_service_specific_credential", delete, raising=False)
    yield store


def _gone(iam: Any, operation: str, **params: Any) -> bool:
    try:
        getattr(iam, operation)(**params)
    except iam.exceptions.NoSuchEntityException:
        return True
    return False


# --- whole plans ----------------------------------------------------------------------

ENDPOINTS = ["iam_endpoint", "strict_iam"]
"""moto alone, and moto behind the strict layer that refuses deletes AWS would refuse."""


@pytest.fixture(params=ENDPOINTS)
def endpoint(request: pytest.FixtureRequest) -> LocalIam | StrictIam:
    endpoint: LocalIam | StrictIam = request.getfixturevalue(request.param)
    return endpoint


def _nothing_refused(endpoint: LocalIam | StrictIam) -> None:
    if isinstance(endpoint, StrictIam):
        assert endpoint.refused() == []


def test_applying_a_full_config_converges_and_applying_it_again_is_harmless(
    endpoint: LocalIam | StrictIam, tmp_path: Path
) -> None:
    iam, sts = endpoint.client("iam"), endpoint.client("sts")
    path = _write(tmp_path, FULL_CONFIG)
    plan = _plan(path, iam, sts)
    assert plan.summary.add == 10  # 2 policies, 2 groups, 2 users, 2 roles, 1 profile, password policy

    first = apply_plan(plan, Boto3Executor(iam), parallelism=4)

    assert first.ok, apply_text(first.to_json())
    assert apply_text(first.to_json(), plan.to_json()["summary"]) == (
        f"Apply complete! Resources: 10 added, 0 changed, 0 destroyed.\n{len(plan.ordered_calls())} API calls made.\n"
    )
    assert _plan(path, iam, sts).changes == ()
    role = iam.get_role(RoleName="auditor")["Role"]
    assert role["Description"] == "Cross-account audit" and role["MaxSessionDuration"] == 7200
    profile = iam.get_instance_profile(InstanceProfileName="app-ec2")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["app-ec2"]
    assert iam.get_account_password_policy()["PasswordPolicy"]["PasswordReusePrevention"] == 24

    # The same plan again: every create finds its entity, every attachment is already there.
    again = apply_plan(plan, Boto3Executor(iam), parallelism=4)

    assert again.ok, apply_text(again.to_json())
    assert _plan(path, iam, sts).changes == ()
    _nothing_refused(endpoint)


def _doc(action: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    )


TRUST_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def test_deleting_everything_removes_each_prerequisite_first(
    endpoint: LocalIam | StrictIam, tmp_path: Path, service_specific_credentials: dict[str, Any]
) -> None:
    iam, sts = endpoint.client("iam"), endpoint.client("sts")
    arn = iam.create_policy(PolicyName="old", PolicyDocument=_doc("s3:ListAllMyBuckets"))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc("s3:GetObject"), SetAsDefault=True)
    iam.create_group(GroupName="team")
    iam.create_group(GroupName="old-team")
    iam.attach_group_policy(GroupName="old-team", PolicyArn=arn)
    iam.put_group_policy(GroupName="old-team", PolicyName="legacy", PolicyDocument=_doc("s3:GetObject"))
    serial = user_with_every_credential(iam, "eve")
    iam.attach_user_policy(UserName="eve", PolicyArn=arn)
    iam.put_user_policy(UserName="eve", PolicyName="extra", PolicyDocument=_doc("s3:GetObject"))
    iam.add_user_to_group(GroupName="team", UserName="eve")
    iam.add_user_to_group(GroupName="old-team", UserName="eve")
    iam.create_role(RoleName="old-role", AssumeRolePolicyDocument=TRUST_EC2, PermissionsBoundary=arn)
    iam.attach_role_policy(RoleName="old-role", PolicyArn=arn)
    iam.put_role_policy(RoleName="old-role", PolicyName="inline", PolicyDocument=_doc("s3:GetObject"))
    iam.create_instance_profile(InstanceProfileName="old-role")
    iam.add_role_to_instance_profile(InstanceProfileName="old-role", RoleName="old-role")
    path = _write(tmp_path, KEEP_ONLY_TEAM)
    plan = _plan(path, iam, sts)
    assert {(str(c.address), c.action) for c in plan.changes} == {
        ("user.eve", Action.DELETE),
        ("group.old-team", Action.DELETE),
        ("role.old-role", Action.DELETE),
        ("instance_profile.old-role", Action.DELETE),
        ("policy.old", Action.DELETE),
    }

    result = apply_plan(plan, Boto3Executor(iam), parallelism=4)

    assert result.ok, apply_text(result.to_json())
    _nothing_refused(endpoint)
    assert _gone(iam, "get_user", UserName="eve")
    assert _gone(iam, "get_role", RoleName="old-role")
    assert _gone(iam, "get_group", GroupName="old-team")
    assert _gone(iam, "get_instance_profile", InstanceProfileName="old-role")
    assert _gone(iam, "get_policy", PolicyArn=arn)
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Any")["VirtualMFADevices"] == []
    assert is_virtual_mfa(serial)
    if isinstance(endpoint, StrictIam):
        deleted = endpoint.operations(outcome="emulated")
        assert deleted.count("DeleteServiceSpecificCredential") == 1
        writes = [c.operation for c in endpoint.writes()]
        assert writes.count("DeleteAccessKey") == 2 and writes.count("DeactivateMFADevice") == 2
    else:
        assert service_specific_credentials == {}
    assert _plan(path, iam, sts).changes == ()

    # Everything is gone already: the same plan again only finds "already so".
    again = apply_plan(plan, Boto3Executor(iam), parallelism=4)
    assert again.ok, apply_text(again.to_json())
    _nothing_refused(endpoint)


def test_eventual_consistency_and_throttling_are_retried(
    strict_iam: StrictIam, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore waits up to 1 s, 2 s, ... after a throttle; 1/100 of that keeps this test fast.
    scales = dict(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, throttling_base_scale=0.01)  # type: ignore[attr-defined]
    monkeypatch.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", scales)
    iam, sts = (
        strict_iam.client("iam", retries={"mode": "standard", "max_attempts": 2}),
        strict_iam.client("sts"),
    )
    path = _write(tmp_path, FULL_CONFIG)
    plan = _plan(path, iam, sts)
    strict_iam.fail_next("AttachRolePolicy", "NoSuchEntity", 404, count=3)
    strict_iam.fail_next(
        "CreateRole",
        "MalformedPolicyDocument",
        400,
        message='Invalid principal in policy: "AWS":"arn:aws:iam::210987654321:root"',
    )
    strict_iam.fail_next("TagUser", "ConcurrentModification", 409, count=2)
    strict_iam.configure(throttle_rate=0.3, operations={"AttachGroupPolicy", "AddUserToGroup"}, seed=7)
    retries: list[str] = []

    result = apply_plan(
        plan,
        Boto3Executor(iam),
        sleep=lambda _s: None,
        on_progress=lambda e: retries.append(e.call.operation) if e.kind is ProgressKind.RETRYING else None,
    )

    assert result.ok, apply_text(result.to_json())
    assert {"AttachRolePolicy", "CreateRole"} <= set(retries)
    strict_iam.configure(throttle_rate=0)
    assert _plan(path, iam, sts).changes == ()


def test_a_permanent_error_stops_apply_and_the_next_apply_converges(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam, sts = strict_iam.client("iam"), strict_iam.client("sts")
    path = _write(tmp_path, FULL_CONFIG)
    plan = _plan(path, iam, sts)
    strict_iam.fail_next(
        "CreateUser", "AccessDenied", 403, message="not authorized to perform iam:CreateUser"
    )

    result = apply_plan(plan, Boto3Executor(iam))

    assert not result.ok
    assert [(f.call.operation, f.error) for f in result.failed] == [
        ("CreateUser", "AccessDenied: not authorized to perform iam:CreateUser")
    ]
    failed_at = (result.failed[0].call.phase, result.failed[0].call.order)
    assert result.not_started
    assert all((n.call.phase, n.call.order) >= failed_at for n in result.not_started)
    assert not any(n.call.operation.startswith(("Attach", "Add")) for n in result.done)

    second = apply_plan(_plan(path, iam, sts), Boto3Executor(iam))
    assert second.ok, apply_text(second.to_json())
    assert _plan(path, iam, sts).changes == ()


TRUSTS_A_NEW_USER = f"""
account:
  id: "{ACCOUNT}"
users:
  - name: deployer
roles:
  - name: deploy
    trusted: {{principals: ["arn:aws:iam::{ACCOUNT}:user/deployer"]}}
"""


def test_invalid_principal_is_waited_out_only_for_a_principal_the_apply_creates(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam, sts = strict_iam.client("iam"), strict_iam.client("sts")
    plan = _plan(_write(tmp_path, TRUSTS_A_NEW_USER), iam, sts)
    created = CreatedPrincipals.of(plan)
    invalid = 'Invalid principal in policy: "AWS":"arn:aws:iam::{}:user/deployer"'

    # The user was created moments ago: IAM may not see it yet, so CreateRole is retried.
    strict_iam.fail_next(
        "CreateRole", "MalformedPolicyDocument", 400, count=2, message=invalid.format(ACCOUNT)
    )
    result = apply_plan(plan, Boto3Executor(iam, created), sleep=lambda _s: None)
    assert result.ok, apply_text(result.to_json())
    assert len(strict_iam.calls("CreateRole")) == 3

    # A principal of another account (a typo'd id) never appears: one attempt, the principal named.
    iam.delete_role(RoleName="deploy")
    strict_iam.clear()
    strict_iam.fail_next(
        "CreateRole", "MalformedPolicyDocument", 400, count=5, message=invalid.format("12345678901")
    )
    result = apply_plan(
        _plan(tmp_path / "iam.yaml", iam, sts), Boto3Executor(iam, created), sleep=lambda _s: None
    )
    assert [f.call.operation for f in result.failed] == ["CreateRole"]
    assert "arn:aws:iam::12345678901:user/deployer is not one this apply creates" in result.failed[0].error
    assert len(strict_iam.calls("CreateRole")) == 1


def test_a_delete_blocked_by_an_undeclared_prerequisite_fails_and_reports_what_was_done(
    iam_endpoint: LocalIam, tmp_path: Path
) -> None:
    iam, sts = iam_endpoint.client("iam"), iam_endpoint.client("sts")
    iam.create_user(UserName="mallory")
    path = _write(tmp_path, KEEP_ONLY_TEAM.replace("groups:\n  - name: team\n", ""))
    plan = _plan(path, iam, sts)
    # Attached after planning, so the plan does not detach it: DeleteUser meets a DeleteConflict.
    iam.attach_user_policy(UserName="mallory", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")

    result = apply_plan(plan, Boto3Executor(iam), parallelism=2)

    assert not result.ok
    assert [(f.call.operation, f.error.split(":")[0]) for f in result.failed] == [
        ("DeleteUser", "DeleteConflict")
    ]
    assert len(result.done) == len(plan.ordered_calls()) - 1
    assert "Run apply again" in apply_text(result.to_json())


# --- single calls ---------------------------------------------------------------------


def _call(operation: str, phase: Phase = Phase.UPDATE, **params: Any) -> ApiCall:
    return ApiCall(operation, params, phase)


def test_already_so_rules() -> None:
    assert already_so("CreateRole", "EntityAlreadyExists")
    assert not already_so("CreatePolicyVersion", "EntityAlreadyExists")
    assert already_so("DeleteLoginProfile", "NoSuchEntity")
    assert already_so("DetachRolePolicy", "NoSuchEntity")
    assert already_so("UpdateAccessKey", "NoSuchEntity")  # a stale key deleted since planning
    assert already_so("RemoveUserFromGroup", "NoSuchEntity")
    assert already_so("UntagUser", "NoSuchEntity")
    assert not already_so("AttachRolePolicy", "NoSuchEntity")
    assert not already_so("DeleteUser", "DeleteConflict")


def test_documents_are_sent_as_json_text() -> None:
    document = {"Version": "2012-10-17", "Statement": []}
    sent = request_params({"RoleName": "r", "PolicyDocument": document, "Tags": [{"Key": "a", "Value": "b"}]})
    assert sent == {
        "RoleName": "r",
        "PolicyDocument": json.dumps(document),
        "Tags": [{"Key": "a", "Value": "b"}],
    }
    assert request_params({"PolicyDocument": "{}"}) == {"PolicyDocument": "{}"}


def test_creating_what_exists_and_deleting_what_is_gone_are_done(iam_endpoint: LocalIam) -> None:
    iam = iam_endpoint.client("iam")
    executor = Boto3Executor(iam)
    iam.create_group(GroupName="g")

    executor.execute(_call("CreateGroup", Phase.CREATE, GroupName="g", Path="/"))
    executor.execute(_call("DeleteUser", Phase.DELETE, UserName="nobody"))
    executor.execute(_call("DeleteLoginProfile", Phase.DELETE, UserName="nobody"))
    executor.execute(_call("DeleteAccessKey", Phase.DELETE, UserName="nobody"))
    executor.execute(_call("DeleteVirtualMFADevice", Phase.DELETE, UserName="nobody"))
    executor.execute(
        _call(
            "DetachGroupPolicy",
            Phase.DETACH,
            GroupName="g",
            PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        )
    )


def test_an_attachment_to_a_missing_entity_is_retryable_and_a_conflict_is_permanent(
    iam_endpoint: LocalIam,
) -> None:
    iam = iam_endpoint.client("iam")
    executor = Boto3Executor(iam)
    with pytest.raises(RetryableError) as missing:
        executor.execute(
            _call(
                "AttachRolePolicy",
                Phase.ATTACH,
                RoleName="not-yet",
                PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess",
            )
        )
    assert missing.value.code == "NoSuchEntity"

    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(PermanentError) as conflict:
        executor.execute(_call("DeleteUser", Phase.DELETE, UserName="u"))
    assert conflict.value.code == "DeleteConflict"
    assert str(conflict.value).startswith("DeleteUser failed: DeleteConflict: Cannot delete entity")


def test_adding_the_role_a_profile_already_holds_is_done_but_another_role_is_refused(
    iam_endpoint: LocalIam,
) -> None:
    iam = iam_endpoint.client("iam")
    executor = Boto3Executor(iam)
    for role in ("web", "batch"):
        iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
    iam.create_instance_profile(InstanceProfileName="web")
    add = _call("AddRoleToInstanceProfile", Phase.ATTACH, InstanceProfileName="web", RoleName="web")

    executor.execute(add)
    executor.execute(add)

    with pytest.raises(PermanentError) as other:
        executor.execute(
            _call("AddRoleToInstanceProfile", Phase.ATTACH, InstanceProfileName="web", RoleName="batch")
        )
    assert other.value.code == "LimitExceeded"


def test_virtual_mfa_devices_still_assigned_are_found_without_a_prior_deactivation(
    iam_endpoint: LocalIam,
) -> None:
    iam = iam_endpoint.client("iam")
    iam.create_user(UserName="dana")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="dana")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="dana", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    other = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]["SerialNumber"]

    Boto3Executor(iam).execute(_call("DeleteVirtualMFADevice", Phase.DELETE, UserName="dana"))

    left = [
        d["SerialNumber"] for d in iam.list_virtual_mfa_devices(AssignmentStatus="Any")["VirtualMFADevices"]
    ]
    assert left == [other]
    assert iam.list_mfa_devices(UserName="dana")["MFADevices"] == []


def test_an_unreachable_endpoint_is_retryable() -> None:
    # Port 9 on this machine (discard): nothing listens, the connection is refused at once.
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(RetryableError) as error:
        Boto3Executor(iam).execute(_call("CreateGroup", Phase.CREATE, GroupName="g"))
    assert error.value.code == "EndpointConnectionError"
