"""Temporary access: grants that expire, reviews that come due, and what a plan says of them (pure).

A *grant* is anything the configuration gives for a while, with ``expires_at`` (an
absolute UTC time in RFC 3339, to the second) and a ``reason``: a user's
membership of a group, a policy attached to a group, user or role, a whole user or
role, a policy statement, an entry of a role's ``trusted:`` shorthand, or a waiver
in ``exceptions``. The loader evaluates each one as of one time, ``now``, which the
shell reads once per command (or takes from ``--at``) and passes down; nothing
here reads a clock.

What expiry does, by kind of grant:

- a statement or trust entry carries a ``DateLessThan aws:CurrentTime`` condition,
  so AWS stops honouring it at that second; the configuration keeps it;
- a membership or attachment cannot carry a condition: once expired it is no longer
  desired, and the next plan removes it;
- an expired user or role entry counts as ``absent: true``: the next plan deletes it;
- an expired waiver no longer waives: its finding comes back as it was.

A grant expires *at* ``expires_at``: it holds while ``now < expires_at``, exactly as
AWS evaluates ``DateLessThan``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from iamstate.model import AccessSettings, Address, Json, SourceLocation, State

CURRENT_TIME_KEY = "aws:CurrentTime"
EXPIRY_OPERATOR = "DateLessThan"
"""The condition that makes AWS stop honouring a statement at its ``expires_at``."""

TIMESTAMP_EXAMPLE = "2026-12-05T18:00:00Z"
REASON_HINT = 'say why it is granted, for reviewers: reason: "INC-4411 on-call"'
"""What to do about an ``expires_at`` without a ``reason``."""
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


# --- times ---------------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime | None:
    """An absolute UTC time written as RFC 3339 to the second (``2026-12-05T18:00:00Z``), or None.

    Relative times (``+4h``, ``tomorrow``), dates without a time, times without the
    ``Z`` of UTC, other offsets and fractions of a second are all None.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def parse_instant(text: str) -> datetime | None:
    """An RFC 3339 time with any offset (``--at``), as UTC; None when it is not one.

    A date alone or a time without an offset is None: it would mean another
    instant on every machine.
    """
    if _INSTANT.fullmatch(text) is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def parse_review_date(text: str) -> datetime | None:
    """When a ``review_by`` comes due: after the whole day of a date (``2026-12-31``, due at
    the next midnight UTC) or at an absolute UTC time; None when it is neither."""
    match = _DATE.fullmatch(text)
    if match is not None:
        year, month, day = (int(part) for part in match.groups())
        try:
            return datetime(year, month, day, tzinfo=UTC) + timedelta(days=1)
        except ValueError:
            return None
    return parse_timestamp(text)


