"""Plan output for a pull-request comment, built only from the plan's JSON form (pure).

A reviewer reads the comment top down, and GitHub refuses a comment longer than
65,536 characters, so the page is laid out by what matters and fitted to a budget
(``max_chars``, 60,000 by default):

1. the title and the summary line; banners for a refused plan (with the findings that
   refuse it), for deletes and replaces (every one that fits), for access the plan
   widens, and for live entities the configuration leaves alone;
2. the findings about what the plan changes (folded when there are more than a few);
3. the changes, each a ``<details>`` block with a ```` ```diff ```` of its text block:
   risky ones first (deletes, replaces, changes with findings, changes that widen
   access or change a trust policy), open unless deleted; the rest folded;
4. the findings about entities the plan does not change, one count per rule; the
   access section, one block per principal; the entities left alone; all folded.

Parts are given the budget in that order and are kept or dropped whole; a last line
says what was left out and where the full plan is. Every string from the
configuration or the account goes through :mod:`iamstate.render.escape`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from iamstate.model import Json
from iamstate.render import DEFAULT_MAX_CHARS, escape
from iamstate.render.findings import UNTOUCHED_HINT, UNTOUCHED_TITLE, Split, counts_by_rule, label, split
from iamstate.render.risk import boundaries_only, risky, widened
from iamstate.render.temporary import temporary_banner, temporary_section
from iamstate.render.text import SYMBOLS, change_lines

MIN_MAX_CHARS = 1_000
"""The smallest budget that still holds the title, the summary line and the closing note."""


@dataclass
class Part:
    """One part of the page: lines around whole entries, given the budget by ``priority``.

    ``head`` and ``tail`` are shown only with at least one entry (or always, for a part
    without entries); ``more`` says, inside the part, how many entries did not fit.
    """

    priority: int
    head: list[str] = field(default_factory=list)
    entries: list[list[str]] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    noun: str = ""
    """What an entry is, for the closing note (``change``, ``finding``); "" for parts never cut."""
    more: Callable[[int], list[str]] | None = None
    kept: int = 0


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def fit(parts: Sequence[Part], max_chars: int, note: Callable[[dict[str, int]], list[str]]) -> str:
    """The parts, in order, within ``max_chars`` characters: each part in turn of its priority
    takes whole entries while they fit; ``note`` makes the closing lines from what was left out
    (noun: count)."""
    budget = max(max_chars, MIN_MAX_CHARS) - _size(note({p.noun: 10**6 for p in parts if p.noun}))
    used = 0
    shown: dict[int, bool] = {}
    for index in sorted(range(len(parts)), key=lambda i: parts[i].priority):
        part = parts[index]
        frame = _size(part.head) + _size(part.tail)
        reserve = _size(part.more(10**6)) if part.more else 0
        if not part.entries:
            # The title and the summary line (priority 0) are always shown.
            shown[index] = part.priority == 0 or used + frame <= budget
            used += frame if shown[index] else 0
            continue
        if used + frame + reserve > budget:
            continue
        used += frame
        for number, entry in enumerate(part.entries):
            cost = _size(entry)
            left = len(part.entries) - number - 1
            if used + cost + (reserve if left else 0) <= budget:
                used += cost
                part.kept = number + 1
            else:
                break
        shown[index] = part.kept > 0
        if part.kept < len(part.entries):
            used += reserve
    out: list[str] = []
    dropped: dict[str, int] = {}
    for index, part in enumerate(parts):
        left = len(part.entries) - part.kept
        if left and part.noun and not (part.more and part.kept):
            dropped[part.noun] = dropped.get(part.noun, 0) + left
        if not shown.get(index):
            continue
        out += part.head
        for entry in part.entries[: part.kept]:
            out += entry
        if left and part.more:
            out += part.more(left)
        out += part.tail
    if any(dropped.values()):
        out += note(dropped)
    return "\n".join(out).rstrip("\n") + "\n"


def render_markdown(
    doc: Mapping[str, Json], *, max_chars: int = DEFAULT_MAX_CHARS, full_plan: str = ""
) -> str:
    """The plan as GitHub-flavoured markdown within ``max_chars`` characters (pure).

    ``full_plan`` names where the whole plan is (the ``--out`` file) for the closing note
    when parts had to be left out.
    """
    parts = plan_parts("plan", doc)
    return fit(parts, max_chars, lambda dropped: omitted_note(dropped, max_chars, full_plan))


def _counted(noun: str, n: int) -> str:
    """``3 changes``, ``1 live finding``, ``2 access summaries``."""
    if n != 1:
        noun = noun[:-1] + "ies" if noun.endswith("ry") else noun + "s"
    return f"{n:,} {noun}"


def plan_parts(command: str, doc: Mapping[str, Json], *, all_findings: bool = False) -> list[Part]:
    """The parts of a plan's page (see the module docstring); ``doc`` is a plan's JSON form."""
    changes = [c for c in doc.get("changes") or [] if isinstance(c, Mapping)]
    findings = split(doc, all_about_change=all_findings)
    account = str(doc.get("account_id", ""))
    parts = [Part(0, heading(command, doc))]
    parts += refused_banner(findings.blocking)
    parts += destructive_banner(
        changes, "This plan deletes or replaces IAM entities. Review them before applying:"
    )
    parts += widened_banner(changes, account)
    parts += temporary_parts(doc, banner=True)
    parts += unmanaged_banner(list(doc.get("unmanaged") or []))
    parts += findings_parts(findings)
    parts += changes_part(changes, account, findings)
    parts += untouched_part(findings)
    parts += access_part(doc)
    parts += temporary_parts(doc)
    parts += unmanaged_part(list(doc.get("unmanaged") or []))
    return parts


def omitted_note(
    dropped: Mapping[str, int], max_chars: int, full: str, command: str = "plan", what: str = "plan"
) -> list[str]:
    """The closing line: what was left out to stay within ``max_chars``, and where it all is
    (``full``, the ``--out`` file, or how to get it)."""
    counted = ", ".join(_counted(noun, n) for noun, n in dropped.items() if n)
    where = (
        f"the full {what} is in {escape.markdown(full, 'code')}"
        if full
        else f"run `iamstate {command} --format text` (or `--out FILE`) for the full {what}"
    )
    return ["", f"**{counted} not shown** to keep this comment under {max_chars:,} characters; {where}."]


# --- parts ---------------------------------------------------------------------------------


def heading(command: str, doc: Mapping[str, Json]) -> list[str]:
    """``### iamstate COMMAND for account `ID` (stack `NAME`)`` and the bold summary line (pure)."""
    account = escape.markdown(doc.get("account_id", ""), "code")
    stack = escape.markdown(doc.get("stack", ""), "code")
    return [
        f"### iamstate {command} for account {account} (stack {stack})",
        "",
        f"**{escape.markdown(doc.get('summary_line', ''))}**",
        "",
    ]


