"""How plans and drift reports show temporary access, from ``metadata.temporary_access`` (pure).

Small functions that the text and markdown renderers call where their layout wants
them: every temporary grant with its expiry, reason and how long is left, and for a
pull request, a banner naming the grants that the change gives for longer than
``access.warn_days``. The text and markdown renderers import this module; it takes
their painting and escaping functions when it runs, so each format keeps one of each.
"""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.model import Json

_AFTER_EXPIRY = {
    "membership": "no longer granted",
    "attachment": "no longer granted",
    "entity": "deleted, as absent: true would be",
    "statement": "AWS no longer honours it",
    "trust": "AWS no longer honours it",
    "waiver": "no longer waives",
}
_STATUS_STYLE = {"expired": "red", "expiring": "yellow"}


def grants(plan: Mapping[str, Json]) -> list[Mapping[str, Json]]:
    """The temporary grants a plan's JSON form lists, soonest to expire first."""
    report = (plan.get("metadata") or {}).get("temporary_access") or {}
    return list(report.get("grants") or [])


def left_text(grant: Mapping[str, Json]) -> str:
    """``4d 7h left``, or for an expired grant ``expired 2h ago; no longer granted``."""
    if grant.get("status") == "expired":
        return f"expired {grant['left']} ago; {_AFTER_EXPIRY.get(str(grant.get('kind')), 'expired')}"
    return f"{grant['left']} left"


def _one_line(text: Json) -> str:
    return " ".join(str(text or "").split())


def temporary_lines(plan: Mapping[str, Json], *, color: bool) -> list[str]:
    """The text block: one line per temporary grant; [] when the plan lists none (pure)."""
    from iamstate.render.text import paint

    found = grants(plan)
    if not found:
        return []
    as_of = ((plan.get("metadata") or {}).get("temporary_access") or {}).get("as_of", "")
    out = [paint(f"Temporary access (as of {as_of}):", "bold", color=color)]
    for grant in found:
        what = f": {grant['grant']}" if grant.get("grant") else ""
        left = paint(f"({left_text(grant)})", _STATUS_STYLE.get(str(grant.get("status")), ""), color=color)
        out.append(
            f"  {grant['address']}{what} until {grant['expires_at']} {left}: {_one_line(grant.get('reason'))}"
        )
    return out


def temporary_section(plan: Mapping[str, Json]) -> list[str]:
    """The markdown table of temporary grants; [] when the plan lists none (pure)."""
    from iamstate.render.markdown import escape

    found = grants(plan)
    if not found:
        return []
    out = ["#### Temporary access", "", "| entity | grant | until | left | reason |", "|---|---|---|---|---|"]
    for grant in found:
        out.append(
            f"| `{grant['address']}` | {escape(_one_line(grant.get('grant')))} | {grant['expires_at']} "
            f"| {escape(left_text(grant))} | {escape(_one_line(grant.get('reason')))} |"
        )
    return [*out, ""]


def temporary_banner(plan: Mapping[str, Json]) -> list[str]:
    """A callout naming the grants this plan puts in place for longer than ``warn_days``; [] when
    there are none (pure)."""
    from iamstate.render.markdown import escape

    report = (plan.get("metadata") or {}).get("temporary_access") or {}
    long = [
        g
        for g in grants(plan)
        if g.get("added_by_plan") and g.get("beyond_warn_days") and g.get("status") != "expired"
    ]
    if not long:
        return []
    days = report.get("warn_days")
    out = [
        "> [!IMPORTANT]",
        f"> This change grants temporary access for longer than access.warn_days ({days} days):",
        ">",
    ]
    for grant in long:
        what = f" {escape(_one_line(grant['grant']))}" if grant.get("grant") else ""
        out.append(
            f"> - `{grant['address']}`{what} until {grant['expires_at']} ({grant['left']} left): "
            f"{escape(_one_line(grant.get('reason')))}"
        )
    return [*out, ""]
