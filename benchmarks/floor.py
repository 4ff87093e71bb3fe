"""The read floor: the read calls iamstate's reader makes, by a bare boto3 script.

    .venv/bin/python benchmarks/floor.py READS.json   # reads the account that AWS_* points at

READS.json is :func:`read_list` of iamstate's declared reads (the kinds' listings
and per-item reads), written by the benchmark. The script imports nothing but
boto3, so that its start-up is a bare script's: benchmarks compare iamstate's own
start-up and CPU against it.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CONCURRENCY = 8
"""iamstate's reader's tag_concurrency (bench_scale checks that they still agree)."""
MAX_ATTEMPTS = 10
"""iamstate.aws.session's retries."""


def read_list() -> list[dict[str, Any]]:
    """iamstate's declared reads as plain data (imports iamstate; call it in the benchmark, not here)."""
    from iamstate.aws.read import read_specs
    from iamstate.kinds.base import Listing

    out: list[dict[str, Any]] = []
    for read in read_specs():
        entry = {k: v for k, v in vars(read).items() if k != "select"}
        entry["listing"] = isinstance(read, Listing)
        entry["params"] = dict(entry.get("params", {}))
        entry["result_keys"] = list(read.result_keys)
        out.append(entry)
    return out


def bare_reads(iam: Any, sts: Any, reads: list[dict[str, Any]], concurrency: int = 1) -> dict[str, Any]:
    """Make ``reads`` with plain boto3 calls, as the reader does; returns the responses.

    The same operations, parameters and page sizes, listings first and at once on a
    pool of ``concurrency`` threads, then each per-item read for every item its
    listing returned (in the benchmarks the configuration owns every item, so the
    reader's selection takes them all).
    """
    methods = {api: name for name, api in iam.meta.method_to_api_mapping.items()}
    responses: dict[str, Any] = {"identity": sts.get_caller_identity()}

    def listing(read: dict[str, Any]) -> dict[str, list[Any]] | None:
        out: dict[str, list[Any]] = {key: [] for key in read["result_keys"]}
        try:
            if read["paginated"]:
                config = {"PageSize": read["page_size"]} if read.get("page_size") else {}
                paginator = iam.get_paginator(methods[read["operation"]])
                for page in paginator.paginate(**read["params"], PaginationConfig=config):
                    for key in read["result_keys"]:
                        out[key].extend(page.get(key, []))
            else:
                answer = getattr(iam, methods[read["operation"]])(**read["params"])
                out = {key: answer.get(key, []) for key in read["result_keys"]}
        except ClientError:
            if not read.get("missing_ok"):
                raise
            return None
        return out

    def one(read: dict[str, Any], item: str) -> Any:
        return getattr(iam, methods[read["operation"]])(**{read["param"]: item})

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        listings = {r["name"]: pool.submit(listing, r) for r in reads if r["listing"]}
        per_item = {}
        for read in reads:
            if not read["listing"]:
                items = (listings[read["over"]].result() or {}).get(read["items_key"]) or []
                per_item[read["name"]] = [pool.submit(one, read, str(i[read["item_field"]])) for i in items]
        for name, future in listings.items():
            responses[name] = future.result()
        for name, futures in per_item.items():
            responses[name] = [future.result() for future in futures]
    return responses


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as file:
        reads = json.load(file)
    config = Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}, max_pool_connections=CONCURRENCY + 2
    )
    session = boto3.session.Session()
    read = bare_reads(
        session.client("iam", config=config), session.client("sts", config=config), reads, CONCURRENCY
    )
    print(json.dumps({name: len(value or []) for name, value in read.items() if name != "identity"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
