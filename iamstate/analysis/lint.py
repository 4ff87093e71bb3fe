"""Checks of a policy's conditions and resources against the action catalogue (pure).

The checks follow parliament's (Duo Labs) and IAM Access Analyzer's, with the
catalogue's condition keys, key types and resource ARN formats
(:mod:`iamstate.catalog`). Each problem has a severity: **error** where IAM would
reject the document or the statement (or one of its actions) can never match,
**warning** where the statement works but not as written.

- ``unknown-condition-key``: a key that is neither global, nor a web-identity
  provider's (``token.actions.githubusercontent.com:sub``), nor defined for any
  action of the statement. A misspelt key (close to a global key or to one of its
  service's, ``aws:MultiFactorAuthPresnt``) under an operator that needs the key
  present is an error, with the key it was probably meant to be: requests never
  carry it, so the entry never holds. Any other unknown key is a warning, because
  the catalogue may lag behind AWS, as is any unknown key under ``...IfExists`` or
  a negated operator (the entry then always holds and does nothing).
- ``condition-type-mismatch``: a value the operator cannot read (``DateGreaterThan
  "tomorrow"``, ``Bool "yes"``, ``IpAddress "not-an-ip"``, ``NumericLessThan "ten"``,
  ``ArnLike "role/x"``) is an error for an operator that must match it and a
  warning for a negated one; an operator of another family than the key's type
  (``DateGreaterThan`` on a string key, ``StringEquals`` on a date) is a warning
  (string operators on ARN keys are fine, as AWS documents), and so is a
  multivalued key without ``ForAnyValue:``/``ForAllValues:`` or a single-valued key
  with one.
- ``resource-type-mismatch``: an action of the statement none of whose resource
  types matches any of the statement's resources (``s3:GetObject`` on a bucket ARN,
  ``iam:PassRole`` on a user ARN, an action that only takes ``*`` on an ARN). An
  error when no action of the statement matches and the resources are of the
  actions' own services but of other types (the statement grants nothing); a
  warning per action otherwise, because AWS's own policies give actions that take
  only ``*`` whole-type ARNs and name other services' resources. A wildcard action
  counts as matched when any of the actions it expands to is.
- ``malformed-arn``: a resource that is not ``*`` nor an ARN with six parts, an
  unknown partition, an empty service, or an account that is not 12 digits, ``aws``
  or a wildcard. IAM rejects such resources or they never match: an error. An empty
  resource part (``arn:aws:organizations::*:``, in one of AWS's own policies) is a
  warning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from iamstate import catalog
from iamstate.analysis.conditions import Operator, operator_of, value_problem
from iamstate.analysis.resources import parse_arn, resource_patterns
from iamstate.model import Json
from iamstate.plan import Severity
from iamstate.rules.statements import Statement, labelled

UNKNOWN_CONDITION_KEY = "unknown-condition-key"
CONDITION_TYPE_MISMATCH = "condition-type-mismatch"
RESOURCE_TYPE_MISMATCH = "resource-type-mismatch"
MALFORMED_ARN = "malformed-arn"
CHECKS = (UNKNOWN_CONDITION_KEY, CONDITION_TYPE_MISMATCH, RESOURCE_TYPE_MISMATCH, MALFORMED_ARN)
SOURCE = "https://github.com/duo-labs/parliament"

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_ACCOUNT = re.compile(r"\d{12}|aws|")
_VARIABLE = re.compile(r"\$\{[^{}]*\}")
_EMPTY_RESOURCE = "has an empty resource part"
_OPERATOR_FAMILY_FOR_TYPE = {
    "String": ("String", "Null"),
    "ARN": ("Arn", "String", "Null"),
    "Bool": ("Bool", "Null"),
    "Numeric": ("Numeric", "Null"),
    "Date": ("Date", "Null"),
    "IPAddress": ("Ip", "Null"),
}
"""Operator families that read a key of each type; string operators read ARNs, as AWS documents."""


@dataclass(frozen=True)
class Problem:
    """One problem of one statement."""

    check: str
    severity: Severity
    statement: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: [{self.check}] {self.statement}: {self.message}"


def lint(document: Json, kind: str = "policy") -> list[Problem]:
    """Every problem of every statement of a document as written (``kind``: ``policy`` or ``trust``)."""
    out: list[Problem] = []
    for statement in labelled(document):
        out += unknown_condition_keys(statement)
        out += condition_type_mismatches(statement)
        out += malformed_arns(statement)
        if kind == "policy":
            out += resource_type_mismatches(statement)
    return out


# --- unknown-condition-key -----------------------------------------------------------------


def _provider_key(key: str) -> bool:
    prefix = key.split(":", 1)[0]
    return "." in prefix or "/" in prefix


def _statement_actions(statement: Statement) -> list[str]:
    """The catalogued actions an ``Action`` statement names (wildcards expanded)."""
    out: list[str] = []
    for pattern in statement.actions:
        if "*" in pattern or "?" in pattern:
            out += _expanded(pattern)
        elif (found := catalog.lookup(pattern)) is not None:
            out.append(found)
    return out


@functools.cache
def _expanded(pattern: str) -> list[str]:
    return catalog.expand(pattern)


def unknown_condition_keys(statement: Statement) -> Iterator[Problem]:
    """``unknown-condition-key`` problems of one statement."""
    for entry in statement.conditions:
        key = entry.key
        if catalog.global_condition_key(key) is not None or _provider_key(key):
            continue
        prefix = key.split(":", 1)[0]
        op = operator_of(entry.operator)
        typo = catalog.suggest_condition_key(key)
        if typo is not None:
            yield _unknown_key(
                statement, entry.operator, key, op, f"is not a condition key (did you mean {typo}?)"
            )
            continue
        if not catalog.known_service(prefix) and prefix != "aws":
            continue
        defined_for_service = catalog.service_condition_key(key) is not None
        if statement.has_not_action:
            if not defined_for_service:
                yield _unknown_key(
                    statement,
                    entry.operator,
                    key,
                    op,
                    "is not a condition key of " + prefix,
                    Severity.WARNING,
                )
            continue
        actions = _statement_actions(statement)
        if not actions or any(catalog.action_has_condition_key(a, key) for a in actions):
            continue
        if not defined_for_service:
            why = f"is not a condition key of {prefix}"
        else:
            shown = ", ".join(actions[:3]) + (f" and {len(actions) - 3} more" if len(actions) > 3 else "")
            why = f"is not defined for {shown}"
        yield _unknown_key(statement, entry.operator, key, op, why, Severity.WARNING)


def _unknown_key(
    statement: Statement, operator: str, key: str, op: Operator, why: str, severity: Severity = Severity.ERROR
) -> Problem:
    values = [
        v.lower() for e in statement.conditions if e.key == key and e.operator == operator for v in e.values
    ]
    if op.family == "Null":
        holds = values == ["true"]
    else:
        holds = op.if_exists or op.negated or op.set_prefix == "ForAllValues"
    if holds:
        severity = Severity.WARNING
        effect = "the condition always holds and does nothing"
    elif severity is Severity.ERROR:
        effect = "requests never carry it, so the condition never holds"
    else:
        effect = "if requests do not carry it, the condition never holds"
    return Problem(UNKNOWN_CONDITION_KEY, severity, statement.label, f"{operator} {key} {why}: {effect}")


# --- condition-type-mismatch ----------------------------------------------------------------


def condition_type_mismatches(statement: Statement) -> Iterator[Problem]:
    """``condition-type-mismatch`` problems of one statement."""
    for entry in statement.conditions:
        op = operator_of(entry.operator)
        if not op.family:
            continue  # malformed-policy reports unknown operators
        for value in entry.values:
            problem = value_problem(op.family, value)
            if problem is not None:
                severity = Severity.WARNING if op.negated else Severity.ERROR
                effect = "the condition always holds" if op.negated else "the condition never holds"
                yield Problem(
                    CONDITION_TYPE_MISMATCH,
                    severity,
                    statement.label,
                    f"{entry.operator} {entry.key}: {problem}; {effect}",
                )
        key_type = catalog.condition_key_type(entry.key)
        if key_type is None or op.family == "Null":
            continue
        multivalued = key_type.startswith("ArrayOf")
        base_type = key_type.removeprefix("ArrayOf")
        allowed = _OPERATOR_FAMILY_FOR_TYPE.get(base_type)
        if entry.key == "aws:epochtime":
            allowed = ("Date", "Numeric", "Null")
        if allowed is not None and op.family not in allowed:
            yield Problem(
                CONDITION_TYPE_MISMATCH,
                Severity.WARNING,
                statement.label,
                f"{entry.operator} compares {entry.key} as {op.family.lower()}, but it is a {base_type} key "
                f"(use a {allowed[0]} operator)",
            )
        if multivalued and not op.set_prefix:
            yield Problem(
                CONDITION_TYPE_MISMATCH,
                Severity.WARNING,
                statement.label,
                f"{entry.key} holds several values; write ForAnyValue:{entry.operator} or "
                f"ForAllValues:{entry.operator}",
            )
        elif op.set_prefix and not multivalued:
            yield Problem(
                CONDITION_TYPE_MISMATCH,
                Severity.WARNING,
                statement.label,
                f"{entry.key} holds one value; {op.set_prefix}: is for multivalued keys",
            )


# --- malformed-arn --------------------------------------------------------------------------


def arn_problem(resource: str) -> str | None:
    """Why a resource is not ``*`` nor a well-formed ARN pattern, or None."""
    text = resource.strip()
    if text == "*" or text.startswith("${"):
        return None
    if not text.startswith("arn:"):
        return "is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or *"
    arn = parse_arn(text)
    if arn is None:
        if "*" in text.split(":")[-1]:
            return None
        return f"has {text.count(':') + 1} parts; an ARN has six"
    if not _wild(arn.partition) and arn.partition not in PARTITIONS:
        return f"names the partition {arn.partition!r}; IAM knows {', '.join(PARTITIONS[:3])}, ..."
    if not arn.service:
        return "has an empty service"
    if not _wild(arn.account) and not _ACCOUNT.fullmatch(arn.account):
        return f"names the account {arn.account!r}; an account is 12 digits"
    if not arn.resource:
        return _EMPTY_RESOURCE
    return None


def _wild(segment: str) -> bool:
    return "*" in segment or "?" in segment or "${" in segment


def malformed_arns(statement: Statement) -> Iterator[Problem]:
    """``malformed-arn`` problems of one statement."""
    for resource in resource_patterns(statement):
        problem = arn_problem(resource)
        if problem is not None:
            severity = Severity.WARNING if problem == _EMPTY_RESOURCE else Severity.ERROR
            yield Problem(MALFORMED_ARN, severity, statement.label, f"{resource} {problem}")


# --- resource-type-mismatch ----------------------------------------------------------------

_Token = tuple[str, str]
"""(kind, value): ``("c", char)`` one character; ``("1", excluded)`` one character not in
``excluded``; ``("s", excluded)`` any run of such characters."""
_NO_SLASH_VARIABLES = ("bucketname",)


def _pattern_tokens(pattern: str) -> tuple[_Token, ...]:
    return _text_tokens(_VARIABLE.sub("*", pattern))


@functools.lru_cache(maxsize=4096)
def _text_tokens(text: str) -> tuple[_Token, ...]:
    """The tokens of a pattern whose variables are already written as ``*``."""
    out: list[_Token] = []
    for c in text:
        if c == "*":
            if not out or out[-1] != ("s", ""):
                out.append(("s", ""))
        elif c == "?":
            out.append(("1", ""))
        else:
            out.append(("c", c.lower()))
    return tuple(out)


@functools.cache
def _format_tokens(arn_format: str) -> tuple[_Token, ...]:
    parts = arn_format.split(":", 5)
    head, resource = ":".join(parts[:5]) + ":", parts[5] if len(parts) == 6 else ""
    out: list[_Token] = []
    for text, in_resource in ((head, False), (resource, True)):
        pieces = re.split(r"(\$\{[^}]*\})", text)
        variables = [i for i, p in enumerate(pieces) if p.startswith("${")]
        for index, piece in enumerate(pieces):
            if not piece.startswith("${"):
                out += [("c", c.lower()) for c in piece]
                continue
            name = piece[2:-1].lower()
            if not in_resource:
                excluded = ":"
            elif name in _NO_SLASH_VARIABLES:
                excluded = "/:"
            elif index == variables[-1]:
                excluded = ""
            else:
                excluded = "/"
            out += [("1", excluded), ("s", excluded)]
    return tuple(out)


def _overlap(a: _Token, b: _Token) -> bool:
    if a[0] == "c" and b[0] == "c":
        return a[1] == b[1]
    if a[0] == "c":
        return a[1] not in b[1]
    if b[0] == "c":
        return b[1] not in a[1]
    return True


def _intersects(left: tuple[_Token, ...], right: tuple[_Token, ...]) -> bool:
    """True when some string matches both token patterns."""

    @functools.cache
    def go(i: int, j: int) -> bool:
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i][0] == "s" and go(i + 1, j):
            return True
        if j < len(right) and right[j][0] == "s" and go(i, j + 1):
            return True
        if i < len(left) and j < len(right) and _overlap(left[i], right[j]):
            ni = i if left[i][0] == "s" else i + 1
            nj = j if right[j][0] == "s" else j + 1
            if (ni, nj) != (i, j) and go(ni, nj):
                return True
        return False

    return go(0, 0)


@functools.cache
def resource_matches_format(resource: str, arn_format: str) -> bool:
    """True when some ARN of the format (``arn:${Partition}:s3:::${BucketName}``) matches the pattern."""
    return _tokens_intersect(_as_seen_by(resource, arn_format), _format_tokens(arn_format))


_OTHER = "\x00"
"""Stands for a character that no literal of an ARN format is and no variable excludes."""


@functools.cache
def _format_characters(arn_format: str) -> tuple[frozenset[str], re.Pattern[str]]:
    """The characters the format's tokens tell apart (its literals and what its variables
    exclude), and a pattern matching any other character."""
    known = frozenset(
        c for kind, value in _format_tokens(arn_format) for c in (value if kind != "c" else (value,))
    )
    others = re.compile("[^" + "".join(re.escape(c) for c in sorted(known | {"*", "?"})) + "]")
    return known, others


def _as_seen_by(resource: str, arn_format: str) -> tuple[_Token, ...]:
    """The pattern's tokens with every character the format cannot tell apart from another
    written as :data:`_OTHER`: whether the two intersect is the same (a character is only
    ever compared for equality with a literal, or looked for among excluded ones), and
    ``bucket-1/*``, ``bucket-2/*`` ... become one question."""
    known, others = _format_characters(arn_format)
    text = _VARIABLE.sub("*", resource)
    if text.isascii():  # lowering the whole text lowers each character as the tokens do
        return _text_tokens(others.sub(_OTHER, text.lower()))
    return tuple(t if t[0] != "c" or t[1] in known else ("c", _OTHER) for t in _text_tokens(text))


@functools.cache
def _tokens_intersect(left: tuple[_Token, ...], right: tuple[_Token, ...]) -> bool:
    return _intersects(left, right)


def action_matches_resources(action: str, resources: Sequence[str]) -> bool:
    """True when one of ``resources`` can name something ``action`` works on."""
    if any(r.strip() == "*" for r in resources):
        return True
    types = catalog.action_resource_types(action)
    if not types:
        return False
    return any(resource_matches_format(r, t.arn_format) for r in resources for t in types)


def resource_type_mismatches(statement: Statement) -> Iterator[Problem]:
    """``resource-type-mismatch`` problems of one statement."""
    if "Resource" not in statement.data or statement.has_not_action:
        return
    resources = [r for r in resource_patterns(statement) if arn_problem(r) is None]
    if not resources or any(r.strip() == "*" for r in resources):
        return
    unmatched: list[str] = []
    typed = 0
    checked = 0
    for pattern in statement.actions:
        if "*" in pattern or "?" in pattern:
            actions = _expanded(pattern)
        else:
            found = catalog.lookup(pattern)
            actions = [found] if found else []
        if not actions:
            continue  # unknown-action reports it
        checked += 1
        if not any(action_matches_resources(a, resources) for a in actions):
            unmatched.append(actions[0] if len(actions) == 1 else pattern)
            services = {_service_of(t.arn_format) for a in actions for t in catalog.action_resource_types(a)}
            typed += all(_service_of(r) in services for r in resources)
    if not unmatched:
        return
    shown = ", ".join(resources[:3]) + (" ..." if len(resources) > 3 else "")
    # AWS's own policies give actions that take only "*" whole-type ARNs, and name other
    # services' resources: only a wrong type of the action's own service is an error.
    if len(unmatched) == checked and typed == len(unmatched):
        yield Problem(
            RESOURCE_TYPE_MISMATCH,
            Severity.ERROR,
            statement.label,
            f"none of {', '.join(unmatched)} works on {shown}: the statement grants nothing",
        )
        return
    for action in unmatched:
        yield Problem(
            RESOURCE_TYPE_MISMATCH,
            Severity.WARNING,
            statement.label,
            f"{action} does not work on {shown} ({_expected(action)})",
        )


def _service_of(arn: str) -> str:
    parts = arn.split(":", 3)
    return parts[2].lower() if len(parts) > 2 else ""


def _expected(action: str) -> str:
    types = catalog.action_resource_types(action)
    if not types:
        return "it takes only Resource *"
    return "it takes " + ", ".join(f"{t.name} ({t.arn_format})" for t in types[:3])


def problems_by_check(problems: Sequence[Problem]) -> Mapping[str, list[Problem]]:
    """Problems grouped by check id, in :data:`CHECKS` order."""
    return {check: [p for p in problems if p.check == check] for check in CHECKS}
