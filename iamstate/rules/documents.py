"""Rules on policy documents: structure, actions, wildcards, escalation (pure).

``malformed-policy`` and ``unknown-action`` read every document as written, the
managed policies' and the roles' trust policies alike. The rules about what a
policy grants read the normalized statements of managed policies, and skip
policies that are only ever used as permissions boundaries (a boundary grants
nothing by itself; it caps what other policies grant).
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from iamstate import catalog
from iamstate.kinds.policy import ManagedPolicy
from iamstate.model import Address, DesiredConfig, Json, Kind
from iamstate.plan import Finding, Severity
from iamstate.policy import DOCUMENT_KEYS, STATEMENT_KEYS
from iamstate.rules import Rule, RuleInput, location, named, register
from iamstate.rules.escalation import METHODS, RHINO, Method
from iamstate.rules.statements import (
    Statement,
    denied,
    policy_documents,
    raw_statements,
    statements,
    trust_documents,
)

ACCESS_ANALYZER = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
)
SECURITY_HUB_IAM = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"

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
_ACTION_FORMAT = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")
_SID_FORMAT = re.compile(r"[A-Za-z0-9]*")


# --- which documents --------------------------------------------------------------


def _documents(config: DesiredConfig) -> Iterator[tuple[Address, Json, str]]:
    """Every document as written: (address, document, ``policy`` or ``trust``)."""
    for address, resource in policy_documents(config):
        yield address, config.documents_raw.get(address, resource.document), "policy"
    for address, role in trust_documents(config):
        yield address, config.documents_raw.get(address, role.trust), "trust"


def _attached_arns(config: DesiredConfig) -> tuple[set[str], set[str]]:
    attached: set[str] = set()
    boundaries: set[str] = set()
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
        for resource in config.state.of_kind(kind):
            attached |= {a.lower() for a in getattr(resource, "policies", ())}
            boundary = getattr(resource, "permissions_boundary", None)
            if boundary:
                boundaries.add(boundary.lower())
    return attached, boundaries


def _arn_key(resource: ManagedPolicy) -> str:
    # A policy built without an ARN (tests, partial configs) is matched by its path and name.
    return (resource.arn or f":policy{resource.path}{resource.name}").lower()


def granting_policies(config: DesiredConfig) -> Iterator[tuple[Address, ManagedPolicy, list[Statement]]]:
    """Managed policies that grant access: all but those used only as permissions boundaries."""
    attached, boundaries = _attached_arns(config)
    for address, resource in policy_documents(config):
        key = _arn_key(resource)
        as_boundary = any(arn.endswith(key) for arn in boundaries)
        if as_boundary and not any(arn.endswith(key) for arn in attached):
            continue
        yield address, resource, statements(config, address, resource.document)


# --- malformed-policy ---------------------------------------------------------------


def _compact_size(document: Json) -> int:
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(re.sub(r"\s", "", text))


def _text(value: Json) -> str | None:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value if isinstance(value, str) else None


def malformed(document: Json, kind: str) -> list[str]:
    """What is wrong with a document's structure, one phrase per problem (empty when fine).

    ``kind`` is ``policy`` (identity-based: no Principal, a Resource) or ``trust`` (a
    Principal, no Resource).
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
        problems += [f"{label}: {p}" for p in _statement_problems(statement, kind)]
    problems += [f"uses Sid '{sid}' {n} times; Sids must be unique" for sid, n in sids.items() if n > 1]
    limit = POLICY_SIZE_LIMIT if kind == "policy" else TRUST_SIZE_LIMIT
    size = _compact_size(document)
    if size > limit:
        problems.append(f"is {size} characters long without whitespace; IAM allows {limit}")
    return problems


def _statement_problems(statement: Mapping[str, Json], kind: str) -> Iterator[str]:
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
        for resource in _as_list(statement.get(key)):
            if not isinstance(resource, str):
                yield f"{key} {resource!r} is not a string (an ARN or *)"
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            yield from _principal_problems(key, statement[key])
    for key in ("Action", "NotAction"):
        for action in _as_list(statement.get(key)):
            if not isinstance(action, str) or not (action == "*" or _ACTION_FORMAT.fullmatch(action)):
                yield f"{key} {action!r} is not an action (service:Name, wildcards * and ?)"
    yield from _condition_problems(statement.get("Condition"), "Condition" in statement)


def _principal_problems(key: str, principal: Json) -> Iterator[str]:
    if principal == "*":
        return
    if not isinstance(principal, Mapping) or not principal:
        yield f'{key} must be "*" or a mapping such as {{AWS: ...}}, {{Service: ...}}, {{Federated: ...}}'
        return
    for kind, value in principal.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            yield f"{key} has the unknown principal type '{kind}' (AWS, Service, Federated)"
        if any(not isinstance(v, str) for v in _as_list(value)) or not _as_list(value):
            yield f"{key} {kind} must be a string or a list of strings"


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


