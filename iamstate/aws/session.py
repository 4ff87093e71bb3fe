"""boto3 sessions and clients for IAM and STS, and a counter of the API calls they make."""

from __future__ import annotations

import ipaddress
import os
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from iamstate import __version__
from iamstate.errors import AwsError, redact

log = structlog.get_logger()

CONNECT_TIMEOUT_SECONDS = 10
# A GetAccountAuthorizationDetails page of 1,000 entities with their documents can
# take IAM well over the default read timeout to assemble.
READ_TIMEOUT_SECONDS = 120
MAX_ATTEMPTS = 10
"""Attempts per call in all (botocore standard mode: 3 by default), for throttling and 5xx."""
DEFAULT_REGION = "us-east-1"
"""Where IAM (a global service) signs in the ``aws`` partition; used when no region is configured."""


ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS")
"""The environment variables through which boto3 itself picks an endpoint."""


def make_session(profile: str | None) -> boto3.Session:
    """A boto3 session for ``profile``, or the default credential chain when None.

    An unknown profile (or an unreadable AWS config file) is an :class:`AwsError`.
    """
    try:
        session = boto3.Session(profile_name=profile)
    except ProfileNotFound:
        raise AwsError(
            f"the AWS profile {profile!r} is not configured (see `aws configure list-profiles`); "
            "nothing was read"
        ) from None
    except BotoCoreError as error:
        raise AwsError(f"cannot set up AWS credentials: {_one_line(redact(str(error)))}") from None
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)
    return session


def parse_timestamp(value: Any) -> datetime:
    """A timestamp of a response as botocore's parser reads it (an aware datetime in UTC), at C
    speed for the ISO 8601 form AWS answers in: botocore's own parser (dateutil) takes most of
    the time spent reading a large account's pages, and a time-zone object per value."""
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.utcoffset() == timedelta(0):
                return parsed.replace(tzinfo=UTC)
    return botocore_parse_timestamp(value)


def check_endpoints(endpoint_url: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Refuse an endpoint that is not an http(s) URL (``--endpoint-url`` or boto3's
    ``AWS_ENDPOINT_URL*`` variables), and warn when one is plain HTTP to a host that is
    not this machine: the session token and every request would travel unencrypted."""
    env = os.environ if environ is None else environ
    given = [("--endpoint-url", endpoint_url)] if endpoint_url is not None else []
    given += [(name, env[name]) for name in ENDPOINT_VARIABLES if env.get(name)]
    for source, url in given:
        try:
            parts = urllib.parse.urlsplit(url)
            scheme, host, _ = parts.scheme, parts.hostname, parts.port
        except ValueError:  # a bad port or IPv6 literal
            scheme, host = "", None
        if scheme not in ("http", "https") or not host:
            raise AwsError(
                f"{source} {redact(url)!r} is not an http:// or https:// URL with a host "
                "(for example https://iam.amazonaws.com or http://127.0.0.1:5000); nothing was read"
            )
        if scheme == "http" and not is_loopback(host):
            log.warning(
                "aws.plain_http",
                endpoint=redact(url),
                message=f"{source} is plain HTTP to {host}: the session token and every request "
                "travel unencrypted; use https://",
            )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_config(max_pool: int = 10) -> Config:
    """Client settings shared by every iamstate client.

    ``standard`` retries back off on throttling and 5xx; IAM throttles bursts of
    reads and writes, so iamstate allows more attempts than botocore's default.
    ``max_pool`` must be at least the number of threads sharing one client, or
    urllib3 discards connections and warns.
    """
    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_pool_connections=max_pool,
        user_agent_extra=f"iamstate/{__version__}",
    )


def iam_client(session: boto3.Session, endpoint_url: str | None, *, max_pool: int = 10) -> Any:
    """An IAM client; with ``endpoint_url`` None boto3 still honours ``AWS_ENDPOINT_URL``."""
    return session.client("iam", **_client_settings(session, endpoint_url, max_pool))


def sts_client(session: boto3.Session, endpoint_url: str | None, *, max_pool: int = 10) -> Any:
    """An STS client; with ``endpoint_url`` None boto3 still honours ``AWS_ENDPOINT_URL``."""
    return session.client("sts", **_client_settings(session, endpoint_url, max_pool))


def _client_settings(session: boto3.Session, endpoint_url: str | None, max_pool: int) -> dict[str, Any]:
    # Without a configured region, botocore can reach IAM's and STS's global
    # endpoints but cannot sign for any other endpoint (AWS_ENDPOINT_URL, VPC).
    return {
        "region_name": session.region_name or DEFAULT_REGION,
        "endpoint_url": endpoint_url,
        "config": client_config(max_pool),
    }


class CallCounter:
    """Counts the API calls that attached clients make, by operation name.

    Counts logical calls (one per ``client.operation(...)`` and one per page), not
    HTTP attempts: botocore's retries happen below the ``before-call`` event.
    Thread-safe, so one counter can watch a client shared by a thread pool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._unique_id = f"iamstate-call-counter-{id(self)}"

    def attach(self, *clients: Any) -> None:
        """Start counting the calls of ``clients`` (attaching twice counts once)."""
        for client in clients:
            client.meta.events.register("before-call", self._on_call, unique_id=self._unique_id)

    def detach(self, *clients: Any) -> None:
        """Stop counting the calls of ``clients``."""
        for client in clients:
            client.meta.events.unregister("before-call", unique_id=self._unique_id)

    def _on_call(self, model: Any, **_: Any) -> None:
        # Must return None: a non-None value from a before-call handler would be
        # taken by botocore as the response and short-circuit the call.
        with self._lock:
            self._counts[model.name] += 1

    def snapshot(self) -> dict[str, int]:
        """The counts so far, by operation name, in name order."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def total(self) -> int:
        """The number of calls counted so far."""
        with self._lock:
            return sum(self._counts.values())


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError, e.g. ``NoSuchEntity``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def _one_line(text: str, limit: int = 300) -> str:
    # Some endpoints answer a 5xx with an HTML page; keep the message one short line.
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@contextmanager
def aws_errors(operation: str) -> Iterator[None]:
    """Turn botocore errors raised inside the block into one-line AwsErrors.

    ``operation`` names the call in the message (``iam:ListRoles``), so that the
    user sees which permission or call failed without a traceback.
    """
    try:
        yield
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "") or str(error)
        code = error_code(error) or "Error"
        raise AwsError(f"{operation} failed: {code}: {_one_line(redact(message))}") from error
    except NoCredentialsError as error:
        raise AwsError(
            f"{operation} failed: no AWS credentials found (use --profile, AWS_PROFILE or the"
            " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables)"
        ) from error
    except BotoCoreError as error:
        # EndpointConnectionError, timeouts, ProfileNotFound, NoRegionError, ...
        raise AwsError(f"{operation} failed: {_one_line(redact(str(error)))}") from error
