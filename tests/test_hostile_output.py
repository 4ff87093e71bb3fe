"""Output nobody can forge: hostile strings from the config or the account, through every format.

A pull request's author writes the YAML, anyone with IAM access writes the live account,
and the plan is posted back as a comment that reviewers trust. Entity names, file names,
tag keys and values, descriptions, actions, condition values, messages, waiver reasons
and remedies are rendered here with newlines, backticks, HTML, ``</details>``, pipes,
fake headings and summaries, bidirectional overrides and terminal escapes in them; each
format must keep its structure: one summary line, balanced ``<details>``, table columns
intact, no HTML, no control character.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import jsonschema
import pytest
from cmarkgfm.cmark import Options

from iamstate import logs
from iamstate.model import Address, Kind
from iamstate.plan import Action, ApiCall, Change, FieldDiff, Finding, Phase, Plan, Severity, Unmanaged
from iamstate.render import escape, render_json, render_markdown, render_text
from iamstate.render.report import render_report
from iamstate.render.results import apply_text, import_text, validate_text
from iamstate.render.sarif import RuleText, render_sarif
from tests.support.cli import run_iamstate

FAKE_SUMMARY = "Plan: 0 to add, 0 to change, 0 to destroy."
HOSTILE = [
    f"x\n{FAKE_SUMMARY}",
    "# No changes",
    "a`b``c`",
    "<img src=x onerror=alert(1)>",
    "</details>",
    "a|b|c",
    "\u202eevil\u202c",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "x\r\nNo changes. Live IAM matches the configuration.",
    "</code></summary></details><details open><summary>",
    "```\n# heading\n```",
    "[click](javascript:alert(1))",
    "line\u2028separator\u2029end",
    "@everyone #1 https://evil.example/x",
    "nul\x00byte",
]
"""Hostile strings: each is placed everywhere text from outside lands."""

SUMMARY_LINE = re.compile(r"^(\*\*)?(Plan:|No changes\.)")
FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]"
)


def hostile_plan(value: str) -> Plan:
    """A plan in which ``value`` is every string that comes from the config or the account."""
    name = f"role.{value}"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": value,
                "Effect": "Allow",
                "Action": [f"s3:{value}", "s3:GetObject"],
                "Resource": f"arn:aws:s3:::{value}/*",
                "Condition": {"StringEquals": {f"aws:PrincipalTag/{value}": value}},
            }
        ],
    }
    before = {"name": value, "path": "/", "description": "old", "tags": {value: value}, "trust": document}
    after = {
        "name": value,
        "path": "/",
        "description": value,
        "tags": {"team": value},
        "trust": {**document, "Statement": [{**document["Statement"][0], "Action": "s3:PutObject"}]},
    }
    update = Change(
        Address(Kind.ROLE, value),
        Action.UPDATE,
        before,
        after,
        reason=value,
        fields=(
            FieldDiff("description", "old", value),
            FieldDiff(f"tags.{value}", value, None),
            FieldDiff("tags.team", None, value),
            FieldDiff("trust", before["trust"], after["trust"]),
            FieldDiff("policies", [f"arn:aws:iam::123456789012:policy/{value}"], []),
        ),
        api_calls=(
            ApiCall("UpdateRole", {"RoleName": value, "Description": value}, Phase.UPDATE, note=value),
            ApiCall("TagRole", {"RoleName": value, "Tags": [{"Key": "team", "Value": value}]}, Phase.UPDATE),
        ),
    )
    delete = Change(
        Address(Kind.POLICY, value),
        Action.DELETE,
        {"name": value, "path": "/", "description": value, "document": document, "tags": {value: value}},
        None,
        api_calls=(
            ApiCall("DeletePolicy", {"PolicyArn": f"arn:aws:iam::123456789012:policy/{value}"}, Phase.DELETE),
        ),
    )
    replace = Change(
        Address(Kind.ROLE, value + "2"),
        Action.REPLACE,
        {"name": value + "2", "path": "/a/"},
        {"name": value + "2", "path": f"/{value}/"},
        reason=value,
        fields=(FieldDiff("path", "/a/", f"/{value}/"),),
    )
    findings = (
        Finding("policy-admin-star", Severity.ERROR, name, value, value, location=f"{value}.yaml:3:4"),
        Finding(
            "service-wildcard",
            Severity.WARNING,
            str(update.address),
            value,
            value,
            location=f"a`{value}`.yaml:1:1",
        ),
        Finding(
            "attach-admin-managed",
            Severity.ERROR,
            str(update.address),
            value,
            value,
            waived=True,
            waiver_reason=value,
            location=f"{value}:9:9",
        ),
        Finding("service-wildcard", Severity.WARNING, f"policy.untouched-{value}", value, value),
    )
    access = [
        {
            "address": f"role.{value}",
            "new": True,
            "members": [f"user.{value}"],
            "policies": {"gained": [f"policy.{value}"], "lost": [value], "changed": []},
            "boundary": {"before": value, "after": None},
            "gained": [
                {
                    "service": value,
                    "access_level": value,
                    "count": 2,
                    "of": 9,
                    "on_every_resource": 1,
                    "resources": [value, f"arn:aws:s3:::{value}/*"],
                }
            ],
            "lost": [{"service": "s3", "access_level": "Read", "count": 1, "resources": [value]}],
            "escalations": {"gained": [value], "lost": []},
            "exposures": {"gained": [], "lost": [value]},
        }
    ]
    unmanaged = (Unmanaged(Address(Kind.USER, value), value, value, value),)
    return Plan(
        "123456789012",
        value,
        (update, delete, replace),
        findings,
        metadata={"access": access},
        unmanaged=unmanaged,
    )


class Structure(HTMLParser):
    """What GitHub would show, read from the HTML a GFM renderer makes of the comment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.open_details = 0
        self.details_balanced = True
        self.rows: list[int] = []
        self.cells = 0
        self.in_code = 0
        self.summary_texts: list[str] = []
        self.text_outside_code: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "details":
            self.open_details += 1
        if tag == "tr":
            self.cells = 0
        if tag in ("td", "th"):
            self.cells += 1
        if tag in ("code", "pre"):
            self.in_code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.open_details -= 1
            self.details_balanced &= self.open_details >= 0
        if tag == "tr":
            self.rows.append(self.cells)
        if tag in ("code", "pre"):
            self.in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self.text_outside_code.append(data)


