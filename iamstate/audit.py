"""What drift's live audit reads, the stale access keys apply deactivates, and the drift report.

Pure: no boto3, typer or file I/O. The shell (``iamstate.aws.audit``) reads
GetAccountSummary, one credential report and ListVirtualMFADevices; everything
here works on their contents and an explicit ``now``:

- :func:`parse_credential_report` turns the report's CSV text into rows;
- :class:`AuditInput` (built by :func:`audit_input`) is what the live rules
  (``iamstate/rules/live/``, run by :func:`iamstate.rules.live_findings`) look at:
  rows, the account summary and the configuration's ``mfa:`` and
  ``credentials:`` settings; they report :class:`LiveFinding` values;
- :func:`stale_keys` and :func:`with_deactivations` decide which access keys
  ``credentials.stale_access_keys: deactivate`` sets Inactive and add those
  changes to a plan;
- :class:`DriftReport` is the report ``drift`` prints, in the JSON form that
  ``schemas/drift.schema.json`` describes and the renderers read.

Credentials are account-wide hygiene, so every live user in the report is
audited, managed by this configuration or not; each finding says which.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from iamstate.kinds import sort_changes
from iamstate.kinds.saml_provider import SAML_PROVIDER, SamlProvider
from iamstate.model import (
    PASSWORD_POLICY_ADDRESS,
    Address,
    CredentialSettings,
    DesiredConfig,
    Json,
    Kind,
    LiveAccount,
    MfaSettings,
    State,
)
from iamstate.ownership import Standing, standing
from iamstate.plan import Action, ApiCall, Change, FieldDiff, Phase, Plan, Unmanaged
from iamstate.temporary import Grant

FORMAT_VERSION = "1"
ROOT_ROW = "<root_account>"
"""The user name AWS gives the root user's row in the credential report."""
DEACTIVATE = "deactivate"
DEACTIVATION_REASON = "stale access keys are deactivated (credentials.stale_access_keys: deactivate)"

REQUIRED_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
)
"""The credential report columns the audit reads (AWS sends more)."""

_NO_DATE = frozenset({"", "N/A", "no_information", "not_supported"})


class Level(StrEnum):
    """How bad a live finding is; ``--fail-on`` picks the lowest level that fails drift."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return list(Level).index(self)


# --- the credential report ------------------------------------------------------------


@dataclass(frozen=True)
class KeySlot:
    """One of the two access-key columns groups of a report row (``access_key_1_*``)."""

    slot: int
    active: bool
    last_rotated: datetime | None
    """When the key was created (or last changed): its CreateDate."""
    last_used: datetime | None
    """None when never used (``N/A``)."""


@dataclass(frozen=True)
class CredentialRow:
    """One row of the credential report: a user's (or the root user's) credentials."""

    user: str
    arn: str = ""
    created: datetime | None = None
    password_enabled: bool = False
    password_last_used: datetime | None = None
    password_last_changed: datetime | None = None
    mfa_active: bool = False
    keys: tuple[KeySlot, ...] = ()

    @property
    def is_root(self) -> bool:
        """True for the ``<root_account>`` row."""
        return self.user == ROOT_ROW

    @property
    def active_keys(self) -> tuple[KeySlot, ...]:
        """The slots that hold an active access key."""
        return tuple(k for k in self.keys if k.active)


def parse_credential_report(text: str) -> tuple[CredentialRow, ...]:
    """The rows of a credential report's CSV text (pure); ValueError when it is not one.

    Dates are ISO 8601; ``N/A``, ``no_information`` and ``not_supported`` read as
    unknown (None). ``password_enabled`` is ``not_supported`` on the root row, read
    as False (the root user always has a password; its use is not audited here).
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise ValueError("the credential report is empty")
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"the credential report lacks the column(s) {', '.join(missing)}")
    rows = []
    for number, record in enumerate(reader, start=2):
        try:
            rows.append(_row(record))
        except ValueError as error:
            raise ValueError(f"credential report line {number}: {error}") from None
    return tuple(rows)