def _quoted(lines: list[str]) -> list[str]:
    return [f"> {line}" if line else ">" for line in lines]


def refused_banner(blocking: list[Mapping[str, Json]]) -> list[Part]:
    """A caution callout with the findings that refuse the plan, before anything else (pure)."""
    if not blocking:
        return []
    n = len(blocking)
    head = [
        "> [!CAUTION]",
        f"> **Refused:** {n} finding{'s' if n != 1 else ''} of severity error "
        f"block{'s' if n == 1 else ''} this plan; nothing is applied until each is fixed or waived.",
        ">",
    ]
    entries = [_quoted(finding_item(f)) for f in blocking]
    return [Part(1, head, entries, [""], "finding", lambda left: [f"> - … and {left:,} more"])]


def destructive_banner(changes: list[Mapping[str, Json]], lead: str) -> list[Part]:
    """A warning callout listing every delete and replace that fits (pure)."""
    destructive = [c for c in changes if c.get("action") in ("delete", "replace")]
    if not destructive:
        return []
    entries = []
    for c in destructive:
        reason = f": {escape.markdown(c['reason'])}" if c.get("reason") else ""
        symbol = escape.markdown(SYMBOLS.get(str(c["action"]), ""), "code")
        entries.append([f"> - {symbol} {escape.markdown(c['address'], 'code')}{reason}"])
    more = lambda left: [f"> - … and {left:,} more (in the full plan)"]  # noqa: E731
    return [Part(2, ["> [!WARNING]", f"> {lead}", ">"], entries, [""], "", more)]


