"""Which live entities a configuration owns (SPEC §3). Pure.

An entity is owned when its path starts with one of ``scope.paths``, its name
matches no ``scope.ignore`` glob, it is not AWS-reserved, and it carries no
``iamstate:stack`` tag naming another stack.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from iamstate.model import (
    RESERVED_PATH_PREFIXES,
    STACK_TAG,
    Address,
    Kind,
    Resource,
    Scope,
    State,
)


class Standing(StrEnum):
    """Why iamstate may or may not touch a live entity."""

    OWNED = "owned"
    OUT_OF_SCOPE = "outside scope.paths"
    IGNORED = "matched by scope.ignore"
    RESERVED = "AWS-reserved"
    FOREIGN = "tagged for another stack"


def standing(resource: Resource, scope: Scope, stack: str) -> Standing:
    """Classify one live entity against the scope and stack (pure)."""
    if resource.kind is Kind.PASSWORD_POLICY:
        return Standing.OWNED
    path = resource.path
    if any(path.startswith(prefix) for prefix in RESERVED_PATH_PREFIXES):
        return Standing.RESERVED
    if resource.kind is Kind.ROLE and resource.name.startswith("AWSServiceRoleFor"):
        return Standing.RESERVED
    tags: Mapping[str, str] = getattr(resource, "tags", {})
    other_stack = tags.get(STACK_TAG)
    if other_stack is not None and other_stack != stack:
        return Standing.FOREIGN
    if any(fnmatch.fnmatchcase(resource.name, glob) for glob in scope.ignore):
        return Standing.IGNORED
    if not any(path.startswith(prefix) for prefix in scope.paths):
        return Standing.OUT_OF_SCOPE
    return Standing.OWNED


def owns_path_and_name(scope: Scope, path: str, name: str) -> bool:
    """True when ``path``/``name`` fall inside the scope (tags not considered); pure."""
    if any(path.startswith(prefix) for prefix in RESERVED_PATH_PREFIXES):
        return False
    if any(fnmatch.fnmatchcase(name, glob) for glob in scope.ignore):
        return False
    return any(path.startswith(prefix) for prefix in scope.paths)


@dataclass(frozen=True)
class Ownership:
    """Live state split into what the configuration owns and what it must not touch."""

    owned: State
    others: Mapping[Address, Standing]


def split_live(live: State, scope: Scope, stack: str, *, manages_password_policy: bool) -> Ownership:
    """Split live state into owned entities and the rest, with the reason for each (pure)."""
    owned: dict[Address, Resource] = {}
    others: dict[Address, Standing] = {}
    for address, resource in live.resources.items():
        if address.kind is Kind.PASSWORD_POLICY and not manages_password_policy:
            continue
        verdict = standing(resource, scope, stack)
        if verdict is Standing.OWNED:
            owned[address] = resource
        else:
            others[address] = verdict
    return Ownership(State(owned), others)
