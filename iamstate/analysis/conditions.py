"""What a statement's conditions do to it: narrow it, leave it open, or make it never true (pure).

Every entry of a Condition (one operator, one key, its values) gets one of three
readings, for one action of the statement and an evaluation time ``now`` that the
caller passes in (the core never reads the clock):

- **never true**: the entry can never hold, now or later, so the statement grants
  nothing for that action. A date in the past under ``DateLessThan`` or
  ``DateLessThanEquals`` (or ``DateEquals``) on ``aws:CurrentTime`` or
  ``aws:EpochTime`` (time only moves forward); the same on ``aws:TokenIssueTime``
  once the date is more than :data:`LONGEST_SESSION` ago, because a session issued
  just before it may still be alive; a value that is not of the operator's type
  (``DateGreaterThan "tomorrow"``, ``Bool "yes"``, ``IpAddress "not-an-ip"``,
  ``NumericLessThan "ten"``) under an operator that must match it; ``Null true`` on
  a key the action always carries. Entries of one statement that contradict each
  other are never true together: ``StringEquals`` and ``StringNotEquals`` with the
  same values, ``Bool true`` and ``Null true`` on one key, equalities whose
  admitted values do not overlap, ``NumericGreaterThan 10`` with
  ``NumericLessThan 5``.
- **not narrowing**: the entry could fail for some request, but not in a way that
  limits *which resources* the statement reaches or who can use it deliberately:
  negated operators (``StringNotEquals``, ``ArnNotLike``, ``NotIpAddress``, ...) pass
  for every value but the listed ones; ``...IfExists`` and ``ForAllValues:`` pass
  when the key is absent, unless the action always carries the key
  (:data:`ALWAYS_PRESENT`); ``Null`` only asks whether a key is there; ``Like``
  values that are only wildcards (except on a tag key: only tagged resources
  qualify) and ARN values that reach a whole type admit everything; keys about the
  caller and the connection (MFA, TLS, source IP and VPC, region, time, user agent,
  the caller's ARN, account, tags and organization) and keys the caller sets in the
  request (``aws:RequestTag/...``, ``aws:TagKeys``, ``sts:RoleSessionName``) are met
  by choosing how to call. A time window that opens by itself later
  (``DateGreaterThan`` a future date on ``aws:CurrentTime``, or on
  ``aws:TokenIssueTime``: no session issued today qualifies, but every session
  issued after the date will) is a delay, not a guard, and is not called never
  true: nothing needs to change for the grant to open. ``iam:PolicyARN`` values
  that admit a high-risk AWS-managed policy (``AdministratorAccess``, ...) do not
  narrow what can be attached.
- **narrowing**: every other entry; in particular positive operators on keys about
  the resource or the request (``iam:PolicyARN``, ``aws:ResourceTag/...``,
  ``ec2:InstanceProfile``, ``iam:PermissionsBoundary``), ``ArnEqualsIfExists
  iam:PolicyARN`` on ``iam:Attach*Policy`` (the key is always present there), and
  positive operators on service keys the catalogue does not list for the action
  (the key is absent, so the entry fails).

**iam:PassedToService** has one reading for every rule: it never narrows *which
roles* can be passed (``passrole-star`` ignores it), and for escalation it narrows
the pass to the services it admits (:func:`passed_to_services`): a PassRole limited
to ``ec2.amazonaws.com`` still enables the EC2 methods but not the Lambda ones.

A statement's reading for an action is its strongest entry's: never true beats
narrowing beats not narrowing; a statement without conditions is not narrowing.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from iamstate import catalog
from iamstate.analysis.managed import HIGH_RISK_ARNS
from iamstate.analysis.resources import arn_matches, unscoped
from iamstate.rules import statements
from iamstate.rules.statements import ConditionEntry, matches

LONGEST_SESSION = datetime.timedelta(hours=36)
"""The longest lifetime of temporary credentials (sts:GetSessionToken), after which no
session issued before a date can still be in use."""

TIME_KEYS = ("aws:currenttime", "aws:epochtime", "aws:tokenissuetime")

CALLER_KEYS = (
    *statements.CALLER_KEYS,
    "aws:sourcevpcarn",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
    "aws:ec2instancesourcevpc",
    "aws:ec2instancesourceprivateipv4",
    "aws:principalservicenameslist",
    "aws:assumedroot",
    "aws:requesttag/",
    "aws:tagkeys",
    "sts:rolesessionname",
    "sts:sourceidentity",
    "sts:transitivetagkeys",
)
"""Keys about who calls and how, or that the caller sets in the request: they never narrow
which resources a statement reaches (a key ending in ``/`` is a prefix)."""

ALWAYS_PRESENT_GLOBAL = (
    "aws:currenttime",
    "aws:epochtime",
    "aws:requestedregion",
    "aws:securetransport",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:viaawsservice",
    "aws:principalisawsservice",
)
"""Global keys IAM puts in every request's context."""

