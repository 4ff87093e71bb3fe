"""Which resources a statement reaches: every resource of a type, the principal itself, or named ones (pure).

No boto3, no file I/O; ARN formats come from the offline action catalogue
(:mod:`iamstate.catalog`, package data read once).

Readings, the same for every rule:

- A resource pattern is **unscoped** when it reaches every resource of its type:
  ``*``; an ARN whose resource part, after the literal type prefix of one of the
  service's ARN formats (``function:``, ``role/``, ``parameter/``; none for S3
  buckets), holds only wildcards (``arn:aws:lambda:*:123456789012:function:*``,
  ``arn:aws:iam::*:role/*``, ``arn:aws:s3:::*``, ``arn:aws:s3:::*/*``); wildcards
  in the region or account segment do not make a pattern narrower. A path prefix
  (``role/app/*``), a name prefix (``function:deploy-*``) or one bucket's objects
  (``arn:aws:s3:::reports/*``) is scoped. ``NotResource`` reaches everything but what it
  lists, so it is unscoped too. A pattern reaches nothing of an action whose resource
  types all live in another service (``arn:aws:s3:::*`` for ``iam:PassRole``): IAM
  never matches it for that action (:func:`can_name`).
- A pattern is **self-targeting** for a principal when it names the principal or
  what its permissions are made of: its own ARN, a pattern that matches it
  (``role/deploy-*`` for ``role/deploy-api``), ``${aws:username}`` for a user (and
  for a group, whose every member it names), one of the user's groups, or a
  customer policy the principal holds. That counts for the IAM actions that change
  the target's permissions (see :data:`SELF_TARGET_TYPES`): a user allowed
  ``iam:PutUserPolicy`` on ``user/${aws:username}`` rewrites its own permissions.
- Otherwise a pattern is **scoped** to the ARNs it matches (:func:`arn_matches`).

Matching follows IAM: ``*`` is any run of characters, ``?`` one character, policy
variables (``${aws:username}``, ``${aws:PrincipalTag/team}``, with an optional
default ``${aws:username, 'guest'}``) stand for their values, and ``${*}``,
``${?}``, ``${$}`` for the literal characters. A variable without a value makes
the pattern match nothing, as in IAM. Matching ignores letter case, which errs
towards reporting a match.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from iamstate import catalog
from iamstate.rules.statements import Statement

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_WILDCARDS_ONLY = re.compile(r"[*?/:]*\*[*?/:]*")
_GENERIC_TYPE = re.compile(r"[A-Za-z0-9_.-]+[:/]")
_LITERAL_ESCAPES = {"*": "*", "?": "?", "$": "$"}

SELF_TARGET_TYPES: Mapping[str, str] = {
    "iam:putuserpolicy": "user",
    "iam:attachuserpolicy": "user",
    "iam:putuserpermissionsboundary": "user",
    "iam:deleteuserpermissionsboundary": "user",
    "iam:putgrouppolicy": "group",
    "iam:attachgrouppolicy": "group",
    "iam:putrolepolicy": "role",
    "iam:attachrolepolicy": "role",
    "iam:putrolepermissionsboundary": "role",
    "iam:deleterolepermissionsboundary": "role",
    "iam:createpolicyversion": "policy",
    "iam:setdefaultpolicyversion": "policy",
}
"""IAM actions that change their target's permissions, and the resource type that makes
them self-targeting: the principal's own user or role, one of its groups, one of its
customer policies."""


class Scope(StrEnum):
    """How far one resource pattern reaches, for one principal."""

    UNSCOPED = "unscoped"
    SELF = "self-targeting"
    SCOPED = "scoped"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Arn:
    """The six parts of an ARN; ``resource`` keeps any colons and slashes of its own."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


def resource_patterns(statement: Statement) -> list[str]:
    """The patterns of a statement's ``Resource`` (or, when it has none, ``NotResource``)."""
    value = statement.data.get("Resource", statement.data.get("NotResource"))
    items = value if isinstance(value, list) else [] if value is None else [value]
    return [v for v in items if isinstance(v, str)]


