"""Read the whole live IAM state of an account into the model.

Each kind (:mod:`iamstate.kinds`) declares the read calls that bring it, as data;
this module makes them. The cost grows with pages, not entities (SPEC §4): one
GetCallerIdentity, GetAccountAuthorizationDetails pages, ListRoles pages (GAAD has
no role description or maximum session duration), ListInstanceProfiles pages,
one GetAccountPasswordPolicy, one ListAccountAliases, one ListPolicyTags per
customer policy the caller owns (GAAD returns no policy tags), and one List plus
one Get per identity provider (an account holds at most 100 of each). No per-role
or per-user calls.

Independent reads run concurrently in a bounded pool; a per-item read waits for
the read it iterates. :func:`state_from_responses` turns the responses into model
values; it is pure, so it is tested without an endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import structlog
from botocore.exceptions import ClientError

from iamstate.aws.session import CallCounter, aws_errors, error_code
from iamstate.errors import AwsError
from iamstate.kinds import specs
from iamstate.kinds.base import Listing, PerItem, ReadScope, ReadSpec, Responses
from iamstate.model import Address, Kind, LiveAccount, Resource, State

log = structlog.get_logger()

OwnsPolicy = Callable[[str, str], bool]


def read_account(
    iam: Any,
    sts: Any,
    *,
    owns_policy: OwnsPolicy = lambda path, name: True,
    declared: Callable[[Kind, str], bool] = lambda kind, name: False,
    tag_concurrency: int = 8,
    check_identity: Callable[[str, str], None] | None = None,
) -> LiveAccount:
    """Read every user, group, role, customer policy, instance profile and the password policy.

    ``owns_policy(path, name)`` (is it in the configuration's scope) and
    ``declared(kind, name)`` select the per-item reads worth a call: the tags of owned
    customer policies and of instance profiles a plan could delete. ``owns_policy``
    selects the customer policies whose tags are read
    (one ListPolicyTags each, at most ``tag_concurrency`` at a time); other
    policies are returned with empty tags. The independent list calls run in the
    same bounded pool while GetAccountAuthorizationDetails pages in this thread.
    ``check_identity(account_id, caller_arn)`` runs right after GetCallerIdentity and
    may raise to stop before anything else is read (wrong account, root caller).
    Raises :class:`AwsError` with a one-line message when a call fails.
    """
    if tag_concurrency < 1:
        raise ValueError("tag_concurrency must be at least 1")
    counter = CallCounter()
    counter.attach(iam, sts)
    started = time.monotonic()
    read_at = datetime.now(UTC).isoformat()
    try:
        with aws_errors("sts:GetCallerIdentity"):
            identity = sts.get_caller_identity()
        caller_arn = str(identity["Arn"])
        account_id = str(identity["Account"])
        partition = partition_of(caller_arn)
        log.debug("read.identity", account_id=account_id, caller_arn=caller_arn)
        if check_identity is not None:
            check_identity(account_id, caller_arn)

        with ThreadPoolExecutor(max_workers=tag_concurrency, thread_name_prefix="iamstate-read") as pool:
            try:
                responses = _read_all(iam, pool, ReadScope(owns_policy, declared))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        counter.detach(iam, sts)

    state = state_from_responses(responses)
    api_calls = counter.snapshot()
    log.debug(
        "read.done",
        api_calls=api_calls,
        total_calls=sum(api_calls.values()),
        entities=len(state),
        seconds=round(time.monotonic() - started, 3),
    )
    return LiveAccount(
        state=state,
        account_id=account_id,
        partition=partition,
        caller_arn=caller_arn,
        api_calls=api_calls,
        read_at=read_at,
    )


# --- calls -------------------------------------------------------------------------


def read_specs() -> list[ReadSpec]:
    """Every read the registered kinds declare, each once, in registry order."""
    seen: dict[str, ReadSpec] = {}
    for kind in specs():
        for read in kind.reads:
            seen.setdefault(read.name, read)
    return list(seen.values())


def _read_all(iam: Any, pool: ThreadPoolExecutor, scope: ReadScope) -> dict[str, Any]:
    """Make every declared read: listings concurrently, per-item reads once their listing is in."""
    reads = read_specs()
    listings = {r.name: pool.submit(_listing, iam, r) for r in reads if isinstance(r, Listing)}
    responses: dict[str, Any] = {}
    per_item: dict[str, dict[str, Future[Any]]] = {}
    for read in reads:
        if isinstance(read, PerItem):
            source = listings[read.over].result()
            items = (source or {}).get(read.items_key) or []
            chosen = [i for i in items if read.select is None or read.select(i, scope)]
            per_item[read.name] = {
                str(i[read.item_field]): pool.submit(_one_item, iam, read, str(i[read.item_field]))
                for i in chosen
            }
    for name, future in listings.items():
        responses[name] = future.result()
    for name, futures in per_item.items():
        responses[name] = {item: future.result() for item, future in futures.items()}
    return responses


def _listing(iam: Any, read: Listing) -> dict[str, Any] | None:
    """A listing's items under each result key (None for ``missing_ok`` when IAM says there is none)."""
    out: dict[str, Any] = {key: [] for key in read.result_keys}
    pages = 0
    with aws_errors(f"iam:{read.operation}"):
        try:
            if read.paginated:
                config = {"PageSize": read.page_size} if read.page_size else {}
                paginator = iam.get_paginator(_method(iam, read.operation))
                for page in paginator.paginate(**read.params, PaginationConfig=config):
                    pages += 1
                    for key in read.result_keys:
                        out[key].extend(_kept(read, page.get(key, [])))
            else:
                answer = getattr(iam, _method(iam, read.operation))(**read.params)
                pages = 1
                for key in read.result_keys:
                    found = answer.get(key, [])
                    out[key] = _kept(read, found) if isinstance(found, list) else found
        except ClientError as error:
            if read.missing_ok and error_code(error) == "NoSuchEntity":
                return None
            raise
    log.debug(
        "read.listing",
        operation=read.operation,
        pages=pages,
        **{k: len(v) for k, v in out.items() if isinstance(v, list)},
    )
    return out


def _kept(read: Listing, items: list[Any]) -> list[Any]:
    """``items`` with only the fields ``read.keep`` names (all of them when it names none)."""
    if not read.keep:
        return items
    return [
        {f: item[f] for f in read.keep if f in item} if isinstance(item, dict) else item for item in items
    ]


def _one_item(iam: Any, read: PerItem, item: str) -> dict[str, Any] | None:
    """One per-item call; None when the item was deleted since it was listed."""
    params = {read.param: item}
    with aws_errors(f"iam:{read.operation} ({item})"):
        try:
            if read.paginated:
                merged: dict[str, Any] = {key: [] for key in read.result_keys}
                for page in iam.get_paginator(_method(iam, read.operation)).paginate(**params):
                    for key in read.result_keys:
                        merged[key].extend(page.get(key, []))
                return merged
            answer: dict[str, Any] = getattr(iam, _method(iam, read.operation))(**params)
            return answer
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                log.debug("read.item_vanished", operation=read.operation, item=item)
                return None
            raise


def _method(iam: Any, operation: str) -> str:
    """The client method (and paginator name) of an IAM operation, as botocore names it."""
    for method, api in iam.meta.method_to_api_mapping.items():
        if api == operation:
            return str(method)
    raise AwsError(f"the IAM client has no operation {operation}")


# --- pure converters ---------------------------------------------------------------


def partition_of(arn: str) -> str:
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``); pure."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1]:
        raise AwsError(f"sts:GetCallerIdentity returned an ARN that is not one: {arn!r}")
    return parts[1]


