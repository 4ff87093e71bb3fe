"""What IAM would refuse in a declaration, found while the configuration loads (pure).

The schema checks each value's shape; these checks need IAM's own rules
(:mod:`iamstate.constraints`): the characters IAM takes in tags and descriptions,
the stricter path of managed policies, and the quotas on attached policies and
group memberships (``account.quotas`` raises them for an account whose quotas AWS
raised). Each problem is a :class:`~iamstate.errors.Diagnostic` at the key or value
that causes it, so that ``validate`` fails where ``apply`` would have failed after
the merge.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from iamstate.constraints import POLICY_PATH, Quotas, description_problem, tag_text_problem
from iamstate.errors import Diagnostic
from iamstate.model import Kind

if TYPE_CHECKING:
    from iamstate.config.build import Declared

_QUOTAS = {
    Kind.ROLE: ("managed_policies_per_role", "managed policies attached", "role"),
    Kind.GROUP: ("managed_policies_per_group", "managed policies attached", "group"),
    Kind.USER: ("managed_policies_per_user", "managed policies attached", "user"),
}


def shown(text: str) -> str:
    """A value as a message quotes it, control and non-ASCII characters escaped."""
    return json.dumps(text, ensure_ascii=True)


def declaration_problems(d: Declared, resource: Any, quotas: Quotas) -> Iterator[Diagnostic]:
    """Everything IAM would refuse in one declaration and the resource built from it."""
    data = d.data if isinstance(d.data, dict) else {}
    tags = data.get("tags")
    if isinstance(tags, dict):
        for key, value in tags.items():
            problem = tag_text_problem(str(key), key=True)
            if problem:
                yield Diagnostic(
                    f"{d.what('tags')} key {shown(str(key))} {problem}",
                    d.file.key_at((*d.path, "tags", key)),
                )
            problem = tag_text_problem(str(value), key=False) if isinstance(value, str) else None
            if problem:
                yield Diagnostic(f"{d.what('tags', key)} value {shown(value)} {problem}", d.at("tags", key))
    description = data.get("description")
    if isinstance(description, str):
        problem = description_problem(description)
        if problem:
            yield Diagnostic(f"{d.what('description')} {problem}", d.at("description"))
    path = data.get("path")
    if d.kind is Kind.POLICY and isinstance(path, str) and not POLICY_PATH.fullmatch(path):
        bad = sorted({c for c in path if not POLICY_PATH.fullmatch(f"/{c}/") and c != "/"})
        yield Diagnostic(
            f"{d.what('path')} {shown(path)} holds {' '.join(shown(c) for c in bad) or 'an empty segment'}; "
            "a managed policy's path takes only letters, digits and .,+@=_- between slashes",
            d.at("path"),
        )
    yield from _quota_problems(d, data, resource, quotas)


def _quota_problems(
    d: Declared, data: Mapping[str, Any], resource: Any, quotas: Quotas
) -> Iterator[Diagnostic]:
    quota = _QUOTAS.get(d.kind)
    attached = getattr(resource, "policies", None)
    if quota is not None and attached is not None:
        field, what, label = quota
        limit = getattr(quotas, field)
        if len(attached) > limit:
            where = d.at("policies") if "policies" in data else d.key_at()
            yield Diagnostic(
                f"{d.what('policies')}: {len(attached)} {what}, but IAM allows {limit} per {label}",
                where,
                f"attach fewer (combine policies), or set account.quotas.{field} if AWS raised your quota",
            )
    groups = getattr(resource, "groups", None)
    if d.kind is Kind.USER and groups is not None and len(groups) > quotas.groups_per_user:
        yield Diagnostic(
            f"{d.what('groups')}: member of {len(groups)} groups, but IAM allows {quotas.groups_per_user} per user",
            d.at("groups"),
            "merge groups, or set account.quotas.groups_per_user if AWS raised your quota",
        )
