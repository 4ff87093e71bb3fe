"""Plan renderers: text, markdown and json, all from the plan's JSON form."""

from __future__ import annotations

import io
import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest

from iamstate.cli import should_color
from iamstate.model import Address, Kind
from iamstate.plan import Action, ApiCall, Change, FieldDiff, Finding, Phase, Plan, Severity, Unmanaged
from iamstate.render import FORMATS, render, render_json, render_markdown, render_text

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SUMMARY_PREFIXES = ("Plan:", "No changes.")
NO_CHANGES = "No changes. Live IAM matches the configuration."

ARN_READONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ARN_OLD = "arn:aws:iam::123456789012:policy/old"
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
TRUST_ECS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
REPORTS_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::reports/*"}],
}
ROLE = {
    "name": "ci-deploy",
    "path": "/",
    "description": "",
    "trust": TRUST_EC2,
    "policies": [ARN_OLD],
    "max_session_duration": 3600,
    "permissions_boundary": None,
    "tags": {"old": "x"},
    "inline_policies": {"legacy": REPORTS_READ},
}


def create_policy() -> Change:
    return Change(
        Address(Kind.POLICY, "reports-read"),
        Action.CREATE,
        None,
        {
            "name": "reports-read",
            "path": "/",
            "description": "Read the reports bucket",
            "document": REPORTS_READ,
            "tags": {"team": "data"},
        },
        api_calls=(
            ApiCall(
                "CreatePolicy",
                {
                    "PolicyName": "reports-read",
                    "Path": "/",
                    "PolicyDocument": json.dumps(REPORTS_READ),
                    "Description": "Read the reports bucket",
                    "Tags": [{"Key": "team", "Value": "data"}],
                },
                Phase.CREATE_POLICIES,
            ),
        ),
    )


def update_role() -> Change:
    after = dict(
        ROLE,
        trust=TRUST_ECS,
        policies=[ARN_READONLY],
        max_session_duration=7200,
        tags={"team": "data"},
        inline_policies={},
    )
    return Change(
        Address(Kind.ROLE, "ci-deploy"),
        Action.UPDATE,
        ROLE,
        after,
        fields=(
            FieldDiff("max_session_duration", 3600, 7200),
            FieldDiff("tags.team", None, "data"),
            FieldDiff("tags.old", "x", None),
            FieldDiff("policies", [ARN_OLD], [ARN_READONLY]),
            FieldDiff("trust", TRUST_EC2, TRUST_ECS),
            FieldDiff("inline_policies.legacy", REPORTS_READ, None),
        ),
        api_calls=(
            ApiCall("UpdateRole", {"RoleName": "ci-deploy", "MaxSessionDuration": 7200}, Phase.UPDATE),
            ApiCall(
                "UpdateAssumeRolePolicy",
                {"RoleName": "ci-deploy", "PolicyDocument": json.dumps(TRUST_ECS)},
                Phase.UPDATE,
            ),
            ApiCall(
                "TagRole", {"RoleName": "ci-deploy", "Tags": [{"Key": "team", "Value": "data"}]}, Phase.UPDATE
            ),
            ApiCall("UntagRole", {"RoleName": "ci-deploy", "TagKeys": ["old"]}, Phase.UPDATE),
            ApiCall("AttachRolePolicy", {"RoleName": "ci-deploy", "PolicyArn": ARN_READONLY}, Phase.ATTACH),
            ApiCall("DetachRolePolicy", {"RoleName": "ci-deploy", "PolicyArn": ARN_OLD}, Phase.DETACH),
            ApiCall("DeleteRolePolicy", {"RoleName": "ci-deploy", "PolicyName": "legacy"}, Phase.DELETE),
        ),
    )


def delete_user() -> Change:
    return Change(
        Address(Kind.USER, "bob"),
        Action.DELETE,
        {
            "name": "bob",
            "path": "/",
            "groups": ["developers"],
            "policies": [],
            "permissions_boundary": None,
            "tags": {"team": "ops"},
            "inline_policies": {},
        },
        None,
        api_calls=(
            ApiCall(
                "DeleteAccessKey",
                {"UserName": "bob", "AccessKeyId": "*"},
                Phase.DELETE,
                note="for each access key ListAccessKeys returns",
            ),
            ApiCall("DeleteUser", {"UserName": "bob"}, Phase.DELETE, order=1),
        ),
    )


def replace_role() -> Change:
    return Change(
        Address(Kind.ROLE, "app"),
        Action.REPLACE,
        dict(ROLE, name="app", path="/old/"),
        dict(ROLE, name="app", path="/new/"),
        reason="path cannot change in place",
        fields=(FieldDiff("path", "/old/", "/new/"),),
        api_calls=(
            ApiCall("DeleteRole", {"RoleName": "app"}, Phase.DELETE),
            ApiCall(
                "CreateRole",
                {"RoleName": "app", "Path": "/new/", "AssumeRolePolicyDocument": json.dumps(TRUST_EC2)},
                Phase.CREATE,
            ),
        ),
    )


FINDINGS = (
    Finding(
        "policy-admin-star",
        Severity.ERROR,
        "policy.admin",
        "Allow * on *",
        "Grant only the actions and resources needed",
        location="iam/policies.yaml:12:5",
    ),
    Finding("service-wildcard", Severity.WARNING, "policy.reports-read", "Allow s3:*", "List the S3 actions"),
    Finding(
        "attach-admin-managed",
        Severity.ERROR,
        "role.break-glass",
        "AdministratorAccess attached",
        "Attach a narrower policy",
        waived=True,
        waiver_reason="Break-glass role, approved in SEC-42",
    ),
)


def full_plan() -> Plan:
    return Plan(
        "123456789012",
        "platform",
        (create_policy(), update_role(), delete_user(), replace_role()),
        FINDINGS,
        metadata={"live_digest": "abc"},
    )


def adopting_plan() -> Plan:
    """A plan that adopts a declared live role and leaves an unmanaged one alone."""
    adopt = Change(
        Address(Kind.ROLE, "worker"),
        Action.IMPORT,
        ROLE,
        ROLE,
        "import: declared and live, not yet tagged for this stack; apply adopts it",
        (FieldDiff("tags.iamstate:stack", None, "platform"),),
        (
            ApiCall(
                "TagRole",
                {"RoleName": "worker", "Tags": [{"Key": "iamstate:stack", "Value": "platform"}]},
                Phase.UPDATE,
                order=2,
            ),
        ),
        importing=True,
    )
    left = Unmanaged(
        Address(Kind.ROLE, "legacy"), "unmanaged", "in scope, but neither declared nor tagged", "declare it"
    )
    return Plan("123456789012", "platform", (adopt, update_role()), unmanaged=(left,))


def plans() -> dict[str, Plan]:
    return {
        "full": full_plan(),
        "adopting": adopting_plan(),
        "empty": Plan("123456789012", "platform"),
        "create-only": Plan("123456789012", "platform", (create_policy(),)),
        "update-only": Plan("123456789012", "platform", (update_role(),)),
        "findings-only": Plan("123456789012", "platform", findings=FINDINGS),
    }


def text(plan: Plan, *, color: bool = False) -> str:
    return render_text(plan.to_json(), color=color)


def block(output: str, address_line: str) -> list[str]:
    """The lines of one change block in text output, up to the blank line after it."""
    lines = output.splitlines()
    start = lines.index(address_line)
    end = lines.index("", start)
    return lines[start:end]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((resources.files("iamstate") / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(plans()))
@pytest.mark.parametrize("color", [False, True])
def test_text_has_exactly_one_summary_line_and_it_is_last(name: str, color: bool) -> None:
    plan = plans()[name]
    lines = ANSI.sub("", text(plan, color=color)).splitlines()
    summary = [line for line in lines if line.startswith(SUMMARY_PREFIXES)]
    assert summary == [plan.summary.line()]
    assert lines[-1] == plan.summary.line()


def test_text_of_an_empty_plan_is_only_the_no_changes_line() -> None:
    assert text(Plan("123456789012", "platform")) == NO_CHANGES + "\n"


def test_text_summary_counts_a_replace_as_add_and_destroy() -> None:
    assert text(full_plan()).splitlines()[-1] == "Plan: 2 to add, 1 to change, 2 to destroy."


def test_text_header_names_account_and_stack() -> None:
    assert text(full_plan()).splitlines()[0] == 'iamstate plan for account 123456789012 (stack "platform")'


def test_text_marks_each_change_with_terraforms_symbol_in_plan_order() -> None:
    address_lines = [
        line for line in text(full_plan()).splitlines() if re.match(r"^( {2}[+~-]|-/\+) \S", line)
    ]
    assert address_lines == [
        "  + policy.reports-read",
        "  ~ role.ci-deploy",
        "  - user.bob",
        "-/+ role.app (replace: path cannot change in place)",
    ]


def test_text_shows_the_reason_of_a_non_replace_change_as_a_comment() -> None:
    change = Change(Address(Kind.USER, "eve"), Action.DELETE, {"name": "eve"}, None, reason="not declared")
    assert "  - user.eve  # not declared" in text(Plan("123456789012", "s", (change,))).splitlines()


def test_text_update_shows_scalar_tag_and_list_field_diffs() -> None:
    lines = block(text(full_plan()), "  ~ role.ci-deploy")
    assert "      ~ max_session_duration: 3600 → 7200" in lines
    assert '      + tags.team: "data"' in lines
    assert '      - tags.old: "x"' in lines
    policies = lines.index("      ~ policies:")
    assert lines[policies + 1 : policies + 3] == [f"          - {ARN_OLD}", f"          + {ARN_READONLY}"]


def test_text_update_shows_a_document_as_a_unified_diff_of_the_changed_lines() -> None:
    lines = block(text(full_plan()), "  ~ role.ci-deploy")
    trust = lines[lines.index("      ~ trust:") + 1 :]
    changed = [squash(line) for line in trust if line.lstrip().startswith(("-", "+"))][:2]
    assert changed == ['- "ec2.amazonaws.com"', '+ "ecs-tasks.amazonaws.com"']
    assert trust[0].strip().startswith("@@")
    assert not any(line.lstrip().startswith(("--- ", "+++ ")) for line in lines)
    # Unchanged statement fields appear as context, not as changes.
    assert any(line.strip() == '"Effect": "Allow",' for line in trust)


def test_text_update_shows_a_removed_inline_policy_in_full() -> None:
    lines = block(text(full_plan()), "  ~ role.ci-deploy")
    start = lines.index("      - inline_policies.legacy:")
    body = lines[start + 1 : lines.index("        # API calls")]
    assert body and all(line.startswith("          - ") for line in body)
    assert any('"arn:aws:s3:::reports/*"' in line for line in body)


def test_text_create_shows_attributes_and_the_document_line_by_line() -> None:
    lines = block(text(full_plan()), "  + policy.reports-read")
    assert '      + description: "Read the reports bucket"' in lines
    assert '      + tags.team: "data"' in lines
    assert not any("name:" in line for line in lines), "the name is already in the address"
    document = lines[lines.index("      + document:") + 1 : lines.index("        # API calls")]
    assert document[0] == "          + {" and document[-1] == "          + }"
    assert all(line.startswith("          + ") for line in document)
    assert '          +   "Version": "2012-10-17",' in document


def test_text_delete_lists_the_entity_key_attributes() -> None:
    lines = block(text(full_plan()), "  - user.bob")
    assert lines[1:5] == [
        '      - path: "/"',
        "      - groups:",
        "          - developers",
        '      - tags.team: "ops"',
    ]


def test_text_lists_api_calls_compactly_with_notes() -> None:
    output = text(full_plan())
    assert (
        "        CreatePolicy(PolicyName=reports-read, Path=/, PolicyDocument=<policy document>,"
        ' Description="Read the reports bucket", Tags=[team=data])'
    ) in output.splitlines()
    assert f"        AttachRolePolicy(RoleName=ci-deploy, PolicyArn={ARN_READONLY})" in output
    assert "        UntagRole(RoleName=ci-deploy, TagKeys=[old])" in output
    assert (
        "        DeleteAccessKey(UserName=bob, AccessKeyId=*)  # for each access key ListAccessKeys returns"
        in output
    )
    assert "Statement" not in "".join(line for line in output.splitlines() if "(" in line and "=" in line)


def test_text_truncates_long_parameter_values_but_never_arns() -> None:
    arn = "arn:aws:iam::123456789012:policy/" + "a" * 120
    change = Change(
        Address(Kind.ROLE, "r"),
        Action.UPDATE,
        {"description": "a"},
        {"description": "b" * 200},
        fields=(FieldDiff("description", "a", "b" * 200),),
        api_calls=(
            ApiCall("UpdateRole", {"RoleName": "r", "Description": "b" * 200}, Phase.UPDATE),
            ApiCall("AttachRolePolicy", {"RoleName": "r", "PolicyArn": arn}, Phase.ATTACH),
        ),
    )
    output = text(Plan("123456789012", "s", (change,)))
    assert f"UpdateRole(RoleName=r, Description={'b' * 79}…)" in output
    assert f"PolicyArn={arn})" in output


def test_text_shows_findings_with_rule_remedy_location_and_waiver() -> None:
    lines = text(full_plan()).splitlines()
    error = lines.index("Error: [policy-admin-star] policy.admin: Allow * on *")
    assert lines[error + 1 : error + 3] == [
        "  remedy: Grant only the actions and resources needed",
        "  at: iam/policies.yaml:12:5",
    ]
    assert "Warning: [service-wildcard] policy.reports-read: Allow s3:*" in lines
    assert (
        "Error: [attach-admin-managed] role.break-glass: AdministratorAccess attached"
        " (waived: Break-glass role, approved in SEC-42)"
    ) in lines
    # Findings come after every change block and before the summary.
    assert error > lines.index("-/+ role.app (replace: path cannot change in place)")


@pytest.mark.parametrize("name", list(plans()))
def test_text_without_color_has_no_escape_codes(name: str) -> None:
    assert not ANSI.search(text(plans()[name], color=False))
    assert "\x1b" not in text(plans()[name], color=False)


def test_text_with_color_uses_terraforms_palette() -> None:
    output = text(full_plan(), color=True)
    green, yellow, red, magenta = "\x1b[1;32m+", "\x1b[1;33m~", "\x1b[1;31m-", "\x1b[1;35m-/+"
    assert "  " + green in output
    assert "  " + yellow in output
    assert "  " + red in output
    assert magenta in output
    assert "\x1b[1m role.ci-deploy\x1b[0m" in output, "addresses are bold"
    assert '\x1b[31m-\x1b[0m\x1b[31m           "ec2.amazonaws.com"' in output, (
        "removed document lines are red"
    )
    assert '\x1b[32m+\x1b[0m\x1b[32m           "ecs-tasks.amazonaws.com"' in output
    assert "\x1b[2mUpdateRole(" in output, "API calls are dimmed"


def test_text_renders_from_plain_json_alone() -> None:
    doc = full_plan().to_json()
    assert render_text(json.loads(json.dumps(doc)), color=False) == render_text(doc, color=False)


# --- colour decision --------------------------------------------------------------------


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_should_color_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert should_color(False, Stream(tty=True)) is True


def test_should_color_honours_the_flag_no_color_and_non_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert should_color(True, Stream(tty=True)) is False
    assert should_color(False, Stream(tty=False)) is False
    assert should_color(False, object()) is False
    closed = Stream(tty=True)
    closed.close()
    monkeypatch.setattr(closed, "isatty", io.StringIO().isatty)  # raises ValueError once closed
    assert should_color(False, closed) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert should_color(False, Stream(tty=True)) is False


def test_should_color_ignores_an_empty_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert should_color(False, Stream(tty=True)) is True


# --- json -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(plans()))
def test_json_validates_against_the_schema_and_round_trips(
    name: str, validator: jsonschema.Draft202012Validator
) -> None:
    plan = plans()[name]
    output = render_json(plan.to_json())
    assert output.endswith("}\n")
    assert json.loads(output) == plan.to_json()
    validator.validate(json.loads(output))
    assert render_json(plan.to_json()) == output, "stable"
    assert list(json.loads(output)) == list(plan.to_json()), "keys keep the plan's order"


def test_schema_declares_exactly_the_keys_of_the_json_form(
    validator: jsonschema.Draft202012Validator,
) -> None:
    schema: dict[str, Any] = validator.schema  # type: ignore[assignment]
    doc = full_plan().to_json()
    adopting = adopting_plan().to_json()
    defs = schema["$defs"]
    assert set(schema["properties"]) == set(doc) | set(adopting)
    assert set(schema["required"]) == set(doc) == set(adopting) - {"unmanaged"}
    assert set(defs["change"]["properties"]) == set(doc["changes"][0]) | set(adopting["changes"][0])
    assert set(defs["unmanaged"]["properties"]) == set(adopting["unmanaged"][0])
    assert set(schema["properties"]["summary"]["properties"]) == set(adopting["summary"])
    assert set(defs["field_diff"]["properties"]) == set(doc["changes"][1]["fields"][0])
    assert set(defs["api_call"]["properties"]) == set(doc["changes"][2]["api_calls"][0])
    assert set(defs["finding"]["properties"]) == set(doc["findings"][0]) | set(doc["findings"][2])


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("format_version",), "2"),
        (("account_id",), "12345"),
        (("changes", 0, "action"), "recreate"),
        (("changes", 0, "address"), "bucket.reports"),
        (("changes", 0, "kind"), "bucket"),
        (("changes", 0, "before"), {"name": "x"}),
        (("changes", 2, "after"), {"name": "bob"}),
        (("changes", 0, "surprise"), True),
        (("changes", 1, "fields", 0, "action"), "modify"),
        (("changes", 1, "api_calls", 0, "phase"), "later"),
        (("changes", 1, "api_calls", 0, "params"), "RoleName=ci-deploy"),
        (("findings", 0, "severity"), "info"),
        (("findings", 0, "waived"), "no"),
        (("summary", "add"), -1),
        (("summary", "extra"), 1),
        (("summary_line",), "Plan: nothing."),
        (("metadata",), None),
    ],
)
def test_schema_rejects_what_the_json_form_never_holds(
    path: tuple[Any, ...], value: Any, validator: jsonschema.Draft202012Validator
) -> None:
    assert not validator.is_valid(_mutate(full_plan().to_json(), path, value))


# --- markdown ---------------------------------------------------------------------------


def diff_blocks(markdown: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"^```diff\n(.*?)\n```$", markdown, re.S | re.M)]


def squash(line: str) -> str:
    return " ".join(line.split())


def test_markdown_has_summary_banner_findings_and_one_diff_block_per_change() -> None:
    plan = full_plan()
    output = render_markdown(plan.to_json())
    assert f"**{plan.summary.line()}**" in output
    assert "> [!WARNING]" in output
    assert "> - `-` `user.bob`" in output
    assert "> - `-/+` `role.app`: path cannot change in place" in output
    assert output.count("```diff") == len(plan.changes) == len(diff_blocks(output))
    assert output.count("<details>") == output.count("</details>") == len(plan.changes)
    assert "<summary><code>-/+ role.app</code> (path cannot change in place)</summary>" in output
    for finding in plan.findings:
        assert f"`{finding.rule}`" in output
        assert finding.remedy in output
    assert r"Allow \* on \*" in output, "free text is escaped"
    assert "(waived: Break-glass role, approved in SEC-42)" in output
    assert "\x1b" not in output


@pytest.mark.parametrize("name", ["create-only", "update-only", "empty", "findings-only"])
def test_markdown_has_no_banner_without_deletes_or_replaces(name: str) -> None:
    assert "[!WARNING]" not in render_markdown(plans()[name].to_json())


def test_markdown_of_an_empty_plan_says_no_changes_and_has_no_diff() -> None:
    output = render_markdown(Plan("123456789012", "platform").to_json())
    assert f"**{NO_CHANGES}**" in output
    assert "```" not in output and "<details>" not in output


def test_markdown_diff_blocks_hold_the_text_blocks_with_signs_in_the_first_column() -> None:
    plan = full_plan()
    output_text = text(plan)
    blocks = diff_blocks(render_markdown(plan.to_json()))
    for change, md_block in zip(plan.changes, blocks, strict=True):
        address_line = f"{change.action.symbol:>3} {change.address}"
        if change.action is Action.REPLACE:
            address_line += f" (replace: {change.reason})"
        text_block = block(output_text, address_line)
        assert [squash(line) for line in md_block] == [squash(line) for line in text_block]
    update = blocks[1]
    assert '-                     "ec2.amazonaws.com"' in update
    assert f"+           {ARN_READONLY}" in update
    assert "      ~ max_session_duration: 3600 → 7200" in update


def test_markdown_fence_outgrows_backticks_in_the_content() -> None:
    change = Change(
        Address(Kind.ROLE, "r"),
        Action.UPDATE,
        {"description": "a"},
        {"description": "uses ``` fences"},
        fields=(FieldDiff("description", "a", "uses ``` fences"),),
    )
    output = render_markdown(Plan("123456789012", "s", (change,)).to_json())
    assert "````diff" in output


# --- dispatch ---------------------------------------------------------------------------


def test_render_dispatches_each_format() -> None:
    doc = full_plan().to_json()
    assert render(doc, "text", color=False) == render_text(doc, color=False)
    assert render(doc, "text", color=True) == render_text(doc, color=True)
    assert render(doc, "json", color=True) == render_json(doc)
    assert render(doc, "markdown", color=True) == render_markdown(doc)
    assert set(FORMATS) == {"text", "markdown", "json"}


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="yaml"):
        render(full_plan().to_json(), "yaml", color=False)


def _plan_with_access() -> dict[str, Any]:
    entry = {
        "address": "group.ops",
        "new": False,
        "members": ["user.alice"],
        "policies": {"gained": ["group.ops (policy deploy)"], "lost": [], "changed": []},
        "boundary": {"before": None, "after": "ceiling"},
        "gained": [
            {
                "service": "iam",
                "access_level": "Permissions management",
                "count": 1,
                "of": 24,
                "on_every_resource": 1,
            },
            {
                "service": "s3",
                "access_level": "Read",
                "count": 3,
                "of": 66,
                "on_every_resource": 1,
                "resources": ["arn:aws:s3:::reports/*"],
            },
            *(
                {"service": f"svc{i}", "access_level": "List", "count": 2, "on_every_resource": 2}
                for i in range(10)
            ),
        ],
        "lost": [{"service": "sqs", "access_level": "Write", "count": 1, "of": 20, "on_every_resource": 1}],
        "escalations": {"gained": ["PassRoleToNewEC2Instance"], "lost": []},
        "exposures": {"gained": [], "lost": ["data-exfiltration"]},
    }
    return Plan("123456789012", "platform", (), metadata={"access": [entry]}).to_json()


def test_text_and_markdown_show_access_per_principal_most_privileged_first_and_capped() -> None:
    doc = _plan_with_access()
    text = render_text(doc, color=False)
    section = text[text.index("Access changes, by principal:") :].split("\n\n", 1)[0].splitlines()
    assert section[:7] == [
        "Access changes, by principal:",
        "  group.ops (members: user.alice)",
        "    + holds: group.ops (policy deploy)",
        "    ~ ceiling: permissions boundary ceiling, a limit, not a grant",
        "    + can now escalate by PassRoleToNewEC2Instance",
        "    - no longer exposed: data-exfiltration",
        "    + iam Permissions management: 1 of 24 actions on every resource",
    ]
    assert "    + s3 Read: 3 of 66 actions (1 on every resource, 2 on arn:aws:s3:::reports/*)" in section
    assert "    + and 6 more: List 12 actions in 6 services" in section
    assert "    - sqs Write: 1 of 20 actions on every resource" in section
    markdown = render_markdown(doc)
    assert "#### Access changes, by principal" in markdown
    assert (
        "<details><summary><code>group.ops (members: user.alice)</code>: can now escalate by "
        "PassRoleToNewEC2Instance; no longer exposed: data-exfiltration</summary>"
    ) in markdown
    assert "| + | s3 | Read | 3 of 66 | 1 on every resource, 2 on arn:aws:s3:::reports/\\* |" in markdown


def test_a_plan_without_access_changes_has_no_access_section() -> None:
    doc = Plan("123456789012", "platform", (), metadata={"access": []}).to_json()
    assert "Access changes" not in render_text(doc, color=False)
    assert "Access changes" not in render_markdown(doc)


def test_an_adoption_is_counted_as_an_import_and_unmanaged_entities_are_listed_apart() -> None:
    plan = adopting_plan()
    out = text(plan)
    assert out.splitlines()[-1] == "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy."
    assert (
        " <= role.worker  # import: declared and live, not yet tagged for this stack; apply adopts it" in out
    )
    assert '      + tags.iamstate:stack: "platform"' in out
    assert (
        "Not managed by this configuration, never deleted:\n  role.legacy: in scope, but neither declared nor tagged"
        in out
    )
    markdown = render_markdown(plan.to_json())
    assert "**Plan: 1 to import, 0 to add, 1 to change, 0 to destroy.**" in markdown
    assert "<summary>Not managed by this configuration, never deleted: 1</summary>" in markdown
    assert plan.to_json()["summary"] == {"import": 1, "add": 0, "change": 1, "destroy": 0}
