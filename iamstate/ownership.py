"""Which live entities a configuration owns (SPEC §3). Pure.

An entity is owned when its path starts with one of ``scope.paths``, its name
matches no ``scope.ignore`` glob, it is not AWS-reserved, and it carries no
``iamstate:stack`` tag naming another stack. Kinds without a path say how they
are owned instead (:class:`iamstate.kinds.base.Ownership`): account-wide settings
while the configuration declares them, identity providers when they carry this
stack's tag or are declared.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from iamstate.kinds import Ownership, spec
from iamstate.model import (
    RESERVED_PATH_PREFIXES,
    STACK_TAG,
    Address,
    DesiredConfig,
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
    UNTAGGED = "not tagged for this stack and not declared"
    UNDECLARED = "an account setting this configuration does not declare"


def standing(resource: Resource, scope: Scope, stack: str) -> Standing:
    """Classify one live entity against the scope and stack (pure).

    Kinds not owned by path (account settings, identity providers) are judged by
    their tag here; :func:`split_live` adds what the configuration declares.
    """
    mode = spec(resource.kind).ownership
    if mode is Ownership.DECLARED:
        return Standing.OWNED
    tags: Mapping[str, str] = getattr(resource, "tags", {})
    tagged = tags.get(STACK_TAG)
    path = resource.path
    if mode is Ownership.PATH:
        if any(path.startswith(prefix) for prefix in RESERVED_PATH_PREFIXES):
            return Standing.RESERVED
        if resource.kind is Kind.ROLE and resource.name.startswith("AWSServiceRoleFor"):
            return Standing.RESERVED
    if tagged is not None and tagged != stack:
        return Standing.FOREIGN
    if any(fnmatch.fnmatchcase(resource.name, glob) for glob in scope.ignore):
        return Standing.IGNORED
    if mode is Ownership.TAG:
        return Standing.OWNED if tagged == stack else Standing.UNTAGGED
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
class Split:
    """Live state split into what the configuration owns and what it must not touch."""

    owned: State
    others: Mapping[Address, Standing]


def split_live(
    live: State,
    scope: Scope,
    stack: str,
    *,
    managed_kinds: Collection[Kind],
    declared: Collection[tuple[str, str]] = (),
    adopt_untagged: bool = False,
) -> Split:
    """Split live state into owned entities and the rest, with the reason for each (pure).

    ``managed_kinds``: the kinds the configuration declares (an account setting is
    owned only then). ``declared``: the match keys of declared entities (an untagged
    identity provider is owned when declared). ``adopt_untagged``: own untagged
    providers too (``import``, which writes them into a new configuration).
    """
    owned: dict[Address, Resource] = {}
    others: dict[Address, Standing] = {}
    wanted = set(declared)
    for address, resource in live.resources.items():
        mode = spec(address.kind).ownership
        if mode is Ownership.DECLARED and address.kind not in managed_kinds:
            continue
        verdict = standing(resource, scope, stack)
        if verdict is Standing.UNTAGGED and (
            adopt_untagged or spec(address.kind).match_key(address) in wanted
        ):
            verdict = Standing.OWNED
        if verdict is Standing.OWNED:
            owned[address] = resource
        else:
            others[address] = verdict
    return Split(State(owned), others)


def owned_by(config: DesiredConfig, live: State) -> Split:
    """What of live state ``config`` owns, and why the rest is not its to touch (pure)."""
    declared = {spec(a.kind).match_key(a) for a in config.state.resources}
    return split_live(live, config.scope, config.stack, managed_kinds=config.managed_kinds, declared=declared)
