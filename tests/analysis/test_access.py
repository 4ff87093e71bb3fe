"""The per-principal access of explain and the plan: what each principal gains or loses."""

from __future__ import annotations

from typing import Any

from iamstate import catalog
from iamstate.analysis.access import explain, principal_access
from iamstate.analysis.account import analyse, document_cache, managed_documents
from iamstate.model import Address, Kind, State
from iamstate.plan import Action, Change
from tests.analysis.corpus import NOW
from tests.analysis.states import allow, deny, group, policy, role, state, user

DATA = "arn:aws:s3:::data/*"


def access(before: State, after: State, changes: tuple[Change, ...] = ()) -> list[dict[str, Any]]:
    cache = document_cache(NOW)
    managed = managed_documents()
    old = analyse(before, managed=managed, now=NOW, cache=cache)
    new = analyse(after, managed=managed, now=NOW, cache=cache)
    return principal_access(old, new, declared=after, changes=changes)


def by_address(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["address"]: e for e in entries}


def lines(entry: dict[str, Any], side: str = "gained") -> dict[tuple[str, str], dict[str, Any]]:
    return {(line["service"], line["access_level"]): line for line in entry[side]}


def test_a_plan_that_changes_nothing_lists_no_principal() -> None:
    same = state(
        policy("read", allow("s3:GetObject", DATA)), group("data", "read"), user("ann", groups=["data"])
    )
    assert access(same, same) == []


def test_an_action_on_one_bucket_is_not_all_of_s3_and_widening_it_is_a_gain() -> None:
    before = state(policy("read", allow("s3:GetObject", DATA)), role("app", "read"))
    after = state(policy("read", allow("s3:GetObject", "*")), role("app", "read"))
    (entry,) = access(before, after)
    assert entry["address"] == "role.app"
    assert entry["policies"]["changed"] == ["role.app (policy read)"]
    read = lines(entry)[("s3", "Read")]
    assert read["count"] == 1 and read["on_every_resource"] == 1 and "resources" not in read
    assert entry["lost"] == []

    (narrowed,) = access(after, before)
    assert narrowed["gained"] == []
    assert lines(narrowed, "lost")[("s3", "Read")]["on_every_resource"] == 1


def test_a_scoped_grant_names_its_resources() -> None:
    (entry,) = access(
        state(role("app")), state(policy("read", allow("s3:GetObject", DATA)), role("app", "read"))
    )
    read = lines(entry)[("s3", "Read")]
    assert read["on_every_resource"] == 0 and read["resources"] == [DATA]
    assert read["of"] == catalog.level_counts("s3")["Read"]


def test_one_line_per_service_and_level_with_counts_never_every_action_name() -> None:
    (entry,) = access(state(role("app")), state(policy("all-s3", allow("s3:*")), role("app", "all-s3")))
    gained = lines(entry)
    assert {service for service, _ in gained} == {"s3"}
    assert len(entry["gained"]) == len({level for _, level in gained})
    assert sum(line["count"] for line in entry["gained"]) == len(catalog.expand("s3:*"))
    assert all(
        set(line) <= {"service", "access_level", "count", "of", "on_every_resource"}
        for line in entry["gained"]
    )


def test_a_membership_change_is_a_gain_through_the_group() -> None:
    deploy = policy("deploy", allow(["iam:PassRole", "ec2:RunInstances"]))
    before = state(deploy, group("ops", "deploy"), user("dave"))
    after = state(deploy, group("ops", "deploy"), user("dave", groups=["ops"]))
    (entry,) = access(before, after)
    assert entry["address"] == "user.dave"
    assert entry["policies"]["gained"] == ["group.ops (policy deploy)"]
    assert entry["escalations"]["gained"] == ["PassRoleToNewEC2Instance"]
    assert ("iam", "Permissions management") in lines(entry)


