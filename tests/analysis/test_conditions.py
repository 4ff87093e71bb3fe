"""Condition readings: narrowing, not narrowing, never true; one reading of iam:PassedToService."""

from __future__ import annotations

import datetime

import pytest

from iamstate.analysis.conditions import (
    Reading,
    admits_service,
    overall,
    parse_date,
    passed_to_services,
    read_conditions,
    read_entry,
)
from iamstate.rules.statements import ConditionEntry, labelled
from tests.analysis.corpus import NOW

NARROW, OPEN, NEVER = Reading.NARROWING, Reading.NOT_NARROWING, Reading.NEVER_TRUE


def entry(operator: str, key: str, *values: str) -> ConditionEntry:
    return ConditionEntry(operator, key.lower(), values)


@pytest.mark.parametrize(
    ("operator", "key", "values", "action", "expected"),
    [
        # negated operators admit everything but the listed values
        ("StringNotEquals", "aws:ResourceTag/env", ("prod",), "ssm:SendCommand", OPEN),
        (
            "ArnNotEquals",
            "iam:PolicyARN",
            ("arn:aws:iam::aws:policy/AdministratorAccess",),
            "iam:AttachUserPolicy",
            OPEN,
        ),
        ("ArnNotLike", "aws:SourceArn", ("arn:aws:s3:::x",), "sns:Publish", OPEN),
        # IfExists on a key that can be absent passes without it
        ("StringEqualsIfExists", "aws:ResourceTag/env", ("dev",), "ssm:SendCommand", OPEN),
        # ... but the attach actions always carry iam:PolicyARN
        (
            "ArnEqualsIfExists",
            "iam:PolicyARN",
            ("arn:aws:iam::1:policy/logs",),
            "iam:AttachRolePolicy",
            NARROW,
        ),
        ("ArnEquals", "iam:PolicyARN", ("arn:aws:iam::1:policy/logs",), "iam:AttachUserPolicy", NARROW),
        # values that admit a high-risk managed policy do not narrow what can be attached
        ("ArnLike", "iam:PolicyARN", ("arn:aws:iam::aws:policy/*",), "iam:AttachRolePolicy", OPEN),
        (
            "ArnEquals",
            "iam:PolicyARN",
            ("arn:aws:iam::aws:policy/IAMFullAccess",),
            "iam:AttachRolePolicy",
            OPEN,
        ),
        # caller and connection keys narrow nothing about the resources
        ("Bool", "aws:MultiFactorAuthPresent", ("true",), "iam:PutUserPolicy", OPEN),
        ("Bool", "aws:SecureTransport", ("true",), "s3:GetObject", OPEN),
        ("IpAddress", "aws:SourceIp", ("10.0.0.0/8",), "s3:GetObject", OPEN),
        ("StringEquals", "aws:RequestedRegion", ("eu-west-1",), "ec2:RunInstances", OPEN),
        ("StringEquals", "aws:PrincipalTag/team", ("ops",), "ec2:RunInstances", OPEN),
        ("StringEquals", "aws:RequestTag/team", ("ops",), "lambda:CreateFunction", OPEN),
        # resource keys narrow
        ("StringEquals", "aws:ResourceTag/env", ("dev",), "ssm:SendCommand", NARROW),
        (
            "StringEquals",
            "ec2:InstanceProfile",
            ("arn:aws:iam::1:instance-profile/web",),
            "ec2:RunInstances",
            NARROW,
        ),
        ("StringLike", "s3:prefix", ("*",), "s3:ListBucket", OPEN),
        ("StringLike", "aws:ResourceTag/env", ("*",), "ssm:StartSession", NARROW),
        # a key the action never carries makes a positive entry fail
        ("StringEquals", "iam:PassedToService", ("ec2.amazonaws.com",), "iam:CreatePolicyVersion", NARROW),
        # iam:PassedToService on PassRole: not which roles (the pass reads it separately)
        ("StringEquals", "iam:PassedToService", ("ec2.amazonaws.com",), "iam:PassRole", OPEN),
        # values the operator cannot read never match
        ("DateGreaterThan", "aws:CurrentTime", ("tomorrow",), "s3:GetObject", NEVER),
        ("Bool", "aws:SecureTransport", ("yes",), "s3:GetObject", NEVER),
        ("IpAddress", "aws:SourceIp", ("not-an-ip",), "s3:GetObject", NEVER),
        ("NumericLessThan", "aws:MultiFactorAuthAge", ("ten",), "s3:GetObject", NEVER),
        ("DateNotEquals", "aws:CurrentTime", ("tomorrow",), "s3:GetObject", OPEN),
        ("Null", "aws:PrincipalArn", ("true",), "s3:GetObject", NEVER),
        ("Null", "aws:ResourceTag/env", ("true",), "s3:GetObject", OPEN),
    ],
)
def test_entry_readings(
    operator: str, key: str, values: tuple[str, ...], action: str, expected: Reading
) -> None:
    reading = read_entry(entry(operator, key, *values), action, NOW)
    assert reading.reading is expected, reading.describe()


