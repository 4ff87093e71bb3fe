"""The apply lock: one apply at a time per account and stack, held in the account itself (pure).

Two applies of different configurations at once would each undo the other's
changes. So apply first creates a marker policy, ``iamstate-lock-<stack>`` under the
path :data:`LOCK_PATH`: CreatePolicy succeeds for one caller only (IAM refuses a
second policy of the same name with EntityAlreadyExists). The policy's tags say who
holds the lock (the caller's ARN), which run, on which host, since when and until
when; its document grants nothing. Apply deletes it when it ends, on success,
failure or interruption; a lock left by a killed apply expires, and
``iamstate unlock`` clears it.

Planning never sees the lock: its path is reserved (:data:`iamstate.model.RESERVED_PATH_PREFIXES`),
so no configuration owns it, lists it as unmanaged or prunes it.

This module holds the lock's data (its name, tags and document, and how a holder is
described); :mod:`iamstate.aws.lock` makes the calls.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from iamstate.constraints import safe_tag_value
from iamstate.model import Json

LOCK_PATH = "/iamstate-lock/"
LOCK_PREFIX = "iamstate-lock-"
TTL = timedelta(minutes=15)
"""How long a lock lasts without a heartbeat: a killed apply's lock expires after this."""
HEARTBEAT = timedelta(minutes=5)
"""How often a running apply pushes its lock's expiry forward."""
TAG_PREFIX = "iamstate:lock-"
_NAME_CHARS = re.compile(r"[\w+=,.@-]+")
_MAX_NAME = 128


def lock_name(stack: str) -> str:
    """The lock policy's name for ``stack``: ``iamstate-lock-<stack>``, with a digest instead of
    characters a policy name cannot hold (``:``, ``/``) or past IAM's 128 characters."""
    name = LOCK_PREFIX + stack
    if _NAME_CHARS.fullmatch(name) and len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(stack.encode()).hexdigest()[:12]
    readable = re.sub(r"[^\w+=,.@-]", "-", stack)[: _MAX_NAME - len(LOCK_PREFIX) - len(digest) - 1]
    return f"{LOCK_PREFIX}{readable}-{digest}"


def lock_arn(partition: str, account_id: str, stack: str) -> str:
    """The lock policy's ARN."""
    return f"arn:{partition}:iam::{account_id}:policy{LOCK_PATH}{lock_name(stack)}"


def lock_document(partition: str, account_id: str) -> dict[str, Json]:
    """The lock policy's document: it denies one read of a user that cannot exist, so that
    attaching it by mistake grants and takes away nothing."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IamstateApplyLockGrantsNothing",
                "Effect": "Deny",
                "Action": "iam:GetUser",
                "Resource": f"arn:{partition}:iam::{account_id}:user{LOCK_PATH}none",
            }
        ],
    }


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


@dataclass(frozen=True)
class LockHolder:
    """Who holds an apply lock: the caller's ARN, the run, the host, since and until when
    (UTC, without a zone, as the tags keep them)."""

    holder: str
    run_id: str
    host: str
    since: datetime | None
    expires: datetime | None

    def tags(self) -> list[dict[str, str]]:
        """The lock policy's tags, in IAM's ``[{Key, Value}]`` form."""
        values = {
            "holder": self.holder,
            "run-id": self.run_id,
            "host": self.host,
            "since": _time(self.since) if self.since else "",
            "expires": _time(self.expires) if self.expires else "",
        }
        return [{"Key": TAG_PREFIX + key, "Value": safe_tag_value(value)} for key, value in values.items()]

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> LockHolder:
        """The holder a lock policy's tags describe (``unknown`` for what they lack)."""

        def get(key: str) -> str:
            return tags.get(TAG_PREFIX + key, "")

        return cls(
            get("holder") or "an unknown caller",
            get("run-id") or "unknown",
            get("host") or "an unknown host",
            _parse_time(get("since")),
            _parse_time(get("expires")),
        )

    def expired(self, now: datetime) -> bool:
        """True once the lock's expiry has passed (a lock without one never expires)."""
        return self.expires is not None and _naive(now) >= self.expires

    def describe(self, now: datetime | None = None) -> str:
        """``locked by ARN (run R on HOST) since T, until T`` for messages."""
        since = f" since {_time(self.since)}" if self.since else ""
        if self.expires is None:
            until = ""
        elif now is not None and self.expired(now):
            until = f", expired at {_time(self.expires)}"
        else:
            until = f", until {_time(self.expires)}"
        return f"locked by {self.holder} (run {self.run_id} on {self.host}){since}{until}"


def _naive(value: datetime) -> datetime:
    """A UTC time without its zone, as the lock's tags keep times."""
    offset = value.utcoffset()
    return (value - offset).replace(tzinfo=None) if offset is not None else value


def new_holder(holder: str, run_id: str, host: str, now: datetime) -> LockHolder:
    """The holder a new lock records: since ``now``, until ``now`` plus :data:`TTL`."""
    start = _naive(now).replace(microsecond=0)
    return LockHolder(holder, run_id, host, start, start + TTL)


def renewed(holder: LockHolder, now: datetime) -> LockHolder:
    """The same holder with its expiry pushed to ``now`` plus :data:`TTL` (the heartbeat)."""
    return LockHolder(
        holder.holder, holder.run_id, holder.host, holder.since, _naive(now).replace(microsecond=0) + TTL
    )
