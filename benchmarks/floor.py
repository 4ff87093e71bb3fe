"""The read floor: the read calls iamstate's reader makes, by a bare boto3 script.

    .venv/bin/python benchmarks/floor.py      # reads the account that AWS_* points at

Imports nothing but boto3 (and this file), so that its start-up is a bare
script's: benchmarks compare iamstate's own start-up and CPU against it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

AUTHORIZATION_DETAILS_FILTER = ("User", "Role", "Group", "LocalManagedPolicy")
PAGE_SIZE = 1000
"""As iamstate.aws.read has them (bench_scale checks that they still agree)."""
CONCURRENCY = 8
"""iamstate's reader's tag_concurrency."""
MAX_ATTEMPTS = 10
"""iamstate.aws.session's retries."""


def bare_reads(iam: Any, sts: Any, concurrency: int = 1) -> dict[str, list[Any]]:
    """What iamstate's reader reads, by plain boto3 calls; returns the items read.

    The same operations and page sizes: GetCallerIdentity, GetAccountAuthorizationDetails
    pages, ListRoles and ListInstanceProfiles pages, GetAccountPasswordPolicy, and one
    ListPolicyTags per customer policy. With ``concurrency`` above 1 the reader's own
    overlap: the list calls and the password policy run beside the GAAD pages, and the
    tag reads ``concurrency`` at a time; with 1, one call after another.
    """
    read: dict[str, list[Any]] = {"identity": [sts.get_caller_identity()]}

    def listed(operation: str, key: str) -> list[Any]:
        items: list[Any] = []
        for page in iam.get_paginator(operation).paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
            items.extend(page[key])
        return items

    def password_policy() -> Any:
        try:
            return iam.get_account_password_policy()
        except ClientError:
            return None

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        side = [
            pool.submit(listed, "list_roles", "Roles"),
            pool.submit(listed, "list_instance_profiles", "InstanceProfiles"),
            pool.submit(password_policy),
        ]
        if concurrency == 1:
            for future in side:
                future.result()
        for page in iam.get_paginator("get_account_authorization_details").paginate(
            Filter=list(AUTHORIZATION_DETAILS_FILTER), PaginationConfig={"PageSize": PAGE_SIZE}
        ):
            read.setdefault("details", []).append(page)
        arns = [policy["Arn"] for page in read["details"] for policy in page.get("Policies", [])]
        read["tags"] = list(pool.map(lambda arn: iam.list_policy_tags(PolicyArn=arn), arns))
        read["Roles"], read["InstanceProfiles"], password = (future.result() for future in side)
        read["password_policy"] = [password]
    return read


def main() -> int:
    config = Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}, max_pool_connections=CONCURRENCY + 2
    )
    session = boto3.session.Session()
    read = bare_reads(session.client("iam", config=config), session.client("sts", config=config), CONCURRENCY)
    print(json.dumps({"pages": len(read["details"]), "policy_tags": len(read["tags"])}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
