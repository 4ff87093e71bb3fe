"""Would IAM allow these recorded calls? A small policy evaluator for the strict layer's records.

moto does not enforce IAM authorization, so the tests of ``iamstate permissions``
replay what the strict layer recorded: each call becomes the IAM actions that
:data:`iamstate.permissions.OPERATIONS` says it needs, on the resource ARN its
parameters name, with the request's tags and the resource's tags at that moment
(followed call by call from a snapshot of the account) as the condition context.
The evaluator knows what iamstate's documents use: Allow and Deny, ``*``/``?``
wildcards, and the ``StringEquals``/``StringEqualsIfExists`` operators; any other
operator fails the test rather than guessing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from iamstate.permissions import MFA, OPERATIONS, Grant
from tests.support.strict import Call

Policy = Mapping[str, Any]


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=0 if case else re.IGNORECASE | re.DOTALL) is not None


def _listed(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _condition_holds(condition: Mapping[str, Mapping[str, object]], context: Mapping[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, tests in condition.items():
        if operator not in ("StringEquals", "StringEqualsIfExists"):
            raise AssertionError(f"the evaluator does not know condition operator {operator}")
        for key, wanted in tests.items():
            present = lowered.get(key.lower())
            if present is None:
                if operator == "StringEqualsIfExists":
                    continue
                return False
            if present not in _listed(wanted):
                return False
    return True


def _matches(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if not any(_glob(a, action, case=False) for a in _listed(statement.get("Action", []))):
        return False
    if not any(_glob(r, resource, case=True) for r in _listed(statement.get("Resource", []))):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allows(policy: Policy, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
    """True when ``policy`` allows ``action`` on ``resource`` (an explicit Deny wins)."""
    context = context or {}
    statements = policy["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    if any(s["Effect"] == "Deny" and _matches(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, action, resource, context) for s in statements)


def resolve(policy: Policy, partition: str, account_id: str) -> Policy:
    """The policy with iamstate's ``${partition}`` and ``${account_id}`` replaced."""
    import json

    text = json.dumps(policy).replace("${partition}", partition).replace("${account_id}", account_id)
    loaded: Policy = json.loads(text)
    return loaded


@dataclass
class Entity:
    """What the evaluator follows about one live entity."""

    path: str = "/"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Account:
    """Paths and tags of the account's entities, kept current call by call."""

    account_id: str
    partition: str = "aws"
    entities: dict[tuple[str, str], Entity] = field(default_factory=dict)

    @classmethod
    def snapshot(cls, iam: Any, account_id: str) -> Account:
        """Read every policy, group, role, user and instance profile with its path and tags."""
        account = cls(account_id)
        for role in iam.list_roles()["Roles"]:
            tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
            account.entities["role", role["RoleName"].lower()] = Entity(role["Path"], _tag_map(tags))
        for user in iam.list_users()["Users"]:
            tags = iam.list_user_tags(UserName=user["UserName"])["Tags"]
            account.entities["user", user["UserName"].lower()] = Entity(user["Path"], _tag_map(tags))
        for group in iam.list_groups()["Groups"]:
            account.entities["group", group["GroupName"].lower()] = Entity(group["Path"])
        for policy in iam.list_policies(Scope="Local")["Policies"]:
            tags = iam.list_policy_tags(PolicyArn=policy["Arn"])["Tags"]
            account.entities["policy", policy["Arn"]] = Entity(policy["Path"], _tag_map(tags))
        for profile in iam.list_instance_profiles()["InstanceProfiles"]:
            # The local endpoint has no ListInstanceProfileTags; its list carries the tags.
            name = profile["InstanceProfileName"]
            tags = profile.get("Tags", [])
            account.entities["instance-profile", name.lower()] = Entity(profile["Path"], _tag_map(tags))
        return account

    def _arn(self, resource_type: str, path: str, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:{resource_type}{path}{name}"

    def target(self, grant: Grant, call: Call) -> tuple[str, tuple[str, str] | None]:
        """The ARN a grant of this call acts on, and the key of the entity it names."""
        params = call.params
        if not grant.resource:
            return "*", None
        if grant.resource == MFA:
            return params["SerialNumber"], None
        if grant.resource == "policy" and "PolicyArn" in params:
            return params["PolicyArn"], ("policy", params["PolicyArn"])
        name = params[grant.param]
        if grant.resource == "policy":  # CreatePolicy names the policy by name and path
            arn = self._arn("policy", params.get("Path", "/"), name)
            return arn, ("policy", arn)
        key = (grant.resource, name.lower())
        known = self.entities.get(key)
        path = params.get("Path") or (known.path if known else "/")
        return self._arn(grant.resource, path, name), key

    def follow(self, call: Call, keys: Iterable[tuple[str, str] | None]) -> None:
        """Update paths and tags after the call succeeded."""
        if call.status != 200:
            return
        operation, params = call.operation, call.params
        for key in {k for k in keys if k is not None}:
            if operation.startswith("Create") and operation != "CreatePolicyVersion":
                self.entities[key] = Entity(params.get("Path", "/"), _request_tags(params))
            elif operation.startswith("Tag"):
                self.entities.setdefault(key, Entity()).tags.update(_request_tags(params))
            elif operation.startswith("Untag"):
                entity = self.entities.get(key)
                for tag_key in _members(params, "TagKeys"):
                    if entity is not None:
                        entity.tags.pop(tag_key, None)
            elif operation in {"UpdateUser", "UpdateGroup"} and "NewPath" in params and key in self.entities:
                self.entities[key].path = params["NewPath"]
            elif operation in {
                "DeleteRole",
                "DeleteUser",
                "DeleteGroup",
                "DeletePolicy",
                "DeleteInstanceProfile",
            }:
                self.entities.pop(key, None)


def _tag_map(tags: Iterable[Mapping[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags}


def _members(params: Mapping[str, str], name: str) -> list[str]:
    pattern = re.compile(rf"{name}\.member\.(\d+)$")
    found = sorted((int(m.group(1)), v) for k, v in params.items() if (m := pattern.match(k)))
    return [v for _, v in found]


def _request_tags(params: Mapping[str, str]) -> dict[str, str]:
    keys = {k.rsplit(".", 1)[0]: v for k, v in params.items() if fnmatch.fnmatch(k, "Tags.member.*.Key")}
    return {value: params.get(f"{prefix}.Value", "") for prefix, value in keys.items()}


@dataclass(frozen=True)
class Denied:
    """A recorded call the policy would not allow."""

    operation: str
    action: str
    resource: str
    context: Mapping[str, str]


def denied_calls(policy: Policy, calls: Iterable[Call], account: Account) -> list[Denied]:
    """Replay ``calls`` in order against ``policy``; every action the policy would deny.

    A call whose operation is missing from the permissions table is reported as denied
    under the action ``<missing from OPERATIONS>``.
    """
    resolved = resolve(policy, account.partition, account.account_id)
    out: list[Denied] = []
    for call in calls:
        operation = OPERATIONS.get(call.operation)
        if operation is None:
            out.append(Denied(call.operation, "<missing from OPERATIONS>", "", {}))
            continue
        keys = []
        for grant in operation.grants:
            arn, key = account.target(grant, call)
            keys.append(key)
            context = {f"aws:RequestTag/{k}": v for k, v in _request_tags(call.params).items()}
            entity = account.entities.get(key) if key is not None else None
            if entity is not None and not grant.tagged_request:
                context.update({f"aws:ResourceTag/{k}": v for k, v in entity.tags.items()})
            if not allows(resolved, grant.action, arn, context):
                out.append(Denied(call.operation, grant.action, arn, context))
        account.follow(call, keys)
    return out