def parse_arn(text: str) -> Arn | None:
    """The parts of ``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``, or None for anything else."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


@dataclass(frozen=True)
class Principal:
    """What self-targeting needs to know about a principal (or a group standing for its members).

    ``kind`` is ``user``, ``role`` or ``group``; ``groups`` the ARNs of a user's groups;
    ``policies`` the ARNs of the customer policies it holds, directly or through groups;
    ``variables`` the policy variables IAM would fill in (lower-case keys).
    """

    kind: str
    arn: str
    groups: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()
    variables: Mapping[str, str] | None = None

    def targets(self, resource_type: str) -> frozenset[str]:
        """The ARNs that count as the principal itself for actions on ``resource_type``."""
        if resource_type == "policy":
            return self.policies
        if resource_type == "group":
            return self.groups | ({self.arn} if self.kind == "group" else frozenset())
        if resource_type == self.kind:
            return frozenset({self.arn})
        return frozenset()


@functools.cache
def _type_prefixes(service: str) -> tuple[str, ...]:
    """The literal starts of the resource part of a service's ARN formats (``role/``, ``function:``)."""
    prefixes: set[str] = set()
    for resource in _formats(service):
        prefixes.add(resource.split("${", 1)[0].lower())
    return tuple(sorted(prefixes, key=len, reverse=True))


@functools.cache
def _formats(service: str) -> tuple[str, ...]:
    """The resource parts of every ARN format the catalogue knows for a service."""
    parsed = (parse_arn(t.arn_format) for t in catalog.service_resource_types(service))
    return tuple(sorted({arn.resource for arn in parsed if arn is not None}))


@functools.cache
def unscoped(pattern: str) -> bool:
    """True when a resource pattern reaches every resource of its type (see the module docstring)."""
    text = pattern.strip()
    if _WILDCARDS_ONLY.fullmatch(text):
        return True
    arn = parse_arn(text)
    if arn is None:
        # "arn:aws:*" and the like: a wildcard that swallows the remaining segments.
        return text.startswith("arn:") and text.endswith("*") and text.count(":") < 5
    rest = arn.resource
    if _WILDCARDS_ONLY.fullmatch(rest):
        return True
    if "*" in arn.service or "?" in arn.service:
        return False
    lowered = rest.lower()
    prefixes = _type_prefixes(arn.service) or ()
    for prefix in prefixes:
        if prefix and lowered.startswith(prefix) and _WILDCARDS_ONLY.fullmatch(rest[len(prefix) :]):
            return True
    if not prefixes:
        generic = _GENERIC_TYPE.match(rest)
        return generic is not None and _WILDCARDS_ONLY.fullmatch(rest[generic.end() :]) is not None
    return False


def every_resource(pattern: str) -> bool:
    """True when a pattern matches every ARN of every service: ``*``, or an ARN pattern whose
    segments after the partition are all wildcards (``arn:aws:*:*:*:*``, ``arn:*``)."""
    text = pattern.strip()
    if _WILDCARDS_ONLY.fullmatch(text):
        return True
    arn = parse_arn(text)
    if arn is None:
        # "arn:aws:*": the last wildcard swallows the segments that follow.
        parts = text.split(":")
        return (
            parts[0] == "arn"
            and parts[-1].endswith("*")
            and all(_WILDCARDS_ONLY.fullmatch(p) for p in parts[2:])
        )
    return all(
        _WILDCARDS_ONLY.fullmatch(part) for part in (arn.service, arn.region, arn.account, arn.resource)
    )