def _row(record: Mapping[str, str | None]) -> CredentialRow:
    def text(column: str) -> str:
        return (record.get(column) or "").strip()

    return CredentialRow(
        user=text("user"),
        arn=text("arn"),
        created=parse_report_date(text("user_creation_time")),
        password_enabled=_flag(text("password_enabled")),
        password_last_used=parse_report_date(text("password_last_used")),
        password_last_changed=parse_report_date(text("password_last_changed")),
        mfa_active=_flag(text("mfa_active")),
        keys=tuple(
            KeySlot(
                slot=n,
                active=_flag(text(f"access_key_{n}_active")),
                last_rotated=parse_report_date(text(f"access_key_{n}_last_rotated")),
                last_used=parse_report_date(text(f"access_key_{n}_last_used_date")),
            )
            for n in (1, 2)
        ),
    )


def _flag(value: str) -> bool:
    if value.lower() == "true":
        return True
    if value.lower() in ("false", "not_supported", "n/a", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def parse_report_date(value: str) -> datetime | None:
    """An ISO 8601 date of the report as an aware UTC datetime, None when unknown (pure)."""
    if value in _NO_DATE:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --- what the live rules read ---------------------------------------------------------


@dataclass(frozen=True)
class LiveFinding:
    """A drift finding about live credentials, the root user or the account."""

    rule: str
    level: Level
    address: str
    message: str
    remedy: str
    managed: bool | None = None
    """For a user: whether this configuration manages it; None for root and the account."""

    @classmethod
    def from_json(cls, doc: Mapping[str, Json]) -> LiveFinding:
        """The inverse of :meth:`to_json`."""
        managed = doc.get("managed")
        return cls(
            str(doc["rule"]),
            Level(doc["level"]),
            str(doc["address"]),
            str(doc["message"]),
            str(doc["remedy"]),
            None if managed is None else bool(managed),
        )

    def to_json(self) -> dict[str, Json]:
        """The finding's JSON form (``schemas/drift.schema.json``)."""
        return {
            "rule": self.rule,
            "level": self.level.value,
            "address": self.address,
            "message": self.message,
            "remedy": self.remedy,
            "managed": self.managed,
        }


@dataclass(frozen=True)
class AuditInput:
    """Everything the live rules look at, read once by the shell."""

    rows: Sequence[CredentialRow]
    summary: Mapping[str, int]
    """GetAccountSummary's SummaryMap."""
    now: datetime
    mfa: MfaSettings = field(default_factory=MfaSettings)
    credentials: CredentialSettings = field(default_factory=CredentialSettings)
    has_password_policy: bool = True
    users: Mapping[str, bool] = field(default_factory=dict)
    """Every live user (from the live read) → whether this configuration manages it.
    Report rows of users missing here were deleted since the report was made."""
    mfa_users: frozenset[str] = frozenset()
    """Users a virtual MFA device is assigned to right now (ListVirtualMFADevices)."""
    root_virtual_mfa: bool = False
    """A virtual MFA device is assigned to the root user right now."""
    saml_providers: Sequence[SamlProvider] = ()
    """The account's SAML providers, as read live (with their metadata's expiry)."""
    audits_account: bool = True
    """The configuration manages the account as a whole, so account-wide findings (the root
    user, the password policy) are its to report; a team's stack of one path is not paged."""
    unmanaged: Sequence[Unmanaged] = ()
    """Live entities in scope that the plan leaves alone (see :class:`iamstate.plan.Unmanaged`)."""
    temporary: Sequence[Grant] = ()
    """The configuration's temporary grants, expired ones included."""
    live: State = field(default_factory=State)
    """The whole live account as read, to see which grants it still holds."""

    @property
    def root_row(self) -> CredentialRow | None:
        """The report's ``<root_account>`` row, if it has one."""
        return next((r for r in self.rows if r.is_root), None)


def last_used_by_user(rows: Sequence[CredentialRow]) -> dict[str, str]:
    """User name -> the latest use of its console password or an access key, from the report (pure)."""
    out: dict[str, str] = {}
    for row in rows:
        if row.is_root:
            continue
        uses = [row.password_last_used, *(k.last_used for k in row.keys)]
        known = [u for u in uses if u is not None]
        if known:
            out[row.user] = max(known).isoformat()
    return out


def audit_input(
    config: DesiredConfig,
    live: LiveAccount,
    rows: Sequence[CredentialRow],
    summary: Mapping[str, int],
    *,
    now: datetime,
    mfa_users: frozenset[str] = frozenset(),
    root_virtual_mfa: bool = False,
    unmanaged: Sequence[Unmanaged] = (),
) -> AuditInput:
    """What the live rules look at, from the config, the live read and the audit's reads (pure)."""
    users = {
        r.name: standing(r, config.scope, config.stack) is Standing.OWNED
        for r in live.state.of_kind(Kind.USER)
    }
    return AuditInput(
        rows=rows,
        summary=summary,
        now=now,
        mfa=config.mfa,
        credentials=config.credentials,
        has_password_policy=live.state.get(PASSWORD_POLICY_ADDRESS) is not None,
        users=users,
        mfa_users=mfa_users,
        root_virtual_mfa=root_virtual_mfa,
        saml_providers=[p for p in live.state.of_kind(SAML_PROVIDER) if isinstance(p, SamlProvider)],
        audits_account=config.audits_account,
        unmanaged=tuple(unmanaged),
        temporary=config.temporary,
        live=live.state,
    )


def user_rows(inp: AuditInput) -> list[tuple[CredentialRow, bool]]:
    """Report rows of users that exist live, with whether they are managed (pure).

    The report can be up to four hours old on AWS: users deleted since are skipped,
    users created since are not in it (and have no old credentials yet).
    """
    by_lower = {name.lower(): (name, managed) for name, managed in inp.users.items()}
    out = []
    for row in inp.rows:
        if row.is_root:
            continue
        found = inp.users.get(row.user)
        if found is None and row.user.lower() in by_lower:
            found = by_lower[row.user.lower()][1]
        if found is not None:
            out.append((row, found))
    return out


def days_text(delta: timedelta) -> str:
    """``1 day``, ``90 days``: a duration in whole days, as findings say it."""
    n = delta.days
    return f"{n} day{'s' if n != 1 else ''}"


def date_text(when: datetime | None) -> str:
    """The date of ``when`` (ISO 8601), or ``unknown``."""
    return when.date().isoformat() if when is not None else "unknown"


def unused_for(key: KeySlot, now: datetime) -> timedelta | None:
    """How long a key has gone unused: since its last use, or since its creation if never used."""
    since = key.last_used or key.last_rotated
    return None if since is None else now - since


# --- stale keys that apply deactivates ------------------------------------------------


@dataclass(frozen=True)
class ListedKey:
    """An access key as ListAccessKeys returns it."""

    access_key_id: str
    status: str
    created: datetime | None


@dataclass(frozen=True)
class StaleKey:
    """An active access key that ``stale_access_keys: deactivate`` sets Inactive."""

    user: str
    access_key_id: str
    reason: str


def stale_reason(key: KeySlot, credentials: CredentialSettings, now: datetime) -> str | None:
    """Why an active key is stale, or None (pure).

    Stale: older than ``max_access_key_age_days``, or unused for ``max_unused_days``.
    """
    if not key.active:
        return None
    age_limit, idle_limit = credentials.max_access_key_age_days, credentials.max_unused_days
    if age_limit is not None and key.last_rotated is not None:
        age = now - key.last_rotated
        if age > timedelta(days=age_limit):
            return f"{days_text(age)} old (max_access_key_age_days: {age_limit})"
    idle = unused_for(key, now)
    if idle_limit is not None and idle is not None and idle > timedelta(days=idle_limit):
        return f"unused for {days_text(idle)} (max_unused_days: {idle_limit})"
    return None


def has_stale_key(row: CredentialRow, credentials: CredentialSettings, now: datetime) -> bool:
    """True when the report shows a stale active key for ``row`` (pure)."""
    return any(stale_reason(key, credentials, now) for key in row.keys)


def match_slots(row: CredentialRow, listed: Sequence[ListedKey]) -> dict[str, KeySlot]:
    """Which report slot describes each listed key, by access key id (pure).

    The report names keys only by slot. A slot's ``last_rotated`` is the key's
    CreateDate, so keys are matched on it to the second; keys left over (same
    second, or created after the report) take the remaining slots in creation order.
    """
    slots = [k for k in row.keys if k.last_rotated is not None]
    ordered = sorted(listed, key=lambda k: (k.created or datetime.min.replace(tzinfo=UTC), k.access_key_id))
    matched: dict[str, KeySlot] = {}
    for key in ordered:
        if key.created is None:
            continue
        second = key.created.astimezone(UTC).replace(microsecond=0)
        same = [s for s in slots if s.last_rotated == second]
        if len(same) == 1:
            matched[key.access_key_id] = same[0]
            slots.remove(same[0])
    for key in ordered:
        if key.access_key_id not in matched and slots:
            matched[key.access_key_id] = slots.pop(0)
    return matched


def stale_keys(
    row: CredentialRow, listed: Sequence[ListedKey], credentials: CredentialSettings, now: datetime
) -> list[StaleKey]:
    """The listed keys of one user that are Active and stale (pure).

    Age comes from ListAccessKeys' CreateDate (live); the last use from the
    report slot the key matches. A key the report does not know yet is not stale.
    """
    matched = match_slots(row, listed)
    out = []
    for key in listed:
        slot = matched.get(key.access_key_id)
        if key.status != "Active" or slot is None:
            continue
        current = dataclasses.replace(slot, active=True, last_rotated=key.created or slot.last_rotated)
        reason = stale_reason(current, credentials, now)
        if reason is not None:
            out.append(StaleKey(row.user, key.access_key_id, reason))
    return out


def deactivates(credentials: CredentialSettings) -> bool:
    """True when apply deactivates stale keys: the setting is on and a limit is set."""
    return credentials.stale_access_keys == DEACTIVATE and (
        credentials.max_access_key_age_days is not None or credentials.max_unused_days is not None
    )


def deactivation_candidates(plan: Plan, declared_users: Iterable[str]) -> list[str]:
    """Declared users whose keys apply may deactivate: not created, deleted or replaced by the plan."""
    excluded = {
        c.address.name.lower()
        for c in plan.changes
        if c.address.kind is Kind.USER and c.action is not Action.UPDATE
    }
    return sorted(name for name in declared_users if name.lower() not in excluded)


def with_deactivations(plan: Plan, stale: Sequence[StaleKey]) -> Plan:
    """``plan`` with an UpdateAccessKey(Status=Inactive) per stale key (pure).

    A user that already has an update change gets the fields and calls added to it;
    any other user gets an update change of its own. Keys are never deleted. The
    plan's metadata records the keys, so that a saved plan can be checked later.
    """
    if not stale:
        return plan
    by_user: dict[str, list[StaleKey]] = {}
    for key in stale:
        by_user.setdefault(key.user, []).append(key)
    changes = list(plan.changes)
    for user, keys in sorted(by_user.items()):
        keys = sorted(keys, key=lambda k: k.access_key_id)
        fields = tuple(FieldDiff(f"access_keys.{k.access_key_id}", "Active", "Inactive") for k in keys)
        calls = tuple(
            ApiCall(
                "UpdateAccessKey",
                {"UserName": user, "AccessKeyId": k.access_key_id, "Status": "Inactive"},
                Phase.UPDATE,
                note=k.reason,
            )
            for k in keys
        )
        before_keys = {k.access_key_id: "Active" for k in keys}
        after_keys = {k.access_key_id: "Inactive" for k in keys}
        address = Address(Kind.USER, user)
        index = next(
            (i for i, c in enumerate(changes) if c.address.key == address.key and c.action is Action.UPDATE),
            None,
        )
        if index is None:
            changes.append(
                Change(
                    address,
                    Action.UPDATE,
                    {"name": user, "access_keys": before_keys},
                    {"name": user, "access_keys": after_keys},
                    DEACTIVATION_REASON,
                    fields,
                    calls,
                )
            )
        else:
            old = changes[index]
            changes[index] = dataclasses.replace(
                old,
                before={**(old.before or {}), "access_keys": before_keys},
                after={**(old.after or {}), "access_keys": after_keys},
                fields=old.fields + fields,
                api_calls=old.api_calls + calls,
            )
    metadata = {**plan.metadata, "stale_access_keys": stale_key_ids(stale)}
    return dataclasses.replace(plan, changes=sort_changes(changes), metadata=metadata)


def stale_key_ids(stale: Iterable[StaleKey]) -> list[str]:
    """``USER/ACCESS_KEY_ID`` of each stale key, sorted: what a saved plan is checked against."""
    return sorted(f"{k.user}/{k.access_key_id}" for k in stale)


# --- the drift report -----------------------------------------------------------------


def level_counts(findings: Iterable[LiveFinding]) -> dict[str, int]:
    """Findings per level, most severe first, every level present (pure)."""
    counts = {level.value: 0 for level in reversed(Level)}
    for f in findings:
        counts[f.level.value] += 1
    return counts


def summary_line(changes: int, counts: Mapping[str, int], failing: int, fail_on: Level) -> str:
    """Exactly one summary line for a drift report (pure)."""
    total = sum(counts.values())
    if changes == 0 and total == 0:
        return "No drift. Live IAM matches the configuration and no live findings."
    by_level = ", ".join(f"{n} {level}" for level, n in counts.items() if n)
    found = f"{total} live finding{'s' if total != 1 else ''}" + (f" ({by_level})" if by_level else "")
    if changes == 0 and failing == 0:
        return (
            f"No drift at --fail-on {fail_on}. Live IAM matches the configuration; {found} below {fail_on}."
        )
    return f"Drift: {changes} change{'s' if changes != 1 else ''}, {found}."


@dataclass(frozen=True)
class DriftReport:
    """What ``drift`` found: the plan, the live findings and the threshold that fails."""

    plan: Plan
    findings: tuple[LiveFinding, ...] = ()
    fail_on: Level = Level.LOW
    report_generated: str = ""
    """When AWS generated the credential report that was read (ISO 8601), "" if unknown."""

    @property
    def failing(self) -> tuple[LiveFinding, ...]:
        """The live findings at or above ``fail_on``."""
        return tuple(f for f in self.findings if f.level.rank >= self.fail_on.rank)

    @property
    def drifted(self) -> bool:
        """True when apply would change something or a live finding reaches ``fail_on``."""
        return bool(self.plan.changes) or bool(self.failing)

    def to_json(self) -> dict[str, Json]:
        """The report's JSON form, described by ``schemas/drift.schema.json``."""
        counts = level_counts(self.findings)
        plan_summary = self.plan.summary
        changes = len(self.plan.changes)
        return {
            "format_version": FORMAT_VERSION,
            "account_id": self.plan.account_id,
            "stack": self.plan.stack,
            "plan": self.plan.to_json(),
            "live_findings": [f.to_json() for f in self.findings],
            "credential_report": {"generated_time": self.report_generated},
            "summary": {
                "drift": self.drifted,
                "changes": changes,
                "add": plan_summary.add,
                "change": plan_summary.change,
                "destroy": plan_summary.destroy,
                "live_findings": len(self.findings),
                "levels": counts,
                "fail_on": self.fail_on.value,
                "failing_findings": len(self.failing),
            },
            "summary_line": summary_line(changes, counts, len(self.failing), self.fail_on),
        }