ALWAYS_PRESENT: Mapping[str, tuple[str, ...]] = {
    "iam:policyarn": (
        "iam:attachuserpolicy",
        "iam:attachgrouppolicy",
        "iam:attachrolepolicy",
        "iam:detachuserpolicy",
        "iam:detachgrouppolicy",
        "iam:detachrolepolicy",
    ),
    "iam:passedtoservice": ("iam:passrole",),
    "iam:permissionsboundary": ("iam:putuserpermissionsboundary", "iam:putrolepermissionsboundary"),
    "iam:awsservicename": ("iam:createservicelinkedrole",),
}
"""Service keys that a request for these actions always carries, because they come from a
required parameter (the policy to attach, the service a role is passed to)."""


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PASSED_TO_SERVICE = "iam:passedtoservice"


class Reading(StrEnum):
    """What a condition does to a statement, for one action."""

    NARROWING = "narrowing"
    NOT_NARROWING = "not narrowing"
    NEVER_TRUE = "never true"

    def __str__(self) -> str:
        return self.value


_STRENGTH = {Reading.NOT_NARROWING: 0, Reading.NARROWING: 1, Reading.NEVER_TRUE: 2}


@dataclass(frozen=True)
class ConditionReading:
    """The reading of one condition entry (or of entries that contradict each other), and why."""

    entries: tuple[ConditionEntry, ...]
    reading: Reading
    reason: str

    def describe(self) -> str:
        """``StringEquals iam:passedtoservice [ec2.amazonaws.com]: not narrowing (...)``."""
        written = "; ".join(f"{e.operator} {e.key} {list(e.values)}" for e in self.entries)
        return f"{written}: {self.reading} ({self.reason})"


@dataclass(frozen=True)
class Operator:
    """A condition operator taken apart: ``ForAnyValue:StringEqualsIfExists``."""

    set_prefix: str
    base: str
    if_exists: bool

    @property
    def negated(self) -> bool:
        """``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``, ...: every negated operator says Not."""
        return "Not" in self.base

    @property
    def family(self) -> str:
        """``String``, ``Numeric``, ``Date``, ``Bool``, ``Binary``, ``Ip``, ``Arn`` or ``Null``."""
        for family in ("String", "Numeric", "Date", "Bool", "Binary", "Arn", "Null"):
            if self.base.startswith(family):
                return family
        return "Ip" if self.base in ("IpAddress", "NotIpAddress") else ""


def operator_of(text: str) -> Operator:
    """The parts of a condition operator as written."""
    set_prefix, _, base = text.rpartition(":")
    if_exists = base.endswith("IfExists") and base != "NullIfExists"
    return Operator(set_prefix, base.removesuffix("IfExists") if if_exists else base, if_exists)


def _is_key(key: str, keys: Iterable[str]) -> bool:
    return any(key == k or (k.endswith("/") and key.startswith(k)) for k in keys)


def always_present(key: str, action: str) -> bool:
    """True when every request for ``action`` carries condition key ``key``."""
    key = key.lower()
    return key in ALWAYS_PRESENT_GLOBAL or action.lower() in ALWAYS_PRESENT.get(key, ())


def may_be_present(key: str, action: str) -> bool:
    """True when a request for ``action`` can carry ``key``: a global key, a key the catalogue
    lists for the action, a key of a service the catalogue does not know, or a web-identity
    provider's key (``token.actions.githubusercontent.com:sub``)."""
    if catalog.global_condition_key(key) is not None or always_present(key, action):
        return True
    prefix = key.split(":", 1)[0]
    if "." in prefix or "/" in prefix or not catalog.known_service(prefix):
        return True
    if catalog.lookup(action) is None:
        return True
    return catalog.action_has_condition_key(action, key)


