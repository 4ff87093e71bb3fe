"""Cloudsplaining's exposure classes: data exfiltration, resource exposure, credentials exposure."""

from __future__ import annotations

import pytest

from iamstate import catalog
from iamstate.analysis.account import analyse
from iamstate.analysis.exposure import ExposureClass, actions_of
from iamstate.model import Address, Kind
from tests.analysis.corpus import NOW
from tests.analysis.states import allow, policy, state, user

DAVE = Address(Kind.USER, "dave")


def classes(*statements: dict[str, object]) -> dict[ExposureClass, tuple[str, ...]]:
    analysis = analyse(state(policy("grant", *statements), user("dave", "grant")), managed={}, now=NOW)
    return {e.exposure: e.actions for e in analysis.exposures(DAVE)}


@pytest.mark.parametrize(
    ("statement", "exposure", "action"),
    [
        (allow("s3:GetObject"), ExposureClass.DATA_EXFILTRATION, "s3:GetObject"),
        (allow("ssm:GetParameter*"), ExposureClass.DATA_EXFILTRATION, "ssm:GetParametersByPath"),
        (
            allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:*"),
            ExposureClass.DATA_EXFILTRATION,
            "secretsmanager:GetSecretValue",
        ),
        (allow("s3:PutBucketPolicy"), ExposureClass.RESOURCE_EXPOSURE, "s3:PutBucketPolicy"),
        (allow("kms:PutKeyPolicy"), ExposureClass.RESOURCE_EXPOSURE, "kms:PutKeyPolicy"),
        (allow("kms:CreateGrant"), ExposureClass.RESOURCE_EXPOSURE, "kms:CreateGrant"),
        (allow("lambda:AddPermission"), ExposureClass.RESOURCE_EXPOSURE, "lambda:AddPermission"),
        (allow("ecr:GetAuthorizationToken"), ExposureClass.CREDENTIALS_EXPOSURE, "ecr:GetAuthorizationToken"),
        (
            allow("redshift:GetClusterCredentials"),
            ExposureClass.CREDENTIALS_EXPOSURE,
            "redshift:GetClusterCredentials",
        ),
        (allow("sts:GetFederationToken"), ExposureClass.CREDENTIALS_EXPOSURE, "sts:GetFederationToken"),
    ],
)
def test_exposure_fires_on_every_resource(
    statement: dict[str, object], exposure: ExposureClass, action: str
) -> None:
    assert action in classes(statement).get(exposure, ())


@pytest.mark.parametrize(
    "statement",
    [
        allow("s3:GetObject", "arn:aws:s3:::reports/*"),
        allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:111111111111:secret:app-*"),
        allow("s3:GetObject", Condition={"StringEquals": {"aws:ResourceTag/team": "data"}}),
        allow(
            "kms:CreateGrant", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ),
        allow(["s3:ListBucket", "ec2:Describe*"]),
    ],
)
def test_scoped_or_guarded_grants_expose_nothing(statement: dict[str, object]) -> None:
    assert classes(statement) == {}


def test_the_lists_are_cloudsplainings_as_the_catalogue_spells_them() -> None:
    credentials = actions_of(ExposureClass.CREDENTIALS_EXPOSURE)
    assert "gamelift:GetComputeAccess" in credentials
    assert all(catalog.lookup(a) == a for c in ExposureClass for a in actions_of(c))
    assert len(actions_of(ExposureClass.RESOURCE_EXPOSURE)) > 300
    assert all(
        catalog.access_level(a) == "Permissions management"
        for a in actions_of(ExposureClass.RESOURCE_EXPOSURE)
    )


def test_not_resource_reaches_every_resource_but_those_it_names() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::private/*"}
    assert classes(statement) == {ExposureClass.DATA_EXFILTRATION: ("s3:GetObject",)}


def test_a_deny_or_scoped_allow_beside_an_open_one_leaves_the_open_one() -> None:
    found = classes(
        allow("s3:GetObject", "arn:aws:s3:::reports/*"),
        allow("s3:GetObject"),
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::private/*"},
    )
    assert found == {ExposureClass.DATA_EXFILTRATION: ("s3:GetObject",)}
