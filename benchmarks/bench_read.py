"""How many API calls and how long reading a large account takes, against the local endpoint.

    .venv/bin/python benchmarks/bench_read.py [--roles 2000 --policies 500 --users 300 --groups 50]

Builds a synthetic account on moto's server (127.0.0.1 only), runs read_account
once, and prints the calls it made beside what a reader that asks per entity
would need. Not a test: it asserts nothing and takes a minute or so at full size.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iamstate.aws.read import PAGE_SIZE, count_by_kind, read_account
from tests.support.moto_server import ACCOUNT_ID, LocalIam

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def policy_document(i: int) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::bucket-{i}/*"}
            ],
        }
    )


def policy_arn(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:policy/bench/policy-{i:04d}"


def retrying(call: Callable[[], Any], attempts: int = 8) -> Any:
    """moto may answer 500 under parallel writes even after botocore's retries."""
    for attempt in range(attempts):
        try:
            return call()
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


def build_account(iam: Any, args: argparse.Namespace) -> int:
    """Create the synthetic account; returns the number of write calls made."""
    p, g, u, r = args.policies, args.groups, args.users, args.roles
    stack_tag = [{"Key": "iamstate:stack", "Value": "bench"}]
    made = 0
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        made += run_all(
            pool,
            iam.create_policy,
            (
                {
                    "PolicyName": f"policy-{i:04d}",
                    "Path": "/bench/",
                    "PolicyDocument": policy_document(i),
                    "Description": f"Synthetic policy {i}",
                    "Tags": stack_tag,
                }
                for i in range(p)
            ),
        )
        made += run_all(pool, iam.create_group, ({"GroupName": f"group-{i:03d}"} for i in range(g)))
        made += run_all(
            pool,
            iam.attach_group_policy,
            (
                {"GroupName": f"group-{i:03d}", "PolicyArn": policy_arn((i * 2 + k) % p)}
                for i in range(g)
                for k in range(2)
            ),
        )
        made += run_all(
            pool,
            iam.create_user,
            (
                {
                    "UserName": f"user-{i:04d}",
                    "Path": "/people/",
                    "Tags": [{"Key": "team", "Value": f"t{i % 7}"}],
                }
                for i in range(u)
            ),
        )
        made += run_all(
            pool,
            iam.add_user_to_group,
            (
                {"UserName": f"user-{i:04d}", "GroupName": f"group-{(i + k) % g:03d}"}
                for i in range(u)
                for k in range(min(2, g))
            ),
        )
        made += run_all(
            pool,
            iam.attach_user_policy,
            ({"UserName": f"user-{i:04d}", "PolicyArn": policy_arn(i % p)} for i in range(u)),
        )
        made += run_all(
            pool,
            iam.create_role,
            (
                {
                    "RoleName": f"role-{i:04d}",
                    "Path": "/apps/",
                    "AssumeRolePolicyDocument": TRUST,
                    "Description": f"Synthetic role {i}",
                    "MaxSessionDuration": 3600 + (i % 4) * 3600,
                    "Tags": [{"Key": "owner", "Value": f"team-{i % 11}"}],
                }
                for i in range(r)
            ),
        )
        made += run_all(
            pool,
            iam.attach_role_policy,
            (
                {"RoleName": f"role-{i:04d}", "PolicyArn": policy_arn((i + k) % p)}
                for i in range(r)
                for k in range(2)
            ),
        )
        made += run_all(
            pool,
            iam.attach_role_policy,
            ({"RoleName": f"role-{i:04d}", "PolicyArn": READ_ONLY_ACCESS} for i in range(0, r, 10)),
        )
        with_profile = range(0, r, 5)
        made += run_all(
            pool,
            iam.create_instance_profile,
            ({"InstanceProfileName": f"role-{i:04d}"} for i in with_profile),
        )
        made += run_all(
            pool,
            iam.add_role_to_instance_profile,
            ({"InstanceProfileName": f"role-{i:04d}", "RoleName": f"role-{i:04d}"} for i in with_profile),
        )
        made += run_all(
            pool,
            iam.update_account_password_policy,
            [{"MinimumPasswordLength": 14, "PasswordReusePrevention": 24}],
        )
    return made


def pages(items: int) -> int:
    return max(1, math.ceil(items / PAGE_SIZE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--roles", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--workers", type=int, default=16, help="threads that build the account")
    parser.add_argument("--tag-concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    if min(args.policies, args.groups) < 1:
        parser.error("--policies and --groups must be at least 1")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    with LocalIam() as local:
        local.reset()
        iam = local.client("iam", max_pool_connections=max(args.workers, args.tag_concurrency) + 2)
        sts = local.client("sts")

        started = time.perf_counter()
        writes = build_account(iam, args)
        built = time.perf_counter() - started
        print(f"endpoint     {local.endpoint} (moto {_moto_version()})")
        print(f"built        {writes} write calls in {built:.1f} s")

        started = time.perf_counter()
        live = read_account(iam, sts, tag_concurrency=args.tag_concurrency)
        wall = time.perf_counter() - started

    counts = count_by_kind(live.state)
    total = sum(live.api_calls.values())
    print(f"read         {wall:.2f} s wall, {total} API calls")
    print("entities     " + ", ".join(f"{kind} {n}" for kind, n in counts.items()))
    print("calls by operation:")
    for operation, n in sorted(live.api_calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {operation:34} {n:6}")

    r, u, g, p = counts.get("role", 0), counts.get("user", 0), counts.get("group", 0), counts.get("policy", 0)
    profiles = counts.get("instance_profile", 0)
    gaad_items = r + u + g + p
    aws_estimate = 1 + pages(gaad_items) + pages(r) + pages(profiles) + 1 + p
    print()
    print("moto ignores MaxItems, so GetAccountAuthorizationDetails answered in one page here.")
    print(
        f"On AWS (MaxItems {PAGE_SIZE}; IAM may return fewer): GAAD ~ceil({gaad_items}/{PAGE_SIZE}) = "
        f"{pages(gaad_items)} pages, ListRoles ceil({r}/{PAGE_SIZE}) = {pages(r)}, "
        f"ListInstanceProfiles {pages(profiles)}, so about {aws_estimate} calls in all."
    )
    page_walks = pages(r) + pages(u) + pages(g) + pages(p)
    per_entity = page_walks + 4 * r + 5 * u + 3 * g + 3 * p
    print()
    print("A per-entity reader would need:")
    print("  pages(ListRoles, ListUsers, ListGroups, ListPolicies)")
    print("  + 4 x roles    (GetRole, ListAttachedRolePolicies, ListRolePolicies, ListRoleTags)")
    print(
        "  + 5 x users    (GetUser, ListGroupsForUser, ListAttachedUserPolicies, ListUserPolicies, ListUserTags)"
    )
    print("  + 3 x groups   (GetGroup, ListAttachedGroupPolicies, ListGroupPolicies)")
    print("  + 3 x policies (GetPolicy, GetPolicyVersion, ListPolicyTags)")
    print("  (+ one Get*Policy per inline policy; none here)")
    print(f"  = {page_walks} + 4x{r} + 5x{u} + 3x{g} + 3x{p} = {per_entity} calls")
    print(
        f"this reader: {total} calls here, ~{aws_estimate} on AWS ({per_entity / max(total, 1):.0f}x fewer)"
    )
    return 0


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


if __name__ == "__main__":
    raise SystemExit(main())
