"""The catalogue's condition keys, key types and resource types."""

from __future__ import annotations

import pytest

from iamstate import catalog


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("aws:SourceIp", "IPAddress"),
        ("aws:sourceip", "IPAddress"),
        ("aws:PrincipalTag/team", "String"),
        ("aws:CurrentTime", "Date"),
        ("aws:MultiFactorAuthPresent", "Bool"),
        ("aws:TagKeys", "ArrayOfString"),
        ("iam:PassedToService", "String"),
        ("iam:PolicyARN", "ARN"),
        ("s3:ExistingObjectTag/team", "String"),
        ("catalog:ChangeType", "String"),
        ("s3:nosuchkey", None),
    ],
)
def test_condition_key_types(key: str, kind: str | None) -> None:
    assert catalog.condition_key_type(key) == kind


def test_action_condition_keys_include_the_resource_types_keys() -> None:
    keys = catalog.action_condition_keys("iam:AttachRolePolicy")
    assert "iam:PolicyARN" in keys and "iam:ResourceTag/${TagKey}" in keys
    assert catalog.action_has_condition_key("s3:GetObject", "s3:ExistingObjectTag/team")
    assert not catalog.action_has_condition_key("iam:CreatePolicyVersion", "iam:PassedToService")
    assert catalog.action_condition_keys("s3:Nope") == ()


def test_resource_types_carry_arn_formats() -> None:
    [role] = catalog.action_resource_types("iam:PassRole")
    assert (role.name, role.arn_format, role.required) == (
        "role",
        "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
        True,
    )
    assert catalog.action_resource_types("s3:ListAllMyBuckets") == ()
    assert any(t.name == "bucket" for t in catalog.service_resource_types("s3"))


def test_misspelt_keys_get_a_suggestion() -> None:
    assert catalog.suggest_condition_key("aws:MultiFactorAuthPresnt") == "aws:MultiFactorAuthPresent"
    assert catalog.suggest_condition_key("s3:prefx") == "s3:prefix"
    assert catalog.suggest_condition_key("aws:SourceIp") is None
    assert catalog.suggest_condition_key("lakeformation:gluearn") is None


def test_actions_at_a_level() -> None:
    found = catalog.service_actions_at_level("Permissions management")
    assert "iam:PassRole" in found and "s3:PutBucketPolicy" in found and "s3:GetObject" not in found
