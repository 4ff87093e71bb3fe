"""Safety rules: small units with an id, a severity, a remedy and a source (SPEC §6).

Pure: rules are plain functions over the loaded configuration, the live account and
the planned changes; they never call AWS or read files (the action catalogue they
consult is package data, loaded once by :mod:`iamstate.catalog`).

A rule looks at a :class:`RuleInput` and yields findings; :func:`run_rules` runs
the catalogue and applies per-entity waivers from ``exceptions:``. Rules are
grouped in one module per family: ``refusals`` (what the loader refuses while
reading YAML), ``documents`` (policy documents), ``attach`` (attachments),
``trust`` (assume-role policies) and ``account`` (password policy, the caller,
what the plan deletes). Rules without a ``check`` fire while the config is loaded
(:mod:`iamstate.config`) and are listed here so that they are documented, waivable
or not, in one place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from iamstate.model import Address, DesiredConfig, LiveAccount
from iamstate.plan import Change, Finding, Severity

MASS_DELETE_FLAG = "--allow-mass-delete"


@dataclass(frozen=True)
class RuleInput:
    """What rules see: the config, and at plan time the live account and the changes."""

    config: DesiredConfig
    live: LiveAccount | None = None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One safety rule.

    ``needs_live`` rules run at plan and apply time only (they look at the caller or
    at the changes); the others run offline in ``validate`` too. ``waiver_flag`` names
    the command-line flag that lets a rule's findings through instead of ``exceptions:``.
    """

    id: str
    severity: Severity
    waivable: bool
    summary: str
    remedy: str
    source: str
    check: Callable[[RuleInput], Iterable[Finding]] | None = field(default=None, compare=False)
    needs_live: bool = False
    waiver_flag: str = ""

    def finding(
        self, address: str, message: str, location: str = "", *, severity: Severity | None = None
    ) -> Finding:
        """A finding of this rule about one entity (``severity`` overrides the rule's own)."""
        return Finding(self.id, severity or self.severity, address, message, self.remedy, location=location)

    @property
    def waivable_text(self) -> str:
        """How the README's rule table says whether and how the rule can be waived."""
        if self.waiver_flag:
            return f"`{self.waiver_flag}`"
        return "yes" if self.waivable else "no"


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule to the catalogue (ids are unique)."""
    if rule.id in RULES:
        raise ValueError(f"duplicate rule id {rule.id}")
    RULES[rule.id] = rule
    return rule


def waivable_rule_ids() -> list[str]:
    """The ids ``exceptions:`` may name, in catalogue order."""
    return [r.id for r in RULES.values() if r.waivable]


def unwaivable_rule_ids() -> list[str]:
    """The ids ``exceptions:`` must not name (including those waived by a flag)."""
    return [r.id for r in RULES.values() if not r.waivable]


def named(address: Address | str) -> str:
    """How messages name an entity, in the loader's words: ``policy 'reports-read'``."""
    if isinstance(address, str):
        address = Address.parse(address)
    return f"{address.kind.value.replace('_', ' ')} '{address.name}'"


def location(config: DesiredConfig, address: Address) -> str:
    """Where the entity at ``address`` was declared (``file:line:column``), or ``""``."""
    where = config.sources.get(address)
    return str(where) if where is not None else ""


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


def run_rules(data: RuleInput, *, live: bool, allow_mass_delete: bool = False) -> list[Finding]:
    """Run every rule that can run, apply waivers, and return the findings (pure).

    ``live=False`` (validate) runs the offline rules only; ``live=True`` (plan, apply)
    runs them all. ``allow_mass_delete`` is ``--allow-mass-delete``: mass-delete
    findings still show, marked waived by the flag.
    """
    findings: list[Finding] = []
    for rule in RULES.values():
        if rule.check is None or (rule.needs_live and not live):
            continue
        findings.extend(rule.check(data))
    exceptions = {str(a): dict(e) for a, e in data.config.exceptions.items()}
    findings = apply_waivers(findings, exceptions)
    if allow_mass_delete:
        findings = [
            replace(f, waived=True, waiver_reason=f"allowed by {MASS_DELETE_FLAG}")
            if f.rule == "mass-delete"
            else f
            for f in findings
        ]
    return findings


FAMILIES = ("refusals", "documents", "attach", "trust", "account")
"""The rule modules, in the order their rules are listed (README table, findings)."""

for _family in FAMILIES:
    importlib.import_module(f"iamstate.rules.{_family}")