def _known_operator(operator: str) -> bool:
    base = operator
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        base = base.removeprefix(prefix)
    if base.endswith("IfExists") and base != "NullIfExists":
        base = base.removesuffix("IfExists")
    return base in CONDITION_OPERATORS


def _as_list(value: Json) -> list[Json]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _malformed(data: RuleInput) -> Iterator[Finding]:
    for address, document, kind in _documents(data.config):
        problems = malformed(document, kind)
        if problems:
            what = "trust policy" if kind == "trust" else "document"
            yield MALFORMED.finding(
                str(address),
                f"the {what} of {named(address)} " + "; ".join(problems),
                location(data.config, address),
            )


MALFORMED = register(
    Rule(
        "malformed-policy",
        Severity.ERROR,
        waivable=False,
        summary="bad Version/Effect, missing Statement or Action/Resource, unknown condition operator, "
        "duplicate Sid, document over IAM's size limit (policy 6,144, trust 2,048 characters)",
        remedy="fix the document as the message says; IAM would reject it",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html",
        check=_malformed,
    )
)


# --- unknown-action ----------------------------------------------------------------


def unknown_actions(document: Json) -> Iterator[tuple[str, str, bool]]:
    """(action as written, explanation, service known) for each action the catalogue lacks."""
    seen: set[str] = set()
    for statement in raw_statements(document):
        if not isinstance(statement, Mapping):
            continue
        for key in ("Action", "NotAction"):
            for action in _as_list(statement.get(key)):
                if not isinstance(action, str) or action == "*" or action.lower() in seen:
                    continue
                seen.add(action.lower())
                if not _ACTION_FORMAT.fullmatch(action):
                    continue  # malformed-policy reports it
                prefix = action.split(":", 1)[0]
                wildcard_prefix = "*" in prefix or "?" in prefix
                if not wildcard_prefix and not catalog.known_service(prefix):
                    yield (
                        action,
                        f"names the service '{prefix}', which the action catalogue does not know",
                        False,
                    )
                elif "*" in action or "?" in action:
                    if not catalog.expand(action):
                        yield action, "matches no action", True
                elif catalog.lookup(action) is None:
                    suggestion = catalog.suggest(action)
                    hint = f" (did you mean {suggestion}?)" if suggestion else ""
                    yield action, f"is not an action of {prefix.lower()}{hint}", True


def _unknown_action(data: RuleInput) -> Iterator[Finding]:
    for address, document, _ in _documents(data.config):
        for action, why, known in unknown_actions(document):
            yield UNKNOWN_ACTION.finding(
                str(address),
                f"{named(address)}: {action} {why}"
                + ("" if known else f" ({catalog.PACKAGE} {catalog.data_version()}); fine if it is new"),
                location(data.config, address),
                severity=None if known else Severity.WARNING,
            )


UNKNOWN_ACTION = register(
    Rule(
        "unknown-action",
        Severity.ERROR,
        waivable=True,
        summary="an action of a known service does not exist, or a wildcard matches none "
        "(a warning for a service the catalogue does not know)",
        remedy="fix the action's spelling; a brand-new action or service can be waived with a reason",
        source=ACCESS_ANALYZER,
        check=_unknown_action,
    )
)


# --- what a policy grants ------------------------------------------------------------


def _policy_admin_star(data: RuleInput) -> Iterator[Finding]:
    for address, _, stmts in granting_policies(data.config):
        for s in stmts:
            if s.full_admin:
                yield POLICY_ADMIN_STAR.finding(
                    str(address),
                    f"{named(address)} {s.label} allows every action (*) on every resource",
                    location(data.config, address),
                )


POLICY_ADMIN_STAR = register(
    Rule(
        "policy-admin-star",
        Severity.ERROR,
        waivable=True,
        summary="a policy allows `*` on `*` (full administrator), with or without a condition",
        remedy="grant the actions the job needs; for break-glass access, waive with a reason",
        source=SECURITY_HUB_IAM + "#iam-1",
        check=_policy_admin_star,
    )
)


def unconstrained_grant(
    stmts: Sequence[Statement], action: str, ignore_keys: tuple[str, ...] = ()
) -> Statement | None:
    """The statement that grants ``action`` on every resource without a constraining
    condition, or None. Full-administrator statements are left to policy-admin-star; an
    unconditional Deny in the same document cancels the grant."""
    if denied(stmts, action):
        return None
    for s in stmts:
        if not s.allow or s.full_admin or not s.covers(action) or not s.unscoped:
            continue
        if s.constrained(lambda e: e.is_key(*ignore_keys)):
            continue
        return s
    return None


