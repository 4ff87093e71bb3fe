"""Plan output for a pull-request comment, built only from the plan's JSON form.

Pure: no boto3, typer or file I/O; the diff blocks come from the text renderer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render.temporary import temporary_banner, temporary_section
from iamstate.render.text import SYMBOLS, change_lines

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_BACKTICK_RUN = re.compile(r"`+")


def render_markdown(doc: Mapping[str, Json]) -> str:
    """The plan as GitHub-flavoured markdown: summary, banner, findings, per-entity diffs (pure).

    Each change's ```` ```diff ```` block holds the lines of its text block, with the
    ``+``/``-`` signs moved to the first column so that the block is highlighted.
    """
    changes = list(doc.get("changes") or [])
    findings = list(doc.get("findings") or [])
    out = heading("plan", doc)
    out.extend(
        destructive_banner(
            changes, "This plan deletes or replaces IAM entities. Review them before applying:"
        )
    )
    out.extend(temporary_banner(doc))
    out.extend(findings_section(findings))
    out.extend(access_section(doc))
    out.extend(temporary_section(doc))
    if changes:
        out.append("#### Changes")
        out.append("")
        for c in changes:
            out.extend(_change(c))
    out.extend(unmanaged_section(list(doc.get("unmanaged") or [])))
    return "\n".join(out).rstrip("\n") + "\n"


def unmanaged_section(entries: list[Mapping[str, Json]]) -> list[str]:
    """Live entities in scope the plan leaves alone, folded, with what to do (pure)."""
    if not entries:
        return []
    out = [
        f"<details><summary>Not managed by this configuration, never deleted: {len(entries)}</summary>",
        "",
    ]
    remedies: dict[str, str] = {}
    for entry in entries:
        out.append(f"- `{entry['address']}`: {_escape(str(entry['reason']))}")
        remedies.setdefault(str(entry["standing"]), str(entry["remedy"]))
    out.append("")
    out.extend(f"{standing}: {_escape(remedy)}  " for standing, remedy in remedies.items())
    return [*out, "", "</details>", ""]


def access_section(plan: Mapping[str, Json]) -> list[str]:
    """The per-principal access section of a plan's JSON form; [] when empty (pure)."""
    from iamstate.render import access

    return access.markdown_lines(access.section(plan))


def heading(command: str, doc: Mapping[str, Json]) -> list[str]:
    """``### iamstate COMMAND for account `ID` (stack `NAME`)`` and the bold summary line (pure)."""
    title = (
        f"### iamstate {command} for account `{doc.get('account_id', '')}` (stack `{doc.get('stack', '')}`)"
    )
    return [title, "", f"**{doc['summary_line']}**", ""]


def findings_section(findings: list[Mapping[str, Json]]) -> list[str]:
    """The "Findings" section: one list item per safety-rule finding; [] when there are none (pure)."""
    if not findings:
        return []
    return ["#### Findings", "", *(_finding(f) for f in findings), ""]


def change_details(change: Mapping[str, Json]) -> list[str]:
    """One change as a ``<details>`` block holding its ```` ```diff ```` lines (pure)."""
    return _change(change)


def escape(text: str) -> str:
    """``text`` with markdown's special characters escaped, for tables and prose (pure)."""
    return _escape(text)


def destructive_banner(changes: list[Mapping[str, Json]], lead: str) -> list[str]:
    """A GitHub warning callout listing every delete and replace, or nothing (pure)."""
    destructive = [c for c in changes if c["action"] in ("delete", "replace")]
    if not destructive:
        return []
    out = ["> [!WARNING]", f"> {lead}", ">"]
    for c in destructive:
        reason = f": {_escape(str(c['reason']))}" if c.get("reason") else ""
        out.append(f"> - `{SYMBOLS[c['action']]}` `{c['address']}`{reason}")
    return [*out, ""]


def _finding(finding: Mapping[str, Json]) -> str:
    label = "Error" if finding.get("severity") == "error" else "Warning"
    if finding.get("waived"):
        reason = str(finding.get("waiver_reason") or "")
        label += f" (waived: {_escape(reason)})" if reason else " (waived)"
    address = f" `{finding['address']}`" if finding.get("address") else ""
    line = f"- **{label}** `{finding['rule']}`{address}: {_escape(str(finding['message']))}"
    if finding.get("remedy"):
        line += f"  \n  Remedy: {_escape(str(finding['remedy']))}"
    if finding.get("location"):
        line += f"  \n  At: `{finding['location']}`"
    return line


def _change(change: Mapping[str, Json]) -> list[str]:
    symbol = SYMBOLS[str(change["action"])]
    summary = f"<code>{html.escape(symbol)} {html.escape(str(change['address']))}</code>"
    if change.get("reason"):
        summary += f" ({html.escape(str(change['reason']))})"
    body = [line.diff_marked() for line in change_lines(change)]
    longest = max((len(m) for line in body for m in _BACKTICK_RUN.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [
        f"<details><summary>{summary}</summary>",
        "",
        f"{fence}diff",
        *body,
        fence,
        "",
        "</details>",
        "",
    ]


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
