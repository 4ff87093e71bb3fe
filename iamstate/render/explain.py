"""``iamstate explain`` output (text, json), built only from its JSON form (pure).

The text answers, in order: what the principal holds (its policies, its boundary as a
ceiling, what could not be read), whether it is a full administrator, what it can do
by service and access level (the most privileged levels first, each line with where
its actions reach and the policies behind it), each escalation path, each exposure.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render.access import RISK_ORDER, level_text, reach
from iamstate.render.json import render_json
from iamstate.render.text import paint

VIEWS = {
    "live": "as it is in the live account",
    "desired": "as apply would leave it",
    "offline": "as the configuration declares it (offline)",
}
FORMATS = ("text", "json")
WIDTH = 100
"""Where the paragraphs of services wrap."""


def render_explain(doc: Mapping[str, Json], fmt: str, *, color: bool) -> str:
    """``explain``'s document in ``fmt`` (text or json); ValueError for another format."""
    if fmt == "json":
        return render_json(doc)
    if fmt == "text":
        return explain_text(doc, color=color)
    raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")


def _policy(entry: Mapping[str, Json]) -> str:
    kind = {"aws-managed": " (AWS-managed)", "inline": " (inline)"}.get(str(entry.get("kind")), "")
    return f"policy {entry['name']}{kind}"


SHOWN_ACTIONS = 8
"""Actions named per policy in an exposure line; the JSON lists them all."""


def _steps(steps: list[Mapping[str, Json]]) -> str:
    grouped: dict[tuple[str, str], list[str]] = {}
    for step in steps:
        actions = grouped.setdefault((str(step["holder"]), str(step["policy"])), [])
        if step["action"] not in actions:
            actions.append(str(step["action"]))
    parts = []
    for (holder, policy), actions in grouped.items():
        more = f" and {len(actions) - SHOWN_ACTIONS} more" if len(actions) > SHOWN_ACTIONS else ""
        parts.append(f"{holder} (policy {policy}: {', '.join(actions[:SHOWN_ACTIONS])}{more})")
    return " + ".join(parts)


def explain_text(doc: Mapping[str, Json], *, color: bool) -> str:
    """The explanation as text (pure)."""
    view = VIEWS.get(str(doc.get("view")), str(doc.get("view")))
    account = f", account {doc['account_id']}" if doc.get("account_id") else ""
    out = [paint(f"{doc['address']}: {view}{account}", "bold", color=color)]
    if doc.get("arn"):
        out.append(f"  arn: {doc['arn']}")
    policies = list(doc.get("policies") or [])
    out.append("  policies:" if policies else "  policies: none")
    holders: dict[str, list[str]] = {}
    for entry in policies:
        holders.setdefault(str(entry["holder"]), []).append(_policy(entry))
    out += [f"    {holder}: {', '.join(names)}" for holder, names in holders.items()]
    boundary = doc.get("boundary")
    if isinstance(boundary, Mapping):
        out.append(f"  permissions boundary: {_policy(boundary)} (a ceiling on the above, never a grant)")
    for arn in doc.get("unread") or []:
        out.append(
            paint(
                f"  not read: {arn} (its document is not available here; it grants nothing below)",
                "yellow",
                color=color,
            )
        )
    if doc.get("administrator"):
        out.append(
            paint(
                f"  full administrator: every action on every resource, through {doc['administrator']}",
                "bold red",
                color=color,
            )
        )
    out.append("")
    out += access_text(list(doc.get("access") or []), color=color)
    out.append("")
    paths = list(doc.get("escalations") or [])
    out.append(paint(f"Escalation paths ({len(paths)}):", "bold", color=color))
    for index, path in enumerate(paths, start=1):
        methods = " then ".join(f"{m['name']} ({m['source']})" for m in path.get("methods") or [])
        out.append(paint(f"  {index}. {methods}", "red", color=color))
        out.append(f"     {path['path']}")
    if not paths:
        out.append("  none")
    out.append("")
    exposures = list(doc.get("exposures") or [])
    out.append(paint(f"Exposures ({len(exposures)}):", "bold", color=color))
    for exposure in exposures:
        out.append(
            paint(f"  {exposure['class']}: ", "yellow", color=color)
            + _steps(list(exposure.get("steps") or []))
        )
    if not exposures:
        out.append("  none")
    return "\n".join(out) + "\n"


def _count(line: Mapping[str, Json]) -> str:
    return (
        f"{line['service']} {line['count']}/{line['of']}"
        if line.get("of")
        else f"{line['service']} {line['count']}"
    )


def access_text(lines: list[Mapping[str, Json]], *, color: bool) -> list[str]:
    """Access by access level, the most privileged first: per level, the services whose actions
    reach every resource through the same policies in one wrapped paragraph, then one line per
    service limited to named resources (pure)."""
    out = [paint("Access by service and access level:", "bold", color=color)]
    if not lines:
        return [*out, "  nothing"]
    levels: dict[str, list[Mapping[str, Json]]] = {}
    for line in lines:
        levels.setdefault(str(line["access_level"]), []).append(line)
    for level in sorted(levels, key=lambda lv: RISK_ORDER.index(lv) if lv in RISK_ORDER else 99):
        items = sorted(levels[level], key=lambda line: str(line["service"]))
        actions = sum(int(line.get("count") or 0) for line in items)
        out.append(
            f"  {level}: {actions} action{'s' if actions != 1 else ''} in {len(items)} service{'s' if len(items) != 1 else ''}"
        )
        everywhere: dict[str, list[Mapping[str, Json]]] = {}
        for line in items:
            behind = ", ".join(str(p) for p in line.get("policies") or [])
            if reach(line) == "every resource":
                everywhere.setdefault(behind, []).append(line)
            else:
                out.append(f"    {level_text(line)}  [{behind}]")
        for behind, group in everywhere.items():
            out.append(f"    on every resource, through {behind}:")
            text = ", ".join(_count(line) for line in group)
            out += textwrap.wrap(
                text, width=WIDTH, initial_indent="      ", subsequent_indent="      ", break_on_hyphens=False
            )
    return out
