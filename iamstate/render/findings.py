"""Which findings a plan's reader sees first, and how the rest are counted (pure).

A plan is reviewed for what it changes: findings about the entities it creates,
changes or deletes (and about the plan or the caller as a whole) lead; findings
about entities the plan leaves as they are repeat on every pull request, so they
are counted per rule instead (``validate`` and ``drift`` list them in full). A
finding that refuses the plan is always shown in full, wherever it is.

Pure: works on the plan's JSON form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iamstate.model import Json


@dataclass(frozen=True)
class Split:
    """A plan's findings: those that refuse it, those about what it changes, and the rest."""

    blocking: list[Mapping[str, Json]]
    about_change: list[Mapping[str, Json]]
    """Not blocking, about an entity the plan changes or about the plan as a whole."""
    untouched: list[Mapping[str, Json]]
    """Not blocking, about an entity the plan does not change."""


def is_blocking(finding: Mapping[str, Json]) -> bool:
    """True for an unwaived error: the finding refuses the command."""
    return finding.get("severity") == "error" and not finding.get("waived")


def label(finding: Mapping[str, Json]) -> str:
    """``Error``, ``Warning`` or ``Waived``: an error that does not refuse is never called one."""
    if finding.get("waived"):
        return "Waived"
    return "Error" if finding.get("severity") == "error" else "Warning"


def _is_entity(address: str) -> bool:
    """True for ``KIND.NAME``; findings about the plan, the caller or the account are not."""
    kind, dot, name = address.partition(".")
    return bool(dot and name) and kind not in ("account", "plan")


def split(plan: Mapping[str, Json], *, all_about_change: bool = False) -> Split:
    """The plan's findings split for reading; with ``all_about_change`` every non-blocking
    finding counts as about the change (``drift`` and ``validate`` show them all)."""
    findings = [f for f in plan.get("findings") or [] if isinstance(f, Mapping)]
    changes = [c for c in plan.get("changes") or [] if isinstance(c, Mapping)]
    changed = {str(c.get("address", "")).lower() for c in changes}
    blocking, about, untouched = [], [], []
    for finding in findings:
        address = str(finding.get("address") or "")
        if is_blocking(finding):
            blocking.append(finding)
        elif all_about_change or address.lower() in changed or not _is_entity(address):
            about.append(finding)
        else:
            untouched.append(finding)
    return Split(blocking, about, untouched)


def counts_by_rule(findings: Sequence[Mapping[str, Json]]) -> list[tuple[str, str]]:
    """``(rule, "20 warnings, 1 waived")`` per rule, in the order the rules first appear."""
    by_rule: dict[str, dict[str, int]] = {}
    for finding in findings:
        counts = by_rule.setdefault(str(finding.get("rule", "")), {})
        name = label(finding).lower()
        counts[name] = counts.get(name, 0) + 1
    out = []
    for rule, counts in by_rule.items():
        parts = []
        for name in ("error", "warning", "waived"):
            n = counts.get(name, 0)
            if n:
                noun = name if name == "waived" else name + ("s" if n != 1 else "")
                parts.append(f"{n} {noun}")
        out.append((rule, ", ".join(parts)))
    return out


UNTOUCHED_TITLE = "Findings on entities this plan does not change"
UNTOUCHED_HINT = "`iamstate validate` lists them in full"
