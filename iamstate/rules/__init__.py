"""Safety rules: one file per rule, found by discovery, run by one engine (SPEC §6).

Pure: rules are plain classes over the loaded configuration, the live account, the
planned changes and drift's live audit; they never call AWS or read files (the
action catalogue they consult is package data, loaded once by :mod:`iamstate.catalog`).

Each rule is a class in a module of a family package below this one (``refusals``,
``documents``, ``attach``, ``trust``, ``account``, ``live``, ``principals``); its
base class in :mod:`iamstate.rules.base` is its target. Every module of those
packages is imported once, the first time the catalogue is used, and every rule
class defined in one is registered: adding a file is enough. :data:`RULES` holds
the rules of ``validate``, ``plan`` and ``apply``, :data:`LIVE_RULES` those of
drift's live audit (the ``live`` family, imported only when they are needed), both
in catalogue order.

The catalogue is built on first use rather than on import because rules read
policies through :mod:`iamstate.analysis`, which in turn reads statements with
:mod:`iamstate.rules.statements`: importing either package first must work.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iamstate.model import DesiredConfig, LiveAccount, State
from iamstate.plan import Finding
from iamstate.rules import base
from iamstate.rules.base import (
    MASS_DELETE_FLAG,
    AccountRule,
    CallerRule,
    ConfigRule,
    Found,
    LiveGrantRule,
    LiveRule,
    Rule,
    RuleInput,
    SamlProviderRule,
    UnmanagedEntityRule,
    UserRule,
)

__all__ = [
    "CHECKS",
    "LIVE_RULES",
    "MASS_DELETE_FLAG",
    "RULES",
    "RuleInput",
    "apply_waivers",
    "caller_findings",
    "live_findings",
    "prepare_rules",
    "run_rules",
    "run_rules_apart",
]


LIVE_FAMILY = "live"
"""The family of drift's live rules, and the only family with live rules: ``validate``,
``plan`` and ``apply`` never import it (nor :mod:`iamstate.audit`, which only it reads)."""


def discover(*, live: bool | None = None) -> list[Rule]:
    """One instance of every rule class defined in the modules of the family packages,
    in catalogue order; ValueError on a duplicate id or order.

    ``live``: the live family's rules only (True), every other family's (False), or all
    (None). ValueError too when a family holds a rule of the other side."""
    found: list[Rule] = []
    for family in pkgutil.iter_modules(__path__, f"{__name__}."):
        if not family.ispkg:
            continue
        is_live = family.name == f"{__name__}.{LIVE_FAMILY}"
        if live is not None and is_live != live:
            continue
        package = importlib.import_module(family.name)
        for info in pkgutil.walk_packages(package.__path__, f"{family.name}."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if (
                    inspect.isclass(value)
                    and issubclass(value, Rule)
                    and value.__module__ == module.__name__
                    and not inspect.isabstract(value)
                ):
                    if issubclass(value, LiveRule) != is_live:
                        what = (
                            "a live rule: it belongs in" if not is_live else "not a live rule: move it out of"
                        )
                        raise ValueError(f"{value.__name__} ({info.name}) is {what} the {LIVE_FAMILY} family")
                    found.append(value())
    _check_unique(found)
    return sorted(found, key=lambda rule: rule.order)


def _check_unique(rules: Sequence[Rule]) -> None:
    for key in ("id", "order"):
        values = [getattr(rule, key) for rule in rules]
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"more than one rule with {key} {', '.join(repeated)}")


@functools.cache
def _config_rules() -> dict[str, ConfigRule]:
    """The rules of validate, plan and apply, by id (the live family is not imported)."""
    return {r.id: r for r in discover(live=False) if isinstance(r, ConfigRule)}


@functools.cache
def _live_rules() -> dict[str, LiveRule]:
    """Drift's live rules, by id."""
    return {r.id: r for r in discover(live=True) if isinstance(r, LiveRule)}


@dataclass(frozen=True)
class _Catalogue:
    RULES: dict[str, ConfigRule]
    LIVE_RULES: dict[str, LiveRule]
    CHECKS: dict[str, Callable[..., Found]]


@functools.cache
def _catalogue() -> _Catalogue:
    """Both sides, with ids and orders unique across them (the same instances as each side's)."""
    rules, live = _config_rules(), _live_rules()
    _check_unique([*rules.values(), *live.values()])
    checks: dict[str, Callable[..., Found]] = {
        r.id: r.check
        for r in live.values()
        if isinstance(r, (AccountRule, UserRule, SamlProviderRule, UnmanagedEntityRule, LiveGrantRule))
    }
    return _Catalogue(rules, live, checks)


if TYPE_CHECKING:
    from iamstate.audit import AuditInput, LiveFinding

    RULES: dict[str, ConfigRule]
    """The rules of ``validate``, ``plan`` and ``apply``, by id, in catalogue order."""
    LIVE_RULES: dict[str, LiveRule]
    """The rules of drift's live audit, by id, in catalogue order."""
    CHECKS: dict[str, Callable[..., Found]]
    """The check behind each live rule."""


def __getattr__(name: str) -> object:
    # RULES, LIVE_RULES and CHECKS: the catalogue, discovered on first use (see the docstring).
    if name in _Catalogue.__dataclass_fields__:
        return getattr(_catalogue(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def apply_waivers(findings: Iterable[Finding], exceptions: Mapping[str, Mapping[str, str]]) -> list[Finding]:
    """Mark findings waived where the entity's ``exceptions`` name a waivable rule (pure)."""
    return base.apply_waivers(findings, exceptions, _config_rules())


def prepare_rules() -> None:
    """Discover the catalogue of validate, plan and apply now, with the kinds and the action
    catalogue its rules read: a process forked after this finds them ready."""
    from iamstate import catalog, kinds

    _config_rules()
    kinds.specs()
    catalog.services()


def run_rules(data: RuleInput, *, live: bool, allow_mass_delete: bool = False) -> list[Finding]:
    """The loader's findings (``data.loaded``) and every rule's that can run, waivers applied (pure).

    ``live=False`` (validate) runs the offline rules only; ``live=True`` (plan, apply)
    runs them all. ``allow_mass_delete`` is ``--allow-mass-delete``: mass-delete
    findings still show, marked waived by the flag.
    """
    flags = [MASS_DELETE_FLAG] if allow_mass_delete else []
    return base.run(_config_rules().values(), data, live=live, flags=flags)


def run_rules_apart(
    here: Callable[[], RuleInput], elsewhere: Callable[[], RuleInput], apart: base.Apart
) -> tuple[RuleInput, list[Finding]]:
    """``run_rules(here(), live=False)``, the rules on principals run on ``elsewhere()`` on
    another core (see :func:`base.run_apart`); with the input made here."""
    return base.run_apart(lambda: _config_rules().values(), here, elsewhere, apart)


def caller_findings(caller_arn: str) -> list[Finding]:
    """What the rules about the caller alone say of ``caller_arn`` (pure): the check made
    right after GetCallerIdentity, before anything else is read."""
    probe = RuleInput(DesiredConfig(State()), LiveAccount(State(), "", caller_arn=caller_arn))
    rules = _config_rules().values()
    return base.run([r for r in rules if isinstance(r, CallerRule)], probe, live=True)


def live_findings(inp: AuditInput) -> tuple[LiveFinding, ...]:
    """Every live finding of drift's audit, most severe first, then by address and rule (pure)."""
    return base.run_live(_live_rules().values(), inp)
