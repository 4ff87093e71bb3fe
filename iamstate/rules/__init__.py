"""Safety rules: small units with an id, a severity, a remedy and a source (SPEC §6).

Pure. A rule looks at a :class:`RuleInput` and yields findings; :func:`run_rules`
applies per-entity waivers from ``exceptions:``. Rules that fire while loading the
config (inline policies, credentials) are emitted by the loader under the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from iamstate.model import DesiredConfig, LiveAccount
from iamstate.plan import Change, Finding, Severity


@dataclass(frozen=True)
class RuleInput:
    """What rules see: the config, and at plan time the live account and the changes."""

    config: DesiredConfig
    live: LiveAccount | None = None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One safety rule."""

    id: str
    severity: Severity
    waivable: bool
    summary: str
    remedy: str
    source: str
    check: Callable[[RuleInput], Iterable[Finding]] | None = field(default=None, compare=False)
    needs_live: bool = False

    def finding(self, address: str, message: str, location: str = "") -> Finding:
        """A finding of this rule about one entity."""
        return Finding(self.id, self.severity, address, message, self.remedy, location=location)


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule to the catalogue (ids are unique)."""
    if rule.id in RULES:
        raise ValueError(f"duplicate rule id {rule.id}")
    RULES[rule.id] = rule
    return rule


def apply_waivers(findings: Iterable[Finding], exceptions: Mapping[str, Mapping[str, str]]) -> list[Finding]:
    """Mark findings waived where the entity's ``exceptions`` name a waivable rule (pure)."""
    out = []
    for f in findings:
        reason = exceptions.get(f.address, {}).get(f.rule)
        rule = RULES.get(f.rule)
        if reason and rule is not None and rule.waivable:
            f = replace(f, waived=True, waiver_reason=reason)
        out.append(f)
    return out


def run_rules(data: RuleInput, *, live: bool) -> list[Finding]:
    """Run every rule that can run (offline ones only when ``live`` is False), with waivers (pure)."""
    findings: list[Finding] = []
    for rule in RULES.values():
        if rule.check is None or (rule.needs_live and not live):
            continue
        findings.extend(rule.check(data))
    exceptions = {str(a): dict(e) for a, e in data.config.exceptions.items()}
    return apply_waivers(findings, exceptions)


from iamstate.rules import builtin as _builtin  # noqa: E402,F401  (registers the catalogue)
