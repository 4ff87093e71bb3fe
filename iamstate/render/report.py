"""Drift report output (text, markdown, json), built only from the report's JSON form.

Pure: no boto3, typer or file I/O. The plan part of a report is drawn by the plan
renderers' own functions, so a change reads the same in ``plan`` and ``drift``.
"""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render import render_as
from iamstate.render.markdown import (
    access_section,
    change_details,
    destructive_banner,
    escape,
    findings_section,
    heading,
)
from iamstate.render.temporary import temporary_banner, temporary_section
from iamstate.render.text import header_line, paint, plan_body_lines

LEVEL_STYLE = {"critical": "bold red", "high": "bold red", "medium": "bold yellow", "low": "bold cyan"}
UNMANAGED_NOTE = "not managed by this configuration"
SEVERE_LEVELS = ("critical", "high")


def render_report(doc: Mapping[str, Json], fmt: str, *, color: bool) -> str:
    """The drift report ``doc`` in output format ``fmt``; ValueError for an unknown format."""
    return render_as(
        doc, fmt, text=lambda d: render_report_text(d, color=color), markdown=render_report_markdown
    )


def render_report_text(doc: Mapping[str, Json], *, color: bool) -> str:
    """The report as text: the plan's changes and findings as ``plan`` shows them, then the
    live findings, then exactly one summary line (pure)."""
    plan = doc.get("plan") or {}
    live = list(doc.get("live_findings") or [])
    out: list[str] = []
    if plan.get("changes") or plan.get("findings") or live:
        out += [header_line("drift", doc, color=color), ""]
    out += plan_body_lines(plan, color=color)
    if live:
        out.append(paint("Live findings:", "bold", color=color))
        for finding in live:
            out.extend(live_finding_lines(finding, color=color))
        out.append("")
    out.append(paint(str(doc["summary_line"]), "bold", color=color))
    return "\n".join(out) + "\n"


def live_finding_lines(finding: Mapping[str, Json], *, color: bool) -> list[str]:
    """A live finding as ``Level: [rule] address: message`` and its remedy, indented (pure)."""
    level = str(finding["level"])
    note = f" ({UNMANAGED_NOTE})" if finding.get("managed") is False else ""
    text = f" [{finding['rule']}] {finding['address']}: {finding['message']}{note}"
    lines = ["  " + paint(f"{level.capitalize()}:", LEVEL_STYLE.get(level, "bold"), color=color) + text]
    if finding.get("remedy"):
        lines.append(f"    remedy: {finding['remedy']}")
    return lines


def render_report_markdown(doc: Mapping[str, Json]) -> str:
    """The report as GitHub-flavoured markdown: summary, banners for critical/high findings
    and for deletes, a table of live findings, then the plan's findings and changes (pure)."""
    plan = doc.get("plan") or {}
    changes = list(plan.get("changes") or [])
    findings = list(plan.get("findings") or [])
    live = list(doc.get("live_findings") or [])
    out = heading("drift", doc)
    severe = [f for f in live if f.get("level") in SEVERE_LEVELS]
    if severe:
        out.append("> [!CAUTION]")
        out.append("> Live findings of level critical or high:")
        out.append(">")
        for f in severe:
            out.append(f"> - **{f['level']}** `{f['rule']}` `{f['address']}`: {escape(str(f['message']))}")
        out.append("")
    out.extend(destructive_banner(changes, "Applying the configuration deletes or replaces IAM entities:"))
    out.extend(temporary_banner(plan))
    if live:
        out.append("#### Live findings")
        out.append("")
        out.append("| level | rule | entity | finding | remedy |")
        out.append("|---|---|---|---|---|")
        for f in live:
            note = f" ({UNMANAGED_NOTE})" if f.get("managed") is False else ""
            out.append(
                f"| **{f['level']}** | `{f['rule']}` | `{f['address']}`{note} "
                f"| {_cell(str(f['message']))} | {_cell(str(f.get('remedy') or ''))} |"
            )
        out.append("")
    out.extend(findings_section(findings))
    out.extend(access_section(plan))
    out.extend(temporary_section(plan))
    if changes:
        out.append("#### Changes")
        out.append("")
        out.append(f"{escape(str(plan.get('summary_line', '')))}")
        out.append("")
        for c in changes:
            out.extend(change_details(c))
    return "\n".join(out).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    """Text for one table cell: escaped, on one line."""
    return escape(" ".join(text.split()))
