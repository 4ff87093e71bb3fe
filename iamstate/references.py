"""What a configuration names that must exist in the account, checked against live IAM (pure).

IAM refuses to attach a policy that does not exist, or that belongs to another
account, and refuses a trust policy whose principal is a role or user of this
account that does not exist ("Invalid principal"). The loader cannot know this; at
plan time, with live IAM read, these become located errors (exit 1) naming the
referring ``file:line``, before apply would fail half way:

- a policy named by its ARN in another partition than the account's;
- an AWS-managed policy that AWS does not have (``arn:aws:iam::aws:policy/NoSuch``;
  which ones is the shell's to find out, :func:`managed_to_look_up`);
- another account's customer policy;
- a customer policy of this account that is neither declared nor live;
- a trust policy naming a role or user of this account that is neither declared nor live.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping

from iamstate.constraints import arn_account, arn_partition
from iamstate.errors import Diagnostic
from iamstate.model import Address, DesiredConfig, Json, Kind, LiveAccount

_PRINCIPAL = re.compile(r"arn:[^:]+:iam::(?P<account>\d{12}):(?P<type>role|user)/(?:.*/)?(?P<name>[^/]+)")


def _used_live(live: LiveAccount) -> set[str]:
    """Every policy ARN live IAM shows attached or used as a permissions boundary (it exists)."""
    used: set[str] = set()
    for resource in live.state.resources.values():
        used |= set(getattr(resource, "policies", ()) or ())
        boundary = getattr(resource, "permissions_boundary", None)
        if boundary:
            used.add(boundary)
        arn = getattr(resource, "arn", "")
        if resource.kind is Kind.POLICY and arn:
            used.add(arn)
    return used


def managed_to_look_up(config: DesiredConfig, live: LiveAccount) -> list[str]:
    """The AWS-managed policy ARNs the configuration names that live IAM does not already show
    in use, sorted: only these cost a GetPolicy to find out whether AWS has them."""
    used = {arn.lower() for arn in _used_live(live)}
    return sorted(
        {
            ref.arn
            for ref in config.policy_references
            if arn_account(ref.arn) == "aws"
            and arn_partition(ref.arn) == live.partition
            and ref.arn.lower() not in used
        }
    )


def reference_problems(
    config: DesiredConfig, live: LiveAccount, missing_managed: Collection[str] = ()
) -> list[Diagnostic]:
    """Every reference of ``config`` that live IAM cannot honour (``missing_managed``: the
    AWS-managed ARNs AWS said it does not have)."""
    return [*_policy_problems(config, live, set(missing_managed)), *_principal_problems(config, live)]


def _policy_problems(config: DesiredConfig, live: LiveAccount, missing: set[str]) -> Iterator[Diagnostic]:
    declared = {str(getattr(r, "arn", "")).lower() for r in config.state.of_kind(Kind.POLICY)}
    existing = {str(getattr(r, "arn", "")).lower() for r in live.state.of_kind(Kind.POLICY)}
    for ref in config.policy_references:
        partition, account = arn_partition(ref.arn), arn_account(ref.arn)
        if partition != live.partition:
            yield Diagnostic(
                f"{ref.what} '{ref.arn}' is in partition {partition}, but account {live.account_id} is in "
                f"{live.partition}",
                ref.location,
                "write arn:${partition}:... so that the ARN follows the account",
            )
        elif account == "aws":
            if ref.arn in missing:
                yield Diagnostic(
                    f"{ref.what} '{ref.arn}' does not exist: AWS has no managed policy of that name",
                    ref.location,
                    "check the name in the IAM console's list of AWS managed policies",
                )
        elif account != live.account_id:
            yield Diagnostic(
                f"{ref.what} '{ref.arn}' is a policy of account {account}; IAM attaches only policies of "
                f"this account ({live.account_id}) and AWS's",
                ref.location,
                "declare the policy in this configuration, or use an AWS-managed one",
            )
        elif ref.arn.lower() not in declared and ref.arn.lower() not in existing:
            yield Diagnostic(
                f"{ref.what} '{ref.arn}' is neither declared nor in the account",
                ref.location,
                "declare it under policies: (and refer to it by name), or fix the ARN",
            )


def _principal_problems(config: DesiredConfig, live: LiveAccount) -> Iterator[Diagnostic]:
    for role in config.state.of_kind(Kind.ROLE):
        trust = getattr(role, "trust_as_written", None) or getattr(role, "trust", None)
        for principal in sorted(set(_aws_principals(trust))):
            match = _PRINCIPAL.fullmatch(principal)
            if match is None or match.group("account") != live.account_id or "*" in principal:
                continue
            kind = Kind.ROLE if match.group("type") == "role" else Kind.USER
            name = match.group("name")
            if _exists(config, live, kind, name):
                continue
            yield Diagnostic(
                f"role '{role.name}' trusts {kind.value} '{name}' ({principal}), which is neither declared "
                "nor in the account; IAM would refuse the trust policy (Invalid principal)",
                config.sources.get(Address(Kind.ROLE, role.name)),
                f"declare the {kind.value}, or fix the name",
            )


def _exists(config: DesiredConfig, live: LiveAccount, kind: Kind, name: str) -> bool:
    wanted = name.lower()
    return any(r.name.lower() == wanted for r in (*config.state.of_kind(kind), *live.state.of_kind(kind)))


def _aws_principals(trust: Json) -> Iterator[str]:
    statements = trust.get("Statement") if isinstance(trust, Mapping) else None
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, Mapping):
            continue
        for key in ("Principal", "NotPrincipal"):
            principal = statement.get(key)
            if isinstance(principal, Mapping):
                value = principal.get("AWS")
                yield from (v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
