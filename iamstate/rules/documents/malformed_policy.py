"""``malformed-policy``: a document IAM would reject (pure).

Reads each document as written: ``Version`` must be present, statements need an
Effect, an action and (identity policies) a resource or (trust policies) a
principal, condition operators must exist, condition values must be strings,
numbers, booleans or lists of them, Sids must be unique, principals must be
principals IAM knows (no wildcard inside an ARN; at plan time, ARNs of the live
account's partition), and the document must fit IAM's size quota, counted without
whitespace.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping

from iamstate.constraints import arn_partition, condition_value_problems, principal_problem
from iamstate.model import Json
from iamstate.plan import Severity
from iamstate.policy import DOCUMENT_KEYS, STATEMENT_KEYS
from iamstate.rules.base import Document, DocumentRule, Found, RuleInput
from iamstate.rules.statements import ACTION_FORMAT, as_list, raw_statements

POLICY_SIZE_LIMIT = 6144
"""Characters of a managed policy, whitespace not counted (IAM quota)."""
TRUST_SIZE_LIMIT = 2048
"""Characters of a role trust policy, whitespace not counted (IAM's default quota)."""

VERSIONS = ("2012-10-17", "2008-10-17")
CONDITION_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
)
_SID_FORMAT = re.compile(r"[A-Za-z0-9]*")


