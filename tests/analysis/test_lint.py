"""Lint on conditions and resources: a firing and a quiet table per check, and AWS's own policies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamstate.analysis.lint import (
    CONDITION_TYPE_MISMATCH,
    MALFORMED_ARN,
    RESOURCE_TYPE_MISMATCH,
    UNKNOWN_CONDITION_KEY,
    Problem,
    lint,
)
from iamstate.analysis.managed import HIGH_RISK
from iamstate.plan import Severity
from tests.analysis.states import allow, document

E, W = Severity.ERROR, Severity.WARNING


def problems(statement: dict[str, Any], check: str) -> list[Problem]:
    return [p for p in lint(document(statement)) if p.check == check]


def cond(action: str, condition: dict[str, Any], resource: str = "*") -> dict[str, Any]:
    return allow(action, resource, Condition=condition)


FIRING = [
    # unknown-condition-key
    (cond("s3:GetObject", {"Bool": {"aws:MultiFactorAuthPresnt": "true"}}), UNKNOWN_CONDITION_KEY, E),
    (cond("s3:ListBucket", {"StringLike": {"s3:prefx": "logs/*"}}), UNKNOWN_CONDITION_KEY, E),
    (cond("ec2:RunInstances", {"StringEquals": {"s3:prefix": "logs/"}}), UNKNOWN_CONDITION_KEY, W),
    (
        cond("iam:CreatePolicyVersion", {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        UNKNOWN_CONDITION_KEY,
        W,
    ),
    (cond("s3:GetObject", {"StringEqualsIfExists": {"s3:nosuchkey": "x"}}), UNKNOWN_CONDITION_KEY, W),
    # condition-type-mismatch
    (cond("s3:GetObject", {"DateGreaterThan": {"aws:CurrentTime": "tomorrow"}}), CONDITION_TYPE_MISMATCH, E),
    (cond("s3:GetObject", {"Bool": {"aws:SecureTransport": "yes"}}), CONDITION_TYPE_MISMATCH, E),
    (cond("s3:GetObject", {"IpAddress": {"aws:SourceIp": "not-an-ip"}}), CONDITION_TYPE_MISMATCH, E),
    (
        cond("s3:GetObject", {"NumericLessThan": {"aws:MultiFactorAuthAge": "ten"}}),
        CONDITION_TYPE_MISMATCH,
        E,
    ),
    (cond("sns:Publish", {"ArnLike": {"aws:SourceArn": "my-topic"}}), CONDITION_TYPE_MISMATCH, E),
    (cond("s3:GetObject", {"NotIpAddress": {"aws:SourceIp": "10.0.0.999/8"}}), CONDITION_TYPE_MISMATCH, W),
    (cond("s3:GetObject", {"DateGreaterThan": {"aws:SourceIp": "2030-01-01"}}), CONDITION_TYPE_MISMATCH, W),
    (cond("s3:GetObject", {"StringEquals": {"aws:CurrentTime": "2030-01-01"}}), CONDITION_TYPE_MISMATCH, W),
    (cond("s3:PutObjectTagging", {"StringEquals": {"aws:TagKeys": "team"}}), CONDITION_TYPE_MISMATCH, W),
    (
        cond("s3:GetObject", {"ForAnyValue:StringEquals": {"aws:SourceVpc": "vpc-1"}}),
        CONDITION_TYPE_MISMATCH,
        W,
    ),
    # resource-type-mismatch
    (allow("s3:GetObject", "arn:aws:s3:::reports"), RESOURCE_TYPE_MISMATCH, E),
    (allow("iam:PassRole", "arn:aws:iam::111111111111:user/dave"), RESOURCE_TYPE_MISMATCH, E),
    (allow("s3:ListBucket", "arn:aws:s3:::reports/*"), RESOURCE_TYPE_MISMATCH, E),
    (allow(["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::reports"), RESOURCE_TYPE_MISMATCH, W),
    (allow("s3:ListAllMyBuckets", "arn:aws:s3:::reports"), RESOURCE_TYPE_MISMATCH, W),
    (allow("lambda:InvokeFunction", "arn:aws:iam::111111111111:role/x"), RESOURCE_TYPE_MISMATCH, W),
    # malformed-arn
    (allow("s3:GetObject", "reports/*"), MALFORMED_ARN, E),
    (allow("s3:GetObject", "arn:aws:s3"), MALFORMED_ARN, E),
    (allow("iam:PassRole", "arn:aws:iam::12345:role/x"), MALFORMED_ARN, E),
    (allow("iam:PassRole", "arn:amazon:iam::111111111111:role/x"), MALFORMED_ARN, E),
    (allow("iam:PassRole", "arn:aws::us-east-1:111111111111:role/x"), MALFORMED_ARN, E),
]

QUIET = [
    (cond("s3:GetObject", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}), UNKNOWN_CONDITION_KEY),
    (cond("s3:ListBucket", {"StringLike": {"s3:prefix": "logs/*"}}), UNKNOWN_CONDITION_KEY),
    (
        cond("iam:PassRole", {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        UNKNOWN_CONDITION_KEY,
    ),
    (cond("s3:GetObject", {"StringEquals": {"s3:ExistingObjectTag/team": "data"}}), UNKNOWN_CONDITION_KEY),
    (cond("s3:GetObject", {"StringEquals": {"aws:PrincipalTag/team": "data"}}), UNKNOWN_CONDITION_KEY),
    (
        cond(
            "sts:AssumeRoleWithWebIdentity",
            {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:a/b:*"}},
        ),
        UNKNOWN_CONDITION_KEY,
    ),
    (cond("s3:*", {"StringEquals": {"s3:x-amz-acl": "private"}}), UNKNOWN_CONDITION_KEY),
    (
        cond("s3:GetObject", {"DateGreaterThan": {"aws:CurrentTime": "2030-01-31T00:00:00Z"}}),
        CONDITION_TYPE_MISMATCH,
    ),
    (cond("s3:GetObject", {"NumericLessThan": {"aws:EpochTime": "1900000000"}}), CONDITION_TYPE_MISMATCH),
    (cond("s3:GetObject", {"Bool": {"aws:SecureTransport": "false"}}), CONDITION_TYPE_MISMATCH),
    (
        cond("s3:GetObject", {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}),
        CONDITION_TYPE_MISMATCH,
    ),
    (
        cond("s3:GetObject", {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci-*"}}),
        CONDITION_TYPE_MISMATCH,
    ),
    (cond("s3:GetObject", {"ArnLike": {"aws:PrincipalArn": "${aws:SourceArn}"}}), CONDITION_TYPE_MISMATCH),
    (
        cond("s3:PutObjectTagging", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
        CONDITION_TYPE_MISMATCH,
    ),
    (cond("s3:GetObject", {"Null": {"aws:SourceVpc": "true"}}), CONDITION_TYPE_MISMATCH),
    (allow("s3:GetObject", "arn:aws:s3:::reports/*"), RESOURCE_TYPE_MISMATCH),
    (allow("s3:ListBucket", "arn:aws:s3:::reports"), RESOURCE_TYPE_MISMATCH),
    (allow("iam:PassRole", "arn:aws:iam::111111111111:role/service-role/app"), RESOURCE_TYPE_MISMATCH),
    (allow("s3:*", "arn:aws:s3:::reports"), RESOURCE_TYPE_MISMATCH),
    (allow("s3:GetObject", "arn:aws:s3:::*"), RESOURCE_TYPE_MISMATCH),
    (allow("lambda:InvokeFunction", "arn:aws:lambda:*:111111111111:function:app:*"), RESOURCE_TYPE_MISMATCH),
    (allow("iam:PutUserPolicy", "arn:aws:iam::111111111111:user/${aws:username}"), RESOURCE_TYPE_MISMATCH),
    (allow("s3:GetObject", "*"), RESOURCE_TYPE_MISMATCH),
    (allow("s3:GetObject", "arn:aws:s3:::reports/*"), MALFORMED_ARN),
    (allow("iam:PassRole", "arn:${aws:partition}:iam::111111111111:role/x"), MALFORMED_ARN),
    (allow("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"), MALFORMED_ARN),
    (allow("ec2:RunInstances", "arn:aws:ec2:*:*:instance/*"), MALFORMED_ARN),
    (allow("s3:GetObject", "*"), MALFORMED_ARN),
]


@pytest.mark.parametrize(
    ("statement", "check", "severity"), FIRING, ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(FIRING)]
)
def test_check_fires(statement: dict[str, Any], check: str, severity: Severity) -> None:
    found = problems(statement, check)
    assert found, f"{check} did not fire on {statement}"
    assert {p.severity for p in found} == {severity}, found


@pytest.mark.parametrize(("statement", "check"), QUIET, ids=[f"{c}-{i}" for i, (_, c) in enumerate(QUIET)])
def test_check_stays_quiet(statement: dict[str, Any], check: str) -> None:
    assert problems(statement, check) == []


def test_every_check_has_a_firing_and_a_quiet_table() -> None:
    checks = {UNKNOWN_CONDITION_KEY, CONDITION_TYPE_MISMATCH, RESOURCE_TYPE_MISMATCH, MALFORMED_ARN}
    assert {c for _, c, _ in FIRING} == checks and {c for _, c in QUIET} == checks
    assert {c for _, c, s in FIRING if s is E} == checks


def test_messages_name_the_statement_and_the_problem() -> None:
    [problem] = lint(document({"Sid": "Read", **allow("s3:GetObject", "arn:aws:s3:::reports")}))
    assert str(problem) == (
        "error: [resource-type-mismatch] statement 1 (Sid Read): none of s3:GetObject works on "
        "arn:aws:s3:::reports: the statement grants nothing"
    )


def test_aws_managed_policies_raise_no_error() -> None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    assert len(data) > 1000
    errors = [
        f"{name}: {p}" for name, item in data.items() for p in lint(item["Document"]) if p.severity is E
    ]
    assert errors == []


def test_the_built_in_table_raises_no_error() -> None:
    assert [str(p) for g in HIGH_RISK for p in lint(g.document) if p.severity is E] == []
