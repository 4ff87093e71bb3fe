"""``trust-oidc-unscoped``: an OIDC trust any token of the provider could use (pure)."""

from __future__ import annotations

import re

from iamstate.plan import Severity
from iamstate.rules.base import UNKNOWN_TIME, Found, RuleInput, TrustStatementRule
from iamstate.rules.statements import Statement
from iamstate.rules.trust import ROLES_GUIDE, admits_nobody, narrows

_WEB_IDENTITY_PROVIDERS = ("cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com")
_ANY_SUBJECT = re.compile(r"[^:*]*:?\*")
"""Subject values that admit everyone: ``*``, ``repo:*``."""


class TrustOidcUnscoped(TrustStatementRule):
    id = "trust-oidc-unscoped"
    severity = Severity.ERROR
    waivable = True
    order = 430
    summary = "OIDC trust without both an audience and a subject condition (a subject of `*` or `repo:*` does not count)"
    remedy = "use trusted.oidc with audience and subjects (e.g. repo:ORG/REPO:ref:refs/heads/main)"
    source = ROLES_GUIDE + "id_roles_create_for-idp_oidc.html"

    def check(self, statement: Statement, data: RuleInput) -> Found:
        if not statement.allow or admits_nobody(statement, data.now or UNKNOWN_TIME):
            return
        gaps = oidc_gaps(statement)
        if gaps:
            yield (
                f"trusts an OIDC provider without narrowing the {' and '.join(gaps)}: "
                "any token it issues could assume the role"
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
        if not any(narrows(e, f"{provider}:aud", f"{provider}:azp") for e in entries):
            gaps.append(f"audience ({provider}:aud)")
        subject_keys = (f"{provider}:sub", f"{provider}:amr")
        if not any(
            narrows(e, *subject_keys) and not any(_ANY_SUBJECT.fullmatch(v) for v in e.values)
            for e in entries
        ):
            gaps.append(f"subject ({provider}:sub)")
    return gaps
