"""Reading policy statements for the rules: wildcards, NotAction, resources, conditions (pure).

Rules look at normalized statements (:func:`iamstate.policy.normalize`: lists,
lower-cased actions and condition keys, string condition values) but name them as
the user wrote them: ``statement 2 (Sid DeployArtifacts)``, counted in the order of
the document as written.

What "unconstrained" means, for every rule alike:

- a resource is *unscoped* when it is ``*``, an ARN whose resource part is only a
  wildcard (``arn:aws:s3:::*``), or every IAM entity of a type
  (``arn:aws:iam::123456789012:role/*``); a statement
  with ``NotResource`` reaches every resource but the listed ones, so it is unscoped
  too;
- a condition *constrains* when one of its entries would fail for some request:
  entries with an ``...IfExists`` operator or a ``ForAllValues:`` prefix pass when
  the key is absent, ``Null`` only asks whether a key is present, ``StringLike``
  with ``*`` matches everything, and keys that describe the caller or the
  connection (MFA, TLS, region, time, source IP, the caller's own tags and ARN)
  do not narrow what the statement reaches; every other entry constrains.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from iamstate import policy
from iamstate.model import Json

ACTION_FORMAT = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")
"""What an action looks like: ``service:Name``, with the wildcards ``*`` and ``?``."""
_UNSCOPED_ARN = re.compile(r"arn:[^:]*:[^:]*:[^:]*:[^:]*:\*|arn:[^:]*:iam::[^:]*:[\w-]+/\*")

CALLER_KEYS = (
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:securetransport",
    "aws:requestedregion",
    "aws:currenttime",
    "aws:epochtime",
    "aws:tokenissuetime",
    "aws:useragent",
    "aws:referer",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:viaawsservice",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principaltype",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:userid",
    "aws:username",
    "aws:sourceidentity",
    "aws:federatedprovider",
    "aws:principaltag/",
)
"""Condition keys about who calls and how: they never narrow what a statement reaches."""

POSITIVE_OPERATORS = (
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
    "NumericEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
)
"""Operators that, on a present key, admit only the listed values (used by the trust rules)."""


@dataclass(frozen=True)
class ConditionEntry:
    """One ``operator: {key: values}`` entry of a statement's Condition."""

    operator: str
    key: str
    values: tuple[str, ...]

    @property
    def base_operator(self) -> str:
        """The operator without ``ForAllValues:``/``ForAnyValue:`` and ``IfExists``."""
        base = self.operator.split(":", 1)[-1]
        return base.removesuffix("IfExists")

    @property
    def if_exists(self) -> bool:
        """True when the entry passes for a request that lacks the key."""
        return self.operator.endswith("IfExists") or self.operator.startswith("ForAllValues:")

    @property
    def positive(self) -> bool:
        """True when the entry admits only its listed values (and the key must be present)."""
        return not self.if_exists and self.base_operator in POSITIVE_OPERATORS

    @property
    def wildcard_only(self) -> bool:
        """True when a ``...Like`` entry's values match anything (``*``)."""
        return self.base_operator.endswith("Like") and all(v.strip("*") == "" for v in self.values)

    def is_key(self, *keys: str) -> bool:
        """True when the key is one of ``keys`` (lower-case; a key ending in ``/`` is a prefix)."""
        return any(self.key == k or (k.endswith("/") and self.key.startswith(k)) for k in keys)


@dataclass(frozen=True)
class Statement:
    """One normalized statement and how messages name it."""

    label: str
    data: Mapping[str, Json]

    @property
    def effect(self) -> str:
        return str(self.data.get("Effect", ""))

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def _strings(self, key: str) -> list[str]:
        value = self.data.get(key)
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [str(v) for v in items if isinstance(v, str)]

    @property
    def actions(self) -> list[str]:
        """``Action`` patterns, lower-cased."""
        return self._strings("Action")

    @property
    def not_actions(self) -> list[str]:
        return self._strings("NotAction")

    @property
    def resources(self) -> list[str]:
        return self._strings("Resource")

    @property
    def has_not_action(self) -> bool:
        return "NotAction" in self.data

    @property
    def has_not_resource(self) -> bool:
        return "NotResource" in self.data

    @property
    def principal(self) -> Json:
        return self.data.get("Principal")

    def principals(self, kind: str) -> list[str]:
        """The principals of one type (``AWS``, ``Service``, ``Federated``); ``*`` for Principal "*"."""
        principal = self.principal
        if principal == "*":
            return ["*"]
        if not isinstance(principal, Mapping):
            return []
        value = principal.get(kind)
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [str(v) for v in items]

    @property
    def conditions(self) -> list[ConditionEntry]:
        condition = self.data.get("Condition")
        if not isinstance(condition, Mapping):
            return []
        out = []
        for operator, block in condition.items():
            if not isinstance(block, Mapping):
                continue
            for key, values in block.items():
                items = values if isinstance(values, list) else [values]
                out.append(ConditionEntry(str(operator), str(key).lower(), tuple(str(v) for v in items)))
        return out

    def covers(self, action: str) -> bool:
        """True when the statement applies to ``action`` (via Action, or via NotAction)."""
        if "Action" in self.data:
            return matches_any(self.actions, action)
        if "NotAction" in self.data:
            return not matches_any(self.not_actions, action)
        return False

    def granting_pattern(self, action: str) -> str:
        """How the statement reaches ``action``: the matching pattern, or ``NotAction [...]``."""
        for pattern in self.actions:
            if matches(pattern, action):
                return pattern
        return f"NotAction {self.not_actions}"

    @property
    def unscoped(self) -> bool:
        """True when the statement reaches every resource (see the module docstring)."""
        return self.has_not_resource or any(unscoped_resource(r) for r in self.resources)

    def constrained(self, ignore: Callable[[ConditionEntry], bool] = lambda e: False) -> bool:
        """True when a condition entry narrows the statement (entries ``ignore`` picks never do)."""
        for entry in self.conditions:
            if entry.if_exists or entry.base_operator == "Null" or entry.wildcard_only:
                continue
            if entry.is_key(*CALLER_KEYS) or ignore(entry):
                continue
            return True
        return False

    @property
    def full_admin(self) -> bool:
        """Allow ``*`` on every resource."""
        return self.allow and "*" in self.actions and self.unscoped


