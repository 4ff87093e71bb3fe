"""The plan's access section, per principal, as text and markdown lines (pure).

Built only from the plan's JSON form (``metadata.access``, see
:func:`iamstate.analysis.access.principal_access`), one function per format, each
returning the section's lines (none when nothing changes). Per principal: what it
starts or stops holding, its boundary as a ceiling, the escalation methods and
exposure classes it gains or loses, and what it gains or loses by service and access
level, the most privileged levels first, at most :data:`SHOWN_LINES` lines, the rest
totalled by level.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from iamstate.model import Json
from iamstate.render.markdown import escape
from iamstate.render.text import paint

SHOWN_LINES = 6
"""Service and access-level lines shown per principal and direction; the rest are totalled."""
SHOWN_PRINCIPALS = 50
"""Principals shown; the plan's JSON lists them all."""
SHOWN_NAMES = 3
"""Members, methods or policies named in one line; the rest are counted."""
RISK_ORDER = ("Permissions management", "Write", "Tagging", "Read", "List", "Unknown")
TITLE = "Access changes, by principal"


def _names(items: Sequence[Json], shown: int = SHOWN_NAMES) -> str:
    names = [str(i) for i in items]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _ordered(lines: Sequence[Mapping[str, Json]]) -> list[Mapping[str, Json]]:
    def rank(line: Mapping[str, Json]) -> tuple[int, int, str]:
        level = str(line.get("access_level"))
        index = RISK_ORDER.index(level) if level in RISK_ORDER else len(RISK_ORDER)
        return (index, -int(line.get("count") or 0), str(line.get("service")))

    return sorted(lines, key=rank)


def reach(line: Mapping[str, Json]) -> str:
    """Where a line's actions reach: ``every resource``, ``arn:aws:s3:::reports/*``, or
    ``1 on every resource, 2 on arn:aws:s3:::reports/*``."""
    count, everywhere = int(line.get("count") or 0), int(line.get("on_every_resource") or 0)
    patterns = [str(r) for r in line.get("resources") or []]
    more = int(line.get("more_resources") or 0)
    named = ", ".join(patterns) + (f" and {more} more" if more else "")
    if everywhere == count:
        return "every resource"
    if not everywhere:
        return named
    return f"{everywhere} on every resource, {count - everywhere} on {named}"


def level_text(line: Mapping[str, Json]) -> str:
    """``s3 Read: 3 of 40 actions on every resource``."""
    of = f" of {line['of']}" if line.get("of") else ""
    where = reach(line)
    where = f"({where})" if " on " in where else f"on {where}"
    return f"{line['service']} {line['access_level']}: {line['count']}{of} actions {where}"


def rest_text(lines: Sequence[Mapping[str, Json]]) -> str:
    """``and 12 more lines: Read 210 actions in 9 services, List 40 actions in 8 services``."""
    totals: dict[str, tuple[int, set[str]]] = {}
    for line in lines:
        level = str(line.get("access_level"))
        count, services = totals.get(level, (0, set()))
        totals[level] = (count + int(line.get("count") or 0), services | {str(line.get("service"))})
    parts = [
        f"{level} {count} actions in {len(services)} service{'s' if len(services) != 1 else ''}"
        for level, (count, services) in sorted(
            totals.items(), key=lambda i: RISK_ORDER.index(i[0]) if i[0] in RISK_ORDER else 99
        )
    ]
    return f"and {len(lines)} more: {', '.join(parts)}"


def heading(entry: Mapping[str, Json]) -> str:
    """``group.ops (new; members: user.alice, user.bob)``."""
    notes = []
    if entry.get("new"):
        notes.append("new")
    members = list(entry.get("members") or [])
    if members:
        notes.append(f"members: {_names(members)}")
    return str(entry["address"]) + (f" ({'; '.join(notes)})" if notes else "")