def _passrole_star(data: RuleInput) -> Iterator[Finding]:
    for address, _, stmts in granting_policies(data.config):
        s = unconstrained_grant(stmts, "iam:PassRole", ignore_keys=("iam:passedtoservice",))
        if s is not None:
            yield PASSROLE_STAR.finding(
                str(address),
                f"{named(address)} {s.label} allows iam:PassRole (through {s.granting_pattern('iam:PassRole')}) "
                "on every role",
                location(data.config, address),
            )


PASSROLE_STAR = register(
    Rule(
        "passrole-star",
        Severity.ERROR,
        waivable=True,
        summary="iam:PassRole (also through `iam:*`, `iam:Pass*`, `*` or NotAction) on every role, "
        "without a condition that narrows which roles (iam:PassedToService does not)",
        remedy="list the role ARNs that may be passed in Resource",
        source=ACCESS_ANALYZER
        + "#access-analyzer-reference-policy-checks-security-warning-pass-role-with-star-in-resource",
        check=_passrole_star,
    )
)


def escalation_methods(stmts: Sequence[Statement]) -> list[tuple[Method, list[Statement]]]:
    """The published methods every action of which the statements grant unconstrained,
    each with the granting statements (in the order of the method's actions)."""
    found = []
    for method in METHODS:
        grants = [unconstrained_grant(stmts, action) for action in method.actions]
        if all(g is not None for g in grants):
            found.append((method, [g for g in grants if g is not None]))
    return found


def _privilege_escalation(data: RuleInput) -> Iterator[Finding]:
    for address, _, stmts in granting_policies(data.config):
        found = escalation_methods(stmts)
        if not found:
            continue
        shown = ", ".join(f"{m.name} ({' + '.join(m.actions)})" for m, _ in found[:3])
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        how = ", ".join(dict.fromkeys(s.label for _, grants in found for s in grants))
        yield PRIVILEGE_ESCALATION.finding(
            str(address),
            f"{named(address)} allows privilege escalation by {shown}{more}: granted on every resource "
            f"without a constraining condition by {how}",
            location(data.config, address),
        )


PRIVILEGE_ESCALATION = register(
    Rule(
        "privilege-escalation",
        Severity.ERROR,
        waivable=True,
        summary="a policy grants every action of a published escalation method (Rhino Security Labs, "
        "Cloudsplaining, Prowler) on every resource without a constraining condition",
        remedy="scope the named actions' Resource to specific ARNs, or add a condition that narrows them",
        source=RHINO,
        check=_privilege_escalation,
    )
)


def _allow_notaction(data: RuleInput) -> Iterator[Finding]:
    for address, _, stmts in granting_policies(data.config):
        for s in stmts:
            if s.allow and (s.has_not_action or s.has_not_resource):
                which = " and ".join(k for k in ("NotAction", "NotResource") if k in s.data)
                yield ALLOW_NOTACTION.finding(
                    str(address),
                    f"{named(address)} {s.label} allows with {which}: everything except what it lists, "
                    "including actions AWS adds later",
                    location(data.config, address),
                )


ALLOW_NOTACTION = register(
    Rule(
        "allow-notaction",
        Severity.WARNING,
        waivable=True,
        summary="Allow with NotAction or NotResource",
        remedy="list what is allowed with Action/Resource; keep NotAction for Deny statements",
        source=ACCESS_ANALYZER
        + "#access-analyzer-reference-policy-checks-security-warning-allow-with-not-action",
        check=_allow_notaction,
    )
)


def _service_wildcard(data: RuleInput) -> Iterator[Finding]:
    for address, _, stmts in granting_policies(data.config):
        for s in stmts:
            if not s.allow or s.full_admin:
                continue
            wild = [a for a in s.actions if a == "*" or a.endswith(":*")]
            if wild:
                shown = ", ".join("* (every service)" if a == "*" else a for a in wild)
                yield SERVICE_WILDCARD.finding(
                    str(address),
                    f"{named(address)} {s.label} allows every action of {shown}",
                    location(data.config, address),
                )


SERVICE_WILDCARD = register(
    Rule(
        "service-wildcard",
        Severity.WARNING,
        waivable=True,
        summary="Allow `service:*` (or `*` on specific resources)",
        remedy="list the actions the job needs (the access summary of the plan shows what service:* adds)",
        source=SECURITY_HUB_IAM + "#iam-21",
        check=_service_wildcard,
    )
)
