"""The strict layer in front of moto refuses what AWS refuses, injects faults and records calls."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff
from moto.iam.responses import IamResponse

from tests.support.credentials import certificate_pem
from tests.support.moto_server import LocalIam
from tests.support.strict import StrictIam

POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 test@example"


@pytest.fixture
def iam(strict_iam: StrictIam) -> Any:
    return strict_iam.client("iam")


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits up to 1 s, 2 s, ... after a throttle; 1/100 of that keeps these tests fast."""
    scales = dict(vars(ExponentialBackoff)["_DEFAULT_BACKOFF_CONFIG"], throttling_base_scale=0.01)
    monkeypatch.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", scales)


def error_of(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response: Any = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def create_policy(iam: Any, name: str = "p") -> str:
    return str(iam.create_policy(PolicyName=name, PolicyDocument=POLICY)["Policy"]["Arn"])


# --- delete prerequisites ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_delete_policy_is_refused_while_attached(strict_iam: StrictIam, iam: Any, kind: str) -> None:
    arn = create_policy(iam)
    if kind == "user":
        iam.create_user(UserName="e")
        iam.attach_user_policy(UserName="e", PolicyArn=arn)
    elif kind == "group":
        iam.create_group(GroupName="e")
        iam.attach_group_policy(GroupName="e", PolicyArn=arn)
    else:
        iam.create_role(RoleName="e", AssumeRolePolicyDocument=TRUST)
        iam.attach_role_policy(RoleName="e", PolicyArn=arn)

    assert error_of(lambda: iam.delete_policy(PolicyArn=arn)) == ("DeleteConflict", 409)
    assert [c.operation for c in strict_iam.refused()] == ["DeletePolicy"]

    getattr(iam, f"detach_{kind}_policy")(**{f"{kind.capitalize()}Name": "e", "PolicyArn": arn})
    iam.delete_policy(PolicyArn=arn)
    assert error_of(lambda: iam.get_policy(PolicyArn=arn)) == ("NoSuchEntity", 404)


@pytest.mark.parametrize("kind", ["user", "role"])
def test_delete_policy_is_refused_while_it_is_a_permissions_boundary(iam: Any, kind: str) -> None:
    arn = create_policy(iam)
    if kind == "user":
        iam.create_user(UserName="e", PermissionsBoundary=arn)
    else:
        iam.create_role(RoleName="e", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)

    assert error_of(lambda: iam.delete_policy(PolicyArn=arn)) == ("DeleteConflict", 409)

    getattr(iam, f"delete_{kind}_permissions_boundary")(**{f"{kind.capitalize()}Name": "e"})
    iam.delete_policy(PolicyArn=arn)


def test_delete_policy_is_refused_while_it_has_non_default_versions(iam: Any) -> None:
    arn = create_policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY, SetAsDefault=True)

    assert error_of(lambda: iam.delete_policy(PolicyArn=arn)) == ("DeleteConflict", 409)

    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)


def test_a_sixth_policy_version_is_refused(strict_iam: StrictIam, iam: Any) -> None:
    arn = create_policy(iam)
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY)

    assert error_of(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY)) == (
        "LimitExceeded",
        409,
    )
    assert strict_iam.refused()[-1].operation == "CreatePolicyVersion"

    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY)


GROUP_PREREQUISITES: dict[str, tuple[Callable[[Any, str], object], Callable[[Any, str], object]]] = {
    "member": (
        lambda iam, arn: (iam.create_user(UserName="m"), iam.add_user_to_group(GroupName="g", UserName="m")),
        lambda iam, arn: iam.remove_user_from_group(GroupName="g", UserName="m"),
    ),
    "inline policy": (
        lambda iam, arn: iam.put_group_policy(GroupName="g", PolicyName="i", PolicyDocument=POLICY),
        lambda iam, arn: iam.delete_group_policy(GroupName="g", PolicyName="i"),
    ),
    "attached policy": (
        lambda iam, arn: iam.attach_group_policy(GroupName="g", PolicyArn=arn),
        lambda iam, arn: iam.detach_group_policy(GroupName="g", PolicyArn=arn),
    ),
}


