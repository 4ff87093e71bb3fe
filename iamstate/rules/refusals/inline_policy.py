"""``inline-policy``: the configuration declares an inline policy (pure).

:mod:`iamstate.config.refusals` finds the keys (``inline_policies``,
``policy_document``, ...) and removes them before schema validation; its findings
carry this rule's id and remedy (through the schema's list of unwaivable rules).
"""

from __future__ import annotations

from iamstate.rules.base import LoaderRule


class InlinePolicy(LoaderRule):
    id = "inline-policy"
    order = 110
    summary = "config declares an inline policy (inline_policies, policy_document, ...)"
    remedy = "declare it under policies: and attach it by name"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"
