"""The built-in table of high-risk AWS-managed policies stands for AWS's documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamstate.analysis.account import analyse
from iamstate.analysis.escalation import administrator_grant
from iamstate.analysis.managed import (
    HIGH_RISK,
    ManagedGrant,
    attached_arns,
    builtin,
    builtin_documents,
    is_aws_managed,
)
from iamstate.model import Address, Kind
from iamstate.policy import normalize
from tests.analysis.corpus import NOW
from tests.analysis.states import group, role, state, user


def _moto() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


def _findings(grant: ManagedGrant, document: Any) -> tuple[set[str], set[str]]:
    analysis = analyse(state(group("holders", grant.arn)), managed={grant.arn: document}, now=NOW)
    holders = Address(Kind.GROUP, "holders")
    methods = {m.id for p in analysis.escalations.get(holders, ()) for m in p.methods}
    if administrator_grant(analysis.permissions[holders]) is not None:
        methods.add("administrator")
    exposures = {str(e.exposure) for e in analysis.exposures(holders)}
    return methods, exposures


@pytest.mark.parametrize("grant", HIGH_RISK, ids=lambda g: g.name)
def test_each_entry_finds_what_the_real_document_finds(grant: ManagedGrant) -> None:
    real = _moto()[grant.name]
    assert real["Path"] == grant.path
    assert _findings(grant, normalize(real["Document"])) == _findings(grant, grant.document)
    assert _findings(grant, grant.document) != (set(), set())


def test_the_table_is_found_by_arn_in_any_partition() -> None:
    assert builtin("arn:aws:iam::aws:policy/IAMFullAccess") is not None
    assert builtin("arn:aws-us-gov:iam::aws:policy/job-function/DataScientist") is not None
    assert builtin("arn:aws:iam::aws:policy/ReadOnlyAccess") is None
    assert len({g.arn for g in HIGH_RISK}) == len(HIGH_RISK) == len(builtin_documents())
    assert all(g.source.startswith("https://docs.aws.amazon.com/") for g in HIGH_RISK)


def test_attached_arns_are_the_distinct_aws_managed_ones() -> None:
    found = attached_arns(
        state(
            group("g", "arn:aws:iam::aws:policy/IAMFullAccess", "local"),
            user(
                "u",
                "arn:aws:iam::aws:policy/IAMFullAccess",
                permissions_boundary="arn:aws:iam::aws:policy/PowerUserAccess",
            ),
            role("r", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        )
    )
    assert found == [
        "arn:aws:iam::aws:policy/IAMFullAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]
    assert is_aws_managed("arn:aws-cn:iam::aws:policy/x") and not is_aws_managed("arn:aws:iam::1:policy/x")