def parse_date(value: str) -> datetime.datetime | None:
    """An IAM date value (ISO 8601, or seconds since the epoch) as an aware UTC datetime."""
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return datetime.datetime.fromtimestamp(int(text), tz=datetime.UTC)
    if not _DATE.fullmatch(text):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def is_number(value: str) -> bool:
    """True when IAM's numeric operators can read the value."""
    return _NUMBER.fullmatch(value.strip()) is not None


def is_ip_range(value: str) -> bool:
    """True for an IPv4 or IPv6 address or CIDR range."""
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return True


def is_arn_value(value: str) -> bool:
    """True when an ``Arn...`` operator can match the value: an ARN (wildcards allowed), ``*`` or a
    policy variable."""
    text = value.strip()
    return text.startswith(("arn:", "${")) or text.strip("*") == ""


def value_problem(family: str, value: str) -> str | None:
    """Why a condition value cannot be read by an operator of ``family``, or None when it can."""
    if "${" in value:
        return None  # a policy variable: its value is only known in the request
    if family == "Date" and parse_date(value) is None:
        return f"{value!r} is not a date (ISO 8601, e.g. 2030-01-31T00:00:00Z, or epoch seconds)"
    if family == "Numeric" and not is_number(value):
        return f"{value!r} is not a number"
    if family in ("Bool", "Null") and value.strip().lower() not in ("true", "false"):
        return f"{value!r} is not true or false"
    if family == "Ip" and not is_ip_range(value):
        return f"{value!r} is not an IP address or CIDR range"
    if family == "Arn" and not is_arn_value(value):
        return f"{value!r} is not an ARN"
    return None


def _time_reading(entry: ConditionEntry, op: Operator, now: datetime.datetime) -> ConditionReading | None:
    if entry.key not in TIME_KEYS or op.negated or op.family not in ("Date", "Numeric"):
        return None
    dates = [parse_date(v) for v in entry.values]
    if not dates or any(d is None for d in dates):
        return None
    known = [d for d in dates if d is not None]
    token = entry.key == "aws:tokenissuetime"
    # A session issued before a cut-off may outlive it by up to LONGEST_SESSION.
    horizon = now - LONGEST_SESSION if token else now
    present = not token or not op.if_exists
    kind = op.base.removeprefix(op.family)
    if kind in ("LessThan", "LessThanEquals", "Equals") and present and max(known) < horizon:
        when = max(known).isoformat()
        return ConditionReading(
            (entry,), Reading.NEVER_TRUE, f"{entry.key} is always after {when} from now on"
        )
    if kind in ("GreaterThan", "GreaterThanEquals") and min(known) > now:
        return ConditionReading(
            (entry,),
            Reading.NOT_NARROWING,
            f"opens by itself at {min(known).isoformat()}: a delay, not a guard",
        )
    return ConditionReading((entry,), Reading.NOT_NARROWING, "a condition on the time of the request")


def _admits_high_risk_policy(values: Sequence[str]) -> bool:
    return any(arn_matches(v, arn) for v in values for arn in HIGH_RISK_ARNS)


