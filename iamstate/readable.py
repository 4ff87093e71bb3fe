"""Policy documents and ARNs as a person writes them, for ``import`` (pure).

Live documents arrive normalized (lists everywhere, lower-cased actions and
condition keys); these functions give them back AWS's spelling and a readable
shape, without changing what they mean, and put ``${partition}``/``${account_id}``
back into ARNs of this account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from iamstate import catalog, policy
from iamstate.model import Json

_CONDITION_KEYS = (
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    "aws:referer",
    "aws:userid",
    "aws:username",
    "iam:AWSServiceName",
    "iam:PassedToService",
    "iam:PermissionsBoundary",
    "iam:PolicyARN",
    "sts:ExternalId",
    "sts:RoleSessionName",
    "sts:SourceIdentity",
    "sts:TransitiveTagKeys",
)
_CONDITION_KEY_PREFIXES = ("aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/", "iam:ResourceTag/")
"""Global condition keys as AWS spells them; IAM reads condition keys in any case."""
_CONDITION_KEY_SPELLING = {key.lower(): key for key in _CONDITION_KEYS}


def template_arn(value: str, account_id: str, partition: str) -> str:
    """``${partition}``/``${account_id}`` in an ARN that holds this account's id (pure).

    Other strings, and ARNs of other accounts or of AWS-managed policies, are
    returned as they are; so is a string that already contains ``${``, which the
    loader would otherwise substitute.
    """
    if not value.startswith("arn:") or "${" in value:
        return value
    templated = re.sub(rf"(?<!\d){re.escape(account_id)}(?!\d)", "${account_id}", value)
    if templated == value:
        return value
    prefix = f"arn:{partition}:"
    if templated.startswith(prefix):
        templated = "arn:${partition}:" + templated[len(prefix) :]
    return templated


def readable_document(document: Json, account_id: str, partition: str) -> Json:
    """A policy document as a person would write it, meaning exactly what ``document`` means (pure).

    ``Version`` comes first and statement keys follow IAM's usual order; action names
    and well-known condition keys take AWS's spelling; one-element lists become a
    single value; ARNs of this account use ``${partition}``/``${account_id}``.
    When the readable form would not normalize back to the same document, the
    canonical form is returned instead.
    """
    canonical = policy.normalize(document)
    variables = {"account_id": account_id, "partition": partition}
    try:
        readable = _readable(canonical, account_id, partition)
    except (TypeError, ValueError, AttributeError):
        return canonical
    if policy.normalize(policy.substitute(readable, variables)) == canonical:
        return readable
    return canonical


def _readable(document: Json, account_id: str, partition: str) -> Json:
    if not isinstance(document, dict):
        return document

    def strings(value: Json) -> Json:
        if isinstance(value, str):
            return template_arn(value, account_id, partition)
        if isinstance(value, list):
            return _one_or_many([strings(v) for v in value])
        return value

    out: dict[str, Json] = {}
    for key, value in _ordered(document, policy.DOCUMENT_KEYS).items():
        if key != "Statement":
            out[key] = value
            continue
        statements = value if isinstance(value, list) else [value]
        out[key] = [_readable_statement(s, strings) for s in statements]
    return out


def _readable_statement(statement: Json, strings: Any) -> Json:
    if not isinstance(statement, dict):
        return statement
    out: dict[str, Json] = {}
    for key, value in _ordered(statement, policy.STATEMENT_KEYS).items():
        if key in ("Action", "NotAction") and isinstance(value, list):
            out[key] = _one_or_many([aws_spelling(a) if isinstance(a, str) else a for a in value])
        elif key in ("Principal", "NotPrincipal") and isinstance(value, dict):
            out[key] = {kind: strings(values) for kind, values in value.items()}
        elif key == "Condition" and isinstance(value, dict):
            out[key] = {operator: _readable_block(block, strings) for operator, block in value.items()}
        elif key in ("Resource", "NotResource"):
            out[key] = strings(value)
        else:
            out[key] = value
    return out


def _readable_block(block: Json, strings: Any) -> Json:
    if not isinstance(block, dict):
        return block
    lowered = [k.lower() for k in block]
    # Keys kept apart only by their case were not folded by normalize; leave them be.
    respell = len(set(lowered)) == len(lowered)
    return {(condition_key_spelling(k) if respell else k): strings(v) for k, v in block.items()}


def aws_spelling(action: str) -> str:
    """An action or action pattern in AWS's spelling (``s3:getobject`` -> ``s3:GetObject``); pure.

    A pattern (``s3:get*``) takes the spelling of the first action it matches;
    what the catalogue does not know is returned as it is.
    """
    known = catalog.lookup(action)
    if known is not None:
        return known
    if "*" not in action and "?" not in action:
        return action
    prefix, sep, name = action.partition(":")
    if not sep or "*" in prefix or "?" in prefix:
        return action
    matches = catalog.expand(action)
    if not matches:
        return action
    pieces = re.split(r"([*?])", name)
    pattern = "".join(
        "(.*)" if piece == "*" else "(.)" if piece == "?" else f"({re.escape(piece)})" for piece in pieces
    )
    found = re.fullmatch(pattern, matches[0].partition(":")[2], re.IGNORECASE | re.DOTALL)
    if found is None:
        return action
    spelled = "".join(
        piece if piece in ("*", "?") else found.group(index + 1) for index, piece in enumerate(pieces)
    )
    return f"{prefix.lower()}:{spelled}"


def condition_key_spelling(key: str) -> str:
    """A global condition key in AWS's spelling (``aws:sourceaccount`` -> ``aws:SourceAccount``); pure."""
    lowered = key.lower()
    if lowered in _CONDITION_KEY_SPELLING:
        return _CONDITION_KEY_SPELLING[lowered]
    for prefix in _CONDITION_KEY_PREFIXES:
        if lowered.startswith(prefix.lower()):
            return prefix + key[len(prefix) :]
    return key


def _one_or_many(values: list[Json]) -> Json:
    return values[0] if len(values) == 1 else values


def _ordered(mapping: Mapping[str, Json], first: tuple[str, ...]) -> dict[str, Json]:
    rank = {k: i for i, k in enumerate(first)}
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: (rank.get(k, len(first)), k))}
