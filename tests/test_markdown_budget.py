"""The pull-request comment fits GitHub at any account size: a budget, spent on what matters first."""

from __future__ import annotations

import re
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role
from iamstate.model import STACK_TAG, Address, Kind, LiveAccount, State
from iamstate.plan import Action, ApiCall, Change, FieldDiff, Finding, Phase, Plan, Severity
from iamstate.render import render_markdown
from iamstate.render.markdown import DEFAULT_MAX_CHARS
from iamstate.rules import RuleInput, run_rules

ACCOUNT = "123456789012"
GITHUB_LIMIT = 65_536


def document(i: int, actions: int = 6) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"Read{i}",
                "Effect": "Allow",
                "Action": [f"s3:GetObjectVersion{n}" for n in range(actions)],
                "Resource": [f"arn:aws:s3:::bucket-{i}", f"arn:aws:s3:::bucket-{i}/*"],
            }
        ],
    }


def policy(i: int, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": f"policy-{i:04d}",
        "path": "/",
        "description": "",
        "document": doc or document(i),
        "tags": {},
    }


def change(i: int) -> Change:
    """Change ``i`` of a big plan: mostly creates, some updates, deletes and replaces."""
    address = Address(Kind.POLICY, f"policy-{i:04d}")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/policy-{i:04d}"
    kind = i % 10
    if kind < 6:
        calls = (
            ApiCall(
                "CreatePolicy",
                {"PolicyName": address.name, "Path": "/", "PolicyDocument": "{}"},
                Phase.CREATE_POLICIES,
            ),
        )
        return Change(address, Action.CREATE, None, policy(i), api_calls=calls)
    if kind < 8:
        before, after = policy(i), policy(i, document(i, 7))
        fields = (FieldDiff("document", before["document"], after["document"]),)
        calls = (
            ApiCall(
                "CreatePolicyVersion",
                {"PolicyArn": arn, "PolicyDocument": "{}", "SetAsDefault": True},
                Phase.CREATE_POLICIES,
            ),
        )
        return Change(address, Action.UPDATE, before, after, fields=fields, api_calls=calls)
    if kind < 19:
        return Change(
            address,
            Action.DELETE,
            policy(i),
            None,
            api_calls=(ApiCall("DeletePolicy", {"PolicyArn": arn}, Phase.DELETE),),
        )
    before, after = policy(i), {**policy(i), "description": "new"}
    return Change(
        address,
        Action.REPLACE,
        before,
        after,
        reason="a managed policy's description cannot change in place",
        fields=(FieldDiff("description", "", "new"),),
        api_calls=(ApiCall("DeletePolicy", {"PolicyArn": arn}, Phase.DELETE),),
    )


def big_plan(n: int) -> Plan:
    changes = tuple(change(i) for i in range(n))
    findings = tuple(
        Finding(
            "service-wildcard", Severity.WARNING, f"policy.policy-{i:04d}", "allows s3:*", "list the actions"
        )
        for i in range(0, n, 7)
    ) + tuple(
        Finding(
            "service-wildcard", Severity.WARNING, f"policy.untouched-{i}", "allows s3:*", "list the actions"
        )
        for i in range(20)
    )
    return Plan(ACCOUNT, "platform", changes, findings)