def widened_banner(changes: list[Mapping[str, Json]], account_id: str) -> list[Part]:
    """An important callout naming what the plan grants that could escalate or open access (pure)."""
    entries = []
    ceilings = boundaries_only(changes)
    for c in changes:
        for what in widened(c, account_id, grants_nothing=str(c.get("address", "")).lower() in ceilings):
            entries.append([f"> - {escape.markdown(c['address'], 'code')}: {escape.markdown(what)}"])
    if not entries:
        return []
    head = ["> [!IMPORTANT]", "> This plan widens access:", ">"]
    return [Part(3, head, entries, [""], "", lambda left: [f"> - … and {left:,} more"])]


def unmanaged_banner(entries: list[Mapping[str, Json]]) -> list[Part]:
    """A note that the plan leaves live entities alone, with how many (pure)."""
    if not entries:
        return []
    n = len(entries)
    line = (
        f"> {n:,} live entit{'ies' if n != 1 else 'y'} in scope {'are' if n != 1 else 'is'} not managed by this "
        "configuration and never deleted (listed at the end)."
    )
    return [Part(3, ["> [!NOTE]", line, ""])]


def finding_item(finding: Mapping[str, Json]) -> list[str]:
    """A finding as one list item: label, rule, entity, message, remedy, place, waiver reason."""
    address = f" {escape.markdown(finding['address'], 'code')}" if finding.get("address") else ""
    rule = escape.markdown(finding.get("rule", ""), "code")
    line = f"- **{label(finding)}** {rule}{address}: {escape.markdown(finding.get('message', ''))}"
    lines = [line]
    if finding.get("waived"):
        reason = escape.markdown(finding.get("waiver_reason") or "no reason given")
        lines.append(f"  Waived ({escape.markdown(finding.get('severity', ''))}): {reason}")
    if finding.get("remedy"):
        lines.append(f"  Remedy: {escape.markdown(finding['remedy'])}")
    if finding.get("location"):
        lines.append(f"  At: {escape.markdown(finding['location'], 'code')}")
    # Two trailing spaces: a line break inside the list item.
    return [f"{text}  " for text in lines[:-1]] + lines[-1:]


OPEN_FINDINGS = 3
"""Findings about the change shown open; more are folded, so that the changes stay on the first screen."""


def findings_parts(findings: Split, title: str = "Findings about this change") -> list[Part]:
    """The findings about what the plan changes, one list item each, in a ``<details>`` block
    whose summary counts them by label, open when there are at most :data:`OPEN_FINDINGS`
    (pure). The findings that refuse the plan are in its banner, above."""
    about = findings.about_change
    if not about:
        return []
    counts: dict[str, int] = {}
    for finding in about:
        counts[label(finding)] = counts.get(label(finding), 0) + 1
    counted = ", ".join(
        f"{n:,} {name.lower()}{'s' if n != 1 and name != 'Waived' else ''}"
        for name in ("Error", "Warning", "Waived")
        if (n := counts.get(name, 0))
    )
    opened = " open" if len(about) <= OPEN_FINDINGS else ""
    head = [f"#### {title}", "", f"<details{opened}><summary>{counted}</summary>", ""]
    entries = [finding_item(f) for f in about]
    return [Part(4, head, entries, ["", "</details>", ""], "finding")]


def change_details(change: Mapping[str, Json], *, open_: bool = False) -> list[str]:
    """One change as a ``<details>`` block holding its ```` ```diff ```` lines (pure)."""
    symbol = SYMBOLS[str(change["action"])]
    summary = f"<code>{escape.markdown(symbol, 'html')} {escape.markdown(change['address'], 'html')}</code>"
    if change.get("reason"):
        summary += f" ({escape.markdown(change['reason'], 'html')})"
    body = [line.diff_marked() for line in change_lines(change)]
    fence = escape.fence_for(body)
    return [
        f"<details{' open' if open_ else ''}><summary>{summary}</summary>",
        "",
        f"{fence}diff",
        *body,
        fence,
        "",
        "</details>",
        "",
    ]


