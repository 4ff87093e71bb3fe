"""Rules the loader enforces while reading YAML: inline policies and credentials (pure).

Their findings come from :mod:`iamstate.config.refusals`, which finds the keys and
removes them before schema validation; the rules are declared here so that the
catalogue, the README and the remedies stay in one place.
"""

from __future__ import annotations

from iamstate.plan import Severity
from iamstate.rules import Rule, register

INLINE_POLICY = register(
    Rule(
        "inline-policy",
        Severity.ERROR,
        waivable=False,
        summary="config declares an inline policy (inline_policies, policy_document, ...)",
        remedy="declare it under policies: and attach it by name",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html",
    )
)

CREDENTIALS_IN_CONFIG = register(
    Rule(
        "credentials-in-config",
        Severity.ERROR,
        waivable=False,
        summary="config declares passwords, access keys or root credentials",
        remedy="remove the credential; iamstate never manages credentials — use your identity provider "
        "or a secret store",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
    )
)
