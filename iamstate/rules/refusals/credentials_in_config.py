"""``credentials-in-config``: the configuration declares a credential (pure).

:mod:`iamstate.config.refusals` finds the keys (passwords, access keys, SSH keys,
root anything) and removes them before schema validation; its findings carry this
rule's id and remedy (through the schema's list of unwaivable rules).
"""

from __future__ import annotations

from iamstate.rules.base import LoaderRule


class CredentialsInConfig(LoaderRule):
    id = "credentials-in-config"
    order = 120
    summary = "config declares passwords, access keys or root credentials"
    remedy = (
        "remove the credential; iamstate never manages credentials — use your identity provider "
        "or a secret store"
    )
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"