def read_entry(entry: ConditionEntry, action: str, now: datetime.datetime) -> ConditionReading:
    """The reading of one condition entry for ``action`` at time ``now`` (see the module docstring)."""
    op = operator_of(entry.operator)
    key = entry.key
    if not op.family:
        return ConditionReading((entry,), Reading.NARROWING, f"unknown operator {entry.operator}")
    present = always_present(key, action)
    absent = not may_be_present(key, action)
    passes_when_absent = op.if_exists or op.set_prefix == "ForAllValues" or op.negated
    if op.family == "Null":
        wants_absent = [v.lower() for v in entry.values] == ["true"]
        if wants_absent and present:
            return ConditionReading((entry,), Reading.NEVER_TRUE, f"{action} always carries {key}")
        return ConditionReading((entry,), Reading.NOT_NARROWING, "only asks whether the key is present")
    if absent and not passes_when_absent:
        return ConditionReading(
            (entry,), Reading.NARROWING, f"{action} does not carry {key}, so the condition fails"
        )
    problems = [value_problem(op.family, v) for v in entry.values]
    if problems and all(problems) and not op.negated:
        return ConditionReading((entry,), Reading.NEVER_TRUE, str(problems[0]))
    timed = _time_reading(entry, op, now)
    if timed is not None:
        return timed
    if key == _PASSED_TO_SERVICE and action.lower() == "iam:passrole":
        return ConditionReading(
            (entry,),
            Reading.NOT_NARROWING,
            "names the services a role may be passed to, not which roles",
        )
    if _is_key(key, CALLER_KEYS):
        return ConditionReading(
            (entry,), Reading.NOT_NARROWING, "about the caller or the connection, not the resources"
        )
    if op.negated:
        return ConditionReading(
            (entry,), Reading.NOT_NARROWING, "a negated operator admits every value but the listed ones"
        )
    if passes_when_absent and not present:
        return ConditionReading((entry,), Reading.NOT_NARROWING, f"passes when the request carries no {key}")
    if op.base.endswith("Like") and all(v.strip("*") == "" for v in entry.values):
        if "tag/" in key and not present:
            return ConditionReading((entry,), Reading.NARROWING, "only resources that carry the tag")
        return ConditionReading((entry,), Reading.NOT_NARROWING, "its values match everything")
    if op.family == "Arn" and any(unscoped(v) for v in entry.values):
        return ConditionReading((entry,), Reading.NOT_NARROWING, "an ARN value that reaches a whole type")
    if key == "iam:policyarn" and _admits_high_risk_policy(entry.values):
        return ConditionReading(
            (entry,),
            Reading.NOT_NARROWING,
            "admits a high-risk AWS-managed policy such as AdministratorAccess",
        )
    return ConditionReading((entry,), Reading.NARROWING, "limits the resources or the request")


# --- contradictions -------------------------------------------------------------------

_EQUALITY = {
    "StringEquals": "String",
    "StringEqualsIgnoreCase": "StringIgnoreCase",
    "ArnEquals": "String",
    "NumericEquals": "Numeric",
    "DateEquals": "Date",
    "Bool": "Bool",
}
_INEQUALITY = {
    "StringNotEquals": "String",
    "StringNotEqualsIgnoreCase": "StringIgnoreCase",
    "ArnNotEquals": "String",
    "NumericNotEquals": "Numeric",
    "DateNotEquals": "Date",
}


def _canonical(family: str, value: str) -> str:
    if family in ("StringIgnoreCase", "Bool"):
        return value.lower()
    if family == "Numeric" and is_number(value):
        return repr(float(value))
    if family == "Date":
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else value
    return value


def _contradictions(entries: Sequence[ConditionEntry], action: str) -> list[ConditionReading]:
    by_key: dict[str, list[tuple[ConditionEntry, Operator]]] = {}
    for entry in entries:
        op = operator_of(entry.operator)
        if not op.set_prefix:
            by_key.setdefault(entry.key, []).append((entry, op))
    found = []
    for key, items in by_key.items():
        required = always_present(key, action) or any(
            not op.if_exists and not op.negated and op.family != "Null" for _, op in items
        )
        if not required:
            continue
        null_true = [
            e for e, op in items if op.family == "Null" and [v.lower() for v in e.values] == ["true"]
        ]
        positive = [e for e, op in items if op.family not in ("Null", "") and not op.negated]
        if null_true and positive:
            found.append(
                ConditionReading(
                    (null_true[0], positive[0]),
                    Reading.NEVER_TRUE,
                    f"{key} must be both absent and present",
                )
            )
            continue
        reading = _value_contradiction(key, items)
        if reading is not None:
            found.append(reading)
    return found