def format_timestamp(when: datetime) -> str:
    """``2026-12-05T18:00:00Z``: an aware time in UTC, to the second."""
    return when.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text: str) -> timedelta | None:
    """``4h``, ``90m``, ``2d``, ``1w``, ``1h30m``: a positive duration, or None."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        return None
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    delta = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    return delta if delta > timedelta(0) else None


def duration_text(delta: timedelta) -> str:
    """``3d 4h``, ``6h``, ``45s``: a duration in at most its two largest units."""
    seconds = int(abs(delta).total_seconds())
    parts: list[str] = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append(f"{count}{unit}")
    parts = parts[:2]
    if len(parts) == 2 and parts[1].startswith("0"):
        parts = parts[:1]
    return " ".join(parts) or "0s"


# --- grants --------------------------------------------------------------------------


class GrantKind(StrEnum):
    """What a temporary grant gives (stable values: part of the plan's JSON form)."""

    MEMBERSHIP = "membership"
    ATTACHMENT = "attachment"
    ENTITY = "entity"
    """A whole user or role."""
    STATEMENT = "statement"
    TRUST = "trust"
    WAIVER = "waiver"


@dataclass(frozen=True)
class Grant:
    """One temporary grant as declared: who holds it, what it is, until when and why."""

    address: Address
    """The entity that holds it: ``user.alice``, ``role.break-glass``, ``policy.x``."""
    kind: GrantKind
    target: str
    """The group's name, the policy's ARN, the statement's label, the trusted principal, the
    waived rule; empty for a whole entity."""
    expires_at: datetime
    reason: str
    location: SourceLocation | None = None
    """Where ``expires_at`` was written."""

    @property
    def what(self) -> str:
        """What the grant is, after the holder's name: ``membership of group 'x'`` ("" for an entity)."""
        if self.kind is GrantKind.MEMBERSHIP:
            return f"membership of group '{self.target}'"
        if self.kind is GrantKind.ATTACHMENT:
            return f"attachment of policy '{self.target.rsplit('/', 1)[-1]}'"
        if self.kind is GrantKind.STATEMENT:
            return self.target
        if self.kind is GrantKind.TRUST:
            return f"trust of {self.target}"
        if self.kind is GrantKind.WAIVER:
            return f"waiver of rule {self.target}"
        return ""

    @property
    def subject(self) -> str:
        """The grant in a message: ``user 'alice' membership of group 'x'``."""
        return " ".join(filter(None, (self.address.label, self.what)))

    @property
    def until(self) -> str:
        """``expires_at`` as written (RFC 3339, UTC)."""
        return format_timestamp(self.expires_at)

    def left(self, now: datetime) -> timedelta:
        """How long the grant still holds as of ``now`` (negative once expired)."""
        return self.expires_at - now

    def expired(self, now: datetime) -> bool:
        """True from ``expires_at`` on (AWS's ``DateLessThan`` stops honouring it then too)."""
        return now >= self.expires_at

    def held_in(self, live: State) -> bool | None:
        """Whether live IAM still holds the grant; None when IAM cannot hold it without its
        condition or at all (statements and trust entries carry their expiry; waivers are
        iamstate's own)."""
        entity = live.get(self.address)
        if self.kind is GrantKind.ENTITY:
            return entity is not None
        if self.kind is GrantKind.MEMBERSHIP:
            groups = {str(g).lower() for g in getattr(entity, "groups", ())}
            return self.target.lower() in groups
        if self.kind is GrantKind.ATTACHMENT:
            return self.target in set(getattr(entity, "policies", ()))
        return None


@dataclass(frozen=True)
class Review:
    """A ``review_by`` on a user, role or policy: the entity is to be looked at again by then."""

    address: Address
    due: datetime
    """The first instant at which the review is overdue."""
    written: str
    """``review_by`` as written."""
    location: SourceLocation | None = None


def expiring_soon(grant: Grant, now: datetime, settings: AccessSettings) -> bool:
    """True when a grant still holds as of ``now`` but ends within ``warn_days``."""
    left = grant.left(now)
    return timedelta(0) < left <= timedelta(days=settings.warn_days)


def crossed(grants: Iterable[Grant], since: datetime, now: datetime) -> list[Grant]:
    """The grants that expired after ``since`` and by ``now``, soonest first."""
    return sorted((g for g in grants if since < g.expires_at <= now), key=lambda g: (g.expires_at, g.subject))


def with_expiry(statement: Mapping[str, Json], expires_at: str) -> dict[str, Json] | None:
    """A statement with ``DateLessThan aws:CurrentTime: expires_at`` merged into its Condition;
    None when it already compares ``aws:CurrentTime`` that way (one of the two would be moot)."""
    out = dict(statement)
    condition = out.get("Condition")
    merged: dict[str, Json] = dict(condition) if isinstance(condition, Mapping) else {}
    operator = next((k for k in merged if str(k).lower() == EXPIRY_OPERATOR.lower()), EXPIRY_OPERATOR)
    block = merged.get(operator)
    block = dict(block) if isinstance(block, Mapping) else {}
    if any(str(key).lower() == CURRENT_TIME_KEY.lower() for key in block):
        return None
    block[CURRENT_TIME_KEY] = expires_at
    merged[operator] = block
    out["Condition"] = merged
    return out


# --- what a plan shows --------------------------------------------------------------


def _added_by(grant: Grant, changes: Sequence[Mapping[str, Json]]) -> bool:
    """True when the plan's changes put this grant in place (or move its expiry)."""
    for change in changes:
        if change.get("address") != str(grant.address):
            continue
        action = change.get("action")
        if grant.kind is GrantKind.ENTITY:
            return action in ("create", "replace")
        if grant.kind in (GrantKind.STATEMENT, GrantKind.TRUST):
            # The document changes, and what it was did not yet say this expiry.
            return action in ("create", "update", "replace") and grant.until not in repr(change.get("before"))
        for call in change.get("api_calls") or []:
            operation, params = str(call.get("operation", "")), call.get("params") or {}
            adds = grant.kind is GrantKind.MEMBERSHIP and operation == "AddUserToGroup"
            if adds and str(params.get("GroupName", "")).lower() == grant.target.lower():
                return True
            attaches = grant.kind is GrantKind.ATTACHMENT and operation.startswith("Attach")
            if attaches and params.get("PolicyArn") == grant.target:
                return True
    return False


def status(grant: Grant, now: datetime, settings: AccessSettings) -> str:
    """``active``, ``expiring`` (within ``warn_days``) or ``expired``."""
    if grant.expired(now):
        return "expired"
    return "expiring" if expiring_soon(grant, now, settings) else "active"


def access_report(
    grants: Sequence[Grant],
    now: datetime,
    settings: AccessSettings,
    changes: Sequence[Mapping[str, Json]] = (),
) -> dict[str, Json]:
    """The plan's ``metadata.temporary_access``: every temporary grant as of ``now``, soonest
    to expire first, with how long is left and whether the plan's ``changes`` (their JSON
    form) grant it for longer than ``warn_days``."""
    warn = timedelta(days=settings.warn_days)
    entries = []
    for grant in sorted(grants, key=lambda g: (g.expires_at, str(g.address), g.what)):
        left = grant.left(now)
        entries.append(
            {
                "address": str(grant.address),
                "kind": grant.kind.value,
                "grant": grant.what,
                "target": grant.target,
                "expires_at": grant.until,
                "reason": grant.reason,
                "seconds_left": int(left.total_seconds()),
                "left": duration_text(left),
                "status": status(grant, now, settings),
                "location": str(grant.location) if grant.location else "",
                "added_by_plan": _added_by(grant, changes),
                "beyond_warn_days": left > warn,
            }
        )
    return {"as_of": format_timestamp(now), "warn_days": settings.warn_days, "grants": entries}
