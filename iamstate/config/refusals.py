"""Config-time refusals: inline policies and credentials written into the configuration.

These are not schema errors but safety findings (``inline-policy``,
``credentials-in-config``) that refuse the command with exit 3. They are found
before schema validation and the offending keys are removed, so the same key does
not also show up as "unknown key". The rules themselves live in
``iamstate/rules/refusals/``; their remedies reach the loader through the schema.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from iamstate.config.schema import unwaivable_remedy
from iamstate.config.where import entity_at, subject
from iamstate.config.yamlpos import YamlFile, YamlPath
from iamstate.model import Json
from iamstate.plan import Finding, Severity

INLINE_POLICY = "inline-policy"
CREDENTIALS_IN_CONFIG = "credentials-in-config"

# Keys are compared with everything but letters and digits removed, lower-cased, so
# that inline_policies, inlinePolicies and inline-policies are all caught.
_INLINE_KEYS = {"inlinepolicies", "inlinepolicy", "policydocument"}
_CREDENTIAL_KEYS = {
    "password",
    "passwords",
    "loginprofile",
    "accesskey",
    "accesskeys",
    "accesskeyid",
    "secretaccesskey",
    "sshkey",
    "sshkeys",
    "sshpublickey",
    "sshpublickeys",
    "signingcertificate",
    "signingcertificates",
    "servicespecificcredential",
    "servicespecificcredentials",
    "credentials",
    "mfadevice",
    "mfadevices",
    "root",
}
_CREDENTIAL_WORDS = ("password", "secret", "privatekey", "sessiontoken")

_ALLOWED: set[YamlPath] = {("password_policy",), ("credentials",), ("mfa", "root")}
"""Keys that look like credentials but are iamstate's own settings."""

_OPAQUE_KEYS = {"document", "trust", "tags", "exceptions"}
"""Values that are data, not configuration: policy documents, tags, waiver reasons."""


def _squash(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def refusal_rule(path: YamlPath) -> str | None:
    """The rule a key at ``path`` violates, or None."""
    return _rule_at(path[:-1], path[-1]) if path else None


def _rule_at(parent: YamlPath, key: object) -> str | None:
    # The key's spelling first (cached): the path is made only for a key that looks refused.
    if not isinstance(key, str):
        return None
    rule = _key_rule(key)
    return None if rule is None or (*parent, key) in _ALLOWED else rule


@functools.lru_cache(maxsize=4096)
def _key_rule(name: str) -> str | None:
    # Keys repeat (every entity has a name, a path, tags): classify each spelling once.
    key = _squash(name)
    if key in _INLINE_KEYS:
        return INLINE_POLICY
    if key in _CREDENTIAL_KEYS or key.startswith("root") or any(w in key for w in _CREDENTIAL_WORDS):
        return CREDENTIALS_IN_CONFIG
    return None


def take_refusals(file: YamlFile) -> list[Finding]:
    """Find refused keys in ``file``, remove them from its data, and return the findings."""
    findings: list[Finding] = []
    if file.key_names is None or any(_key_rule(key) for key in file.key_names):
        paths = list(_refused_paths(file.data, ()))
    else:  # no key below the top level is of a refused spelling (most files): no walk
        top = file.data if isinstance(file.data, dict) else {}
        paths = [(key,) for key in top if _rule_at((), key) is not None]
    for path in paths:
        rule = refusal_rule(path)
        assert rule is not None
        findings.append(_finding(file, path, rule))
        parent = file.get(path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return findings


def _refused_paths(value: Json, path: YamlPath) -> Iterator[YamlPath]:
    # Only mappings and lists are walked into: a scalar holds no key.
    if isinstance(value, dict):
        for key, child in value.items():
            if _rule_at(path, key) is not None:
                yield (*path, key)
            elif key not in _OPAQUE_KEYS and isinstance(child, (dict, list)):
                yield from _refused_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, (dict, list)):
                yield from _refused_paths(child, (*path, index))


def _finding(file: YamlFile, path: YamlPath, rule: str) -> Finding:
    key = str(path[-1])
    address = "config"
    found = entity_at(path)
    if found is not None:
        kind, entity = found
        name = kind.name_of(file.get(entity))
        if name:
            address = f"{kind.kind.value}.{name}"
    owner = subject(file, path[:-1])
    if rule == INLINE_POLICY:
        message = f"{owner} declares an inline policy ('{key}'); iamstate manages only managed policies"
    else:
        message = f"{owner} declares a credential ('{key}'); credentials never belong in the configuration"
    return Finding(
        rule, Severity.ERROR, address, message, unwaivable_remedy(rule), location=str(file.key_at(path))
    )