def _value_contradiction(
    key: str, items: Sequence[tuple[ConditionEntry, Operator]]
) -> ConditionReading | None:
    admitted: dict[str, set[str]] = {}
    excluded: dict[str, set[str]] = {}
    involved: dict[str, list[ConditionEntry]] = {}
    for entry, op in items:
        if op.base in _EQUALITY:
            family = _EQUALITY[op.base]
            values = {_canonical(family, v) for v in entry.values}
            admitted[family] = admitted[family] & values if family in admitted else values
            involved.setdefault(family, []).append(entry)
        elif op.base in _INEQUALITY:
            family = _INEQUALITY[op.base]
            excluded.setdefault(family, set()).update(_canonical(family, v) for v in entry.values)
            involved.setdefault(family, []).append(entry)
    for family, values in admitted.items():
        if not values - excluded.get(family, set()):
            return ConditionReading(
                tuple(involved[family]), Reading.NEVER_TRUE, f"no value of {key} meets every entry"
            )
    exact, folded = admitted.get("String"), admitted.get("StringIgnoreCase")
    if exact is not None and folded is not None and not any(v.lower() in folded for v in exact):
        return ConditionReading(
            (*involved["String"], *involved["StringIgnoreCase"]),
            Reading.NEVER_TRUE,
            f"no value of {key} meets every entry",
        )
    likes = [(e, op) for e, op in items if op.base in ("StringLike", "ArnLike")]
    if exact is not None and likes:
        for entry, _ in likes:
            if not any(matches(pattern, value) for pattern in entry.values for value in exact):
                return ConditionReading(
                    (*involved["String"], entry), Reading.NEVER_TRUE, f"no value of {key} meets every entry"
                )
    return _range_contradiction(key, items)


def _range_contradiction(
    key: str, items: Sequence[tuple[ConditionEntry, Operator]]
) -> ConditionReading | None:
    for family in ("Numeric", "Date"):
        low: tuple[float, bool, ConditionEntry] | None = None
        high: tuple[float, bool, ConditionEntry] | None = None
        for entry, op in items:
            if op.family != family or op.negated:
                continue
            numbers = [_as_number(family, v) for v in entry.values]
            if not numbers or any(n is None for n in numbers):
                continue
            values = [n for n in numbers if n is not None]
            kind = op.base.removeprefix(family)
            if kind.startswith("GreaterThan"):
                bound = (min(values), kind.endswith("Equals"), entry)
                if low is None or bound[0] > low[0]:
                    low = bound
            elif kind.startswith("LessThan"):
                bound = (max(values), kind.endswith("Equals"), entry)
                if high is None or bound[0] < high[0]:
                    high = bound
        if low is not None and high is not None:
            empty = low[0] > high[0] or (low[0] == high[0] and not (low[1] and high[1]))
            if empty:
                return ConditionReading(
                    (low[2], high[2]), Reading.NEVER_TRUE, f"no value of {key} lies in the range"
                )
    return None


def _as_number(family: str, value: str) -> float | None:
    if family == "Numeric":
        return float(value) if is_number(value) else None
    parsed = parse_date(value)
    return parsed.timestamp() if parsed else None


# --- statements -----------------------------------------------------------------------


def read_conditions(
    entries: Sequence[ConditionEntry], action: str, now: datetime.datetime
) -> tuple[ConditionReading, ...]:
    """The readings of a statement's condition entries for ``action``, contradictions included."""
    readings = [read_entry(e, action, now) for e in entries]
    if len(entries) > 1:
        readings += _contradictions(entries, action)
    return tuple(readings)


def overall(readings: Iterable[ConditionReading]) -> Reading:
    """The strongest reading: never true, then narrowing, then not narrowing (also for none)."""
    strongest = Reading.NOT_NARROWING
    for r in readings:
        if _STRENGTH[r.reading] > _STRENGTH[strongest]:
            strongest = r.reading
    return strongest


def passed_to_services(entries: Sequence[ConditionEntry]) -> tuple[str, ...] | None:
    """The service patterns an ``iam:PassedToService`` condition admits, or None for any service.

    Only positive entries narrow (``StringEquals``/``StringLike``, with or without
    ``IfExists``: the key is always present on iam:PassRole); a negated entry or
    wildcard-only values admit every service.
    """
    admitted: tuple[str, ...] | None = None
    for entry in entries:
        if entry.key != _PASSED_TO_SERVICE:
            continue
        op = operator_of(entry.operator)
        if op.negated or op.family != "String" or op.set_prefix == "ForAllValues":
            continue
        if op.base.endswith("Like") and all(v.strip("*") == "" for v in entry.values):
            continue
        values = tuple(v.lower() for v in entry.values)
        admitted = values if admitted is None else tuple(v for v in admitted if v in values)
    return admitted


def admits_service(entries: Sequence[ConditionEntry], services: Iterable[str]) -> bool:
    """True when the ``iam:PassedToService`` entries let a role be passed to one of ``services``."""
    admitted = passed_to_services(entries)
    if admitted is None:
        return True
    return any(matches(pattern, service) for pattern in admitted for service in services)
