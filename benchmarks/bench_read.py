"""How many API calls and how long reading a large account takes, against the local endpoint.

    .venv/bin/python benchmarks/bench_read.py [--roles 2000 --policies 500 --users 300 --groups 50]

Builds a synthetic account on moto's server (127.0.0.1 only), runs read_account
once, and prints the calls it made beside what a reader that asks per entity
would need. Not a test: it asserts nothing and takes a minute or so at full size.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import Shape, build_account
from iamstate.aws.read import PAGE_SIZE, count_by_kind, read_account
from tests.support.moto_server import LocalIam


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
        shape = Shape(roles=args.roles, policies=args.policies, users=args.users, groups=args.groups)
        writes = build_account(iam, shape, args.workers)
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