def state_from_responses(responses: Responses) -> State:
    """Assemble the live State from what the declared reads returned (by read name); pure."""
    resources: dict[Address, Resource] = {}
    for kind in specs():
        for resource in kind.from_live(responses):
            resources[kind.address(resource)] = resource
    return State(resources)


def count_by_kind(state: State) -> dict[str, int]:
    """How many entities of each kind a state holds, for logs and reports; pure."""
    counts: dict[str, int] = {}
    for address in state.resources:
        counts[address.kind.value] = counts.get(address.kind.value, 0) + 1
    return dict(sorted(counts.items()))


def missing_policies(iam: Any, arns: list[str], *, concurrency: int = 8) -> list[str]:
    """Those of ``arns`` that IAM does not know (one GetPolicy each, ``concurrency`` at a time).

    For the AWS-managed policies a configuration names that live IAM does not already
    show in use (:func:`iamstate.references.managed_to_look_up`): none in a steady state.
    """
    if not arns:
        return []

    def known(arn: str) -> bool:
        with aws_errors(f"iam:GetPolicy ({arn})"):
            try:
                iam.get_policy(PolicyArn=arn)
            except ClientError as error:
                if error_code(error) == "NoSuchEntity":
                    return False
                raise
        return True

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="iamstate-policies") as pool:
        found = list(pool.map(known, arns))
    missing = [arn for arn, ok in zip(arns, found, strict=True) if not ok]
    log.debug("read.policies", looked_up=len(arns), missing=missing)
    return missing
