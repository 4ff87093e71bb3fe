"""The escalation corpus: published paths must fire, scoped or guarded policies must stay quiet.

Each folder under ``tests/escalation/paths`` and ``tests/escalation/quiet`` holds a
``config.yaml`` (loaded with the product's loader) and an ``expected.yaml`` naming the
principal, the method and the published source.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from iamstate.analysis.account import analyse
from iamstate.analysis.escalation import format_path
from iamstate.kinds.group import Group
from iamstate.model import Address, Kind, State
from iamstate.policy import normalize
from tests.analysis.corpus import CORPUS, NOW, analyse_config

PATHS = sorted((CORPUS / "paths").iterdir())
QUIET = sorted((CORPUS / "quiet").iterdir())


def _expected(folder: Path) -> dict[str, str]:
    data = yaml.safe_load((folder / "expected.yaml").read_text())
    assert data["source"].startswith("https://"), f"{folder.name} cites no source"
    return data


def test_the_corpus_is_large_enough() -> None:
    assert len(PATHS) >= 40
    assert len(QUIET) >= 40


@pytest.mark.parametrize("folder", PATHS, ids=lambda p: p.name)
def test_published_path_fires(folder: Path) -> None:
    expected = _expected(folder)
    analysis = analyse_config(folder / "config.yaml")
    paths = analysis.escalations.get(Address.parse(expected["principal"]), ())
    shown = [f"{p.method.id}: {format_path(p)}" for p in paths]
    assert any(expected["method"] in [m.id for m in p.methods] for p in paths), shown
    via = expected.get("via")
    if via:
        assert any(p.hops and p.hops[0].how == via for p in paths), shown


@pytest.mark.parametrize("folder", QUIET, ids=lambda p: p.name)
def test_scoped_or_guarded_policy_stays_quiet(folder: Path) -> None:
    _expected(folder)
    analysis = analyse_config(folder / "config.yaml")
    assert {str(a): [format_path(p) for p in paths] for a, paths in analysis.escalations.items()} == {}


def _moto_managed() -> dict[str, dict[str, object]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


@pytest.mark.parametrize("name", ["ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit"])
def test_aws_read_only_family_stays_quiet(name: str) -> None:
    data = _moto_managed()[name]
    arn = f"arn:aws:iam::aws:policy{data['Path']}{name}"
    state = State({Address(Kind.GROUP, "readers"): Group("readers", policies=frozenset({arn}))})
    analysis = analyse(state, managed={arn: normalize(data["Document"])}, now=NOW)
    perms = analysis.permissions[Address(Kind.GROUP, "readers")]
    assert perms.unread == ()
    assert perms.allows("iam:GetRole") or perms.allows("iam:ListRoles")
    assert analysis.escalations == {}
