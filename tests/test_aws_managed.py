"""Reading AWS-managed policy documents at plan time: once per distinct ARN, cached on disk."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from iamstate.analysis.account import analyse
from iamstate.analysis.managed import attached_arns
from iamstate.aws.managed import CACHE_SUBDIR, cache_dir, read_managed_policies
from iamstate.model import Address, Kind, State
from tests.analysis.corpus import NOW
from tests.analysis.states import group, role, state, user
from tests.support.moto_server import LocalIam

IAM_FULL = "arn:aws:iam::aws:policy/IAMFullAccess"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"


def _account_state() -> State:
    roles = [role(f"app-{i}", IAM_FULL, VIEW_ONLY) for i in range(40)]
    users = [user(f"u{i}", VIEW_ONLY, permissions_boundary=POWER_USER) for i in range(30)]
    return state(group("ops", IAM_FULL, POWER_USER), *roles, *users)


def test_reads_grow_with_distinct_managed_policies_not_entities(
    iam_endpoint: LocalIam, tmp_path: Path
) -> None:
    iam = iam_endpoint.client("iam")
    desired = _account_state()
    arns = attached_arns(desired)
    assert len(arns) == 3
    first = read_managed_policies(iam, arns, cache=tmp_path)
    assert first.api_calls == {"GetPolicy": 3, "GetPolicyVersion": 3}
    assert first.from_cache == 0 and first.missing == ()
    assert "iam:*" in json.dumps(first.documents[IAM_FULL])

    analysis = analyse(desired, managed=first.documents, now=NOW)
    assert analysis.unread == ()
    assert Address(Kind.ROLE, "app-0") in analysis.escalations

    again = read_managed_policies(iam, arns, cache=tmp_path)
    assert again.api_calls == {"GetPolicy": 3}
    assert again.from_cache == 3 and again.documents == first.documents


def test_cache_files_are_private_atomic_and_never_trusted(iam_endpoint: LocalIam, tmp_path: Path) -> None:
    iam = iam_endpoint.client("iam")
    read_managed_policies(iam, [IAM_FULL, VIEW_ONLY], cache=tmp_path)
    folder = tmp_path / CACHE_SUBDIR
    files = sorted(folder.iterdir())
    assert len(files) == 2 and not [f for f in files if f.name.startswith(".tmp-")]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)

    corrupted = {
        files[0]: "{not json",
        files[1]: json.dumps({"arn": "arn:aws:iam::aws:policy/Other", "version_id": "v1", "document": {}}),
    }
    for path, text in corrupted.items():
        path.write_text(text)
    read = read_managed_policies(iam, [IAM_FULL, VIEW_ONLY], cache=tmp_path)
    assert read.from_cache == 0 and read.api_calls == {"GetPolicy": 2, "GetPolicyVersion": 2}
    assert all(json.loads(p.read_text())["document"]["Statement"] for p in files)


def test_unknown_policies_are_missing_and_customer_arns_ignored(
    iam_endpoint: LocalIam, tmp_path: Path
) -> None:
    iam = iam_endpoint.client("iam")
    read = read_managed_policies(
        iam, ["arn:aws:iam::aws:policy/NoSuchPolicy", "arn:aws:iam::123456789012:policy/mine"], cache=None
    )
    assert read.missing == ("arn:aws:iam::aws:policy/NoSuchPolicy",)
    assert read.documents == {} and read.api_calls == {"GetPolicy": 1}


def test_an_unwritable_cache_does_not_fail_the_read(iam_endpoint: LocalIam, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    read = read_managed_policies(iam_endpoint.client("iam"), [IAM_FULL], cache=blocked, concurrency=1)
    assert IAM_FULL in read.documents


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"IAMSTATE_CACHE_DIR": "/x/cache", "XDG_CACHE_HOME": "/y", "HOME": "/h"}, "/x/cache"),
        ({"XDG_CACHE_HOME": "/y", "HOME": "/h"}, "/y/iamstate"),
        ({"HOME": "/h"}, "/h/.cache/iamstate"),
    ],
)
def test_cache_directory(environ: dict[str, str], expected: str) -> None:
    assert os.fspath(cache_dir(environ)) == expected
