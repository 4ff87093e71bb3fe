"""What the AWS-facing commands share: options, results, connecting, reading live IAM, the plan.

The shell around the pure core: it loads files, talks to AWS through
``iamstate.aws``, runs the core once per command, and hands back a
:class:`CommandResult` whose ``exit_code`` follows SPEC §1.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from iamstate import catalog
from iamstate.access import access_summary
from iamstate.analysis.access import principal_access
from iamstate.analysis.account import document_cache
from iamstate.analysis.managed import attached_arns
from iamstate.audit import (
    deactivates,
    deactivation_candidates,
    has_stale_key,
    last_used_by_user,
    stale_key_ids,
    stale_keys,
    with_deactivations,
)
from iamstate.commands import collector
from iamstate.commands.options import AwsOptions as AwsOptions
from iamstate.commands.options import CommandResult as CommandResult
from iamstate.commands.options import OutputOptions as OutputOptions
from iamstate.commands.options import command_time as command_time
from iamstate.config import LoadedConfig, load_config
from iamstate.diff import build_plan
from iamstate.errors import AccountMismatch, ConfigError, Diagnostic, ExitCode, Refused
from iamstate.model import Address, DesiredConfig, Json, Kind, LiveAccount, Scope, State
from iamstate.ownership import owns_path_and_name
from iamstate.plan import Action, Plan
from iamstate.references import managed_to_look_up, reference_problems
from iamstate.rules import RuleInput, caller_findings, run_rules
from iamstate.rules.base import analyse_input, analyse_live
from iamstate.savedplan import metadata
from iamstate.temporary import access_report

if TYPE_CHECKING:
    from iamstate.aws.audit import CredentialReport

log = structlog.get_logger()


@dataclass(frozen=True)
class Clients:
    """The boto3 clients one command uses."""

    iam: Any
    sts: Any


def connect(aws: AwsOptions, *, max_pool: int = 10) -> Clients:
    """IAM and STS clients for the profile and endpoint (boto3's AWS_ENDPOINT_URL too)."""
    from iamstate.aws.session import check_endpoints, iam_client, make_session, sts_client

    check_endpoints(aws.endpoint_url)
    session = make_session(aws.profile)
    return Clients(
        iam_client(session, aws.endpoint_url, max_pool=max_pool), sts_client(session, aws.endpoint_url)
    )


def require_account(config: DesiredConfig) -> str:
    """``account.id``, which every command that talks to AWS needs (ConfigError without it)."""
    if config.account_id is None:
        raise ConfigError(
            [
                Diagnostic(
                    "account.id is required for commands that talk to AWS",
                    hint='add `account: {id: "123456789012"}` to one of the files',
                )
            ]
        )
    return config.account_id


def guard_identity(expected: str | None) -> Callable[[str, str], None]:
    """The check made right after GetCallerIdentity: the account is ``expected`` (when one is
    declared; exit 1 otherwise) and the caller is not the root user (exit 3)."""

    def check(account_id: str, caller_arn: str) -> None:
        if expected is not None and account_id != expected:
            raise AccountMismatch(
                f"the credentials reach account {account_id} ({caller_arn}), but account.id declares "
                f"{expected}; nothing further was read and nothing was written"
            )
        root = [f for f in caller_findings(caller_arn) if f.blocking]
        if root:
            raise Refused("refused: iamstate does not run as the root user", root)

    return check


def read_account(
    clients: Clients,
    scope: Scope,
    expected_account: str | None,
    declared: Callable[[Kind, str], bool] = lambda kind, name: False,
    desired: State | None = None,
) -> LiveAccount:
    """Read the whole live account with the paged reader, guarded by :func:`guard_identity`,
    then the AWS-managed policies it and ``desired`` attach (once per distinct ARN, cached
    on disk), and log the ``aws.read`` event with every call. ``declared(kind, name)``
    says which entities the configuration declares (their per-item reads are worth a call)."""
    from iamstate.aws.managed import cache_dir, read_managed_policies
    from iamstate.aws.read import read_account as read_paged

    started = time.monotonic()
    live = read_paged(
        clients.iam,
        clients.sts,
        owns_policy=lambda path, name: owns_path_and_name(scope, path, name),
        declared=declared,
        check_identity=guard_identity(expected_account),
    )
    arns = {*attached_arns(live.state), *(attached_arns(desired) if desired is not None else ())}
    managed = read_managed_policies(clients.iam, arns, cache=cache_dir())
    calls = Counter(live.api_calls)
    calls.update(managed.api_calls)
    live = dataclasses.replace(
        live, api_calls=dict(sorted(calls.items())), managed_documents=dict(managed.documents)
    )
    log.info(
        "aws.read",
        account=live.account_id,
        api_calls=dict(live.api_calls),
        total_calls=sum(live.api_calls.values()),
        entities=len(live.state),
        managed_policies=len(arns),
        managed_from_cache=managed.from_cache,
        seconds=round(time.monotonic() - started, 3),
    )
    return live


def read_live(config: DesiredConfig, clients: Clients) -> LiveAccount:
    """Read the whole live account (and the AWS-managed policies the configuration attaches),
    stopping first if it is the wrong account (exit 1) or the caller is the root user (exit 3)."""

    def declared(kind: Kind, name: str) -> bool:
        return config.state.get(Address(kind, name)) is not None

    return read_account(clients, config.scope, require_account(config), declared, config.state)


def make_plan(
    path: str,
    clients: Clients,
    *,
    now: datetime | None = None,
    allow_mass_delete: bool = False,
    read_report: Callable[[], CredentialReport] | None = None,
) -> tuple[LoadedConfig, LiveAccount, Plan]:
    """Load the config as of ``now`` (the command's time; the clock when None), read live IAM
    (guarded), and build the plan once, with every finding.

    With ``credentials.stale_access_keys: deactivate`` (and a limit set) the plan also
    deactivates stale access keys, which costs the credential report (``read_report``,
    by default a fresh read) and one ListAccessKeys per user with a stale key; without
    it, no call is made beyond the live read. The plan's metadata lists the temporary
    grants (``temporary_access``) when the configuration has any.
    """
    from iamstate.aws.read import missing_policies

    now = now if now is not None else command_time(None)
    with collector.building():
        loaded = load_config(path, now=now)
    live = read_live(loaded.config, clients)
    if live.partition != "aws":
        with collector.building():
            loaded = load_config(path, partition=live.partition, now=now)
    config = loaded.config
    problems = reference_problems(
        config, live, missing_policies(clients.iam, managed_to_look_up(config, live))
    )
    if problems:
        raise ConfigError(problems)
    the_plan = build_plan(config, live)
    if read_report is None:
        read_report = functools.cache(lambda: _read_report(clients))
    if any(c.address.kind is Kind.USER and c.action is Action.DELETE for c in the_plan.changes):
        # Whether a user about to go was used lately is in the credential report alone.
        live = dataclasses.replace(live, user_last_used=last_used_by_user(read_report().rows))
    data = analysed(RuleInput(config, live, the_plan.changes, loaded.findings, now=now))
    findings = run_rules(data, live=True, allow_mass_delete=allow_mass_delete)
    facts = {
        **metadata(config, live, config_path=str(path)),
        "action_catalogue": catalog.describe(),
        "access_summary": access_summary(the_plan.changes),
        "access": plan_access(data),
    }
    the_plan = dataclasses.replace(the_plan, findings=tuple(findings), metadata=facts)
    if deactivates(config.credentials):
        the_plan = _deactivate_stale_keys(the_plan, config, clients, read_report, now)
    if config.temporary:
        changes = [c.to_json() for c in the_plan.changes]
        report = access_report(config.temporary, now, config.access, changes)
        the_plan = dataclasses.replace(the_plan, metadata={**the_plan.metadata, "temporary_access": report})
    return loaded, live, the_plan


def analysed(data: RuleInput) -> RuleInput:
    """``data`` with the whole-account analyses the rules and the access section share: the
    account as apply will leave it, and the live account as it is (the same analysis when the
    plan changes nothing; timed in ``analysis.done``)."""
    started = time.monotonic()
    cache = document_cache(data.now or datetime.now(UTC))
    after = analyse_input(data, cache)
    # With nothing to change, the account apply would leave is the live one: one analysis.
    before = after if not data.changes and data.live is not None else analyse_live(data, cache)
    log.debug(
        "analysis.done",
        principals=len(after.permissions),
        escalating=len(after.escalations),
        documents=after.documents,
        unread=list(after.unread),
        seconds=round(time.monotonic() - started, 3),
    )
    return dataclasses.replace(data, analysis=after, live_analysis=before)


def plan_access(data: RuleInput) -> list[dict[str, Json]]:
    """The plan's per-principal access section, from the analyses in ``data`` (see iamstate.analysis.access)."""
    assert data.analysis is not None and data.live_analysis is not None
    return principal_access(
        data.live_analysis,
        data.analysis,
        declared=data.config.state,
        changes=data.changes,
    )


def _deactivate_stale_keys(
    the_plan: Plan,
    config: DesiredConfig,
    clients: Clients,
    read_report: Callable[[], CredentialReport] | None,
    now: datetime,
) -> Plan:
    """The plan with UpdateAccessKey(Status=Inactive) for each key of a declared user that is
    stale as of ``now``."""
    from iamstate.aws.audit import list_access_keys

    report = read_report() if read_report is not None else _read_report(clients)
    candidates = {
        n.lower()
        for n in deactivation_candidates(the_plan, (r.name for r in config.state.of_kind(Kind.USER)))
    }
    stale = []
    for row in report.rows:
        if not row.is_root and row.user.lower() in candidates and has_stale_key(row, config.credentials, now):
            stale += stale_keys(row, list_access_keys(clients.iam, row.user), config.credentials, now)
    log.debug("plan.stale_access_keys", keys=stale_key_ids(stale))
    return with_deactivations(the_plan, stale)


def _read_report(clients: Clients) -> CredentialReport:
    from iamstate.aws.audit import read_credential_report

    return read_credential_report(clients.iam)


def log_done(command: str, live: LiveAccount, the_plan: Plan, started: float, **extra: Json) -> None:
    """One event at the end of a command, for log pipelines: what ran, where, what it found."""
    summary = the_plan.summary
    log.info(
        f"{command}.done",
        command=command,
        account=live.account_id,
        add=summary.add,
        change=summary.change,
        destroy=summary.destroy,
        findings=len(the_plan.findings),
        blocking=len(the_plan.blocking_findings),
        read_api_calls=dict(live.api_calls),
        seconds=round(time.monotonic() - started, 3),
        **extra,
    )


def plan_exit_code(the_plan: Plan, *, changes_exit: bool) -> ExitCode:
    """3 when a safety rule refuses the plan; 2 when ``changes_exit`` and it changes something; else 0."""
    if the_plan.blocking_findings:
        return ExitCode.REFUSED
    if changes_exit:
        return ExitCode.CHANGES
    return ExitCode.OK