def structure(markdown: str) -> Structure:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parsed = Structure()
    parsed.feed(html)
    parsed.close()
    parsed.html = html  # type: ignore[attr-defined]
    return parsed


def assert_plain_text(output: str) -> None:
    """No raw control, bidirectional or line-breaking character but the newlines between lines."""
    assert not FORBIDDEN.search(output), repr(FORBIDDEN.search(output))
    assert all(unicodedata.category(c) != "Cc" for c in output.replace("\n", ""))


@pytest.mark.parametrize("value", HOSTILE)
def test_text_keeps_one_summary_line_and_no_control_character(value: str) -> None:
    plan = hostile_plan(value)
    output = render_text(plan.to_json(), color=False)
    assert_plain_text(output)
    lines = output.splitlines()
    assert [line for line in lines if SUMMARY_LINE.match(line)] == [plan.summary.line()]
    assert lines[-1] == plan.summary.line()
    assert escape.text(value) in output, "the value is shown, escaped, not dropped"
    colored = render_text(plan.to_json(), color=True)
    assert not FORBIDDEN.search(re.sub(r"\x1b\[[0-9;]*m", "", colored))


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_keeps_its_structure(value: str) -> None:
    plan = hostile_plan(value)
    markdown = render_markdown(plan.to_json())
    assert_plain_text(markdown)
    page = structure(markdown)
    html: str = page.html  # type: ignore[attr-defined]
    assert (
        "<img" not in html
        and "<script" not in html
        and "javascript:" not in html.replace("javascript:alert", "")
    )
    assert 'href="javascript' not in html
    assert page.open_details == 0 and page.details_balanced
    opening = [line for line in markdown.splitlines() if line.startswith("<details")]
    closing = [line for line in markdown.splitlines() if line == "</details>"]
    assert html.count("<details") == len(opening) == len(closing) == html.count("</details>")
    # One heading (the title) and one summary line, wherever the hostile value went.
    assert [t for t in page.tags if re.fullmatch(r"h[1-6]", t)] == ["h3", "h4", "h4", "h4"]
    assert html.count("<strong>Plan:") == 1 and "<strong>No changes" not in html
    # A forged summary is shown as the text it is, never as a line of its own.
    assert not any(line.strip() == FAKE_SUMMARY for line in "".join(page.text_outside_code).splitlines())
    # The access table keeps its five columns in every row.
    assert page.rows and set(page.rows) == {5}
    # Every part of the plan is there: three changes, and each finding.
    assert markdown.count("```diff") == 3


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_shows_no_line_that_reads_as_a_summary_or_a_heading(value: str) -> None:
    markdown = render_markdown(hostile_plan(value).to_json())
    outside_code = re.sub(r"^(`{3,})diff\n.*?^\1$", "", markdown, flags=re.S | re.M)
    lines = outside_code.splitlines()
    assert [line for line in lines if SUMMARY_LINE.match(line)] == [
        "**Plan: 1 to add, 1 to change, 2 to destroy.**"
    ]
    assert [line for line in lines if line.startswith("#")] == [
        line
        for line in lines
        if line.startswith(
            ("### iamstate plan", "#### Findings about", "#### Changes", "#### Access changes")
        )
    ]