@pytest.mark.parametrize("prerequisite", GROUP_PREREQUISITES)
def test_delete_group_is_refused_until_its_prerequisite_is_gone(iam: Any, prerequisite: str) -> None:
    add, remove = GROUP_PREREQUISITES[prerequisite]
    arn = create_policy(iam)
    iam.create_group(GroupName="g")
    add(iam, arn)

    assert error_of(lambda: iam.delete_group(GroupName="g")) == ("DeleteConflict", 409)

    remove(iam, arn)
    iam.delete_group(GroupName="g")
    assert error_of(lambda: iam.get_group(GroupName="g")) == ("NoSuchEntity", 404)


def _add_mfa(iam: Any) -> str:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="d")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="u", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    return str(serial)


def _remove_mfa(iam: Any) -> None:
    serial = iam.list_mfa_devices(UserName="u")["MFADevices"][0]["SerialNumber"]
    iam.deactivate_mfa_device(UserName="u", SerialNumber=serial)


USER_PREREQUISITES: dict[str, tuple[Callable[[Any], object], Callable[[Any], object]]] = {
    "login profile": (
        lambda iam: iam.create_login_profile(UserName="u", Password="Secret-123-password"),
        lambda iam: iam.delete_login_profile(UserName="u"),
    ),
    "access key": (
        lambda iam: iam.create_access_key(UserName="u"),
        lambda iam: iam.delete_access_key(
            UserName="u",
            AccessKeyId=iam.list_access_keys(UserName="u")["AccessKeyMetadata"][0]["AccessKeyId"],
        ),
    ),
    "signing certificate": (
        lambda iam: iam.upload_signing_certificate(UserName="u", CertificateBody=certificate_pem()),
        lambda iam: iam.delete_signing_certificate(
            UserName="u",
            CertificateId=iam.list_signing_certificates(UserName="u")["Certificates"][0]["CertificateId"],
        ),
    ),
    "SSH public key": (
        lambda iam: iam.upload_ssh_public_key(UserName="u", SSHPublicKeyBody=SSH_KEY),
        lambda iam: iam.delete_ssh_public_key(
            UserName="u",
            SSHPublicKeyId=iam.list_ssh_public_keys(UserName="u")["SSHPublicKeys"][0]["SSHPublicKeyId"],
        ),
    ),
    "service-specific credential": (
        lambda iam: iam.create_service_specific_credential(
            UserName="u", ServiceName="codecommit.amazonaws.com"
        ),
        lambda iam: iam.delete_service_specific_credential(
            UserName="u",
            ServiceSpecificCredentialId=iam.list_service_specific_credentials(UserName="u")[
                "ServiceSpecificCredentials"
            ][0]["ServiceSpecificCredentialId"],
        ),
    ),
    "MFA device": (_add_mfa, _remove_mfa),
    "inline policy": (
        lambda iam: iam.put_user_policy(UserName="u", PolicyName="i", PolicyDocument=POLICY),
        lambda iam: iam.delete_user_policy(UserName="u", PolicyName="i"),
    ),
    "attached policy": (
        lambda iam: iam.attach_user_policy(UserName="u", PolicyArn=create_policy(iam)),
        lambda iam: iam.detach_user_policy(UserName="u", PolicyArn=attached_policy_arn(iam)),
    ),
    "group membership": (
        lambda iam: (iam.create_group(GroupName="g"), iam.add_user_to_group(GroupName="g", UserName="u")),
        lambda iam: iam.remove_user_from_group(GroupName="g", UserName="u"),
    ),
}


def attached_policy_arn(iam: Any) -> str:
    return str(iam.list_attached_user_policies(UserName="u")["AttachedPolicies"][0]["PolicyArn"])


@pytest.mark.parametrize("prerequisite", USER_PREREQUISITES)
def test_delete_user_is_refused_until_its_prerequisite_is_gone(
    strict_iam: StrictIam, iam: Any, prerequisite: str
) -> None:
    add, remove = USER_PREREQUISITES[prerequisite]
    iam.create_user(UserName="u")
    add(iam)

    assert error_of(lambda: iam.delete_user(UserName="u")) == ("DeleteConflict", 409)
    assert [c.params for c in strict_iam.refused()] == [{"UserName": "u"}]

    remove(iam)
    iam.delete_user(UserName="u")
    assert error_of(lambda: iam.get_user(UserName="u")) == ("NoSuchEntity", 404)


