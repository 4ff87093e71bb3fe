"""Escalation over the account graph: methods, self-targeting, assume and pass hops, messages."""

from __future__ import annotations

import pytest

from iamstate import catalog
from iamstate.analysis.account import AccountAnalysis, analyse
from iamstate.analysis.escalation import (
    MAX_HOP_PATHS,
    METHODS,
    EscalationPath,
    describe,
    format_path,
)
from iamstate.analysis.managed import builtin_documents
from iamstate.model import Address, Kind, Resource
from tests.analysis.corpus import NOW
from tests.analysis.states import ACCOUNT, allow, arn, group, policy, role, state, trusting, user

DAVE = Address(Kind.USER, "dave")
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def run(*resources: Resource) -> AccountAnalysis:
    return analyse(state(*resources), managed=builtin_documents(), now=NOW)


def ids(paths: tuple[EscalationPath, ...]) -> list[str]:
    return [p.method.id for p in paths]


def test_the_message_names_who_grants_each_action() -> None:
    analysis = run(
        policy("ops-deploy", allow("iam:PassRole")),
        policy("lambda-admin", allow(["lambda:CreateFunction", "lambda:InvokeFunction"])),
        group("ops", "ops-deploy"),
        user("dave", "lambda-admin", groups=["ops"]),
    )
    [path] = analysis.escalations[DAVE]
    assert format_path(path) == (
        "user.dave → group.ops (policy ops-deploy: iam:PassRole) + user.dave (policy lambda-admin: "
        "lambda:CreateFunction, lambda:InvokeFunction)"
    )
    assert describe(path).startswith(
        "PassRoleToNewLambdaThenInvoke (https://pathfinding.cloud/paths/lambda-001): "
    )
    assert path.method.source == "https://pathfinding.cloud/paths/lambda-001"
    # the group alone lacks the Lambda actions
    assert Address(Kind.GROUP, "ops") not in analysis.escalations


def test_attach_role_policy_alone_escalates_a_role_but_not_a_user() -> None:
    analysis = run(
        policy("attach", allow("iam:AttachRolePolicy")), role("worker", "attach"), user("dave", "attach")
    )
    assert ids(analysis.escalations[Address(Kind.ROLE, "worker")]) == ["iam-009"]
    assert DAVE not in analysis.escalations


def test_a_user_rewriting_its_own_permissions_is_self_targeting() -> None:
    analysis = run(
        policy("self", allow("iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")),
        user("dave", "self"),
    )
    [path] = analysis.escalations[DAVE]
    assert path.method.id == "iam-007" and path.target == "self"


def test_wildcards_in_a_lambda_arn_reach_every_function() -> None:
    analysis = run(
        policy("code", allow("lambda:UpdateFunctionCode", f"arn:aws:lambda:*:{ACCOUNT}:function:*")),
        policy(
            "one", allow("lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:export")
        ),
        user("dave", "code"),
        user("erin", "one"),
    )
    assert ids(analysis.escalations[DAVE]) == ["lambda-003"]
    assert Address(Kind.USER, "erin") not in analysis.escalations


def test_iam_full_access_by_arn_escalates_offline() -> None:
    analysis = run(group("admins", "arn:aws:iam::aws:policy/IAMFullAccess"))
    paths = analysis.escalations[Address(Kind.GROUP, "admins")]
    assert "iam-007" in ids(paths) and "iam-008" in ids(paths)
    assert paths[0].steps[0].policy == "IAMFullAccess" and paths[0].steps[0].policy_kind == "aws-managed"


def test_passed_to_service_enables_that_service_only() -> None:
    analysis = run(
        policy(
            "mixed",
            allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
            allow(["ec2:RunInstances", "lambda:CreateFunction", "lambda:InvokeFunction"]),
        ),
        user("dave", "mixed"),
    )
    assert ids(analysis.escalations[DAVE]) == ["ec2-001"]


