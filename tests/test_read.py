"""Reading live IAM: the whole account in a handful of paged calls, into the model."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from iamstate.aws.read import partition_of, read_account, state_from_responses
from iamstate.aws.session import CallCounter, client_config, iam_client, make_session, sts_client
from iamstate.errors import AwsError
from iamstate.kinds.base import decode_document, tags_from
from iamstate.kinds.group import Group
from iamstate.kinds.instance_profile import InstanceProfile, instance_profile_from
from iamstate.kinds.password_policy import PasswordPolicy, password_policy_from
from iamstate.kinds.policy import ManagedPolicy, policy_from_detail
from iamstate.kinds.role import Role, role_from_detail
from iamstate.kinds.user import User, user_from_detail
from iamstate.model import PASSWORD_POLICY_ADDRESS, Address, Kind
from iamstate.policy import normalize
from tests.support.moto_server import ACCOUNT_ID, LocalIam

READ_DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
DENY_DOC = {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": ["*"], "Resource": "*"}}
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Principal": {"AWS": "210987654321"}, "Action": ["sts:assumerole"]},
}
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PER_ENTITY_OPERATIONS = {
    "GetRole",
    "GetUser",
    "GetGroup",
    "GetPolicy",
    "GetPolicyVersion",
    "GetInstanceProfile",
    "ListAttachedRolePolicies",
    "ListAttachedUserPolicies",
    "ListAttachedGroupPolicies",
    "ListRolePolicies",
    "ListUserPolicies",
    "ListGroupPolicies",
    "ListRoleTags",
    "ListUserTags",
    "ListGroupsForUser",
    "ListInstanceProfilesForRole",
    "ListPolicyVersions",
}


def policy_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:policy{path}{name}"


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def read(local: LocalIam, **kwargs: Any) -> Any:
    return read_account(local.client("iam"), local.client("sts"), **kwargs)


def build_account(iam: Any) -> None:
    """A small account that exercises every field the reader fills."""
    iam.create_policy(
        PolicyName="boundary",
        Path="/guard/",
        PolicyDocument=json.dumps(READ_DOC),
        Description="Boundary for developers",
        Tags=tag_list({"iamstate:stack": "platform"}),
    )
    iam.create_policy_version(
        PolicyArn=policy_arn("boundary", "/guard/"), PolicyDocument=json.dumps(DENY_DOC), SetAsDefault=True
    )
    iam.create_policy(
        PolicyName="reports-read", PolicyDocument=json.dumps(READ_DOC), Tags=tag_list({"team": "d"})
    )

    iam.create_group(GroupName="developers", Path="/teams/")
    iam.attach_group_policy(GroupName="developers", PolicyArn=policy_arn("reports-read"))
    iam.attach_group_policy(GroupName="developers", PolicyArn=READ_ONLY_ACCESS)
    iam.put_group_policy(GroupName="developers", PolicyName="legacy", PolicyDocument=json.dumps(READ_DOC))

    iam.create_user(
        UserName="alice",
        Path="/people/",
        PermissionsBoundary=policy_arn("boundary", "/guard/"),
        Tags=tag_list({"team": "data"}),
    )
    iam.add_user_to_group(UserName="alice", GroupName="developers")
    iam.attach_user_policy(UserName="alice", PolicyArn=policy_arn("reports-read"))
    iam.put_user_policy(UserName="alice", PolicyName="scratch", PolicyDocument=json.dumps(DENY_DOC))
    iam.create_user(UserName="bob")

    iam.create_role(
        RoleName="ci-deploy",
        Path="/ci/",
        AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST),
        Description="Deploys from main",
        MaxSessionDuration=7200,
        PermissionsBoundary=policy_arn("boundary", "/guard/"),
        Tags=tag_list({"owner": "platform"}),
    )
    iam.attach_role_policy(RoleName="ci-deploy", PolicyArn=policy_arn("reports-read"))
    iam.attach_role_policy(RoleName="ci-deploy", PolicyArn=READ_ONLY_ACCESS)
    iam.put_role_policy(RoleName="ci-deploy", PolicyName="inline", PolicyDocument=json.dumps(READ_DOC))

    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.create_instance_profile(InstanceProfileName="web", Path="/hosts/")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    iam.create_instance_profile(InstanceProfileName="spare", Tags=tag_list({"unused": "yes"}))

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


# --- against the local endpoint -------------------------------------------------------


def test_reads_every_kind_of_entity(iam_endpoint: LocalIam) -> None:
    build_account(iam_endpoint.client("iam"))

    live = read(iam_endpoint)

    assert live.account_id == ACCOUNT_ID
    assert live.partition == "aws"
    assert live.caller_arn.startswith(f"arn:aws:sts::{ACCOUNT_ID}:")
    state = live.state
    assert sorted(str(a) for a in state) == [
        "group.developers",
        "instance_profile.spare",
        "instance_profile.web",
        "password_policy.account",
        "policy.boundary",
        "policy.reports-read",
        "role.ci-deploy",
        "role.web",
        "user.alice",
        "user.bob",
    ]

    boundary = state.get(Address(Kind.POLICY, "boundary"))
    assert isinstance(boundary, ManagedPolicy)
    assert boundary.path == "/guard/"
    assert boundary.description == "Boundary for developers"
    assert boundary.arn == policy_arn("boundary", "/guard/")
    assert boundary.document == normalize(DENY_DOC)
    assert [(v.version_id, v.is_default) for v in boundary.versions] == [("v1", False), ("v2", True)]
    assert all(datetime.fromisoformat(v.create_date) for v in boundary.versions)
    assert boundary.tags == {"iamstate:stack": "platform"}

    assert state.get(Address(Kind.GROUP, "developers")) == Group(
        name="developers",
        path="/teams/",
        policies=frozenset({policy_arn("reports-read"), READ_ONLY_ACCESS}),
        inline_policies={"legacy": normalize(READ_DOC)},
    )

    alice = state.get(Address(Kind.USER, "alice"))
    assert alice == User(
        name="alice",
        path="/people/",
        groups=frozenset({"developers"}),
        policies=frozenset({policy_arn("reports-read")}),
        permissions_boundary=policy_arn("boundary", "/guard/"),
        tags={"team": "data"},
        inline_policies={"scratch": normalize(DENY_DOC)},
    )
    assert alice.arn == f"arn:aws:iam::{ACCOUNT_ID}:user/people/alice"
    assert state.get(Address(Kind.USER, "bob")) == User(name="bob")

    ci = state.get(Address(Kind.ROLE, "ci-deploy"))
    assert ci == Role(
        name="ci-deploy",
        path="/ci/",
        description="Deploys from main",
        trust=normalize(ACCOUNT_TRUST),
        policies=frozenset({policy_arn("reports-read"), READ_ONLY_ACCESS}),
        max_session_duration=7200,
        permissions_boundary=policy_arn("boundary", "/guard/"),
        tags={"owner": "platform"},
        inline_policies={"inline": normalize(READ_DOC)},
    )
    assert ci.instance_profiles == frozenset()

    web = state.get(Address(Kind.ROLE, "web"))
    assert isinstance(web, Role)
    assert (web.description, web.max_session_duration, web.trust) == ("", 3600, normalize(EC2_TRUST))
    assert web.instance_profiles == frozenset({"web"})

    assert state.get(Address(Kind.INSTANCE_PROFILE, "web")) == InstanceProfile(
        name="web", path="/hosts/", roles=frozenset({"web"})
    )
    # Held by no role, so only ListInstanceProfiles shows it.
    # In scope and not declared: a plan could delete it, so its tags are read.
    assert state.get(Address(Kind.INSTANCE_PROFILE, "spare")) == InstanceProfile(
        name="spare", tags={"unused": "yes"}
    )

    assert state.get(PASSWORD_POLICY_ADDRESS) == PasswordPolicy(
        minimum_length=14,
        require_uppercase=True,
        require_lowercase=True,
        require_numbers=True,
        require_symbols=True,
        allow_users_to_change=True,
        max_age_days=90,
        reuse_prevention=24,
        hard_expiry=False,
    )


def test_reading_costs_pages_not_entities(iam_endpoint: LocalIam) -> None:
    build_account(iam_endpoint.client("iam"))

    live = read(iam_endpoint)

    assert live.api_calls == {
        "GetAccountAuthorizationDetails": 1,
        "GetAccountPasswordPolicy": 1,
        "GetCallerIdentity": 1,
        "ListAccountAliases": 1,
        "ListInstanceProfileTags": 2,
        "ListInstanceProfiles": 1,
        "ListOpenIDConnectProviders": 1,
        "ListPolicyTags": 2,
        "ListRoles": 1,
        "ListSAMLProviders": 1,
    }
    assert not PER_ENTITY_OPERATIONS & set(live.api_calls)


def test_instance_profile_tags_are_read_only_where_a_plan_could_delete_the_profile(
    iam_endpoint: LocalIam,
) -> None:
    iam = iam_endpoint.client("iam")
    for name, path in (("declared", "/team/"), ("candidate", "/team/"), ("elsewhere", "/other/")):
        iam.create_instance_profile(
            InstanceProfileName=name, Path=path, Tags=tag_list({"iamstate:stack": "t"})
        )

    live = read(
        iam_endpoint,
        owns_policy=lambda path, name: path.startswith("/team/"),
        declared=lambda kind, name: kind is Kind.INSTANCE_PROFILE and name == "declared",
    )

    assert live.api_calls["ListInstanceProfileTags"] == 1
    tags = {p.name: dict(p.tags) for p in live.state.of_kind(Kind.INSTANCE_PROFILE)}  # type: ignore[attr-defined]
    assert tags == {"candidate": {"iamstate:stack": "t"}, "declared": {}, "elsewhere": {}}


def test_reads_tags_only_of_owned_policies(iam_endpoint: LocalIam) -> None:
    build_account(iam_endpoint.client("iam"))
    asked: list[tuple[str, str]] = []

    def owns_policy(path: str, name: str) -> bool:
        asked.append((path, name))
        return path.startswith("/guard/")

    live = read(iam_endpoint, owns_policy=owns_policy, tag_concurrency=2)

    policies = {(p.path, p.name) for p in live.state.of_kind(Kind.POLICY)}
    assert sorted(set(asked) & policies) == [("/", "reports-read"), ("/guard/", "boundary")]
    assert live.api_calls["ListPolicyTags"] == 1
    boundary = live.state.get(Address(Kind.POLICY, "boundary"))
    reports = live.state.get(Address(Kind.POLICY, "reports-read"))
    assert isinstance(boundary, ManagedPolicy)
    assert isinstance(reports, ManagedPolicy)
    assert boundary.tags == {"iamstate:stack": "platform"}
    assert reports.tags == {}


def test_many_owned_policies_are_tagged_concurrently_and_correctly(iam_endpoint: LocalIam) -> None:
    iam = iam_endpoint.client("iam")
    for i in range(30):
        iam.create_policy(
            PolicyName=f"p{i}", PolicyDocument=json.dumps(READ_DOC), Tags=tag_list({"n": str(i)})
        )

    live = read(iam_endpoint, tag_concurrency=8)

    assert live.api_calls["ListPolicyTags"] == 30
    for i in range(30):
        policy = live.state.get(Address(Kind.POLICY, f"p{i}"))
        assert isinstance(policy, ManagedPolicy)
        assert policy.tags == {"n": str(i)}


def test_aws_managed_policies_are_not_read(iam_endpoint: LocalIam) -> None:
    iam = iam_endpoint.client("iam")
    # The endpoint holds AWS's managed policies, as an account does.
    assert iam.get_policy(PolicyArn=READ_ONLY_ACCESS)["Policy"]["PolicyName"] == "ReadOnlyAccess"
    iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.attach_role_policy(RoleName="auditor", PolicyArn=READ_ONLY_ACCESS)

    live = read(iam_endpoint)

    assert live.state.of_kind(Kind.POLICY) == []
    auditor = live.state.get(Address(Kind.ROLE, "auditor"))
    assert isinstance(auditor, Role)
    assert auditor.policies == frozenset({READ_ONLY_ACCESS})
    assert "ListPolicyTags" not in live.api_calls


def test_account_without_password_policy_has_none_in_state(iam_endpoint: LocalIam) -> None:
    live = read(iam_endpoint)

    assert len(live.state) == 0
    assert live.state.get(PASSWORD_POLICY_ADDRESS) is None
    assert live.api_calls["GetAccountPasswordPolicy"] == 1


def test_password_policy_without_expiry_or_reuse_prevention(iam_endpoint: LocalIam) -> None:
    iam_endpoint.client("iam").update_account_password_policy(MinimumPasswordLength=20)

    live = read(iam_endpoint)

    assert live.state.get(PASSWORD_POLICY_ADDRESS) == PasswordPolicy(
        minimum_length=20, max_age_days=None, reuse_prevention=None
    )


def test_counts_only_its_own_calls(iam_endpoint: LocalIam) -> None:
    iam, sts = iam_endpoint.client("iam"), iam_endpoint.client("sts")
    iam.list_users()

    first = read_account(iam, sts)
    second = read_account(iam, sts)

    assert first.api_calls == second.api_calls
    assert "ListUsers" not in first.api_calls
    assert sum(first.api_calls.values()) == 8


def test_clients_from_the_session_helpers_reach_the_endpoint_from_the_environment(
    iam_endpoint: LocalIam,
) -> None:
    # iam_endpoint exported AWS_ENDPOINT_URL; endpoint_url=None must leave it in force.
    session = make_session(None)
    iam, sts = iam_client(session, None), sts_client(session, None)
    assert iam.meta.endpoint_url == iam_endpoint.endpoint
    counter = CallCounter()
    counter.attach(iam, sts)
    counter.attach(iam)  # attaching twice counts once

    live = read_account(iam, sts)
    iam.list_roles()

    assert live.account_id == ACCOUNT_ID
    assert counter.snapshot()["ListRoles"] == 2
    assert counter.total == sum(live.api_calls.values()) + 1
    counter.detach(iam, sts)
    iam.list_roles()
    assert counter.snapshot()["ListRoles"] == 2


def clients_for(endpoint: str) -> tuple[Any, Any]:
    config = client_config().merge(Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2))
    session = make_session(None)
    return (
        session.client("iam", endpoint_url=endpoint, region_name="us-east-1", config=config),
        session.client("sts", endpoint_url=endpoint, region_name="us-east-1", config=config),
    )


def test_unreachable_endpoint_is_a_one_line_aws_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    iam, sts = clients_for("http://127.0.0.1:9")

    with pytest.raises(AwsError) as raised:
        read_account(iam, sts)

    assert str(raised.value) == (
        'sts:GetCallerIdentity failed: Could not connect to the endpoint URL: "http://127.0.0.1:9/"'
    )


def test_missing_credentials_is_a_one_line_aws_error(
    iam_endpoint: LocalIam, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    iam, sts = clients_for(iam_endpoint.endpoint)

    with pytest.raises(AwsError, match=r"^sts:GetCallerIdentity failed: no AWS credentials found \("):
        read_account(iam, sts)


def test_access_denied_names_the_operation(iam_endpoint: LocalIam) -> None:
    iam, sts = iam_endpoint.client("iam"), iam_endpoint.client("sts")

    def deny(**_: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": "User: arn:aws:iam::123456789012:user/ci is not authorized\nto perform it",
                }
            },
            "GetAccountAuthorizationDetails",
        )

    iam.meta.events.register("before-call.iam.GetAccountAuthorizationDetails", deny)

    with pytest.raises(AwsError) as raised:
        read_account(iam, sts)

    assert str(raised.value) == (
        "iam:GetAccountAuthorizationDetails failed: AccessDenied: "
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform it"
    )


def test_tag_concurrency_must_be_positive(iam_endpoint: LocalIam) -> None:
    with pytest.raises(ValueError):
        read(iam_endpoint, tag_concurrency=0)


# --- pure converters ------------------------------------------------------------------


CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_decode_document_accepts_every_form_iam_and_botocore_hand_over() -> None:
    text = json.dumps(READ_DOC)
    assert decode_document(READ_DOC) == READ_DOC
    assert decode_document(text) == READ_DOC
    assert decode_document(urllib.parse.quote(text, safe="")) == READ_DOC
    with pytest.raises(AwsError):
        decode_document("%7Bnot json")


def test_url_encoded_documents_in_a_role_detail_are_decoded_and_normalized() -> None:
    detail = {
        "RoleName": "ci",
        "Path": "/ci/",
        "Arn": "arn:aws:iam::123456789012:role/ci/ci",
        "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(ACCOUNT_TRUST)),
        "RolePolicyList": [{"PolicyName": "x", "PolicyDocument": urllib.parse.quote(json.dumps(READ_DOC))}],
        "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY_ACCESS}],
        "PermissionsBoundary": {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": "b",
        },
        "Tags": [{"Key": "owner", "Value": "platform"}],
        "InstanceProfileList": [{"InstanceProfileName": "ci", "Path": "/", "Roles": []}],
    }

    role = role_from_detail(detail, {"RoleName": "ci", "Description": "CI", "MaxSessionDuration": 43200})

    assert role == Role(
        name="ci",
        path="/ci/",
        description="CI",
        trust=normalize(ACCOUNT_TRUST),
        policies=frozenset({READ_ONLY_ACCESS}),
        max_session_duration=43200,
        permissions_boundary="b",
        tags={"owner": "platform"},
        inline_policies={"x": normalize(READ_DOC)},
    )
    assert role.arn == "arn:aws:iam::123456789012:role/ci/ci"
    assert role.instance_profiles == frozenset({"ci"})


def test_role_missed_by_list_roles_gets_iam_defaults() -> None:
    role = role_from_detail({"RoleName": "late", "AssumeRolePolicyDocument": EC2_TRUST}, None)
    assert (role.description, role.max_session_duration, role.permissions_boundary) == ("", 3600, None)


def test_user_detail_with_url_encoded_inline_policy() -> None:
    user = user_from_detail(
        {
            "UserName": "alice",
            "Path": "/",
            "GroupList": ["a", "b"],
            "UserPolicyList": [
                {"PolicyName": "p", "PolicyDocument": urllib.parse.quote(json.dumps(DENY_DOC))}
            ],
        }
    )
    assert user == User(
        name="alice", groups=frozenset({"a", "b"}), inline_policies={"p": normalize(DENY_DOC)}
    )


def test_policy_versions_are_oldest_first_and_the_document_is_the_default_one() -> None:
    def version(vid: str, day: int, default: bool, doc: Any) -> dict[str, Any]:
        return {
            "VersionId": vid,
            "IsDefaultVersion": default,
            "CreateDate": CREATED.replace(day=day),
            "Document": doc,
        }

    detail = {
        "PolicyName": "p",
        "Path": "/x/",
        "Arn": policy_arn("p", "/x/"),
        "DefaultVersionId": "v3",
        "PolicyVersionList": [
            version("v10", 4, False, READ_DOC),
            version("v3", 2, True, urllib.parse.quote(json.dumps(DENY_DOC))),
            version("v2", 1, False, READ_DOC),
        ],
    }

    policy = policy_from_detail(detail, {"team": "data"})

    assert policy == ManagedPolicy(name="p", path="/x/", document=normalize(DENY_DOC), tags={"team": "data"})
    assert [(v.version_id, v.is_default) for v in policy.versions] == [
        ("v2", False),
        ("v3", True),
        ("v10", False),
    ]
    assert policy.versions[0].create_date == "2024-05-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(
            {"MinimumPasswordLength": 8, "ExpirePasswords": False, "MaxPasswordAge": 0, "HardExpiry": False},
            PasswordPolicy(),
            id="max-age-zero-means-no-expiry",
        ),
        pytest.param({"MinimumPasswordLength": 12}, PasswordPolicy(minimum_length=12), id="absent-fields"),
        pytest.param(
            {
                "MinimumPasswordLength": 14,
                "RequireSymbols": True,
                "RequireNumbers": True,
                "RequireUppercaseCharacters": True,
                "RequireLowercaseCharacters": True,
                "AllowUsersToChangePassword": True,
                "ExpirePasswords": True,
                "MaxPasswordAge": 90,
                "PasswordReusePrevention": 24,
                "HardExpiry": True,
            },
            PasswordPolicy(14, True, True, True, True, True, 90, 24, True),
            id="every-field",
        ),
    ],
)
def test_password_policy_fields(response: dict[str, Any], expected: PasswordPolicy) -> None:
    assert password_policy_from(response) == expected


def test_instance_profile_tags_are_ignored() -> None:
    profile = instance_profile_from(
        {
            "InstanceProfileName": "web",
            "Path": "/hosts/",
            "Arn": "arn:aws:iam::123456789012:instance-profile/hosts/web",
            "Roles": [{"RoleName": "web"}],
            "Tags": [{"Key": "a", "Value": "b"}],
        }
    )
    assert profile == InstanceProfile(name="web", path="/hosts/", roles=frozenset({"web"}))


def test_tags_and_partitions() -> None:
    assert tags_from([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]) == {"a": "1", "b": ""}
    assert tags_from(None) == {}
    assert partition_of("arn:aws-cn:sts::123456789012:assumed-role/x/y") == "aws-cn"
    assert partition_of("arn:aws-us-gov:iam::123456789012:user/x") == "aws-us-gov"
    with pytest.raises(AwsError):
        partition_of("not-an-arn")


def test_state_from_responses_merges_the_calls() -> None:
    details: dict[str, Any] = {
        "UserDetailList": [],
        "GroupDetailList": [{"GroupName": "g"}],
        "RoleDetailList": [
            {
                "RoleName": "web",
                "AssumeRolePolicyDocument": EC2_TRUST,
                "InstanceProfileList": [{"InstanceProfileName": "web", "Roles": [{"RoleName": "web"}]}],
            }
        ],
        "Policies": [
            {"PolicyName": "kept", "Arn": policy_arn("kept"), "PolicyVersionList": []},
            {"PolicyName": "gone", "Arn": policy_arn("gone"), "PolicyVersionList": []},
            {"PolicyName": "foreign", "Arn": policy_arn("foreign"), "PolicyVersionList": []},
        ],
    }
    listed_roles = [{"RoleName": "web", "Description": "Web hosts", "MaxSessionDuration": 3600}]
    listed_profiles: list[dict[str, Any]] = [
        {"InstanceProfileName": "web", "Roles": [{"RoleName": "web"}]},
        {"InstanceProfileName": "empty", "Roles": []},
    ]

    state = state_from_responses(
        {
            "authorization_details": details,
            "roles": {"Roles": listed_roles},
            "instance_profiles": {"InstanceProfiles": listed_profiles},
            "password_policy": None,
            "policy_tags": {
                policy_arn("kept"): {"Tags": [{"Key": "k", "Value": "v"}]},
                policy_arn("gone"): None,
            },
        }
    )

    assert sorted(str(a) for a in state) == [
        "group.g",
        "instance_profile.empty",
        "instance_profile.web",
        "policy.foreign",
        "policy.kept",
        "role.web",
    ]
    kept = state.get(Address(Kind.POLICY, "kept"))
    foreign = state.get(Address(Kind.POLICY, "foreign"))
    web = state.get(Address(Kind.ROLE, "web"))
    assert isinstance(kept, ManagedPolicy)
    assert isinstance(foreign, ManagedPolicy)
    assert isinstance(web, Role)
    assert (kept.tags, foreign.tags) == ({"k": "v"}, {})
    assert web.description == "Web hosts"


def test_list_roles_pages_keep_only_what_the_detail_lacks(iam_endpoint: LocalIam) -> None:
    from iamstate.aws.read import _listing
    from iamstate.kinds.role import LIST_ROLES

    iam = iam_endpoint.client("iam")
    iam.create_role(
        RoleName="kept",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Description="what it is for",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    listed = _listing(iam, LIST_ROLES)
    assert listed == {
        "Roles": [{"RoleName": "kept", "Description": "what it is for", "MaxSessionDuration": 7200}]
    }
    role = read(iam_endpoint).state.resources[Address(Kind.ROLE, "kept")]
    assert (role.description, role.max_session_duration, dict(role.tags)) == (  # type: ignore[attr-defined]
        "what it is for",
        7200,
        {"team": "platform"},
    )
