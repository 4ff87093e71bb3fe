"""Which live entities a configuration owns, and why the rest is not its to touch (SPEC §3). Pure.

A live entity is *in scope* when its path starts with one of ``scope.paths``, its
name matches no ``scope.ignore`` glob, it is not AWS-reserved and no other stack's
``iamstate:stack`` tag is on it. In scope, it is **owned** (managed: updated, and
deleted when no longer declared) when it carries this stack's tag, or is declared
(it is then *adopted*: apply tags it), or ``scope.prune: all`` makes the scope
exclusive. An undeclared, untagged entity in scope is **unmanaged**: listed in the
plan, reported by drift, never deleted. IAM groups take no tags: an undeclared group
is owned only when no one but this stack's users are in it and no customer policy
but this stack's is attached (or under ``prune: all``).

Never deleted, whatever the configuration says: the protected names
(:data:`PROTECTED_NAMES` and ``scope.protect``) and entities CloudFormation or CDK
created (an ``aws:cloudformation:*`` tag, or CloudFormation's generated-name shape
``<stack>-<LogicalId>-<SUFFIX>``), which are another tool's to manage.

Kinds without a path say how they are owned instead
(:class:`iamstate.kinds.base.Ownership`): account-wide settings while the
configuration declares them; identity providers like path kinds, but never by
``prune: all`` (they are account-wide, not under a path).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
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

PROTECTED_NAMES = (
    "OrganizationAccountAccessRole",
    "AWSControlTowerExecution",
    "aws-controltower-*",
    "stacksets-exec-*",
    "AWSCloudFormationStackSetExecutionRole",
    "cdk-hnb659fds-*",
)
"""Entities that Organizations, Control Tower, StackSets and CDK bootstrap depend on."""

CLOUDFORMATION_TAG_PREFIX = "aws:cloudformation:"
CLOUDFORMATION_NAME = re.compile(r"(?P<stack>.+)-(?P<logical>[A-Za-z0-9]+)-(?P<suffix>[A-Z0-9]{12,13})")
"""CloudFormation's generated names: the stack name, the logical id and a 12 or 13
character suffix of capital letters and digits (``web-WebServerRole-1ABCDE2FGHIJ3``)."""


class Standing(StrEnum):
    """Why iamstate may or may not touch a live entity."""

    OWNED = "owned"
    OUT_OF_SCOPE = "outside scope.paths"
    IGNORED = "matched by scope.ignore"
    RESERVED = "AWS-reserved"
    FOREIGN = "tagged for another stack"
    PROTECTED = "protected: never deleted"
    CLOUDFORMATION = "created by CloudFormation"
    UNMANAGED = "in scope, but neither declared nor tagged for this stack"


UNTOUCHABLE = frozenset(
    {Standing.OUT_OF_SCOPE, Standing.IGNORED, Standing.RESERVED, Standing.FOREIGN, Standing.CLOUDFORMATION}
)
"""Standings of entities a configuration may not declare (a conflict) and never changes."""


def is_protected(name: str, scope: Scope) -> bool:
    """True for a name iamstate never deletes (built-in protected names and ``scope.protect``)."""
    return any(fnmatch.fnmatchcase(name, glob) for glob in (*PROTECTED_NAMES, *scope.protect))


def cloudformation_stack(resource: Resource) -> str | None:
    """The CloudFormation stack that created an entity (by its tags or its name's shape), or None."""
    tags: Mapping[str, str] = getattr(resource, "tags", {})
    if f"{CLOUDFORMATION_TAG_PREFIX}stack-name" in tags:
        return tags[f"{CLOUDFORMATION_TAG_PREFIX}stack-name"]
    if any(key.startswith(CLOUDFORMATION_TAG_PREFIX) for key in tags):
        return "(unnamed)"
    if spec(resource.kind).ownership is Ownership.PATH:
        match = CLOUDFORMATION_NAME.fullmatch(resource.name)
        if match is not None:
            return match.group("stack")
    return None


def standing(resource: Resource, scope: Scope, stack: str) -> Standing:
    """Classify one live entity against the scope and stack by what it is, not by the config (pure).

    ``UNMANAGED`` here means "in scope and untagged": :func:`split_live` decides
    whether it is adopted (declared), pruned (``prune: all``) or left alone.
    """
    found = scope_standing(resource, scope, stack)
    if found is not None:
        return found
    tagged = getattr(resource, "tags", {}).get(STACK_TAG)
    if tagged is None and cloudformation_stack(resource) is not None:
        return Standing.CLOUDFORMATION
    return Standing.OWNED if tagged == stack else Standing.UNMANAGED


def scope_standing(resource: Resource, scope: Scope, stack: str) -> Standing | None:
    """What :func:`standing` says of an entity by the scope, the reserved names and paths and
    the stack tag alone (``OWNED`` for kinds owned by being declared), or None when only its
    tags and name can tell the rest (pure)."""
    mode = spec(resource.kind).ownership
    if mode is Ownership.DECLARED:
        return Standing.OWNED
    tags: Mapping[str, str] = getattr(resource, "tags", {})
    tagged = tags.get(STACK_TAG)
    path = resource.path
    if mode is Ownership.PATH:
        if path.startswith(RESERVED_PATH_PREFIXES):
            return Standing.RESERVED
        if resource.kind is Kind.ROLE and resource.name.startswith("AWSServiceRoleFor"):
            return Standing.RESERVED
    if tagged is not None and tagged != stack:
        return Standing.FOREIGN
    if any(fnmatch.fnmatchcase(resource.name, glob) for glob in scope.ignore):
        return Standing.IGNORED
    if mode is Ownership.PATH and not path.startswith(tuple(scope.paths)):
        return Standing.OUT_OF_SCOPE
    return None


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
    adopted: frozenset[Address] = field(default_factory=frozenset)
    """Owned entities that are declared but not yet tagged for this stack: apply tags them."""


def split_live(
    live: State,
    scope: Scope,
    stack: str,
    *,
    managed_kinds: Collection[Kind],
    declared: Collection[tuple[str, str]] = (),
    absent: Collection[tuple[str, str]] = (),
    adopt_untagged: bool = False,
) -> Split:
    """Split live state into owned entities and the rest, with the reason for each (pure).

    ``managed_kinds``: the kinds the configuration declares (an account setting is
    owned only then). ``declared``: the match keys of declared entities (an untagged
    entity in scope is owned, adopted, when declared). ``absent``: the match keys of
    entities declared ``absent: true`` (a group whose other members are all going is
    this stack's to delete too). ``adopt_untagged``: own every
    untagged entity in scope (``import``, which writes them into a new configuration).
    """
    wanted = set(declared)
    verdicts: dict[Address, Standing] = {}
    adopted: set[Address] = set()
    for address, resource in live.resources.items():
        kind = spec(address.kind)
        if kind.ownership is Ownership.DECLARED and address.kind not in managed_kinds:
            continue
        verdict = standing(resource, scope, stack)
        is_declared = kind.match_key(address) in wanted
        if verdict is Standing.UNMANAGED:
            if is_declared or adopt_untagged:
                verdict = Standing.OWNED
                if kind.tags is not None and kind.tags_read_when_declared:
                    adopted.add(address)
            elif scope.prune == "all" and kind.ownership is Ownership.PATH:
                verdict = Standing.OWNED
        if (
            verdict in (Standing.OWNED, Standing.UNMANAGED)
            and not is_declared
            and is_protected(resource.name, scope)
        ):
            verdict = Standing.PROTECTED
        verdicts[address] = verdict
    # Groups take no tags: one is this stack's when only this stack's users are in it
    # and only this stack's (or AWS's) policies are attached to it.
    going = set(absent)
    owned_users = {
        a.name
        for a, v in verdicts.items()
        if a.kind is Kind.USER and (v is Standing.OWNED or spec(a.kind).match_key(a) in going)
    }
    foreign_policies = {
        getattr(live.resources[a], "arn", "")
        for a, v in verdicts.items()
        if a.kind is Kind.POLICY and v is not Standing.OWNED
    }
    for address, verdict in list(verdicts.items()):
        if address.kind is not Kind.GROUP or verdict is not Standing.UNMANAGED:
            continue
        members = {u.name for u in live.of_kind(Kind.USER) if address.name in getattr(u, "groups", ())}
        attached = set(getattr(live.resources[address], "policies", ()))
        if (
            members <= owned_users
            and not attached & foreign_policies
            and not is_protected(address.name, scope)
        ):
            verdicts[address] = Standing.OWNED
    owned = {a: live.resources[a] for a, v in verdicts.items() if v is Standing.OWNED}
    others = {a: v for a, v in verdicts.items() if v is not Standing.OWNED}
    return Split(State(owned), others, frozenset(adopted))


def owned_by(config: DesiredConfig, live: State) -> Split:
    """What of live state ``config`` owns, and why the rest is not its to touch (pure)."""
    declared = {spec(a.kind).match_key(a) for a in config.state.resources}
    absent = {spec(a.kind).match_key(a) for a in config.absent}
    return split_live(
        live, config.scope, config.stack, managed_kinds=config.managed_kinds, declared=declared, absent=absent
    )