def test_a_permissions_boundary_does_not_block_delete_user(iam: Any) -> None:
    iam.create_user(UserName="u", PermissionsBoundary=create_policy(iam))

    iam.delete_user(UserName="u")


ROLE_PREREQUISITES: dict[str, tuple[Callable[[Any, str], object], Callable[[Any, str], object]]] = {
    "instance profile": (
        lambda iam, arn: (
            iam.create_instance_profile(InstanceProfileName="ip"),
            iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r"),
        ),
        lambda iam, arn: iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="r"),
    ),
    "inline policy": (
        lambda iam, arn: iam.put_role_policy(RoleName="r", PolicyName="i", PolicyDocument=POLICY),
        lambda iam, arn: iam.delete_role_policy(RoleName="r", PolicyName="i"),
    ),
    "attached policy": (
        lambda iam, arn: iam.attach_role_policy(RoleName="r", PolicyArn=arn),
        lambda iam, arn: iam.detach_role_policy(RoleName="r", PolicyArn=arn),
    ),
}


@pytest.mark.parametrize("prerequisite", ROLE_PREREQUISITES)
def test_delete_role_is_refused_until_its_prerequisite_is_gone(
    strict_iam: StrictIam, iam: Any, prerequisite: str
) -> None:
    add, remove = ROLE_PREREQUISITES[prerequisite]
    arn = create_policy(iam)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    add(iam, arn)

    assert error_of(lambda: iam.delete_role(RoleName="r")) == ("DeleteConflict", 409)
    # Refused by the layer, before moto (which has this rule too) sees the call.
    assert strict_iam.calls("DeleteRole")[0].outcome == "refused"

    remove(iam, arn)
    iam.delete_role(RoleName="r")


def test_delete_instance_profile_is_refused_while_it_holds_a_role(strict_iam: StrictIam, iam: Any) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")

    assert error_of(lambda: iam.delete_instance_profile(InstanceProfileName="ip")) == ("DeleteConflict", 409)
    assert strict_iam.calls("DeleteInstanceProfile")[0].outcome == "refused"

    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="r")
    iam.delete_instance_profile(InstanceProfileName="ip")


def test_delete_virtual_mfa_device_is_refused_while_assigned(iam: Any) -> None:
    iam.create_user(UserName="u")
    serial = _add_mfa(iam)

    assert error_of(lambda: iam.delete_virtual_mfa_device(SerialNumber=serial)) == ("DeleteConflict", 409)

    _remove_mfa(iam)
    iam.delete_virtual_mfa_device(SerialNumber=serial)


def test_service_specific_credentials_behave_like_aws(strict_iam: StrictIam, iam: Any) -> None:
    iam.create_user(UserName="u")
    created = iam.create_service_specific_credential(UserName="u", ServiceName="codecommit.amazonaws.com")
    credential = created["ServiceSpecificCredential"]
    assert credential["ServiceUserName"] == f"u-at-{strict_iam.account_id}"
    assert credential["ServicePassword"]

    iam.update_service_specific_credential(
        UserName="u", ServiceSpecificCredentialId=credential["ServiceSpecificCredentialId"], Status="Inactive"
    )
    listed = iam.list_service_specific_credentials(UserName="u")["ServiceSpecificCredentials"]
    assert [(c["ServiceSpecificCredentialId"], c["Status"]) for c in listed] == [
        (credential["ServiceSpecificCredentialId"], "Inactive")
    ]
    assert "ServicePassword" not in listed[0]

    assert error_of(lambda: iam.list_service_specific_credentials(UserName="nobody")) == ("NoSuchEntity", 404)
    iam.create_service_specific_credential(UserName="u", ServiceName="codecommit.amazonaws.com")
    assert error_of(
        lambda: iam.create_service_specific_credential(UserName="u", ServiceName="codecommit.amazonaws.com")
    ) == ("LimitExceeded", 409)


# --- faults --------------------------------------------------------------------------


