"""What IAM accepts: character sets and lengths, ARN shapes and quotas (pure).

IAM refuses a request whose tag, description or path breaks these rules, or that
would attach more policies than the account's quota allows; checking them while
the configuration loads turns a failure in the middle of an apply into a located
error before anything is sent. The character sets are those of IAM's API
reference (``tagKeyType``, ``roleDescriptionType``, ``policyPathType``, ...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
DESCRIPTION_MAX = 1000

_TAG_PUNCTUATION = frozenset("_.:/=+-@")
_TAG_CATEGORIES = ("L", "Z", "N")
"""IAM's tag pattern ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``: letters, separators, numbers and ``_.:/=+-@``."""

_DESCRIPTION = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")
"""IAM's ``roleDescriptionType``: tab, newline, carriage return, printable ASCII and Latin-1."""
POLICY_PATH = re.compile(r"(?:/[A-Za-z0-9.,+@=_-]+)*/")
"""IAM's ``policyPathType``: stricter than other paths (no ``!``, ``*``, ``#``, ...)."""

ACCOUNT_ID = re.compile(r"\d{12}")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_PARTITION = r"aws(?:-[a-z]+(?:-[a-z]+)?)?"
POLICY_ARN = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):iam::(?P<account>aws|\d{{12}}):policy/(?P<rest>.+)"
)
"""A managed policy's ARN: AWS's (account ``aws``) or a customer's (12 digits)."""
_IAM_PRINCIPAL = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):"
    r"(?:root|(?P<type>user|role)/(?:[\x21-\x7e]+/)*(?P<name>[\w+=,.@-]{1,128})|federated-user/[\w+=,.@-]+)"
)
_STS_PRINCIPAL = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):sts::(?P<account>\d{{12}}):"
    r"(?:assumed-role/[\w+=,.@-]{1,64}/[\w+=,.@-]{2,64}|federated-user/[\w+=,.@-]{2,32})"
)
_FEDERATED_ARN = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):(?:oidc-provider|saml-provider)/\S+"
)
_FEDERATED_HOSTS = frozenset(
    {"cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com", "www.amazon.com"}
)
_SERVICE = re.compile(
    r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:amazonaws\.com(?:\.cn)?|amazon\.com|aws\.internal)"
)
_CANONICAL_USER = re.compile(r"[0-9a-f]{64}")


def tag_text_problem(text: str, *, key: bool) -> str | None:
    """Why IAM would refuse ``text`` as a tag key (``key``) or value, or None.

    IAM takes letters, numbers, separators (spaces) and ``_.:/=+-@``; no newline,
    control character, backtick, ``<`` or quote. Keys are 1 to 128 characters,
    values at most 256.
    """
    limit = TAG_KEY_MAX if key else TAG_VALUE_MAX
    if key and not text:
        return "is empty"
    if len(text) > limit:
        return f"is {len(text)} characters long; IAM allows {limit}"
    bad = None if _TAG_ASCII.fullmatch(text) else next((c for c in text if not _tag_char(c)), None)
    if bad is not None:
        return f"holds {describe_char(bad)}, which IAM refuses in tags (it takes letters, digits, spaces and _.:/=+-@)"
    return None


def _tag_char(char: str) -> bool:
    return char in _TAG_PUNCTUATION or unicodedata.category(char)[0] in _TAG_CATEGORIES


_TAG_ASCII = re.compile("[" + re.escape("".join(c for c in map(chr, range(128)) if _tag_char(c))) + "]*")
"""Text of only the ASCII characters tags take (nearly every tag): checked at once, not per character."""


def safe_tag_value(text: str) -> str:
    """``text`` as a tag value IAM accepts: other characters become ``_``, cut to 256 characters."""
    return "".join(c if _tag_char(c) else "_" for c in text)[:TAG_VALUE_MAX]