@functools.cache
def _matcher(pattern: str) -> Callable[[str], bool]:
    """Whether a lower-case action fits ``pattern``: by equality or by its prefix when the
    pattern allows (most do: ``s3:GetObject``, ``iam:*``), else by a regex."""
    lowered = pattern.lower()
    if "*" not in lowered and "?" not in lowered:
        return lowered.__eq__
    head = lowered[:-1]
    if lowered.endswith("*") and "*" not in head and "?" not in head:
        return lambda action: action.startswith(head)
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in lowered)
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda action: regex.fullmatch(action) is not None


def matches(pattern: str, action: str) -> bool:
    """True when an IAM action pattern (``iam:Pass*``) matches an action; case-insensitive."""
    return _matcher(pattern)(action.lower())


def matches_any(patterns: Sequence[str], action: str) -> bool:
    """True when any pattern matches the action."""
    return any(matches(p, action) for p in patterns)


def unscoped_resource(resource: str) -> bool:
    """True for ``*``, ARNs whose resource part is only a wildcard, and ``iam`` ARNs of a whole type."""
    return resource.strip() == "*" or _UNSCOPED_ARN.fullmatch(resource.strip()) is not None


def as_list(value: Json) -> list[Json]:
    """A policy element as a list: a single value counts as a list of one, absent as none."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def raw_statements(document: Json) -> list[Json]:
    """The statements of a document as written (a single statement counts as a list of one)."""
    if not isinstance(document, Mapping):
        return []
    value = document.get("Statement")
    if isinstance(value, list):
        return list(value)
    return [] if value is None else [value]


def labelled(document: Json) -> list[Statement]:
    """The statements of a document as written, each normalized and labelled in written order."""
    raw = raw_statements(document)
    if not raw:
        return []
    canonical = policy.statements_in_order(document)
    return [
        Statement(policy.statement_label(index, item), normal)
        for index, (item, normal) in enumerate(zip(raw, canonical, strict=True), start=1)
        if isinstance(item, Mapping)
    ]


def denied(statements_: Sequence[Statement], action: str) -> bool:
    """True when an unconditional Deny on every resource in the same document denies ``action``."""
    return any(
        s.effect == "Deny"
        and not s.conditions
        and any(unscoped_resource(r) for r in s.resources)
        and s.covers(action)
        for s in statements_
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


# --- trust policies -----------------------------------------------------------------------

PRINCIPAL_GUARD_KEYS = (
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
)
"""Condition keys that narrow a wildcard principal to known callers."""


def narrows(entry: ConditionEntry, *keys: str) -> bool:
    """A positive entry on one of ``keys`` whose values are not wildcards for everything."""
    return (
        entry.positive
        and entry.is_key(*keys)
        and not entry.wildcard_only
        and not any(unscoped_resource(v) for v in entry.values)
    )


def requires_mfa(statement: Statement) -> bool:
    """True when the statement admits only callers signed in with MFA.

    ``Bool aws:MultiFactorAuthPresent "true"`` or ``NumericLessThan aws:MultiFactorAuthAge``;
    the ``...IfExists`` forms do not count, since long-term keys carry no MFA key at all.
    """
    for entry in statement.conditions:
        if entry.if_exists:
            continue
        present = entry.key == "aws:multifactorauthpresent" and entry.base_operator == "Bool"
        if present and entry.values == ("true",):
            return True
        if entry.key == "aws:multifactorauthage" and entry.base_operator.startswith("NumericLessThan"):
            return True
    return False


def lets_aws_principals_assume(statement: Statement) -> bool:
    """True for an Allow statement that lets AWS principals (accounts, users, roles) assume the role."""
    return statement.allow and bool(statement.principals("AWS")) and statement.covers("sts:AssumeRole")