# botocore's Config counts ``max_attempts`` as retries after the first attempt;
# ``total_max_attempts`` (and AWS_MAX_ATTEMPTS) count every attempt.
RETRY_SETTINGS = [({"total_max_attempts": 3}, 3), ({"max_attempts": 3}, 4)]


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(("retries", "attempts"), RETRY_SETTINGS)
def test_throttling_is_retried_then_surfaces_as_throttling(
    strict_iam: StrictIam, retries: dict[str, int], attempts: int
) -> None:
    strict_iam.throttle_rate = 1.0
    iam = strict_iam.client("iam", retries={"mode": "standard", **retries})

    assert error_of(lambda: iam.list_users()) == ("Throttling", 400)

    assert [(c.operation, c.status, c.outcome) for c in strict_iam.calls()] == [
        ("ListUsers", 400, "injected")
    ] * attempts


@pytest.mark.parametrize(("retries", "attempts"), RETRY_SETTINGS)
def test_service_unavailable_is_retried_then_surfaces(
    strict_iam: StrictIam, retries: dict[str, int], attempts: int
) -> None:
    strict_iam.unavailable_rate = 1.0
    iam = strict_iam.client("iam", retries={"mode": "standard", **retries})

    assert error_of(lambda: iam.get_user(UserName="u")) == ("ServiceUnavailable", 503)

    assert len(strict_iam.calls("GetUser", outcome="injected")) == attempts
    assert strict_iam.calls(outcome="forwarded") == []


@pytest.mark.usefixtures("fast_backoff")
def test_moderate_fault_rates_are_absorbed_by_retries(strict_iam: StrictIam) -> None:
    strict_iam.configure(throttle_rate=0.3, unavailable_rate=0.3, seed=7)
    iam = strict_iam.client("iam", retries={"mode": "standard", "max_attempts": 10})

    for n in range(10):
        iam.create_user(UserName=f"u{n}")

    assert len(strict_iam.calls("CreateUser", outcome="forwarded")) == 10
    assert strict_iam.calls(outcome="injected"), "rate 0.3 over 10+ calls should inject some faults"
    strict_iam.configure(throttle_rate=0.0, unavailable_rate=0.0)
    assert len(iam.list_users()["Users"]) == 10


def test_faults_can_be_limited_to_some_operations(strict_iam: StrictIam) -> None:
    strict_iam.configure(throttle_rate=1.0, operations={"CreateUser"})
    iam = strict_iam.client("iam", retries={"mode": "standard", "total_max_attempts": 1})

    assert error_of(lambda: iam.create_user(UserName="u")) == ("Throttling", 400)
    assert iam.list_users()["Users"] == []


def test_latency_is_added_to_each_call(strict_iam: StrictIam, iam: Any) -> None:
    strict_iam.latency = 0.1

    started = time.monotonic()
    for _ in range(5):
        iam.list_users()
    elapsed = time.monotonic() - started

    assert elapsed >= 5 * 0.1


def test_latency_does_not_serialise_writes(strict_iam: StrictIam, iam: Any) -> None:
    strict_iam.latency = 0.3

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(lambda n: iam.create_group(GroupName=f"g{n}"), range(5)))

    assert time.monotonic() - started < 5 * 0.3


def test_fail_next_injects_a_permanent_error_once(strict_iam: StrictIam, iam: Any) -> None:
    iam.create_user(UserName="u")
    strict_iam.fail_next("DeleteUser", "AccessDenied", 403)

    assert error_of(lambda: iam.delete_user(UserName="u")) == ("AccessDenied", 403)
    assert [c.outcome for c in strict_iam.calls("DeleteUser")] == ["injected"]  # not retried

    iam.delete_user(UserName="u")


def test_fail_next_injects_eventual_consistency_for_a_count_of_calls(strict_iam: StrictIam, iam: Any) -> None:
    iam.create_user(UserName="u")
    strict_iam.fail_next("GetUser", "NoSuchEntity", 404, count=2)

    assert error_of(lambda: iam.get_user(UserName="u")) == ("NoSuchEntity", 404)
    assert error_of(lambda: iam.get_user(UserName="u")) == ("NoSuchEntity", 404)
    assert iam.get_user(UserName="u")["User"]["UserName"] == "u"
    assert [c.status for c in strict_iam.calls("GetUser")] == [404, 404, 200]


# --- concurrency ---------------------------------------------------------------------


