"""Which resources a pattern reaches: unscoped, self-targeting, scoped; the ARN matcher."""

from __future__ import annotations

import pytest

from iamstate.analysis.resources import Principal, Scope, arn_matches, parse_arn, scope, unscoped

ACCOUNT = "111111111111"
DAVE = Principal(
    "user",
    f"arn:aws:iam::{ACCOUNT}:user/people/dave",
    groups=frozenset({f"arn:aws:iam::{ACCOUNT}:group/ops"}),
    policies=frozenset({f"arn:aws:iam::{ACCOUNT}:policy/dave-tools"}),
    variables={"aws:username": "dave", "aws:principaltag/team": "data"},
)
DEPLOY = Principal("role", f"arn:aws:iam::{ACCOUNT}:role/deploy-api", variables={})


@pytest.mark.parametrize(
    "pattern",
    [
        "*",
        f"arn:aws:lambda:*:{ACCOUNT}:function:*",
        "arn:aws:iam::*:role/*",
        f"arn:aws:iam::{ACCOUNT}:user/*",
        "arn:aws:s3:::*",
        "arn:aws:s3:::*/*",
        "arn:aws:ssm:*:*:parameter/*",
        "arn:aws:secretsmanager:*:*:secret:*",
        "arn:aws:ec2:*:*:instance/*",
        "arn:aws:iam::*:*",
        "arn:aws:*",
        "arn:aws:dynamodb:eu-west-1:111111111111:table/*",
    ],
)
def test_a_wildcard_that_reaches_every_resource_of_the_type_is_unscoped(pattern: str) -> None:
    assert unscoped(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:s3:::reports/*",
        "arn:aws:s3:::reports",
        f"arn:aws:iam::{ACCOUNT}:role/app/*",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:deploy-*",
        f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}",
        "arn:aws:iam::*:role/admin",
        f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/*",
    ],
)
def test_names_and_prefixes_are_scoped(pattern: str) -> None:
    assert not unscoped(pattern)


@pytest.mark.parametrize(
    ("pattern", "arn", "variables", "expected"),
    [
        ("arn:aws:iam::1:role/app-*", "arn:aws:iam::1:role/app-web", None, True),
        ("arn:aws:iam::1:role/app-?", "arn:aws:iam::1:role/app-1", None, True),
        ("arn:aws:iam::1:role/app-?", "arn:aws:iam::1:role/app-10", None, False),
        ("arn:aws:iam::1:user/${aws:username}", "arn:aws:iam::1:user/dave", {"aws:username": "dave"}, True),
        ("arn:aws:iam::1:user/${aws:username}", "arn:aws:iam::1:user/erin", {"aws:username": "dave"}, False),
        # a variable without a value matches nothing, as in IAM
        ("arn:aws:iam::1:user/${aws:username}", "arn:aws:iam::1:user/dave", {}, False),
        ("arn:aws:iam::1:user/${aws:username, 'guest'}", "arn:aws:iam::1:user/guest", {}, True),
        ("arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/*", {"aws:username": "x"}, True),
        ("arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/file", {"aws:username": "x"}, False),
        ("arn:aws:IAM::1:Role/App", "arn:aws:iam::1:role/app", None, True),
    ],
)
def test_arn_matcher(pattern: str, arn: str, variables: dict[str, str] | None, expected: bool) -> None:
    assert arn_matches(pattern, arn, variables) is expected


@pytest.mark.parametrize(
    ("pattern", "principal", "resource_type", "expected"),
    [
        (f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", DAVE, "user", Scope.SELF),
        (f"arn:aws:iam::{ACCOUNT}:user/people/dave", DAVE, "user", Scope.SELF),
        (f"arn:aws:iam::{ACCOUNT}:user/people/*", DAVE, "user", Scope.SELF),
        (f"arn:aws:iam::{ACCOUNT}:user/people/erin", DAVE, "user", Scope.SCOPED),
        (f"arn:aws:iam::{ACCOUNT}:group/ops", DAVE, "group", Scope.SELF),
        (f"arn:aws:iam::{ACCOUNT}:group/auditors", DAVE, "group", Scope.SCOPED),
        (f"arn:aws:iam::{ACCOUNT}:policy/dave-*", DAVE, "policy", Scope.SELF),
        (f"arn:aws:iam::{ACCOUNT}:role/deploy-*", DEPLOY, "role", Scope.SELF),
        # a role has no aws:username: the pattern names no role
        (f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", DEPLOY, "user", Scope.SCOPED),
        # the principal's own ARN, but for an action that targets another type
        (f"arn:aws:iam::{ACCOUNT}:role/deploy-api", DEPLOY, "user", Scope.SCOPED),
        ("*", DEPLOY, "role", Scope.UNSCOPED),
    ],
)
def test_self_targeting(pattern: str, principal: Principal, resource_type: str, expected: Scope) -> None:
    assert scope(pattern, principal, resource_type) is expected


def test_a_group_stands_for_any_member_of_user_username() -> None:
    group = Principal(
        "group", f"arn:aws:iam::{ACCOUNT}:group/ops", groups=frozenset({f"arn:aws:iam::{ACCOUNT}:group/ops"})
    )
    assert scope(f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", group, "user") is Scope.SELF
    assert scope(f"arn:aws:iam::{ACCOUNT}:group/ops", group, "group") is Scope.SELF


def test_parse_arn_keeps_the_resource_whole() -> None:
    arn = parse_arn("arn:aws:lambda:eu-west-1:1:function:name:alias")
    assert arn is not None and arn.resource == "function:name:alias"
    assert parse_arn("arn:aws:s3") is None
    assert parse_arn("role/x") is None
