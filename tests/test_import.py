"""`iamstate import`: live IAM written as configuration that plans as no changes.

The acceptance test is the round trip through the strict layer: a lived-in account
is imported, the files load and validate, the plan changes nothing but the inline
policies it converts to managed ones, apply converges without a refused call, and
the converted permissions are still there.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamstate import policy
from iamstate.apply import apply_plan
from iamstate.aws.write import Boto3Executor
from iamstate.commands.import_ import ImportResult, import_account, read_for_import, run_import
from iamstate.commands.shared import AwsOptions, connect, make_plan
from iamstate.config import load_config
from iamstate.errors import IamstateError, Refused
from iamstate.importer import dump_yaml, render_import, waivers_for
from iamstate.kinds.group import Group
from iamstate.kinds.instance_profile import InstanceProfile
from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role, trusted_shorthand
from iamstate.kinds.user import User
from iamstate.model import Address, Kind, LiveAccount, Resource, Scope, State, address_of
from iamstate.plan import Action, Finding, Phase, Severity
from iamstate.readable import aws_spelling, condition_key_spelling, readable_document, template_arn
from iamstate.render.results import apply_text, import_text
from tests.support.cli import run_iamstate as run_cli
from tests.support.strict import StrictIam

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
TODAY = datetime.date(2024, 5, 1)
FILES = [
    "account.yaml",
    "policies.yaml",
    "groups.yaml",
    "users.yaml",
    "roles.yaml",
    "identity_providers.yaml",
]


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


SERVICE_TRUST = doc(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)
AUDITOR_TRUST = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"sts:ExternalId": "acme-audit-2024"},
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
        },
    }
)
OIDC = "token.actions.githubusercontent.com"
OIDC_TRUST = doc(
    {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{OIDC}:sub": ["repo:acme/infra:ref:refs/heads/main"]},
        },
    }
)
LAMBDA_TRUST_WITH_SID = doc(
    {
        "Sid": "LambdaOnlyFromThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }
)
INLINE = {
    ("role", "auditor", "audit-extra"): doc(allow("cloudtrail:LookupEvents")),
    ("user", "alice", "alice-s3"): doc(
        allow(["s3:PutObject", "s3:GetObject"], "arn:aws:s3:::alice-scratch/*")
    ),
    ("group", "ops", "ops-extra"): doc(
        allow("ec2:DescribeInstances"),
        allow("ssm:StartSession", f"arn:aws:ec2:*:{ACCOUNT}:instance/*"),
    ),
}
CONVERTED = {
    ("role", "auditor"): "auditor-audit-extra",
    ("user", "alice"): "alice-alice-s3",
    ("group", "ops"): "ops-ops-extra",
}


def build_lived_in_account(strict: StrictIam) -> None:
    """An account grown by hand over the years, built through the strict layer."""
    iam = strict.client("iam")
    iam.update_account_password_policy(
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=12,
    )
    reports = iam.create_policy(
        PolicyName="reports-read",
        Description="Read the reports bucket",
        PolicyDocument=json.dumps(doc(allow("s3:GetObject", f"arn:aws:s3:::reports-{ACCOUNT}/*"))),
        Tags=[{"Key": "team", "Value": "data"}],
    )["Policy"]["Arn"]
    # v2 becomes the default, v3 stays a non-default draft: import writes the default.
    iam.create_policy_version(
        PolicyArn=reports,
        PolicyDocument=json.dumps(
            doc(
                allow(
                    ["s3:GetObject", "s3:ListBucket"],
                    [f"arn:aws:s3:::reports-{ACCOUNT}", f"arn:aws:s3:::reports-{ACCOUNT}/*"],
                )
            )
        ),
        SetAsDefault=True,
    )
    iam.create_policy_version(
        PolicyArn=reports, PolicyDocument=json.dumps(doc(allow("s3:*"))), SetAsDefault=False
    )
    boundary = iam.create_policy(
        PolicyName="dev-boundary",
        Path="/boundaries/",
        Description="Ceiling for developer-made principals",
        PolicyDocument=json.dumps(doc(allow(["s3:*", "logs:*", "cloudtrail:Lookup*"]))),
    )["Policy"]["Arn"]
    deploy = iam.create_policy(
        PolicyName="deploy",
        Path="/app/",
        PolicyDocument=json.dumps(
            doc(
                allow(
                    "iam:PassRole",
                    f"arn:aws:iam::{ACCOUNT}:role/app/*",
                    Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                ),
                allow("lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:app-*"),
            )
        ),
    )["Policy"]["Arn"]

    iam.create_group(GroupName="developers")
    iam.attach_group_policy(GroupName="developers", PolicyArn=reports)
    iam.attach_group_policy(GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.create_group(GroupName="ops", Path="/ops/")
    iam.attach_group_policy(GroupName="ops", PolicyArn=deploy)
    iam.put_group_policy(
        GroupName="ops",
        PolicyName="ops-extra",
        PolicyDocument=json.dumps(INLINE[("group", "ops", "ops-extra")]),
    )

    iam.create_user(
        UserName="alice",
        Path="/people/",
        Tags=[{"Key": "team", "Value": "data"}, {"Key": "iamstate:stack", "Value": "iamstate"}],
        PermissionsBoundary=boundary,
    )
    iam.add_user_to_group(UserName="alice", GroupName="developers")
    iam.add_user_to_group(UserName="alice", GroupName="ops")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="alice-s3",
        PolicyDocument=json.dumps(INLINE[("user", "alice", "alice-s3")]),
    )
    iam.create_user(UserName="bob")
    iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
    iam.add_user_to_group(UserName="bob", GroupName="developers")

    iam.create_open_id_connect_provider(
        Url=f"https://{OIDC}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    iam.create_role(
        RoleName="web",
        Path="/app/",
        Description="EC2 instances of the web tier",
        AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST),
        PermissionsBoundary=boundary,
        Tags=[{"Key": "owner", "Value": "web"}],
    )
    iam.attach_role_policy(RoleName="web", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.attach_role_policy(RoleName="web", PolicyArn=reports)
    iam.create_instance_profile(InstanceProfileName="web", Path="/app/")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    iam.create_role(
        RoleName="auditor",
        Description="Read-only access for the external auditor",
        AssumeRolePolicyDocument=json.dumps(AUDITOR_TRUST),
        MaxSessionDuration=7200,
    )
    iam.attach_role_policy(RoleName="auditor", PolicyArn="arn:aws:iam::aws:policy/SecurityAudit")
    iam.put_role_policy(
        RoleName="auditor",
        PolicyName="audit-extra",
        PolicyDocument=json.dumps(INLINE[("role", "auditor", "audit-extra")]),
    )
    iam.create_role(RoleName="ci-deploy", AssumeRolePolicyDocument=json.dumps(OIDC_TRUST))
    iam.attach_role_policy(RoleName="ci-deploy", PolicyArn=deploy)
    iam.create_role(
        RoleName="app-fn", Path="/app/", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_WITH_SID)
    )
    # An instance profile the configuration cannot declare: another name than its role's.
    iam.create_role(RoleName="batch", AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    iam.create_instance_profile(InstanceProfileName="batch-workers")
    iam.add_role_to_instance_profile(InstanceProfileName="batch-workers", RoleName="batch")
    # Another stack's role: never imported, never touched.
    iam.create_role(
        RoleName="shared-logging",
        AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST),
        Tags=[{"Key": "iamstate:stack", "Value": "platform"}],
    )


def read_live(strict: StrictIam, scope: Scope | None = None) -> LiveAccount:
    clients = connect(AwsOptions(endpoint_url=strict.endpoint))
    return read_for_import(clients.iam, clients.sts, scope or Scope())


def texts(result: ImportResult) -> dict[str, str]:
    return {path.name: path.read_text() for path in result.files}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


# --- the round trip ------------------------------------------------------------------


def test_round_trip_of_a_lived_in_account(strict_iam: StrictIam, tmp_path: Path) -> None:
    build_lived_in_account(strict_iam)
    out = tmp_path / "iam"
    result = run_import(
        out, live=read_live(strict_iam), scope=Scope(), stack="iamstate", force=False, imported_on=TODAY
    )

    assert [p.name for p in result.files] == FILES
    assert result.entities == {
        "policy": 6,
        "group": 2,
        "user": 2,
        "role": 5,
        "instance_profile": 1,
        "password_policy": 1,
        "oidc_provider": 1,
    }
    warnings = "\n".join(result.warnings)
    assert "instance profile 'batch-workers'" in warnings and "scope.ignore" in warnings
    assert "user.alice: user-direct-policy waived" in warnings
    assert "user.bob: user-direct-policy waived" in warnings
    assert "password_policy.account: password-policy-weak waived" in warnings
    assert "shared-logging" not in "".join(texts(result).values())

    # The files read as a person would have written them.
    roles = load_yaml(out / "roles.yaml")["roles"]
    assert [r["name"] for r in roles] == ["app-fn", "auditor", "batch", "ci-deploy", "web"]
    assert by_name(roles, "web") == {
        "name": "web",
        "path": "/app/",
        "description": "EC2 instances of the web tier",
        "trusted": {"services": ["ec2.amazonaws.com"]},
        "policies": ["reports-read", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
        "permissions_boundary": "dev-boundary",
        "instance_profile": True,
        "tags": {"owner": "web"},
    }
    assert by_name(roles, "auditor")["trusted"] == {
        "accounts": [OTHER_ACCOUNT],
        "require_mfa": True,
        "external_id": "acme-audit-2024",
    }
    assert by_name(roles, "auditor")["max_session_duration"] == 7200
    assert by_name(roles, "auditor")["policies"] == [
        "auditor-audit-extra",
        "arn:aws:iam::aws:policy/SecurityAudit",
    ]
    assert by_name(roles, "ci-deploy")["trusted"] == {
        "oidc": {
            "provider": OIDC,
            "audience": "sts.amazonaws.com",
            "subjects": ["repo:acme/infra:ref:refs/heads/main"],
        }
    }
    assert by_name(roles, "app-fn")["trust"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaOnlyFromThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    assert "instance_profile" not in by_name(roles, "batch")
    policies = load_yaml(out / "policies.yaml")["policies"]
    assert by_name(policies, "reports-read")["document"]["Statement"][0]["Resource"] == [
        "arn:${partition}:s3:::reports-${account_id}",
        "arn:${partition}:s3:::reports-${account_id}/*",
    ]
    assert by_name(policies, "deploy")["document"]["Statement"][0] == {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": "arn:${partition}:iam::${account_id}:role/app/*",
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    }
    assert (
        by_name(policies, "ops-ops-extra")["description"]
        == "Imported from the inline policy ops-extra of group ops"
    )
    users = load_yaml(out / "users.yaml")["users"]
    assert by_name(users, "alice") == {
        "name": "alice",
        "path": "/people/",
        "groups": ["developers", "ops"],
        "policies": ["alice-alice-s3"],
        "permissions_boundary": "dev-boundary",
        "tags": {"team": "data"},
        "exceptions": {
            "user-direct-policy": "Imported as found on 2024-05-01; move these policies to a group "
            "(review before merge)"
        },
    }
    account = load_yaml(out / "account.yaml")
    assert account["account"] == {"id": ACCOUNT}
    assert account["scope"] == {"paths": ["/"], "ignore": ["batch-workers"]}
    assert account["password_policy"]["minimum_length"] == 12

    # The files validate, offline.
    validated = run_cli(strict_iam, tmp_path, "validate", "iam", "--no-color")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    # The plan converts the inline policies, with the attach before the delete, and adopts
    # (tags for the stack) everything else it imported: nothing else changes.
    clients = connect(AwsOptions(endpoint_url=strict_iam.endpoint))
    _, _, the_plan = make_plan(str(out), clients)
    assert not the_plan.blocking_findings
    changes = {(str(c.address), c.action) for c in the_plan.changes}
    conversions = {
        ("policy.alice-alice-s3", Action.CREATE),
        ("policy.auditor-audit-extra", Action.CREATE),
        ("policy.ops-ops-extra", Action.CREATE),
        ("group.ops", Action.UPDATE),
        ("user.alice", Action.UPDATE),
        ("role.auditor", Action.UPDATE),
    }
    assert conversions <= changes
    adoptions = changes - conversions
    assert adoptions and {action for _, action in adoptions} == {Action.IMPORT}
    for change in the_plan.changes:
        if change.action is Action.IMPORT:
            assert all(call.operation.startswith("Tag") for call in change.api_calls)
        if change.action is Action.UPDATE:
            assert {f.path.split(".")[0] for f in change.fields} <= {"policies", "inline_policies", "tags"}
            phases = {call.operation: call.phase for call in change.api_calls}
            kind = change.address.kind.value.capitalize()
            assert phases[f"Attach{kind}Policy"] is Phase.ATTACH
            assert phases[f"Delete{kind}Policy"] is Phase.DETACH
            assert Phase.ATTACH < Phase.DETACH

    # Apply through the strict layer converges without a refused call.
    strict_iam.clear()
    applied = apply_plan(the_plan, Boto3Executor(clients.iam))
    assert applied.ok, apply_text(applied.to_json())
    assert strict_iam.refused() == []
    operations = strict_iam.operations()
    for attach, delete in [
        ("AttachGroupPolicy", "DeleteGroupPolicy"),
        ("AttachUserPolicy", "DeleteUserPolicy"),
        ("AttachRolePolicy", "DeleteRolePolicy"),
    ]:
        assert operations.index(attach) < operations.index(delete)
    _, _, again = make_plan(str(out), clients)
    assert again.summary.empty, [str(c.address) for c in again.changes]
    # Every adopted entity that IAM lets carry a tag now carries the stack's.
    declared = load_config(out).config.state
    untagged = [
        str(address)
        for address, entity in read_live(strict_iam).state.resources.items()
        if address.kind in (Kind.POLICY, Kind.USER, Kind.ROLE)
        and declared.get(address) is not None
        and getattr(entity, "tags", {}).get("iamstate:stack") != "iamstate"
    ]
    assert untagged == []

    # Every inline permission is now a managed policy attached in its place.
    live = read_live(strict_iam).state
    for (kind, entity, inline_name), inline_doc in INLINE.items():
        holder = live.get(Address(Kind(kind), entity))
        assert isinstance(holder, (Group, User, Role))
        assert holder.inline_policies == {}, inline_name
        converted = live.get(Address(Kind.POLICY, CONVERTED[(kind, entity)]))
        assert isinstance(converted, ManagedPolicy)
        assert converted.arn in holder.policies
        assert converted.document == policy.normalize(inline_doc)

    # A second import of the converged account writes the same files.
    second = run_import(
        tmp_path / "again",
        live=read_live(strict_iam),
        scope=Scope(),
        stack="iamstate",
        force=False,
        imported_on=TODAY,
    )
    assert texts(second) == texts(result)


def test_an_imported_account_plans_only_its_adoption_and_then_nothing(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    iam = strict_iam.client("iam")
    arn = iam.create_policy(
        PolicyName="read", PolicyDocument=json.dumps(doc(allow(["S3:getObject", "s3:ListBucket"])))
    )["Policy"]["Arn"]
    iam.create_group(GroupName="readers", Path="/teams/")
    iam.attach_group_policy(GroupName="readers", PolicyArn=arn)
    iam.create_user(UserName="carol", Tags=[{"Key": "team", "Value": "ops"}])
    iam.add_user_to_group(UserName="carol", GroupName="readers")
    iam.create_role(
        RoleName="worker", AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST), MaxSessionDuration=3600
    )
    iam.create_instance_profile(InstanceProfileName="worker")
    iam.add_role_to_instance_profile(InstanceProfileName="worker", RoleName="worker")

    result = run_import(
        tmp_path / "iam", live=read_live(strict_iam), scope=Scope(), stack="iamstate", force=False
    )

    assert result.warnings == []
    planned = run_cli(strict_iam, tmp_path, "plan", "iam", "--format", "json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    adoption = json.loads(planned.stdout)
    assert {(c["address"], c["action"]) for c in adoption["changes"]} == {
        ("policy.read", "import"),
        ("user.carol", "import"),
        ("role.worker", "import"),
    }
    assert adoption["summary_line"] == "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy."
    applied = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    planned = run_cli(strict_iam, tmp_path, "plan", "iam", "--detailed-exitcode", "--no-color")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert planned.stdout == "No changes. Live IAM matches the configuration.\n"
    assert "account.yaml" in {p.name for p in result.files}
    assert (
        "Action:\n            - s3:GetObject\n            - s3:ListBucket"
        in (tmp_path / "iam" / "policies.yaml").read_text()
    )


def test_scope_and_stack_choose_what_is_imported(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam = strict_iam.client("iam")
    iam.create_role(RoleName="in-app", Path="/app/", AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    iam.create_role(RoleName="outside", AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST))
    iam.create_role(
        RoleName="theirs",
        Path="/app/",
        AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST),
        Tags=[{"Key": "iamstate:stack", "Value": "other"}],
    )
    iam.create_role(
        RoleName="cdk-hnb659fds", Path="/app/", AssumeRolePolicyDocument=json.dumps(SERVICE_TRUST)
    )
    scope = Scope(paths=("/app/",), ignore=("cdk-*",))

    result = run_import(
        tmp_path / "iam", live=read_live(strict_iam, scope), scope=scope, stack="platform", force=False
    )

    assert [r["name"] for r in load_yaml(tmp_path / "iam" / "roles.yaml")["roles"]] == ["in-app"]
    account = load_yaml(tmp_path / "iam" / "account.yaml")
    assert account["account"] == {"id": ACCOUNT, "stack": "platform"}
    assert account["scope"] == {"paths": ["/app/"], "ignore": ["cdk-*"]}
    assert "password_policy" not in account
    assert result.entities == {"role": 1}
    planned = run_cli(strict_iam, tmp_path, "plan", "iam", "--format", "json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert [(c["address"], c["action"]) for c in json.loads(planned.stdout)["changes"]] == [
        ("role.in-app", "import")
    ]


def test_refuses_a_non_empty_directory_unless_forced(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam = strict_iam.client("iam")
    iam.create_group(GroupName="readers")
    out = tmp_path / "iam"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    (out / ".git").mkdir()
    live = read_live(strict_iam)

    with pytest.raises(IamstateError, match=r"is not empty \(notes\.txt\).*--force"):
        run_import(out, live=live, scope=Scope(), stack="iamstate", force=False)
    assert sorted(p.name for p in out.iterdir()) == [".git", "notes.txt"]

    (out / "users.yaml").write_text("users: [{name: stale}]\n")
    result = run_import(out, live=live, scope=Scope(), stack="iamstate", force=True)
    assert sorted(p.name for p in out.iterdir()) == [".git", "account.yaml", "groups.yaml", "notes.txt"]
    assert [p.name for p in result.files] == ["account.yaml", "groups.yaml"]

    # Hidden entries alone (a fresh repository) do not make a directory non-empty.
    fresh = tmp_path / "repo"
    (fresh / ".git").mkdir(parents=True)
    run_import(fresh, live=live, scope=Scope(), stack="iamstate", force=False)
    assert (fresh / "groups.yaml").is_file()


def test_root_caller_is_refused_before_reading_iam(strict_iam: StrictIam, tmp_path: Path) -> None:
    strict_iam.caller_is_root = True
    strict_iam.clear()
    with pytest.raises(Refused, match="root user") as refused:
        import_account(tmp_path / "iam", AwsOptions(endpoint_url=strict_iam.endpoint))
    assert refused.value.exit_code == 3
    assert strict_iam.operations() == ["GetCallerIdentity"]
    assert not (tmp_path / "iam").exists()


def test_import_account_reads_and_writes(strict_iam: StrictIam, tmp_path: Path) -> None:
    strict_iam.client("iam").create_group(GroupName="readers")
    result = import_account(tmp_path / "iam", AwsOptions(endpoint_url=strict_iam.endpoint))
    assert result.entities == {"group": 1}
    assert load_yaml(tmp_path / "iam" / "groups.yaml") == {"groups": [{"name": "readers"}]}
    assert "Imported group: 1 into 2 file(s)." in import_text(result.to_json())
    assert result.to_json()["entities"] == {"group": 1}


# --- rendering, without an endpoint ---------------------------------------------------


def live_of(*resources: Resource) -> LiveAccount:
    return LiveAccount(State({address_of(r): r for r in resources}), ACCOUNT)


def role(name: str, path: str = "/", **fields: Any) -> Role:
    return Role(
        name=name,
        path=path,
        trust=policy.normalize(SERVICE_TRUST),
        arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        **fields,
    )


def rendered_yaml(live: LiveAccount, file: str, **kwargs: Any) -> Any:
    return yaml.safe_load(render_import(live, **kwargs).texts[file])


@pytest.mark.parametrize(
    ("action", "spelled"),
    [
        ("iam:passrole", "iam:PassRole"),
        ("s3:get*", "s3:Get*"),
        ("s3:*object", "s3:*Object"),
        ("ec2:describe?nstances", "ec2:Describe?nstances"),
        ("iam:*", "iam:*"),
        ("*", "*"),
        ("newservice:doathing", "newservice:doathing"),
        ("s3:nosuchaction", "s3:nosuchaction"),
    ],
)
def test_actions_take_aws_spelling(action: str, spelled: str) -> None:
    assert aws_spelling(action) == spelled


def test_condition_keys_take_aws_spelling() -> None:
    assert condition_key_spelling("aws:multifactorauthpresent") == "aws:MultiFactorAuthPresent"
    assert condition_key_spelling("aws:principaltag/team") == "aws:PrincipalTag/team"
    assert condition_key_spelling("s3:prefix") == "s3:prefix"


def test_readable_document_means_the_same_and_reads_better() -> None:
    original = {
        "Statement": {
            "Condition": {"Bool": {"aws:SecureTransport": True}, "StringLike": {"s3:prefix": ["home/"]}},
            "Resource": [f"arn:aws:s3:::bucket-{ACCOUNT}/*"],
            "Action": ["S3:GETOBJECT", "s3:listbucket"],
            "Effect": "Allow",
            "Sid": "Read",
        },
        "Version": "2012-10-17",
    }
    readable = readable_document(policy.normalize(original), ACCOUNT, "aws")
    assert readable == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": "arn:${partition}:s3:::bucket-${account_id}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}, "StringLike": {"s3:prefix": "home/"}},
            }
        ],
    }
    substituted = policy.substitute(readable, {"account_id": ACCOUNT, "partition": "aws"})
    assert policy.equivalent(substituted, original)
    assert list(readable) == ["Version", "Statement"]


def test_condition_keys_apart_only_by_case_are_left_as_they_are() -> None:
    odd = doc(allow("s3:GetObject", Condition={"StringEquals": {"aws:SourceVpc": "a", "aws:sourcevpc": "b"}}))
    readable = readable_document(policy.normalize(odd), ACCOUNT, "aws")
    assert policy.equivalent(readable, odd)


@pytest.mark.parametrize(
    ("value", "templated"),
    [
        (f"arn:aws:iam::{ACCOUNT}:policy/x", "arn:${partition}:iam::${account_id}:policy/x"),
        (f"arn:aws-cn:s3:::logs-{ACCOUNT}", "arn:${partition}:s3:::logs-${account_id}"),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        (f"arn:aws:iam::{OTHER_ACCOUNT}:root", f"arn:aws:iam::{OTHER_ACCOUNT}:root"),
        (f"arn:aws:s3:::x-9{ACCOUNT}", f"arn:aws:s3:::x-9{ACCOUNT}"),
        (ACCOUNT, ACCOUNT),
    ],
)
def test_template_arn(value: str, templated: str) -> None:
    partition = "aws-cn" if value.startswith("arn:aws-cn") else "aws"
    assert template_arn(value, ACCOUNT, partition) == templated


@pytest.mark.parametrize(
    ("trust", "shorthand"),
    [
        (SERVICE_TRUST, {"services": ["ec2.amazonaws.com"]}),
        (AUDITOR_TRUST, {"accounts": [OTHER_ACCOUNT], "require_mfa": True, "external_id": "acme-audit-2024"}),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [OTHER_ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/admin"]},
                    "Action": "sts:AssumeRole",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                },
            ),
            {
                "services": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"],
                "accounts": [OTHER_ACCOUNT],
                "principals": ["arn:${partition}:iam::${account_id}:role/admin"],
            },
        ),
        (
            OIDC_TRUST,
            {
                "oidc": {
                    "provider": OIDC,
                    "audience": "sts.amazonaws.com",
                    "subjects": ["repo:acme/infra:ref:refs/heads/main"],
                }
            },
        ),
        (LAMBDA_TRUST_WITH_SID, None),
        (
            doc(
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:TagSession"}
            ),
            None,
        ),
        (doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}), None),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                },
            ),
            None,
        ),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": OTHER_ACCOUNT},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
                }
            ),
            None,
        ),
    ],
)
def test_trusted_shorthand_only_when_it_generates_the_same_policy(
    trust: dict[str, Any], shorthand: dict[str, Any] | None
) -> None:
    assert trusted_shorthand(policy.normalize(trust), ACCOUNT, "aws") == shorthand


def test_inline_policy_names_are_truncated_and_made_unique() -> None:
    long_role = "r" * 64
    live = live_of(
        ManagedPolicy(name="web-extra", document=policy.normalize(doc(allow("s3:GetObject")))),
        role("web", inline_policies={"extra": policy.normalize(doc(allow("s3:PutObject")))}),
        role(long_role, inline_policies={"i" * 128: policy.normalize(doc(allow("s3:PutObject")))}),
    )
    rendered = render_import(live)
    names = {(c.entity, c.policy_name) for c in rendered.conversions}
    assert ("web", "web-extra-2") in names
    assert (long_role, (long_role + "-" + "i" * 128)[:128]) in names
    roles = yaml.safe_load(rendered.texts["roles.yaml"])["roles"]
    assert by_name(roles, "web")["policies"] == ["web-extra-2"]


def test_instance_profiles_the_config_cannot_declare_are_skipped_with_a_warning() -> None:
    live = live_of(
        role("web", "/app/", instance_profiles=frozenset({"web"})),
        InstanceProfile("web", "/", roles=frozenset({"web"})),  # another path than its role's
        role("batch", instance_profiles=frozenset({"batch-workers"})),
        InstanceProfile("batch-workers", roles=frozenset({"batch"})),
        InstanceProfile("empty"),
    )
    rendered = render_import(live)
    roles = yaml.safe_load(rendered.texts["roles.yaml"])["roles"]
    assert all("instance_profile" not in r for r in roles)
    assert rendered.ignored == ("batch-workers", "empty")
    assert yaml.safe_load(rendered.texts["account.yaml"])["scope"]["ignore"] == ["batch-workers", "empty"]
    assert any("'web'" in w and "apply would delete it" in w for w in rendered.warnings)
    assert "# Not imported as live IAM has it:" in rendered.texts["account.yaml"]


def test_groups_with_the_force_mfa_policy_import_as_require_mfa() -> None:
    from iamstate.kinds.policy import force_mfa_document

    arn = f"arn:aws:iam::{ACCOUNT}:policy/iamstate-force-mfa"
    document = policy.normalize(
        policy.substitute(force_mfa_document(), {"partition": "aws", "account_id": ACCOUNT})
    )
    live = live_of(
        ManagedPolicy(name="iamstate-force-mfa", document=document, arn=arn),
        Group("humans", policies=frozenset({arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"})),
    )
    rendered = render_import(live)
    assert rendered.warnings == ()
    assert "policies.yaml" not in rendered.texts
    assert yaml.safe_load(rendered.texts["groups.yaml"])["groups"] == [
        {"name": "humans", "require_mfa": True, "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}
    ]


def test_memberships_of_groups_outside_the_scope_are_warned_about() -> None:
    live = live_of(
        Group("legacy", "/legacy/"),
        User("dave", groups=frozenset({"legacy"})),
    )
    rendered = render_import(live, scope=Scope(paths=("/",), ignore=("legacy",)))
    assert yaml.safe_load(rendered.texts["users.yaml"])["users"] == [{"name": "dave"}]
    assert any("group 'legacy'" in w and "apply would remove it" in w for w in rendered.warnings)


def test_waivers_for_blocking_findings() -> None:
    findings = [
        Finding("user-direct-policy", Severity.ERROR, "user.bob", "attached directly", "use a group"),
        Finding("policy-admin-star", Severity.ERROR, "policy.admin", "allows * on *", "narrow it"),
        Finding("malformed-policy", Severity.ERROR, "policy.broken", "duplicate Sid", "fix it"),
        Finding("service-wildcard", Severity.WARNING, "policy.admin", "s3:*", "narrow it"),
    ]
    waivers, warnings = waivers_for(findings, "2024-05-01")
    assert waivers == {
        "user.bob": {
            "user-direct-policy": "Imported as found on 2024-05-01; move these policies to a group "
            "(review before merge)"
        },
        "policy.admin": {"policy-admin-star": "Imported as found on 2024-05-01; review before merge"},
    }
    assert len(warnings) == 3
    assert "policy.broken: malformed-policy cannot be waived" in warnings[2]


def test_an_admin_policy_is_imported_with_a_waiver_that_loads(tmp_path: Path) -> None:
    admin = policy.normalize(doc(allow("*")))
    live = live_of(ManagedPolicy(name="admin", document=admin), role("ops", policies=frozenset()))
    result = run_import(
        tmp_path / "iam", live=live, scope=Scope(), stack="iamstate", force=False, imported_on=TODAY
    )
    policies = load_yaml(tmp_path / "iam" / "policies.yaml")["policies"]
    assert policies[0]["exceptions"] == {
        "policy-admin-star": "Imported as found on 2024-05-01; review before merge"
    }
    assert any("policy-admin-star waived" in w for w in result.warnings)
    config = load_config(tmp_path / "iam").config
    assert config.exceptions[Address(Kind.POLICY, "admin")]


def test_yaml_quotes_what_would_read_as_another_type() -> None:
    text = dump_yaml({"a": ["012345678901", "true", "2012-10-17", "1.5", "null", "plain", "multi\nline"]})
    assert '"012345678901"' in text
    assert yaml.safe_load(text) == {
        "a": ["012345678901", "true", "2012-10-17", "1.5", "null", "plain", "multi\nline"]
    }
    assert "&" not in dump_yaml({"x": (shared := {"k": "v"}), "y": shared})


def test_cli_import_then_apply_keeps_every_permission_and_converges(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    """`iamstate import`, `validate`, `apply`, `plan` through the real CLI on a lived-in account."""
    build_lived_in_account(strict_iam)
    result = run_cli(strict_iam, tmp_path, "import", "--out", "iam")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "iam" / "account.yaml").exists()
    assert run_cli(strict_iam, tmp_path, "validate", "iam").returncode == 0

    result = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    deleted = [line for line in result.stdout.splitlines() if line.startswith(("  - ", "-/+ "))]
    assert deleted == [], "applying an import must not delete or replace anything"
    result = run_cli(strict_iam, tmp_path, "plan", "iam", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert strict_iam.refused() == []

    result = run_cli(strict_iam, tmp_path, "import", "--out", "iam")
    assert result.returncode == 1 and "not empty" in result.stderr