def test_users_whose_change_is_their_groups_are_folded_into_it() -> None:
    before = state(
        policy("read", allow("s3:GetObject", DATA)),
        group("data"),
        *[user(f"u{i}", groups=["data"]) for i in range(3)],
    )
    after = state(
        policy("read", allow("s3:GetObject", DATA)),
        group("data", "read"),
        *[user(f"u{i}", groups=["data"]) for i in range(3)],
    )
    (entry,) = access(before, after)
    assert entry["address"] == "group.data"
    assert entry["members"] == ["user.u0", "user.u1", "user.u2"]


def test_an_aws_managed_policy_attached_by_arn_is_read_from_its_document() -> None:
    full = "arn:aws:iam::aws:policy/IAMFullAccess"
    (entry,) = access(
        state(group("ops")), state(group("ops", full, "arn:aws:iam::aws:policy/PowerUserAccess"))
    )
    assert "group.ops (policy IAMFullAccess, AWS-managed)" in entry["policies"]["gained"]
    assert lines(entry)[("iam", "Permissions management")]["on_every_resource"] > 0
    assert "CreateNewPolicyVersion" in entry["escalations"]["gained"]


def test_a_boundary_is_a_ceiling_never_a_grant() -> None:
    grants = policy("grants", allow("s3:GetObject", DATA))
    wide = policy("ceiling", allow(["s3:*", "dynamodb:*", "iam:*"]))
    before = state(grants, wide, user("carol", "grants"))
    after = state(grants, wide, user("carol", "grants", permissions_boundary=wide.arn))
    (entry,) = access(before, after)
    assert entry["boundary"] == {"before": None, "after": "ceiling"}
    # The boundary allows iam:* and dynamodb:*, but no identity policy grants them.
    assert entry["gained"] == [] and entry["lost"] == []


def test_a_boundary_that_cuts_a_grant_is_a_loss() -> None:
    grants = policy("grants", allow(["s3:GetObject", "sqs:SendMessage"]))
    ceiling = policy("ceiling", allow("s3:*"))
    before = state(grants, ceiling, role("app", "grants"))
    after = state(grants, ceiling, role("app", "grants", permissions_boundary=ceiling.arn))
    (entry,) = access(before, after)
    assert set(lines(entry, "lost")) == {("sqs", "Write")}


def test_a_deny_takes_access_away() -> None:
    before = state(policy("p", allow("s3:*")), role("app", "p"))
    after = state(policy("p", allow("s3:*"), deny("s3:DeleteObject")), role("app", "p"))
    (entry,) = access(before, after)
    assert lines(entry, "lost")[("s3", "Write")]["count"] == 1


def test_principals_the_plan_deletes_are_left_out() -> None:
    before = state(policy("p", allow("s3:GetObject")), role("app", "p"))
    after = state(policy("p", allow("s3:GetObject", DATA)), role("app", "p"))
    gone = (Change(Address(Kind.ROLE, "app"), Action.DELETE, {}, None),)
    assert access(before, after, gone) == []


def test_explain_names_the_policies_behind_each_line_and_every_path() -> None:
    the_state = state(
        policy("pass", allow("iam:PassRole")),
        policy("lambda-admin", allow(["lambda:CreateFunction", "lambda:InvokeFunction"])),
        group("ops", "lambda-admin"),
        user("dave", "pass", groups=["ops"]),
    )
    analysis = analyse(the_state, managed=managed_documents(), now=NOW)
    doc = explain(analysis, Address(Kind.USER, "dave"))
    behind = {(line["service"], line["access_level"]): line["policies"] for line in doc["access"]}
    assert behind[("iam", "Permissions management")] == ["user.dave (policy pass)"]
    assert behind[("lambda", "Write")] == ["group.ops (policy lambda-admin)"]
    (path,) = [p for p in doc["escalations"] if p["methods"][-1]["id"] == "lambda-001"]
    assert path["path"] == (
        "user.dave → user.dave (policy pass: iam:PassRole) + group.ops (policy lambda-admin: "
        "lambda:CreateFunction, lambda:InvokeFunction)"
    )
    assert doc["administrator"] is None
    assert [p["name"] for p in doc["policies"]] == ["pass", "lambda-admin"]