@pytest.mark.parametrize(
    ("operator", "key", "value", "expected"),
    [
        ("DateLessThan", "aws:CurrentTime", "2020-01-01T00:00:00Z", NEVER),
        ("DateLessThanEquals", "aws:EpochTime", "1577836800", NEVER),
        ("DateLessThanIfExists", "aws:CurrentTime", "2020-01-01", NEVER),
        ("NumericLessThan", "aws:EpochTime", "1577836800", NEVER),
        ("DateLessThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", NEVER),
        # a session issued an hour ago may still be alive
        ("DateLessThan", "aws:TokenIssueTime", "2026-11-01T11:00:00Z", OPEN),
        # long-term keys carry no TokenIssueTime, and IfExists lets them through
        ("DateLessThanIfExists", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", OPEN),
        ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", OPEN),
        ("DateGreaterThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", OPEN),
        # opens by itself later: a delay, not a guard
        ("DateGreaterThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", OPEN),
        ("DateGreaterThan", "aws:TokenIssueTime", "2030-01-01T00:00:00Z", OPEN),
    ],
)
def test_time_readings_use_the_time_passed_in(operator: str, key: str, value: str, expected: Reading) -> None:
    assert read_entry(entry(operator, key, value), "iam:CreatePolicyVersion", NOW).reading is expected


def test_the_same_date_reads_differently_at_another_time() -> None:
    closing = entry("DateLessThan", "aws:CurrentTime", "2026-12-31T00:00:00Z")
    assert read_entry(closing, "s3:GetObject", NOW).reading is OPEN
    later = NOW + datetime.timedelta(days=90)
    assert read_entry(closing, "s3:GetObject", later).reading is NEVER


def _statement(condition: dict[str, dict[str, object]]) -> tuple[ConditionEntry, ...]:
    document = {
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}]
    }
    return tuple(labelled(document)[0].conditions)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            {
                "StringEquals": {"aws:ResourceTag/env": "dev"},
                "StringNotEquals": {"aws:ResourceTag/env": "dev"},
            },
            NEVER,
        ),
        (
            {
                "StringEquals": {"aws:ResourceTag/env": "dev"},
                "StringNotEquals": {"aws:ResourceTag/env": "prod"},
            },
            NARROW,
        ),
        (
            {"Bool": {"aws:MultiFactorAuthPresent": "true"}, "Null": {"aws:MultiFactorAuthPresent": "true"}},
            NEVER,
        ),
        (
            {
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
            },
            NEVER,
        ),
        ({"StringEquals": {"s3:prefix": "a"}, "StringEqualsIgnoreCase": {"s3:prefix": "B"}}, NEVER),
        ({"StringEquals": {"s3:prefix": "logs/a"}, "StringLike": {"s3:prefix": "data/*"}}, NEVER),
        ({"StringEquals": {"s3:prefix": "logs/a"}, "StringLike": {"s3:prefix": "logs/*"}}, NARROW),
        (
            {
                "NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"},
                "NumericLessThan": {"aws:MultiFactorAuthAge": "60"},
            },
            NEVER,
        ),
        (
            {
                "NumericGreaterThan": {"aws:MultiFactorAuthAge": "60"},
                "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
            },
            OPEN,
        ),
        (
            {
                "DateGreaterThan": {"aws:CurrentTime": "2027-01-01"},
                "DateLessThan": {"aws:CurrentTime": "2026-12-01"},
            },
            NEVER,
        ),
        # IfExists on both sides: a request without the key passes both
        (
            {
                "StringEqualsIfExists": {"aws:ResourceTag/env": "dev"},
                "StringNotEquals": {"aws:ResourceTag/env": "dev"},
            },
            OPEN,
        ),
    ],
)
def test_contradictions_within_one_statement(
    condition: dict[str, dict[str, object]], expected: Reading
) -> None:
    readings = read_conditions(_statement(condition), "s3:GetObject", NOW)
    assert overall(readings) is expected, [r.describe() for r in readings]


@pytest.mark.parametrize(
    ("condition", "admitted", "ec2", "lambda_"),
    [
        ({}, None, True, True),
        ({"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}, ("ec2.amazonaws.com",), True, False),
        ({"StringLike": {"iam:PassedToService": "*.amazonaws.com"}}, ("*.amazonaws.com",), True, True),
        (
            {"StringEqualsIfExists": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ("lambda.amazonaws.com",),
            False,
            True,
        ),
        ({"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}, None, True, True),
        ({"StringLike": {"iam:PassedToService": "*"}}, None, True, True),
    ],
)
def test_passed_to_service_narrows_only_the_services(
    condition: dict[str, dict[str, object]], admitted: tuple[str, ...] | None, ec2: bool, lambda_: bool
) -> None:
    entries = _statement(condition) if condition else ()
    assert passed_to_services(entries) == admitted
    assert admits_service(entries, ["ec2.amazonaws.com"]) is ec2
    assert admits_service(entries, ["lambda.amazonaws.com"]) is lambda_


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2030-01-31T00:00:00Z", True),
        ("2030-01-31", True),
        ("2030-01-31T00:00:00+02:00", True),
        ("1577836800", True),
        ("tomorrow", False),
        ("2030-13-01", False),
        ("", False),
    ],
)
def test_dates_iam_can_read(text: str, valid: bool) -> None:
    assert (parse_date(text) is not None) is valid
