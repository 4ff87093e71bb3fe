"""Shared fixtures: an isolated AWS environment and a real local IAM endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.moto_server import LocalIam
from tests.support.strict import StrictIam

UNREACHABLE_ENDPOINT = "http://127.0.0.1:9"
"""Discard port: a client that a test forgot to point somewhere fails fast, locally."""


@pytest.fixture(autouse=True)
def _isolated_aws_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's AWS profile or credentials, or reaches AWS; each test has its
    own cache of AWS-managed policy documents, never the developer's."""
    monkeypatch.setenv("IAMSTATE_CACHE_DIR", str(tmp_path_factory.mktemp("iamstate-cache")))
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", UNREACHABLE_ENDPOINT)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalIam]:
    """One local IAM endpoint for the whole test session (one per xdist worker)."""
    with LocalIam() as server:
        yield server


@pytest.fixture
def iam_endpoint(moto_server: LocalIam, monkeypatch: pytest.MonkeyPatch) -> LocalIam:
    """The local IAM endpoint, reset to a clean account, and this process's AWS_* pointing at it."""
    moto_server.reset()
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    return moto_server


@pytest.fixture(scope="session")
def strict_server(moto_server: LocalIam) -> Iterator[StrictIam]:
    """A strict layer (AWS's delete rules, fault injection, call records) in front of ``moto_server``."""
    with StrictIam(moto_server) as server:
        yield server


@pytest.fixture
def strict_iam(strict_server: StrictIam, monkeypatch: pytest.MonkeyPatch) -> StrictIam:
    """The strict layer with default settings on a clean account, and this process's AWS_* pointing at it."""
    strict_server.reset()
    for name, value in strict_server.env().items():
        monkeypatch.setenv(name, value)
    return strict_server