@pytest.mark.parametrize("value", HOSTILE)
def test_json_carries_the_values_exactly_and_stays_one_document(value: str) -> None:
    plan = hostile_plan(value)
    output = render_json(plan.to_json())
    assert_plain_text(output)
    doc = json.loads(output)
    assert doc["summary_line"] == plan.summary.line()
    assert [c["name"] for c in doc["changes"]] == [value, value, value + "2"]
    assert doc["findings"][0]["message"] == value
    assert Plan.from_json(doc) == plan


@pytest.mark.parametrize("value", HOSTILE)
def test_sarif_is_valid_and_its_messages_are_one_line_without_links(value: str) -> None:
    schema = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())
    rules = {"policy-admin-star": RuleText("policy-admin-star", "admin", "narrow it", "", "error")}
    output = render_sarif(hostile_plan(value).to_json(), rules, tool_version="0", files=["iam.yaml"])
    assert_plain_text(output)
    log = json.loads(output)
    jsonschema.Draft7Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == 4
    for result in results:
        text = result["message"]["text"]
        assert not FORBIDDEN.search(text) and "\n" not in text
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", text), "no embedded link"


@pytest.mark.parametrize("value", HOSTILE)
def test_drift_report_keeps_its_structure(value: str) -> None:
    plan = hostile_plan(value).to_json()
    live = [
        {
            "rule": "root-no-mfa",
            "level": "critical",
            "address": f"user.{value}",
            "message": value,
            "remedy": value,
            "managed": False,
        },
        {
            "rule": "credential-unused",
            "level": "medium",
            "address": value,
            "message": value,
            "remedy": value,
            "managed": True,
        },
    ]
    doc = {
        "format_version": "1",
        "account_id": "123456789012",
        "stack": value,
        "plan": plan,
        "live_findings": live,
        "summary_line": "Drift: 3 changes, 2 live findings (1 critical, 1 medium).",
    }
    text = render_report(doc, "text", color=False)
    assert_plain_text(text)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith(("Drift:", "No drift", "Plan:", "No changes"))] == [
        lines[-1]
    ]
    markdown = render_report(doc, "markdown", color=False)
    assert_plain_text(markdown)
    page = structure(markdown)
    html: str = page.html  # type: ignore[attr-defined]
    assert "<img" not in html and page.open_details == 0 and page.details_balanced
    assert page.rows and set(page.rows) == {5}, "both tables keep five columns"