def test_passrole_to_one_role_with_passed_to_service_stays_quiet() -> None:
    analysis = run(
        policy(
            "deploy",
            allow(
                "iam:PassRole",
                arn("role", "app"),
                Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
            allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        ),
        user("dave", "deploy"),
        role("app", trust=trusting(service="lambda.amazonaws.com")),
    )
    assert analysis.escalations == {}


def test_passing_an_administrator_role_to_a_service_that_it_trusts_escalates() -> None:
    resources: list[Resource] = [
        policy(
            "deploy",
            allow("iam:PassRole", arn("role", "app")),
            allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        ),
        user("dave", "deploy"),
    ]
    quiet = run(*resources, role("app", ADMIN, trust=trusting(service="ec2.amazonaws.com")))
    assert quiet.escalations == {}
    loud = run(*resources, role("app", ADMIN, trust=trusting(service="lambda.amazonaws.com")))
    [path] = loud.escalations[DAVE]
    assert [h.how for h in path.hops] == ["pass"] and path.method.id == "administrator"
    assert format_path(path).endswith(
        "→ role.app (passed to lambda.amazonaws.com) → role.app (policy AdministratorAccess: *)"
    )


def test_assuming_needs_permission_and_trust_unless_the_trust_names_the_principal() -> None:
    no_permission = run(user("dave"), role("admin", ADMIN, trust=trusting(f"arn:aws:iam::{ACCOUNT}:root")))
    assert no_permission.escalations == {}
    with_permission = run(
        policy("jump", allow("sts:AssumeRole")),
        user("dave", "jump"),
        role("admin", ADMIN, trust=trusting(f"arn:aws:iam::{ACCOUNT}:root")),
    )
    [path] = with_permission.escalations[DAVE]
    assert format_path(path) == (
        "user.dave → user.dave (policy jump: sts:AssumeRole) → role.admin → role.admin (policy AdministratorAccess: *)"
    )
    by_name = run(user("dave"), role("admin", ADMIN, trust=trusting(arn("user", "dave"))))
    [path] = by_name.escalations[DAVE]
    assert (
        format_path(path)
        == "user.dave → role.admin (trust names user.dave) → role.admin (policy AdministratorAccess: *)"
    )


@pytest.mark.parametrize(
    ("condition", "escalates"),
    [
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, True),
        ({"StringEquals": {"sts:ExternalId": "abc"}}, True),
        ({"ArnEquals": {"aws:PrincipalArn": arn("user", "dave")}}, True),
        ({"ArnEquals": {"aws:PrincipalArn": arn("role", "break-glass")}}, False),
        ({"StringEquals": {"aws:PrincipalTag/team": "platform"}}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": "data"}}, False),
        ({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, False),
    ],
)
def test_trust_conditions_on_who_calls_keep_others_out(
    condition: dict[str, dict[str, str]], escalates: bool
) -> None:
    analysis = run(
        policy("jump", allow("sts:AssumeRole")),
        user("dave", "jump", tags={"team": "platform"}),
        role("admin", ADMIN, trust=trusting(f"arn:aws:iam::{ACCOUNT}:root", condition=condition)),
    )
    assert (DAVE in analysis.escalations) is escalates


def test_administrators_get_no_path_of_their_own_and_hop_paths_are_bounded() -> None:
    roles = [role(f"admin-{i}", ADMIN, trust=trusting(f"arn:aws:iam::{ACCOUNT}:root")) for i in range(5)]
    analysis = run(policy("jump", allow("sts:AssumeRole")), user("dave", "jump"), *roles)
    assert set(analysis.escalations) == {DAVE}
    assert len(analysis.escalations[DAVE]) == MAX_HOP_PATHS


def test_a_boundary_keeps_a_role_from_escalating() -> None:
    analysis = run(
        policy("attach", allow("iam:AttachRolePolicy")),
        policy("ceiling", allow("s3:*")),
        role("worker", "attach", permissions_boundary=arn("policy", "ceiling")),
    )
    assert analysis.escalations == {}


def test_method_list_is_complete_and_cited() -> None:
    found = {m.id: m for m in METHODS}
    assert len(found) == len(METHODS), "method ids are unique"
    for method in METHODS:
        assert method.source.startswith("https://"), method.id
        for action in method.actions:
            assert catalog.lookup(action) == action, f"{method.id}: {action}"
    required = {
        ("ec2-instance-connect:SendSSHPublicKey",),
        ("ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"),
        ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
        ("iam:PassRole", "glue:UpdateJob", "glue:StartJobRun"),
        ("codebuild:StartBuild",),
        ("iam:PassRole", "codebuild:UpdateProject", "codebuild:StartBuild"),
        ("iam:AttachRolePolicy",),
        ("iam:PutRolePolicy",),
    }
    have = {m.actions for m in METHODS} | {m.actions[:1] for m in METHODS}
    assert required <= have
    assert found["iam-009"].principals == {"role"} and found["iam-005"].principals == {"role"}
