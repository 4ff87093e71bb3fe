"""Drift report output (text, markdown, json), built only from the report's JSON form.

Pure: no boto3, typer or file I/O. The plan part of a report is drawn by the plan
renderers' own functions, so a change reads the same in ``plan`` and ``drift``.
"""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render import escape, render_as
from iamstate.render.findings import split
from iamstate.render.markdown import (
    DEFAULT_MAX_CHARS,
    Part,
    access_part,
    changes_part,
    destructive_banner,
    findings_parts,
    fit,
    heading,
    omitted_note,
    temporary_parts,
    unmanaged_part,
)
from iamstate.render.risk import widened
from iamstate.render.text import header_line, paint, plan_body_lines, summary_line

LEVEL_STYLE = {"critical": "bold red", "high": "bold red", "medium": "bold yellow", "low": "bold cyan"}
UNMANAGED_NOTE = "not managed by this configuration"
SEVERE_LEVELS = ("critical", "high")


def render_report(
    doc: Mapping[str, Json],
    fmt: str,
    *,
    color: bool,
    max_chars: int = DEFAULT_MAX_CHARS,
    full_report: str = "",
) -> str:
    """The drift report ``doc`` in output format ``fmt``; ValueError for an unknown format."""
    return render_as(
        doc,
        fmt,
        text=lambda d: render_report_text(d, color=color),
        markdown=lambda d: render_report_markdown(d, max_chars=max_chars, full_report=full_report),
    )


def out_of_band(doc: Mapping[str, Json]) -> list[tuple[str, str]]:
    """``(address, what)`` for each high-risk change made to the live account out of band: what
    the live side of a changed entity grants beyond the configuration (an admin or IAM-write
    policy attached, a trust widened, a boundary removed) (pure)."""
    plan = doc.get("plan") or {}
    account = str(plan.get("account_id", ""))
    return [
        (str(change["address"]), what)
        for change in plan.get("changes") or []
        if change.get("action") in ("update", "replace")
        for what in widened(change, account, gained="before")
    ]


def render_report_text(doc: Mapping[str, Json], *, color: bool) -> str:
    """The report as text: high-risk out-of-band changes, the plan's changes and findings as
    ``plan`` shows them (all findings in full), then the live findings, then exactly one
    summary line (pure)."""
    plan = doc.get("plan") or {}
    live = list(doc.get("live_findings") or [])
    risks = out_of_band(doc)
    out: list[str] = []
    if plan.get("changes") or plan.get("findings") or live:
        out += [header_line("drift", doc, color=color), ""]
    if risks:
        out.append(paint("High-risk changes made out of band:", "bold red", color=color))
        out += [f"  {escape.text(address)}: {escape.text(what)}" for address, what in risks]
        out.append("")
    out += plan_body_lines(plan, color=color, all_findings=True)
    if live:
        out.append(paint("Live findings:", "bold", color=color))
        for finding in live:
            out.extend(live_finding_lines(finding, color=color))
        out.append("")
    out.append(summary_line(doc, color=color))
    return "\n".join(out) + "\n"


def live_finding_lines(finding: Mapping[str, Json], *, color: bool) -> list[str]:
    """A live finding as ``Level: [rule] address: message`` and its remedy, indented (pure)."""
    level = str(finding["level"])
    note = f" ({UNMANAGED_NOTE})" if finding.get("managed") is False else ""
    rule, address = escape.text(finding["rule"]), escape.text(finding["address"])
    text = f" [{rule}] {address}: {escape.text(finding['message'])}{note}"
    lines = [
        "  "
        + paint(f"{escape.text(level.capitalize())}:", LEVEL_STYLE.get(level, "bold"), color=color)
        + text
    ]
    if finding.get("remedy"):
        lines.append(f"    remedy: {escape.text(finding['remedy'])}")
    return lines


def render_report_markdown(
    doc: Mapping[str, Json], *, max_chars: int = DEFAULT_MAX_CHARS, full_report: str = ""
) -> str:
    """The report as GitHub-flavoured markdown within ``max_chars``: summary, a banner naming
    high-risk out-of-band changes and critical or high live findings, one for deletes, a
    table of live findings, then the plan's findings (all of them) and changes (pure)."""
    plan = doc.get("plan") or {}
    changes = list(plan.get("changes") or [])
    live = list(doc.get("live_findings") or [])
    findings = split(plan, all_about_change=True)
    parts = [Part(0, heading("drift", doc))]
    severe = [
        [
            f"> - **{escape.markdown(f['level'])}** {escape.markdown(f['rule'], 'code')} "
            f"{escape.markdown(f['address'], 'code')}: {escape.markdown(f['message'])}"
        ]
        for f in live
        if f.get("level") in SEVERE_LEVELS
    ]
    risks = [
        [f"> - {escape.markdown(address, 'code')}: {escape.markdown(what)}"]
        for address, what in out_of_band(doc)
    ]
    if risks or severe:
        lead = " and ".join(
            words
            for words, present in (
                ("High-risk changes made out of band", risks),
                ("live findings of level critical or high", severe),
            )
            if present
        )
        head = ["> [!CAUTION]", f"> {lead[0].upper() + lead[1:]}:", ">"]
        parts.append(Part(1, head, risks + severe, [""], "", lambda left: [f"> - … and {left:,} more"]))
    parts += destructive_banner(changes, "Applying the configuration deletes or replaces IAM entities:")
    parts += temporary_parts(plan, banner=True)
    if live:
        table = [
            "#### Live findings",
            "",
            "| level | rule | entity | finding | remedy |",
            "|---|---|---|---|---|",
        ]
        rows = []
        for f in live:
            note = f" ({UNMANAGED_NOTE})" if f.get("managed") is False else ""
            rows.append(
                [
                    f"| **{escape.markdown(f['level'])}** | {escape.markdown(f['rule'], 'table code')} "
                    f"| {escape.markdown(f['address'], 'table code')}{note} "
                    f"| {escape.markdown(f['message'])} | {escape.markdown(f.get('remedy') or '')} |"
                ]
            )
        parts.append(Part(3, table, rows, [""], "live finding"))
    parts += findings_parts(findings, "Findings of the safety rules")
    plan_line = [escape.markdown(plan.get("summary_line", "")), ""]
    parts += changes_part(changes, str(plan.get("account_id", "")), findings, plan_line)
    parts += access_part(plan)
    parts += temporary_parts(plan)
    parts += unmanaged_part(list(plan.get("unmanaged") or []))
    return fit(
        parts, max_chars, lambda dropped: omitted_note(dropped, max_chars, full_report, "drift", "report")
    )
