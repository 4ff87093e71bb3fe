"""Effective permissions: own and group policies, denies, boundaries, sources, shared work."""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.analysis.account import analyse
from iamstate.analysis.conditions import Reading
from iamstate.analysis.effective import Permissions, effective_permissions
from iamstate.analysis.managed import builtin_documents
from iamstate.kinds.user import User
from iamstate.model import Address, Json, Kind, Resource
from iamstate.policy import normalize
from tests.analysis.corpus import NOW
from tests.analysis.states import allow, arn, deny, document, group, policy, role, state, user

DAVE = Address(Kind.USER, "dave")


def permissions(
    *resources: Resource, managed: Mapping[str, Json] | None = None
) -> dict[Address, Permissions]:
    return effective_permissions(state(*resources), managed=managed or {}, now=NOW)


def test_a_user_holds_its_own_policies_and_its_groups() -> None:
    perms = permissions(
        policy("own", allow("s3:GetObject", "arn:aws:s3:::reports/*")),
        policy("ops", allow("iam:PassRole")),
        group("ops", "ops"),
        user("dave", "own", groups=["ops"]),
    )[DAVE]
    [passrole] = perms.grants("iam:PassRole")
    assert passrole.source.holder == Address(Kind.GROUP, "ops")
    assert passrole.source.name == "ops" and passrole.unscoped
    [get] = perms.grants("s3:getobject")
    assert get.source.holder == DAVE and get.action == "s3:GetObject"
    assert get.resources == ("arn:aws:s3:::reports/*",) and not get.unscoped
    assert perms.grants("s3:PutObject") == ()


def test_an_unconditional_deny_in_any_policy_takes_the_action_away() -> None:
    perms = permissions(
        policy("power", allow(["iam:PutUserPolicy", "iam:CreateAccessKey"])),
        policy("guard", deny("iam:Put*")),
        user("dave", "power", "guard"),
    )[DAVE]
    assert perms.grants("iam:PutUserPolicy") == ()
    assert perms.allows("iam:CreateAccessKey")


def test_a_deny_on_some_resources_leaves_the_others_and_a_conditional_deny_leaves_all() -> None:
    perms = permissions(
        policy(
            "grant", allow("iam:PutRolePolicy", [arn("role", "a"), arn("role", "b")]), allow("iam:PassRole")
        ),
        policy(
            "guard",
            deny("iam:PutRolePolicy", arn("role", "a")),
            deny(
                "iam:PassRole",
                "*",
                Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            ),
        ),
        user("dave", "grant", "guard"),
    )[DAVE]
    [put] = perms.grants("iam:PutRolePolicy")
    assert put.resources == (arn("role", "b"),)
    assert perms.allows("iam:PassRole")


def test_a_boundary_is_a_ceiling_never_a_grant() -> None:
    found = permissions(
        policy("grant", allow(["iam:PutRolePolicy", "s3:GetObject"])),
        policy("ceiling", allow(["s3:*", "ec2:RunInstances"]), allow("iam:PassRole", arn("role", "app-*"))),
        policy("passer", allow("iam:PassRole")),
        role("worker", "grant", permissions_boundary=arn("policy", "ceiling")),
        role("passer", "passer", permissions_boundary=arn("policy", "ceiling")),
    )
    worker = found[Address(Kind.ROLE, "worker")]
    assert worker.grants("iam:PutRolePolicy") == ()
    assert worker.allows("s3:GetObject")
    assert worker.grants("ec2:RunInstances") == ()
    [passrole] = found[Address(Kind.ROLE, "passer")].grants("iam:PassRole")
    assert passrole.resources == (arn("role", "app-*"),) and not passrole.unscoped


def test_never_true_statements_grant_nothing_and_narrowed_ones_say_so() -> None:
    perms = permissions(
        policy(
            "grant",
            allow(
                "iam:CreatePolicyVersion",
                Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            ),
            allow("ssm:SendCommand", Condition={"StringEquals": {"aws:ResourceTag/env": "dev"}}),
        ),
        user("dave", "grant"),
    )[DAVE]
    assert perms.grants("iam:CreatePolicyVersion") == ()
    [send] = perms.grants("ssm:SendCommand")
    assert send.reading is Reading.NARROWING and send.narrowed
    assert perms.open_grants("ssm:SendCommand") == ()


def test_not_action_grants_every_other_action() -> None:
    perms = permissions(
        policy("grant", {"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}), user("dave", "grant")
    )[DAVE]
    [passrole] = perms.grants("iam:PassRole")
    assert passrole.through == "NotAction ['s3:*']"
    assert perms.grants("s3:GetObject") == ()


def test_policies_whose_documents_are_not_available_are_listed_as_unread() -> None:
    perms = permissions(
        user(
            "dave",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/IAMFullAccess",
            arn("policy", "outside-the-config"),
            permissions_boundary="arn:aws:iam::aws:policy/PowerUserAccess",
        ),
        managed={"arn:aws:iam::aws:policy/IAMFullAccess": document(allow("iam:*"))},
    )[DAVE]
    assert set(perms.unread) == {
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        arn("policy", "outside-the-config"),
        "arn:aws:iam::aws:policy/PowerUserAccess",
    }
    [grant] = perms.grants("iam:AttachUserPolicy")
    assert grant.source.kind == "aws-managed" and grant.source.name == "IAMFullAccess"


def test_inline_policies_of_a_live_state_count() -> None:
    inline = {"deploy": normalize(document(allow("lambda:UpdateFunctionCode")))}
    perms = permissions(User("dave", inline_policies=inline, arn=arn("user", "dave")))[DAVE]
    [grant] = perms.grants("lambda:UpdateFunctionCode")
    assert grant.source.kind == "inline" and grant.source.describe() == "inline policy deploy"


def test_each_distinct_document_is_compiled_once() -> None:
    resources = [
        policy("shared", allow("s3:GetObject", "arn:aws:s3:::a/*")),
        policy("other", allow("sqs:SendMessage")),
    ]
    resources += [role(f"r{i}", "shared", "arn:aws:iam::aws:policy/IAMFullAccess") for i in range(50)]
    resources += [user(f"u{i}", "other") for i in range(20)]
    analysis = analyse(state(*resources), managed=builtin_documents(), now=NOW)
    assert analysis.documents == 3
    assert len(analysis.permissions) == 70


def test_allowed_actions_expands_wildcards() -> None:
    perms = permissions(policy("grant", allow("iam:Pass*"), allow("s3:GetObject")), user("dave", "grant"))[
        DAVE
    ]
    assert perms.allowed_actions() == ["iam:PassRole", "s3:GetObject"]
