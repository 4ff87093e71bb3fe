"""The synthetic account the benchmarks share: one shape, as boto3 requests or as an iamstate config.

Entity ``i`` of each kind is named and wired the same way everywhere, so an
account built with :func:`build_account` and one applied from :func:`config`
look alike. Per role: a trust policy, a description, a session duration, an
``owner`` tag, two customer policies, ReadOnlyAccess on every 10th role and an
instance profile on every 5th. Per group: two customer policies. Per user: a
``team`` tag, two groups (fewer if there are fewer groups) and one customer policy.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from tests.support.moto_server import ACCOUNT_ID

STACK = "bench"
POLICY_PATH = "/bench/"
USER_PATH = "/people/"
ROLE_PATH = "/apps/"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TRUST_DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
TRUST = json.dumps(TRUST_DOCUMENT)
MINIMUM_PASSWORD_LENGTH = 14
PASSWORD_REUSE_PREVENTION = 24


@dataclass(frozen=True)
class Shape:
    """How many entities of each kind the account holds."""

    roles: int
    policies: int
    users: int
    groups: int

    @classmethod
    def for_roles(cls, roles: int) -> Shape:
        """The benchmarks' proportions: per 1,000 roles 250 policies, 150 users and 25 groups."""
        return cls(roles, max(1, roles // 4), max(1, roles * 3 // 20), max(1, roles // 40))


def policy_name(i: int) -> str:
    return f"policy-{i:04d}"


def group_name(i: int) -> str:
    return f"group-{i:03d}"


def user_name(i: int) -> str:
    return f"user-{i:04d}"


def role_name(i: int) -> str:
    return f"role-{i:04d}"


def policy_arn(i: int, account_id: str = ACCOUNT_ID) -> str:
    return f"arn:aws:iam::{account_id}:policy{POLICY_PATH}{policy_name(i)}"


def policy_document_json(i: int) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::bucket-{i}/*"}
        ],
    }


def policy_document(i: int) -> str:
    return json.dumps(policy_document_json(i))


def policy_description(i: int) -> str:
    return f"Synthetic policy {i}"


def role_description(i: int) -> str:
    return f"Synthetic role {i}"


def max_session_duration(i: int) -> int:
    return 3600 + (i % 4) * 3600


def user_team(i: int) -> str:
    return f"t{i % 7}"


def role_owner(i: int) -> str:
    return f"team-{i % 11}"


def group_policies(shape: Shape, i: int) -> list[int]:
    """The customer policies (by index) attached to group ``i``."""
    return [(i * 2 + k) % shape.policies for k in range(2)]


def user_groups(shape: Shape, i: int) -> list[int]:
    """The groups (by index) user ``i`` belongs to."""
    return [(i + k) % shape.groups for k in range(min(2, shape.groups))]


def user_policy(shape: Shape, i: int) -> int:
    """The customer policy (by index) attached to user ``i``."""
    return i % shape.policies


def role_policies(shape: Shape, i: int) -> list[int]:
    """The customer policies (by index) attached to role ``i``."""
    return [(i + k) % shape.policies for k in range(2)]


def role_has_read_only(i: int) -> bool:
    return i % 10 == 0


def role_has_instance_profile(i: int) -> bool:
    return i % 5 == 0


# --- as an iamstate configuration ---------------------------------------------------------


def config(shape: Shape, account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    """The account as one iamstate configuration document (YAML-ready)."""
    return {
        "account": {"id": account_id, "stack": STACK},
        "password_policy": {
            "minimum_length": MINIMUM_PASSWORD_LENGTH,
            "reuse_prevention": PASSWORD_REUSE_PREVENTION,
        },
        "policies": [
            {
                "name": policy_name(i),
                "path": POLICY_PATH,
                "description": policy_description(i),
                "document": policy_document_json(i),
            }
            for i in range(shape.policies)
        ],
        "groups": [
            {"name": group_name(i), "policies": [policy_name(p) for p in group_policies(shape, i)]}
            for i in range(shape.groups)
        ],
        "users": [
            {
                "name": user_name(i),
                "path": USER_PATH,
                "groups": [group_name(g) for g in user_groups(shape, i)],
                "policies": [policy_name(user_policy(shape, i))],
                "tags": {"team": user_team(i)},
            }
            for i in range(shape.users)
        ],
        "roles": [
            {
                "name": role_name(i),
                "path": ROLE_PATH,
                "description": role_description(i),
                "trust": TRUST_DOCUMENT,
                "policies": [policy_name(p) for p in role_policies(shape, i)]
                + ([READ_ONLY_ACCESS] if role_has_read_only(i) else []),
                "max_session_duration": max_session_duration(i),
                "instance_profile": role_has_instance_profile(i),
                "tags": {"owner": role_owner(i)},
            }
            for i in range(shape.roles)
        ],
    }


# --- built directly with boto3 --------------------------------------------------------------


def retrying(call: Callable[[], Any], attempts: int = 8) -> Any:
    """moto may answer 500 under parallel writes even after botocore's retries (as an HTML page,
    which botocore cannot parse)."""
    for attempt in range(attempts):
        try:
            return call()
        except ResponseParserError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status < 500 or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def run_all(pool: ThreadPoolExecutor, method: Callable[..., Any], requests: Iterable[dict[str, Any]]) -> int:
    """Call ``method(**request)`` for every request on the pool; returns how many calls were made."""
    futures = [pool.submit(retrying, functools.partial(method, **request)) for request in requests]
    for future in futures:
        future.result()
    return len(futures)


def build_account(iam: Any, shape: Shape, workers: int) -> int:
    """Create the account with plain boto3 calls on ``workers`` threads; returns the write calls made."""
    p, g, u, r = shape.policies, shape.groups, shape.users, shape.roles
    stack_tag = [{"Key": "iamstate:stack", "Value": STACK}]
    made = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        made += run_all(
            pool,
            iam.create_policy,
            (
                {
                    "PolicyName": policy_name(i),
                    "Path": POLICY_PATH,
                    "PolicyDocument": policy_document(i),
                    "Description": policy_description(i),
                    "Tags": stack_tag,
                }
                for i in range(p)
            ),
        )
        made += run_all(pool, iam.create_group, ({"GroupName": group_name(i)} for i in range(g)))
        made += run_all(
            pool,
            iam.attach_group_policy,
            (
                {"GroupName": group_name(i), "PolicyArn": policy_arn(k)}
                for i in range(g)
                for k in group_policies(shape, i)
            ),
        )
        made += run_all(
            pool,
            iam.create_user,
            (
                {
                    "UserName": user_name(i),
                    "Path": USER_PATH,
                    "Tags": [{"Key": "team", "Value": user_team(i)}],
                }
                for i in range(u)
            ),
        )
        made += run_all(
            pool,
            iam.add_user_to_group,
            (
                {"UserName": user_name(i), "GroupName": group_name(k)}
                for i in range(u)
                for k in user_groups(shape, i)
            ),
        )
        made += run_all(
            pool,
            iam.attach_user_policy,
            ({"UserName": user_name(i), "PolicyArn": policy_arn(user_policy(shape, i))} for i in range(u)),
        )
        made += run_all(
            pool,
            iam.create_role,
            (
                {
                    "RoleName": role_name(i),
                    "Path": ROLE_PATH,
                    "AssumeRolePolicyDocument": TRUST,
                    "Description": role_description(i),
                    "MaxSessionDuration": max_session_duration(i),
                    "Tags": [{"Key": "owner", "Value": role_owner(i)}],
                }
                for i in range(r)
            ),
        )
        made += run_all(
            pool,
            iam.attach_role_policy,
            (
                {"RoleName": role_name(i), "PolicyArn": policy_arn(k)}
                for i in range(r)
                for k in role_policies(shape, i)
            ),
        )
        made += run_all(
            pool,
            iam.attach_role_policy,
            (
                {"RoleName": role_name(i), "PolicyArn": READ_ONLY_ACCESS}
                for i in range(r)
                if role_has_read_only(i)
            ),
        )
        with_profile = [i for i in range(r) if role_has_instance_profile(i)]
        made += run_all(
            pool,
            iam.create_instance_profile,
            ({"InstanceProfileName": role_name(i), "Path": ROLE_PATH} for i in with_profile),
        )
        made += run_all(
            pool,
            iam.add_role_to_instance_profile,
            ({"InstanceProfileName": role_name(i), "RoleName": role_name(i)} for i in with_profile),
        )
        made += run_all(
            pool,
            iam.update_account_password_policy,
            [
                {
                    "MinimumPasswordLength": MINIMUM_PASSWORD_LENGTH,
                    "PasswordReusePrevention": PASSWORD_REUSE_PREVENTION,
                }
            ],
        )
    return made