@functools.cache
def can_name(pattern: str, action: str) -> bool:
    """False when ``pattern`` is an ARN of a service that none of ``action``'s resource types
    lives in (``arn:aws:s3:::*`` for ``iam:PassRole``; only the required types count when the
    action has some); True otherwise, including for ``*``, wildcard services, actions that
    take only ``*`` and actions the catalogue does not know."""
    text = pattern.strip()
    arn = parse_arn(text)
    if arn is None or _WILDCARDS_ONLY.fullmatch(text) or "*" in arn.service or "?" in arn.service:
        return True
    spelled = catalog.lookup(action)
    types = catalog.action_resource_types(spelled) if spelled is not None else ()
    if not types:
        return True
    # IAM authorizes every resource of a request: with a required type (ssm:SendCommand's
    # document), a pattern must be able to name one of those.
    required = [t for t in types if t.required] or list(types)
    services = {t.arn_format.split(":", 3)[2].lower() for t in required if t.arn_format.count(":") >= 3}
    return not services or arn.service.lower() in services


def unscoped_for(pattern: str, action: str) -> bool:
    """True when ``pattern`` reaches every resource of ``action``'s type (:func:`unscoped`, in a
    service the action's resources live in, :func:`can_name`)."""
    return unscoped(pattern) and can_name(pattern, action)


def _variable_value(body: str, variables: Mapping[str, str]) -> str | None:
    if body in _LITERAL_ESCAPES:
        return _LITERAL_ESCAPES[body]
    key, _, default = body.partition(",")
    value = variables.get(key.strip().lower())
    if value is not None:
        return value
    default = default.strip()
    if len(default) >= 2 and default[0] == default[-1] == "'":
        return default[1:-1]
    return None


def _compile(pattern: str, variables: Mapping[str, str]) -> re.Pattern[str] | None:
    out: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(pattern):
        out.append(_glob_text(pattern[position : match.start()]))
        value = _variable_value(match.group(1), variables)
        if value is None:
            return None
        out.append(re.escape(value))
        position = match.end()
    out.append(_glob_text(pattern[position:]))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _glob_text(text: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


@functools.cache
def _compiled_without_variables(pattern: str) -> re.Pattern[str] | None:
    return _compile(pattern, {})


def arn_matches(pattern: str, arn: str, variables: Mapping[str, str] | None = None) -> bool:
    """True when a resource pattern (IAM's ``*``/``?`` and policy variables) matches a concrete ARN."""
    if not variables or "${" not in pattern:
        compiled = _compiled_without_variables(pattern.strip())
    else:
        compiled = _compile(pattern.strip(), variables)
    return compiled is not None and compiled.fullmatch(arn) is not None


def names_caller(pattern: str) -> bool:
    """True when a pattern names whoever calls, through ``${aws:username}`` or ``${aws:userid}``."""
    return any(
        m.group(1).split(",")[0].strip().lower() in ("aws:username", "aws:userid")
        for m in _VARIABLE.finditer(pattern)
    )


def scope(pattern: str, principal: Principal | None = None, resource_type: str = "") -> Scope:
    """How far ``pattern`` reaches for ``principal`` on an action whose target is ``resource_type``
    (``user``, ``group``, ``role``, ``policy``; see :data:`SELF_TARGET_TYPES`)."""
    if unscoped(pattern):
        return Scope.UNSCOPED
    if principal is not None and resource_type and targets_self(pattern, principal, resource_type):
        return Scope.SELF
    return Scope.SCOPED


def targets_self(pattern: str, principal: Principal, resource_type: str) -> bool:
    """True when ``pattern`` names ``principal`` itself for an action on ``resource_type``."""
    if resource_type == "user" and principal.kind in ("user", "group") and names_caller(pattern):
        return True
    variables = principal.variables or {}
    return any(arn_matches(pattern, arn, variables) for arn in principal.targets(resource_type))


def self_target_type(action: str) -> str:
    """The resource type that makes ``action`` self-targeting (``role`` for iam:PutRolePolicy), or ``""``."""
    return SELF_TARGET_TYPES.get(action.lower(), "")


def matching(patterns: Iterable[str], arn: str, variables: Mapping[str, str] | None = None) -> list[str]:
    """The patterns that match ``arn``."""
    return [p for p in patterns if arn_matches(p, arn, variables)]