def description_problem(text: str) -> str | None:
    """Why IAM would refuse ``text`` as a role's or policy's description, or None."""
    if len(text) > DESCRIPTION_MAX:
        return f"is {len(text)} characters long; IAM allows {DESCRIPTION_MAX}"
    if not _DESCRIPTION.fullmatch(text):
        bad = next(c for c in text if not _DESCRIPTION.fullmatch(c))
        return (
            f"holds {describe_char(bad)}, which IAM refuses in descriptions "
            "(it takes printable ASCII and Latin-1 characters, tabs and newlines)"
        )
    return None


_CONTROL_NAMES = {
    "\0": "NUL",
    "\t": "a tab",
    "\n": "a line feed",
    "\r": "a carriage return",
    "\x1b": "an escape",
    "\x7f": "a delete",
}


def describe_char(char: str) -> str:
    """A character as messages name it: ``U+000A (a line feed)``, ``'`' (U+0060)``."""
    code = f"U+{ord(char):04X}"
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "").lower()
    if unicodedata.category(char)[0] in ("C", "Z") or not char.isprintable():
        return f"{code} ({name or 'a control character'})"
    return f"{char!r} ({code})"


def principal_problem(kind: str, value: str) -> str | None:
    """Why IAM would refuse ``value`` as a ``kind`` principal (AWS, Service, Federated,
    CanonicalUser) in a trust or resource policy, or None."""
    if kind == "AWS":
        if value == "*" or ACCOUNT_ID.fullmatch(value):
            return None
        if "*" in value or "?" in value:
            return "uses a wildcard; a principal ARN must be exact (match patterns with a condition on aws:PrincipalArn)"
        if _IAM_PRINCIPAL.fullmatch(value) or _STS_PRINCIPAL.fullmatch(value):
            return None
        return (
            "is not a principal IAM knows: an account id (12 digits), arn:PARTITION:iam::ACCOUNT:root, "
            ":user/NAME or :role/NAME, or an assumed-role session ARN"
        )
    if kind == "Federated":
        if _FEDERATED_ARN.fullmatch(value) or value in _FEDERATED_HOSTS:
            return None
        return "is not an identity provider: arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST or :saml-provider/NAME"
    if kind == "Service":
        if _SERVICE.fullmatch(value):
            return None
        return "is not a service principal such as ec2.amazonaws.com"
    if kind == "CanonicalUser":
        return None if _CANONICAL_USER.fullmatch(value) else "is not a canonical user id (64 hex digits)"
    return None


def arn_partition(value: str) -> str | None:
    """The partition an ARN names (``aws-cn`` in ``arn:aws-cn:...``), or None for no ARN."""
    if not value.startswith("arn:"):
        return None
    parts = value.split(":", 2)
    return parts[1] if len(parts) > 2 else None


def arn_account(value: str) -> str | None:
    """The account field of an ARN (``aws`` for AWS-managed policies), or None."""
    parts = value.split(":", 5)
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None


# --- quotas ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quotas:
    """The IAM quotas a configuration must fit (``account.quotas`` raises them where AWS did)."""

    managed_policies_per_role: int = 10
    managed_policies_per_group: int = 10
    managed_policies_per_user: int = 20
    groups_per_user: int = 10

    @classmethod
    def from_config(cls, values: Mapping[str, object]) -> Quotas:
        """The defaults with the integers of ``account.quotas`` in their place."""
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__ and isinstance(v, int)}
        return cls(**known)


def condition_value_problems(condition: object) -> Iterator[tuple[tuple[str, str], str]]:
    """Condition values IAM would refuse: ``((operator, key), problem)`` for every value that
    is a mapping, or a list holding a mapping or a list (IAM takes strings, numbers, booleans
    and lists of them)."""
    if not isinstance(condition, Mapping):
        return
    for operator, block in condition.items():
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            if isinstance(value, Mapping) or any(isinstance(v, (Mapping, list)) for v in values):
                yield (
                    (str(operator), str(key)),
                    "has a mapping or a nested list as its value; IAM takes a string, a number, "
                    "a boolean or a list of them",
                )
