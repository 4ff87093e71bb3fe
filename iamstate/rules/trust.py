"""Rules on roles' trust policies: who may assume a role, and on what conditions (pure).

``trust-mfa-missing`` fires while the config is loaded (it needs the role's
``require_mfa``, which is not part of the role itself); the loader calls
:func:`statements_without_mfa`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from iamstate.model import Json
from iamstate.plan import Finding, Severity
from iamstate.rules import Rule, RuleInput, location, named, register
from iamstate.rules.statements import (
    ConditionEntry,
    Statement,
    labelled,
    statements,
    trust_documents,
    unscoped_resource,
)

ROLES_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
OWN_ACCOUNT_PLACEHOLDER = "000000000000"
"""What the loader writes for ``${account_id}`` when ``account.id`` is absent."""

_ACCOUNT_IN_ARN = re.compile(r"arn:[^:]*:(?:iam|sts)::(\d{12}):")
_WEB_IDENTITY_PROVIDERS = ("cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com")
_ANY_SUBJECT = re.compile(r"[^:*]*:?\*")
"""Subject values that admit everyone: ``*``, ``repo:*``."""

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


def _narrows(entry: ConditionEntry, *keys: str) -> bool:
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


def _assume_statements(stmts: Sequence[Statement]) -> Iterator[Statement]:
    for s in stmts:
        if s.allow and s.principals("AWS") and s.covers("sts:AssumeRole"):
            yield s


def statements_without_mfa(trust: Json) -> list[str]:
    """Labels of the Allow statements for AWS principals that do not require MFA."""
    return [s.label for s in _assume_statements(labelled(trust)) if not requires_mfa(s)]


# --- rules that run on every trust policy -------------------------------------------


def _trust_any_principal(data: RuleInput) -> Iterator[Finding]:
    for address, role in trust_documents(data.config):
        for s in statements(data.config, address, role.trust):
            if not s.allow:
                continue
            wildcard = s.principal == "*" or any(
                "*" in s.principals(kind) for kind in ("AWS", "Federated", "Service")
            )
            if wildcard and not any(_narrows(e, *PRINCIPAL_GUARD_KEYS) for e in s.conditions):
                yield TRUST_ANY_PRINCIPAL.finding(
                    str(address),
                    f"{named(address)} trust {s.label} lets any principal (*) assume the role",
                    location(data.config, address),
                )


TRUST_ANY_PRINCIPAL = register(
    Rule(
        "trust-any-principal",
        Severity.ERROR,
        waivable=True,
        summary="trust Principal `*` without a condition that narrows it (aws:PrincipalOrgID, "
        "aws:PrincipalArn, aws:SourceAccount, ...)",
        remedy="name the accounts or roles that may assume the role, or add aws:PrincipalOrgID",
        source=ROLES_GUIDE + "reference_policies_elements_principal.html#principal-anonymous",
        check=_trust_any_principal,
    )
)


def _trust_notprincipal(data: RuleInput) -> Iterator[Finding]:
    for address, role in trust_documents(data.config):
        for s in statements(data.config, address, role.trust):
            if s.allow and "NotPrincipal" in s.data:
                yield TRUST_NOTPRINCIPAL.finding(
                    str(address),
                    f"{named(address)} trust {s.label} allows with NotPrincipal: everyone but the listed "
                    "principals may assume the role",
                    location(data.config, address),
                )


TRUST_NOTPRINCIPAL = register(
    Rule(
        "trust-notprincipal",
        Severity.ERROR,
        waivable=False,
        summary="a trust statement Allows with NotPrincipal",
        remedy="list who may assume the role under Principal",
        source=ROLES_GUIDE + "reference_policies_elements_notprincipal.html",
        check=_trust_notprincipal,
    )
)


def _oidc_provider(principal: str) -> str | None:
    if ":oidc-provider/" in principal:
        return principal.split(":oidc-provider/", 1)[1].lower()
    if principal.lower() in _WEB_IDENTITY_PROVIDERS:
        return principal.lower()
    return None


def oidc_gaps(statement: Statement) -> list[str]:
    """What an OIDC trust statement leaves open: ``audience``, ``subject`` (empty when scoped)."""
    gaps = []
    for provider in filter(None, map(_oidc_provider, statement.principals("Federated"))):
        entries = statement.conditions
        if not any(_narrows(e, f"{provider}:aud", f"{provider}:azp") for e in entries):
            gaps.append(f"audience ({provider}:aud)")
        subject_keys = (f"{provider}:sub", f"{provider}:amr")
        if not any(
            _narrows(e, *subject_keys) and not any(_ANY_SUBJECT.fullmatch(v) for v in e.values)
            for e in entries
        ):
            gaps.append(f"subject ({provider}:sub)")
    return gaps


def _trust_oidc_unscoped(data: RuleInput) -> Iterator[Finding]:
    for address, role in trust_documents(data.config):
        for s in statements(data.config, address, role.trust):
            gaps = oidc_gaps(s) if s.allow else []
            if gaps:
                yield TRUST_OIDC_UNSCOPED.finding(
                    str(address),
                    f"{named(address)} trust {s.label} trusts an OIDC provider without narrowing the "
                    f"{' and '.join(gaps)}: any token it issues could assume the role",
                    location(data.config, address),
                )


TRUST_OIDC_UNSCOPED = register(
    Rule(
        "trust-oidc-unscoped",
        Severity.ERROR,
        waivable=True,
        summary="OIDC trust without both an audience and a subject condition (a subject of `*` or "
        "`repo:*` does not count)",
        remedy="use trusted.oidc with audience and subjects (e.g. repo:ORG/REPO:ref:refs/heads/main)",
        source=ROLES_GUIDE + "id_roles_create_for-idp_oidc.html",
        check=_trust_oidc_unscoped,
    )
)


def _other_accounts(statement: Statement, own: str) -> list[str]:
    accounts = []
    for principal in statement.principals("AWS"):
        match = _ACCOUNT_IN_ARN.match(principal)
        account = match.group(1) if match else principal if re.fullmatch(r"\d{12}", principal) else None
        if account and account not in (own, OWN_ACCOUNT_PLACEHOLDER) and account not in accounts:
            accounts.append(account)
    return accounts


def _trust_cross_account(data: RuleInput) -> Iterator[Finding]:
    own = data.config.account_id or OWN_ACCOUNT_PLACEHOLDER
    for address, role in trust_documents(data.config):
        for s in _assume_statements(statements(data.config, address, role.trust)):
            others = _other_accounts(s, own)
            guarded = requires_mfa(s) or any(
                _narrows(e, "sts:externalid", "aws:principalorgid", "aws:principalorgpaths")
                for e in s.conditions
            )
            if others and not guarded:
                yield TRUST_CROSS_ACCOUNT.finding(
                    str(address),
                    f"{named(address)} trust {s.label} lets account {', '.join(others)} assume the role "
                    "without an ExternalId, PrincipalOrgID or MFA condition",
                    location(data.config, address),
                )


TRUST_CROSS_ACCOUNT = register(
    Rule(
        "trust-cross-account-unguarded",
        Severity.WARNING,
        waivable=True,
        summary="another account is trusted without an sts:ExternalId, aws:PrincipalOrgID or MFA condition",
        remedy="add trusted.external_id (third parties), trusted.require_mfa (people), or aws:PrincipalOrgID",
        source=ROLES_GUIDE + "id_roles_create_for-user_externalid.html",
        check=_trust_cross_account,
    )
)


# --- require_mfa on a full trust document (checked while loading) --------------------

TRUST_MFA_MISSING = register(
    Rule(
        "trust-mfa-missing",
        Severity.ERROR,
        waivable=False,
        summary="a role with a full `trust:` document and `require_mfa: true` has an AWS-principal "
        "statement without `Bool aws:MultiFactorAuthPresent: true`",
        remedy='add Condition: {Bool: {aws:MultiFactorAuthPresent: "true"}} to the statement, '
        "or use trusted: with require_mfa: true",
        source=ROLES_GUIDE + "id_credentials_mfa_configure-api-require.html",
    )
)


def mfa_finding(address: str, trust: Json, where: str) -> Finding | None:
    """The trust-mfa-missing finding for a role declared with ``require_mfa: true``, if any."""
    missing = statements_without_mfa(trust)
    if not missing:
        return None
    return TRUST_MFA_MISSING.finding(
        address,
        f"{named(address)} declares require_mfa: true, but its trust {', '.join(missing)} "
        "lets AWS principals assume it without MFA",
        where,
    )