def changes_part(
    changes: list[Mapping[str, Json]], account_id: str, findings: Split, lead: Sequence[str] = ()
) -> list[Part]:
    """The changes: risky ones first (open, unless deleted), then the rest (folded), after the
    heading and the ``lead`` lines (pure)."""
    if not changes:
        return []
    flagged = {
        str(f.get("address", "")).lower()
        for f in [*findings.blocking, *findings.about_change]
        if not f.get("waived")
    }
    first = [c for c in changes if risky(c, account_id, flagged)]
    rest = [c for c in changes if not risky(c, account_id, flagged)]
    entries = [change_details(c, open_=c.get("action") != "delete") for c in first]
    entries += [change_details(c) for c in rest]
    n = len(changes)
    head = [f"#### Changes ({n:,})" if n > 1 else "#### Changes", "", *lead]
    return [Part(5, head, entries, [], "change")]


def untouched_part(findings: Split) -> list[Part]:
    """Findings about entities the plan does not change: one folded count per rule (pure)."""
    counted = counts_by_rule(findings.untouched)
    if not counted:
        return []
    n = len(findings.untouched)
    lines = [
        f"<details><summary>{UNTOUCHED_TITLE}: {n:,}</summary>",
        "",
        *(f"- {escape.markdown(rule, 'code')}: {text}" for rule, text in counted),
        "",
        f"{UNTOUCHED_HINT}.",
        "",
        "</details>",
        "",
    ]
    return [Part(6, [], [lines], [], "finding")]


def access_part(plan: Mapping[str, Json]) -> list[Part]:
    """The access section (:mod:`iamstate.render.access`), after the changes: each principal's
    folded block is one entry, so the budget, not a count, decides how many are shown, and
    keeps or drops whole principals (pure)."""
    from iamstate.render import access

    entries = access.section(plan)
    if not entries:
        return []
    blocks = [access.markdown_lines([entry])[2:] for entry in entries]
    head = access.markdown_lines(entries[:1])[:2]
    return [Part(7, head, blocks, [], "principal access entry")]


def temporary_parts(plan: Mapping[str, Json], *, banner: bool = False) -> list[Part]:
    """Temporary access (:mod:`iamstate.render.temporary`): its banner, whole, with the banners;
    or its table after the access section, kept or dropped by row (pure)."""
    if banner:
        lines = temporary_banner(plan)
        return [Part(3, lines)] if lines else []
    table = temporary_section(plan)
    if not table:
        return []
    return [Part(7, table[:4], [[row] for row in table[4:-1]], [""], "temporary grant")]


def access_section(plan: Mapping[str, Json]) -> list[str]:
    """The per-principal access section of a plan's JSON form; [] when empty (pure)."""
    from iamstate.render import access

    return access.markdown_lines(access.section(plan))


def unmanaged_part(entries: list[Mapping[str, Json]]) -> list[Part]:
    """Live entities in scope the plan leaves alone, folded, with what to do (pure)."""
    if not entries:
        return []
    head = [
        f"<details><summary>Not managed by this configuration, never deleted: {len(entries):,}</summary>",
        "",
    ]
    items = [[f"- {escape.markdown(e['address'], 'code')}: {escape.markdown(e['reason'])}"] for e in entries]
    remedies: dict[str, str] = {}
    for entry in entries:
        remedies.setdefault(str(entry["standing"]), str(entry["remedy"]))
    tail = [
        "",
        *(f"{escape.markdown(s)}: {escape.markdown(r)}  " for s, r in remedies.items()),
        "",
        "</details>",
        "",
    ]
    more = lambda left: [f"- … and {left:,} more"]  # noqa: E731
    return [Part(8, head, items, tail, "", more)]