def rendered_html(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def destructive(plan: Plan) -> list[str]:
    return [str(c.address) for c in plan.changes if c.action in (Action.DELETE, Action.REPLACE)]


@pytest.mark.parametrize("n", [10, 100, 2_000])
def test_the_comment_never_exceeds_its_budget(n: int) -> None:
    plan = big_plan(n)
    markdown = render_markdown(plan.to_json(), full_plan="plan.json")
    assert len(markdown) <= DEFAULT_MAX_CHARS < GITHUB_LIMIT
    assert markdown.count(f"**{plan.summary.line()}**") == 1
    html = rendered_html(markdown)
    assert html.count("<details") == html.count("</details>")
    shown = markdown.count("```diff")
    assert html.count("<pre") == shown
    left = re.search(r"\*\*([\d,]+) changes?(?:, [^*]+)? not shown\*\*", markdown)
    if shown == n:
        assert left is None and "not shown" not in markdown
    else:
        assert left is not None and int(left.group(1).replace(",", "")) == n - shown
        assert "the full plan is in `plan.json`" in markdown
    # Whole entries only: every shown change block is complete.
    assert markdown.count("<details") == markdown.count("</details>")


def test_small_plans_are_shown_whole_and_big_ones_fill_the_budget() -> None:
    assert "not shown" not in render_markdown(big_plan(10).to_json())
    for n in (100, 2_000):
        big = render_markdown(big_plan(n).to_json())
        assert len(big) > DEFAULT_MAX_CHARS * 0.9, "the budget is used, not wasted"


@pytest.mark.parametrize("n", [10, 100, 2_000])
def test_deletes_and_replaces_come_first_in_the_banner_and_the_changes(n: int) -> None:
    plan = big_plan(n)
    markdown = render_markdown(plan.to_json())
    banner = markdown.split("> [!WARNING]", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"`(policy\.policy-\d{4})`", banner)
    risky = destructive(plan)
    more = re.search(r"… and ([\d,]+) more", banner)
    assert listed == risky[: len(listed)]
    assert len(listed) + (int(more.group(1).replace(",", "")) if more else 0) == len(risky)
    if n <= 100:
        assert listed == risky and more is None
    # The change blocks: risky ones first (deletes, replaces, changes with findings), each
    # group in plan order; risky ones open unless deleted, the rest folded.
    flagged = {f.address for f in plan.findings}
    first = [str(c.address) for c in plan.changes if str(c.address) in risky or str(c.address) in flagged]
    expected = first + [str(c.address) for c in plan.changes if str(c.address) not in first]
    blocks = re.findall(r"<details( open)?><summary><code>\S+ (policy\.policy-\d{4})</code>", markdown)
    shown = [address for _, address in blocks]
    assert shown == [a for a in expected if a in set(shown)]
    opened = {address for is_open, address in blocks if is_open}
    deleted = {str(c.address) for c in plan.changes if c.action is Action.DELETE}
    assert opened == {a for a in shown if a in first and a not in deleted}


def test_a_smaller_budget_is_kept_too_and_names_how_to_get_the_full_plan() -> None:
    markdown = render_markdown(big_plan(100).to_json(), max_chars=5_000)
    assert len(markdown) <= 5_000
    assert "to keep this comment under 5,000 characters" in markdown
    assert "run `iamstate plan --format text` (or `--out FILE`) for the full plan" in markdown
    assert markdown.startswith("### iamstate plan for account")
    assert "> [!WARNING]" in markdown


def _principal_access(i: int) -> dict[str, Any]:
    return {
        "address": f"role.app-{i:04d}",
        "new": False,
        "members": [],
        "policies": {"gained": [f"policy.policy-{i:04d}"], "lost": [], "changed": []},
        "gained": [
            {"service": f"svc{j}", "access_level": "Write", "count": 3, "of": 40, "on_every_resource": 3}
            for j in range(8)
        ],
        "lost": [],
    }


@pytest.mark.parametrize("n", [10, 100, 2_000])
def test_the_access_section_follows_the_changes_and_is_kept_or_dropped_per_principal(n: int) -> None:
    doc = big_plan(n).to_json()
    doc["metadata"] = {"access": [_principal_access(i) for i in range(n)]}
    markdown = render_markdown(doc, full_plan="plan.json")
    assert len(markdown) <= DEFAULT_MAX_CHARS
    html = rendered_html(markdown)
    assert html.count("<details") == html.count("</details>")
    blocks = markdown.count("<details><summary><code>role.app-")
    if n == 10:
        assert blocks == n and "not shown" not in markdown
        assert markdown.index("#### Changes") < markdown.index("#### Access changes, by principal")
    else:
        # The changes take the budget first; the principals that do not fit are counted.
        left = re.search(r"([\d,]+) principal access entr(?:y|ies)", markdown)
        assert left is not None and int(left.group(1).replace(",", "")) == n - blocks
    # A principal's block is whole or absent: each ends with its table's totals line.
    assert markdown.count("| + | | | and 2 more: Write 6 actions in 2 services | |\n\n</details>") == blocks


def test_findings_about_the_change_lead_and_the_rest_are_counted() -> None:
    plan = big_plan(10)
    markdown = render_markdown(plan.to_json())
    about = markdown.split("#### Findings about this change", 1)[1].split("####", 1)[0]
    assert about.count("- **Warning** `service-wildcard`") == 2  # policy-0000 and policy-0007
    assert "untouched" not in about
    folded = markdown.split("<summary>Findings on entities this plan does not change: 20</summary>", 1)[1]
    assert folded.split("</details>", 1)[0].strip().startswith("- `service-wildcard`: 20 warnings")


# --- an account of 40 roles and 38 policies, planned by the real planner ----------------------


def _account_config(roles: int, policies: int, *, suffix: str = "") -> str:
    lines = ['account: {id: "123456789012", stack: platform}', "policies:"]
    for i in range(policies):
        lines += [
            f"  - name: policy-{i:02d}",
            "    document:",
            '      Version: "2012-10-17"',
            "      Statement:",
            f"        - Sid: Objects{i}",
            "          Effect: Allow",
            f"          Action: [s3:GetObject, s3:PutObject, s3:ListBucket{suffix if i % 3 == 0 else ''}]",
            f'          Resource: ["arn:aws:s3:::data-{i}", "arn:aws:s3:::data-{i}/*"]',
            f"        - Sid: Logs{i}",
            "          Effect: Allow",
            "          Action: [logs:CreateLogStream, logs:PutLogEvents]",
            f'          Resource: "arn:aws:logs:*:123456789012:log-group:/app/{i}:*"',
        ]
    lines.append("roles:")
    for i in range(roles):
        path = "/apps/" if suffix and i % 10 == 0 else "/"
        lines += [
            f"  - name: role-{i:02d}",
            f"    path: {path}",
            f"    description: Runs application {i}",
            "    trusted: {services: [lambda.amazonaws.com]}",
            f"    policies: [policy-{i % policies:02d}, policy-{(i + 1) % policies:02d}]",
        ]
    return "\n".join(lines) + "\n"


def test_an_account_of_40_roles_and_38_policies_fits_and_lists_every_delete_and_replace(
    tmp_path: Any,
) -> None:
    before = tmp_path / "before.yaml"
    before.write_text(_account_config(40, 38))
    live_config = load_config(str(before)).config
    tagged = {}
    for address, resource in live_config.state.resources.items():
        tags = {**getattr(resource, "tags", {}), STACK_TAG: "platform"}
        if isinstance(resource, (ManagedPolicy, Role)):
            resource = type(resource)(**{**resource.__dict__, "tags": tags})
        tagged[address] = resource
    # Live holds 30 more roles the configuration no longer declares: deletes.
    for i in range(40, 70):
        tagged[Address(Kind.ROLE, f"role-{i:02d}")] = Role(f"role-{i:02d}", tags={STACK_TAG: "platform"})
    live = LiveAccount(State(tagged), ACCOUNT, caller_arn=f"arn:aws:iam::{ACCOUNT}:role/deployer")
    after = tmp_path / "after.yaml"
    after.write_text(_account_config(40, 38, suffix="Versions"))
    config = load_config(str(after)).config
    base = build_plan(config, live)
    findings = run_rules(RuleInput(config, live, base.changes), live=True, allow_mass_delete=True)
    plan = build_plan(config, live, findings)
    risky = destructive(plan)
    assert len(risky) == 34 and len(plan.changes) > 40
    markdown = render_markdown(plan.to_json(), full_plan="plan.json")
    assert len(markdown) <= DEFAULT_MAX_CHARS
    banner = markdown.split("> [!WARNING]", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"`((?:role|policy)\.[\w-]+)`", banner) == risky
    assert "… and" not in banner


def test_a_new_policy_used_only_as_a_boundary_is_not_access_widened() -> None:
    from iamstate.render.markdown import widened_banner

    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
    }
    arn = f"arn:aws:iam::{ACCOUNT}:policy/dev-boundary"
    ceiling = {
        "address": "policy.dev-boundary",
        "action": "create",
        "before": None,
        "after": {"document": document},
    }
    bounded = {
        "address": "role.ci",
        "action": "create",
        "after": {"policies": [], "permissions_boundary": arn},
    }
    attached = {"address": "role.ops", "action": "create", "after": {"policies": [arn]}}

    def banner(changes: list[dict[str, Any]]) -> str:
        return "\n".join(
            line for part in widened_banner(changes, ACCOUNT) for e in part.entries for line in e
        )

    assert banner([ceiling, bounded]) == "", "a ceiling grants nothing"
    assert "`policy.dev-boundary`: grants Permissions management" in banner([ceiling, bounded, attached])
    assert "`policy.dev-boundary`: grants Permissions management" in banner([ceiling]), "unknown holders"