def facts(entry: Mapping[str, Json]) -> list[tuple[str, str]]:
    """(sign, text) for what a principal holds, its ceiling, its escalations and exposures."""
    out: list[tuple[str, str]] = []
    policies = entry.get("policies") or {}
    assert isinstance(policies, Mapping)
    for sign, key, verb in (
        ("+", "gained", "holds"),
        ("-", "lost", "no longer holds"),
        ("~", "changed", "changed"),
    ):
        held = list(policies.get(key) or [])
        if held:
            out.append((sign, f"{verb}: {_names(held)}"))
    boundary = entry.get("boundary")
    if isinstance(boundary, Mapping):
        before, after = boundary.get("before"), boundary.get("after")
        if after:
            was = f" (was {before})" if before else ""
            out.append(("~", f"ceiling: permissions boundary {after}{was}, a limit, not a grant"))
        else:
            out.append(("~", f"ceiling removed: permissions boundary {before} no longer limits it"))
    for key, gained, lost in (
        ("escalations", "can now escalate by", "can no longer escalate by"),
        ("exposures", "newly exposed:", "no longer exposed:"),
    ):
        found = entry.get(key) or {}
        assert isinstance(found, Mapping)
        for sign, side, words in (("+", "gained", gained), ("-", "lost", lost)):
            names = list(found.get(side) or [])
            if names:
                out.append((sign, f"{words} {_names(names)}"))
    return out


def _level_rows(entry: Mapping[str, Json]) -> list[tuple[str, Mapping[str, Json] | None, str]]:
    """(sign, line, or None with the totals text) for the gained and lost lines, capped."""
    rows: list[tuple[str, Mapping[str, Json] | None, str]] = []
    for sign, key in (("+", "gained"), ("-", "lost")):
        lines = _ordered(list(entry.get(key) or []))
        rows += [(sign, line, "") for line in lines[:SHOWN_LINES]]
        if len(lines) > SHOWN_LINES:
            rows.append((sign, None, rest_text(lines[SHOWN_LINES:])))
    return rows


_STYLE = {"+": "green", "-": "red", "~": "yellow"}


def text_lines(entries: Sequence[Mapping[str, Json]], *, color: bool) -> list[str]:
    """The section as text lines; [] when no principal's access changes (pure)."""
    if not entries:
        return []
    out = [paint(f"{TITLE}:", "bold", color=color)]
    for entry in entries[:SHOWN_PRINCIPALS]:
        out.append(f"  {heading(entry)}")
        for sign, text in facts(entry):
            out.append(paint(f"    {sign} {text}", _STYLE[sign], color=color))
        for sign, line, rest in _level_rows(entry):
            out.append(
                paint(
                    f"    {sign} {level_text(line) if line is not None else rest}", _STYLE[sign], color=color
                )
            )
    if len(entries) > SHOWN_PRINCIPALS:
        out.append(f"  and {len(entries) - SHOWN_PRINCIPALS} more principals (the JSON plan lists them all)")
    return out


def markdown_lines(entries: Sequence[Mapping[str, Json]]) -> list[str]:
    """The section as markdown: one folded block per principal; [] when nothing changes (pure)."""
    if not entries:
        return []
    out = [f"#### {TITLE}", ""]
    for entry in entries[:SHOWN_PRINCIPALS]:
        said = facts(entry)
        rows = _level_rows(entry)
        # The summary is HTML, not markdown: escaped for HTML.
        summary = html.escape(heading(entry))
        flags = [html.escape(text) for _, text in said if "escalate" in text or "exposed" in text]
        out.append(
            f"<details><summary><code>{summary}</code>{': ' + '; '.join(flags) if flags else ''}</summary>"
        )
        out.append("")
        out += [f"- {escape(text)}" for _, text in said]
        if rows:
            out += ["", "| | service | access level | actions | resources |", "|---|---|---|---|---|"]
            for sign, line, rest in rows:
                if line is None:
                    out.append(f"| {sign} | | | {escape(rest)} | |")
                    continue
                of = f" of {line['of']}" if line.get("of") else ""
                out.append(
                    f"| {sign} | {escape(str(line['service']))} | {escape(str(line['access_level']))} "
                    f"| {line['count']}{of} | {escape(reach(line))} |"
                )
        out += ["", "</details>", ""]
    if len(entries) > SHOWN_PRINCIPALS:
        out += [f"and {len(entries) - SHOWN_PRINCIPALS} more principals (the JSON plan lists them all)", ""]
    return out


def section(plan: Mapping[str, Json]) -> list[Mapping[str, Json]]:
    """The access entries of a plan's JSON form (``metadata.access``), [] for plans without."""
    metadata = plan.get("metadata") or {}
    return list(metadata.get("access") or []) if isinstance(metadata, Mapping) else []