@pytest.mark.parametrize("value", HOSTILE)
def test_validate_apply_and_import_text_stay_line_structured(value: str) -> None:
    findings = [f.to_json() for f in hostile_plan(value).findings]
    validate = validate_text(
        {"valid": False, "files": [value], "entities": {"role": 1}, "findings": findings}, color=False
    )
    call = {
        "address": f"role.{value}",
        "operation": "UpdateRole",
        "params": {"RoleName": value},
        "error": value,
    }
    failed = apply_text({"ok": False, "done": [call], "failed": [call], "not_started": [call]})
    imported = import_text({"files": [value], "entities": {"role": 1}, "warnings": [value]})
    for output in (validate, failed, imported):
        assert_plain_text(output)
    assert validate.splitlines()[-1].startswith("Configuration refused by safety rules:")
    assert failed.splitlines()[0].startswith("Apply failed: ")
    assert len(imported.splitlines()) == 4


def test_console_logs_are_one_line_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    try:
        logs.configure("console", verbose=1, color=False)
        for value in HOSTILE:
            structlog.get_logger().warning("plan.entity", name=value, detail={"key": value})
        err = capsys.readouterr().err
        logs.configure("json", verbose=1)
        structlog.get_logger().warning("plan.entity", name=HOSTILE[0])
        events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        # The loggers write to the captured stderr, which closes after this test.
        structlog.reset_defaults()
    assert_plain_text(err)
    assert len(err.splitlines()) == len(HOSTILE)
    assert [e["name"] for e in events] == [HOSTILE[0]], "JSON logs carry the value exactly"


def test_show_renders_a_hostile_saved_plan_without_forging_it(tmp_path: Path) -> None:
    value = HOSTILE[0] + HOSTILE[3] + HOSTILE[6]
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(hostile_plan(value).to_json()))
    no_endpoint: Any = type("NoAws", (), {"env": staticmethod(lambda base=None: dict(base or {}))})
    for fmt in ("text", "markdown", "json", "sarif"):
        result = run_iamstate(no_endpoint, tmp_path, "show", str(saved), "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert_plain_text(result.stdout)
        if fmt == "text":
            assert [line for line in result.stdout.splitlines() if SUMMARY_LINE.match(line)] == [
                "Plan: 1 to add, 1 to change, 2 to destroy."
            ]
        if fmt == "markdown":
            assert "<img" not in structure(result.stdout).html  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("where", "value"),
    [("prose", "a|b"), ("table code", "a|b"), ("code", "x`y``"), ("html", "</summary></details>")],
)
def test_each_markdown_place_is_escaped_for_itself(where: str, value: str) -> None:
    escaped = escape.markdown(value, where)  # type: ignore[arg-type]
    table = f"| h | i |\n|---|---|\n| {escaped} | z |\n"
    html = cmarkgfm.github_flavored_markdown_to_html(
        table
        if where in ("prose", "table code")
        else f"<details><summary>{escaped}</summary>\n\n</details>\n"
        if where == "html"
        else f"see {escaped} here\n",
        options=Options.CMARK_OPT_UNSAFE,
    )
    if where in ("prose", "table code"):
        assert html.count("<td>") == 2
    if where == "code":
        assert html.count("<code>") == 1 and "x`y``" in html
    if where == "html":
        assert html.count("</details>") == 1 and "&lt;/summary&gt;" in html


def test_text_escapes_are_visible_and_idempotent() -> None:
    assert escape.text("a\nb\x1b[1m\u202e") == "a\\nb\\x1b[1m\\u202e"
    assert escape.text(escape.text("a\nb")) == "a\\nb"
    assert escape.text("plain: ünïcødé, 日本") == "plain: ünïcødé, 日本"
    assert escape.sarif("[x](1) {0}") == "\\[x\\](1) \\{0\\}"
