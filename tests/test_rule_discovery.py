"""Rule discovery: the two sides of the catalogue, and the live family kept to drift."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import iamstate.rules as rules
from iamstate.rules.base import ConfigRule, LiveRule


def test_each_side_is_found_on_its_own_and_together_they_are_the_catalogue() -> None:
    config = rules.discover(live=False)
    live = rules.discover(live=True)
    assert config and all(isinstance(r, ConfigRule) for r in config)
    assert live and all(isinstance(r, LiveRule) for r in live)
    assert {r.id for r in config} == set(rules.RULES)
    assert {r.id for r in live} == set(rules.LIVE_RULES)
    assert sorted(r.id for r in rules.discover()) == sorted([*rules.RULES, *rules.LIVE_RULES])
    # The catalogue's sides are the very instances the commands run.
    assert rules._catalogue().RULES is rules._config_rules()
    assert rules._catalogue().LIVE_RULES is rules._live_rules()


@pytest.fixture
def extra_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A family package ``stray`` beside the real ones, removed again afterwards."""
    family = tmp_path / "stray"
    family.mkdir()
    (family / "__init__.py").write_text("")
    monkeypatch.setattr(rules, "__path__", [*rules.__path__, str(tmp_path)])
    yield family
    for name in [m for m in sys.modules if m.startswith("iamstate.rules.stray")]:
        del sys.modules[name]


def test_a_live_rule_outside_the_live_family_is_refused(extra_family: Path) -> None:
    (extra_family / "lost.py").write_text(
        textwrap.dedent(
            """
            from iamstate.audit import Level
            from iamstate.rules.base import AccountRule

            class Lost(AccountRule):
                id = "lost-live-rule"
                level = Level.LOW
                order = 9990
                summary = remedy = source = "x"

                def check(self, inp):
                    yield from ()
            """
        )
    )
    with pytest.raises(
        ValueError,
        match=r"Lost \(iamstate\.rules\.stray\.lost\) is a live rule: it belongs in the live family",
    ):
        rules.discover(live=False)
    # validate would otherwise never run it, and drift would never see it
    with pytest.raises(ValueError, match="is a live rule: it belongs in the live family"):
        rules.discover()


def test_a_config_rule_in_the_live_family_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "LIVE_FAMILY", "documents")
    with pytest.raises(ValueError, match=r"is not a live rule: move it out of the documents family"):
        rules.discover(live=True)