def _track_concurrency(monkeypatch: pytest.MonkeyPatch, method: str, hold: float) -> Callable[[], int]:
    """Wrap a handler of the in-process moto server; returns the most calls it saw at once."""
    original = getattr(IamResponse, method)
    lock = threading.Lock()
    running = 0
    most = 0

    def tracked(self: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(hold)
            return original(self)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(IamResponse, method, tracked)
    return lambda: most


def test_writes_reach_moto_one_at_a_time(
    strict_iam: StrictIam, iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    most_at_once = _track_concurrency(monkeypatch, "create_user", hold=0.01)

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda n: iam.create_user(UserName=f"u{n:02}"), range(20)))

    assert most_at_once() == 1
    assert sorted(c.params["UserName"] for c in strict_iam.writes()) == [f"u{n:02}" for n in range(20)]
    assert {(c.status, c.outcome) for c in strict_iam.writes()} == {(200, "forwarded")}
    assert len(iam.list_users()["Users"]) == 20


def test_reads_reach_moto_concurrently(iam: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    iam.create_user(UserName="u")
    most_at_once = _track_concurrency(monkeypatch, "get_user", hold=0.2)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: iam.get_user(UserName="u"), range(4)))

    assert most_at_once() > 1


# --- the caller and the account ----------------------------------------------------


def test_caller_can_be_root(strict_iam: StrictIam) -> None:
    sts = strict_iam.client("sts")
    assert sts.get_caller_identity()["Arn"] != f"arn:aws:iam::{strict_iam.account_id}:root"

    strict_iam.caller_is_root = True
    identity = sts.get_caller_identity()

    assert identity["Arn"] == f"arn:aws:iam::{strict_iam.account_id}:root"
    assert identity["Account"] == strict_iam.account_id
    assert strict_iam.calls("GetCallerIdentity")[-1].service == "sts"


def test_account_summary_reports_root_mfa_and_root_keys_as_set(strict_iam: StrictIam, iam: Any) -> None:
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"]) == (0, 0)

    strict_iam.root_mfa = True
    strict_iam.root_access_keys = True
    summary = iam.get_account_summary()["SummaryMap"]

    assert (summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"]) == (1, 1)
    assert summary["UsersQuota"] == 5000  # the rest is moto's answer


# --- the fixture ---------------------------------------------------------------------


def test_environment_points_boto3_at_the_layer(strict_iam: StrictIam) -> None:
    boto3.session.Session().client("iam").create_user(UserName="from-env")

    assert [c.params for c in strict_iam.writes()] == [{"UserName": "from-env"}]


def test_reset_restores_defaults_and_a_clean_account(strict_iam: StrictIam, iam: Any) -> None:
    iam.create_user(UserName="u")
    iam.create_service_specific_credential(UserName="u", ServiceName="codecommit.amazonaws.com")
    strict_iam.configure(throttle_rate=0.5, unavailable_rate=0.5, latency=0.5, operations={"X"})
    strict_iam.fail_next("ListUsers", "AccessDenied", 403)
    strict_iam.caller_is_root = True
    strict_iam.root_mfa = True
    strict_iam.root_access_keys = True

    strict_iam.reset()

    assert strict_iam.calls() == []
    assert (strict_iam.throttle_rate, strict_iam.unavailable_rate, strict_iam.latency) == (0, 0, 0)
    assert strict_iam.fault_operations is None
    assert not (strict_iam.caller_is_root or strict_iam.root_mfa or strict_iam.root_access_keys)
    assert iam.list_users()["Users"] == []  # no AccessDenied left either
    iam.create_user(UserName="u")
    assert iam.list_service_specific_credentials(UserName="u")["ServiceSpecificCredentials"] == []
    assert not strict_iam.client("sts").get_caller_identity()["Arn"].endswith(":root")
    assert [c.outcome for c in strict_iam.calls()] == ["forwarded", "forwarded", "emulated", "forwarded"]


def test_clear_forgets_records_only(strict_iam: StrictIam, iam: Any) -> None:
    iam.create_user(UserName="u")
    strict_iam.clear()

    assert strict_iam.calls() == []
    assert iam.get_user(UserName="u")["User"]["UserName"] == "u"


@pytest.fixture
def own_layer(moto_server: LocalIam) -> Iterator[StrictIam]:
    with StrictIam(moto_server) as layer:
        yield layer


def test_stop_closes_the_port(own_layer: StrictIam) -> None:
    iam = own_layer.client("iam", retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1)
    iam.list_users()
    own_layer.stop()

    with pytest.raises(Exception, match="Could not connect"):
        iam.list_users()
