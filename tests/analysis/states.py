"""Small states built by hand for the analysis tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from iamstate.kinds.group import Group
from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role
from iamstate.kinds.user import User
from iamstate.model import Address, Resource, State, address_of
from iamstate.policy import normalize

ACCOUNT = "111111111111"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def policy(name: str, *statements: Mapping[str, Any]) -> ManagedPolicy:
    return ManagedPolicy(name, document=normalize(document(*statements)), arn=arn("policy", name))


def group(name: str, *policies: str) -> Group:
    return Group(name, policies=frozenset(_refs(policies)), arn=arn("group", name))


def user(name: str, *policies: str, groups: Iterable[str] = (), **extra: Any) -> User:
    return User(
        name, groups=frozenset(groups), policies=frozenset(_refs(policies)), arn=arn("user", name), **extra
    )


def role(name: str, *policies: str, trust: Mapping[str, Any] | None = None, **extra: Any) -> Role:
    trust = trust or document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    return Role(
        name, trust=normalize(trust), policies=frozenset(_refs(policies)), arn=arn("role", name), **extra
    )


def trusting(
    *principals: str, service: str = "", condition: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    principal: dict[str, Any] = {"Service": service} if service else {"AWS": list(principals)}
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return document(statement)


def _refs(names: Iterable[str]) -> list[str]:
    return [n if n.startswith("arn:") else arn("policy", n) for n in names]


def state(*resources: Resource) -> State:
    found: dict[Address, Resource] = {address_of(r): r for r in resources}
    return State(found)