def _compact_size(document: Json, limit: int) -> int:
    """The document's size without whitespace, when that is over ``limit``; else a size that is
    not over it either (the size with whitespace kept, when that fits)."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text) if len(text) <= limit else len(re.sub(r"\s", "", text))


def _text(value: Json) -> str | None:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value if isinstance(value, str) else None


def malformed(document: Json, kind: str, partition: str | None = None) -> list[str]:
    """What is wrong with a document's structure, one phrase per problem (empty when fine).

    ``kind`` is ``policy`` (identity-based: no Principal, a Resource) or ``trust`` (a
    Principal, no Resource). ``partition``, when known (at plan time), is the only
    partition principal ARNs may name.
    """
    if not isinstance(document, Mapping):
        return ["is not a JSON object"]
    problems = [f"has the unknown key '{key}'" for key in document if key not in DOCUMENT_KEYS]
    version = _text(document.get("Version"))
    if "Version" not in document:
        problems.append('has no Version (write Version: "2012-10-17")')
    elif version not in VERSIONS:
        problems.append(f"has Version {document.get('Version')!r}; IAM knows only 2012-10-17 and 2008-10-17")
    if "Statement" not in document:
        problems.append("has no Statement")
    elif not raw_statements(document):
        problems.append("has an empty Statement")
    sids: Counter[str] = Counter()
    for index, statement in enumerate(raw_statements(document), start=1):
        label = f"statement {index}"
        if not isinstance(statement, Mapping):
            problems.append(f"{label} is not a JSON object")
            continue
        sid = statement.get("Sid")
        if isinstance(sid, str) and sid:
            label += f" (Sid {sid})"
            sids[sid] += 1
        problems += [f"{label}: {p}" for p in _statement_problems(statement, kind, partition)]
    problems += [f"uses Sid '{sid}' {n} times; Sids must be unique" for sid, n in sids.items() if n > 1]
    limit = POLICY_SIZE_LIMIT if kind == "policy" else TRUST_SIZE_LIMIT
    size = _compact_size(document, limit)
    if size > limit:
        problems.append(f"is {size} characters long without whitespace; IAM allows {limit}")
    return problems


def _statement_problems(statement: Mapping[str, Json], kind: str, partition: str | None) -> Iterator[str]:
    for key in statement:
        if key not in STATEMENT_KEYS:
            yield f"unknown key '{key}'"
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        yield "has no Effect" if effect is None else f"has Effect {effect!r}; it must be Allow or Deny"
    sid = statement.get("Sid")
    if sid is not None and (
        not isinstance(sid, str) or (kind == "policy" and not _SID_FORMAT.fullmatch(sid))
    ):
        yield f"has Sid {sid!r}; a Sid uses letters and digits only"
    yield from _exactly_one(statement, "Action", "NotAction")
    if kind == "policy":
        yield from _exactly_one(statement, "Resource", "NotResource")
        for key in ("Principal", "NotPrincipal"):
            if key in statement:
                yield f"has {key}, which only resource and trust policies have"
    else:
        yield from _exactly_one(statement, "Principal", "NotPrincipal")
        for key in ("Resource", "NotResource"):
            if key in statement:
                yield f"has {key}, which a trust policy must not have"
    for key in ("Resource", "NotResource"):
        for resource in as_list(statement.get(key)):
            if not isinstance(resource, str):
                yield f"{key} {resource!r} is not a string (an ARN or *)"
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            yield from _principal_problems(key, statement[key], partition)
    for key in ("Action", "NotAction"):
        for action in as_list(statement.get(key)):
            if not isinstance(action, str) or not (action == "*" or ACTION_FORMAT.fullmatch(action)):
                yield f"{key} {action!r} is not an action (service:Name, wildcards * and ?)"
    yield from _condition_problems(statement.get("Condition"), "Condition" in statement)


def _principal_problems(key: str, principal: Json, partition: str | None) -> Iterator[str]:
    if principal == "*":
        return
    if not isinstance(principal, Mapping) or not principal:
        yield f'{key} must be "*" or a mapping such as {{AWS: ...}}, {{Service: ...}}, {{Federated: ...}}'
        return
    for kind, value in principal.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            yield f"{key} has the unknown principal type '{kind}' (AWS, Service, Federated)"
            continue
        if any(not isinstance(v, str) for v in as_list(value)) or not as_list(value):
            yield f"{key} {kind} must be a string or a list of strings"
            continue
        for item in as_list(value):
            shown = json.dumps(item, ensure_ascii=True)
            problem = principal_problem(str(kind), str(item))
            if problem:
                yield f"{key} {kind} {shown} {problem}"
            elif partition is not None and arn_partition(str(item)) not in (None, partition):
                yield (
                    f"{key} {kind} {shown} is in partition {arn_partition(str(item))}, but the account is in "
                    f"{partition} (write arn:${{partition}}:...)"
                )


def _exactly_one(statement: Mapping[str, Json], a: str, b: str) -> Iterator[str]:
    if a in statement and b in statement:
        yield f"has both {a} and {b}"
    elif a not in statement and b not in statement:
        yield f"has neither {a} nor {b}"
    else:
        value = statement.get(a, statement.get(b))
        if value in ([], "", None, {}):
            yield f"has an empty {a if a in statement else b}"


def _condition_problems(condition: Json, present: bool) -> Iterator[str]:
    if not present:
        return
    if not isinstance(condition, Mapping):
        yield "Condition must be a mapping of operator to {key: values}"
        return
    for operator, block in condition.items():
        if not _known_operator(str(operator)):
            hint = next((o for o in CONDITION_OPERATORS if o.lower() in str(operator).lower()), "")
            yield f"uses the unknown condition operator '{operator}'" + (
                f" (did you mean '{hint}'?)" if hint and hint != operator else ""
            )
        if not isinstance(block, Mapping) or not block:
            yield f"condition '{operator}' must map condition keys to values"
    for (operator, key), problem in condition_value_problems(condition):
        yield f"condition '{operator}' key '{key}' {problem}"


def _known_operator(operator: str) -> bool:
    base = operator
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        base = base.removeprefix(prefix)
    if base.endswith("IfExists") and base != "NullIfExists":
        base = base.removesuffix("IfExists")
    return base in CONDITION_OPERATORS


class MalformedPolicy(DocumentRule):
    id = "malformed-policy"
    severity = Severity.ERROR
    order = 210
    summary = (
        "bad Version/Effect, missing Statement or Action/Resource, unknown condition operator, "
        "a condition value that is a mapping, a principal IAM does not know (a wildcard in an ARN, "
        "another partition), duplicate Sid, document over IAM's size limit (policy 6,144, trust "
        "2,048 characters)"
    )
    remedy = "fix the document as the message says; IAM would reject it"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"
    template = "the {document} of {subject} {message}"

    def check(self, document: Document, data: RuleInput) -> Found:
        partition = data.live.partition if data.live is not None else None
        problems = malformed(document.written, document.kind, partition)
        if problems:
            yield "; ".join(problems)
