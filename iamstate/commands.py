"""The commands as functions that return a result object; the CLI only wires options.

This is the shell around the pure core: it loads files, talks to AWS through
``iamstate.aws``, runs the core, and returns a :class:`CommandResult` whose
``exit_code`` follows SPEC §1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from iamstate import catalog
from iamstate.access import access_summary
from iamstate.apply import ProgressEvent, apply_plan
from iamstate.audit import (
    AuditInput,
    DriftReport,
    Level,
    audit,
    deactivates,
    deactivation_candidates,
    has_stale_key,
    stale_key_ids,
    stale_keys,
    with_deactivations,
)
from iamstate.config import LoadedConfig, load_config
from iamstate.diff import build_plan
from iamstate.errors import AccountMismatch, ConfigError, Diagnostic, IamstateError, Refused
from iamstate.kinds import in_reading_order
from iamstate.kinds.saml_provider import SAML_PROVIDER, SamlProvider
from iamstate.model import PASSWORD_POLICY_ADDRESS, DesiredConfig, Json, Kind, LiveAccount, State
from iamstate.ownership import Standing, owns_path_and_name, standing
from iamstate.plan import Finding, Plan
from iamstate.render import render
from iamstate.render.text import finding_lines
from iamstate.rules import RuleInput, apply_waivers, run_rules
from iamstate.savedplan import metadata, stale_reasons

if TYPE_CHECKING:
    from iamstate.aws.audit import CredentialReport

log = structlog.get_logger()
ROOT_RULE = "root-credentials-in-use"


class ExitCode(IntEnum):
    """Exit codes shared by every command (SPEC §1)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    REFUSED = 3


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS."""

    profile: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class OutputOptions:
    """How to show results."""

    fmt: str = "text"
    color: bool = False
    out: Path | None = None
    sarif_out: Path | None = None


@dataclass
class CommandResult:
    """What a command produced: stdout text, the JSON document for ``--out``, the exit code."""

    exit_code: ExitCode
    stdout: str = ""
    document: Mapping[str, Json] | None = None
    messages: list[str] = field(default_factory=list)
    """Lines for stderr (refusal explanations)."""
    files: dict[Path, str] = field(default_factory=dict)
    """Further outputs to write (``--sarif-out``)."""


def _config_findings(loaded: LoadedConfig) -> list[Finding]:
    exceptions = {str(a): dict(e) for a, e in loaded.config.exceptions.items()}
    return apply_waivers(loaded.findings, exceptions)


def validate(path: str, output: OutputOptions) -> CommandResult:
    """Load the config, check schema, references and offline safety rules."""
    loaded = load_config(path)
    config = loaded.config
    findings = _config_findings(loaded) + run_rules(RuleInput(config), live=False)
    counts = {kind.value: len(config.state.of_kind(kind)) for kind in in_reading_order()}
    blocking = [f for f in findings if f.blocking]
    doc: dict[str, Json] = {
        "format_version": "1",
        "valid": not blocking,
        "files": list(config.files),
        "entities": counts,
        "findings": [f.to_json() for f in findings],
    }
    if output.fmt == "json":
        text = json.dumps(doc, indent=2) + "\n"
    elif output.fmt == "sarif":
        text = sarif(doc, config.files)
    else:
        lines = [line for f in findings for line in finding_lines(f.to_json(), color=output.color)]
        described = ", ".join(f"{kind}: {n}" for kind, n in counts.items() if n)
        verdict = "refused by safety rules" if blocking else "valid"
        lines.append(f"Configuration {verdict}: {len(config.files)} file(s); {described or 'no entities'}.")
        text = "\n".join(lines) + "\n"
    return CommandResult(ExitCode.REFUSED if blocking else ExitCode.OK, text, doc)


def _require_account(config: DesiredConfig) -> str:
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


@dataclass(frozen=True)
class Clients:
    """The boto3 clients one command uses."""

    iam: Any
    sts: Any


def connect(aws: AwsOptions, *, max_pool: int = 10) -> Clients:
    """IAM and STS clients for the profile and endpoint (boto3's AWS_ENDPOINT_URL too)."""
    from iamstate.aws.session import iam_client, make_session, sts_client

    session = make_session(aws.profile)
    return Clients(
        iam_client(session, aws.endpoint_url, max_pool=max_pool), sts_client(session, aws.endpoint_url)
    )


def read_live(config: DesiredConfig, clients: Clients) -> LiveAccount:
    """Read the whole live account with the paged reader, stopping first if it is the wrong
    account (exit 1) or the caller is the root user (exit 3)."""
    from iamstate.aws.read import read_account

    expected = _require_account(config)

    def check_identity(account_id: str, caller_arn: str) -> None:
        if account_id != expected:
            raise AccountMismatch(
                f"the credentials reach account {account_id} ({caller_arn}), but account.id declares "
                f"{expected}; nothing further was read and nothing was written"
            )
        probe = LiveAccount(State(), account_id, caller_arn=caller_arn)
        root = [f for f in run_rules(RuleInput(config, probe), live=True) if f.rule == ROOT_RULE]
        if root:
            raise Refused("refused: iamstate does not run as the root user", root)

    started = time.monotonic()
    live = read_account(
        clients.iam,
        clients.sts,
        owns_policy=lambda p, n: owns_path_and_name(config.scope, p, n),
        check_identity=check_identity,
    )
    log.info(
        "aws.read",
        account=live.account_id,
        api_calls=dict(live.api_calls),
        total_calls=sum(live.api_calls.values()),
        entities=len(live.state),
        seconds=round(time.monotonic() - started, 3),
    )
    return live


def make_plan(
    path: str,
    clients: Clients,
    *,
    allow_mass_delete: bool = False,
    read_report: Callable[[], CredentialReport] | None = None,
) -> tuple[LoadedConfig, LiveAccount, Plan]:
    """Load the config, read live IAM (guarded), and build the plan with every finding.

    With ``credentials.stale_access_keys: deactivate`` (and a limit set) the plan also
    deactivates stale access keys, which costs the credential report (``read_report``,
    by default a fresh read) and one ListAccessKeys per user with a stale key; without
    it, no call is made beyond the live read.
    """
    loaded = load_config(path)
    live = read_live(loaded.config, clients)
    if live.partition != "aws":
        loaded = load_config(path, partition=live.partition)
    config = loaded.config
    changes = build_plan(config, live).changes
    findings = _config_findings(loaded) + run_rules(
        RuleInput(config, live, changes), live=True, allow_mass_delete=allow_mass_delete
    )
    facts = {
        **metadata(config, live),
        "action_catalogue": catalog.describe(),
        "access_summary": access_summary(changes),
    }
    the_plan = build_plan(config, live, findings, facts)
    if deactivates(config.credentials):
        the_plan = _deactivate_stale_keys(the_plan, config, clients, read_report)
    return loaded, live, the_plan


def _deactivate_stale_keys(
    the_plan: Plan,
    config: DesiredConfig,
    clients: Clients,
    read_report: Callable[[], CredentialReport] | None,
) -> Plan:
    """The plan with UpdateAccessKey(Status=Inactive) for each stale key of a declared user."""
    from iamstate.aws.audit import list_access_keys, read_credential_report

    report = read_report() if read_report is not None else read_credential_report(clients.iam)
    now = datetime.now(UTC)
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


def _log_done(command: str, live: LiveAccount, the_plan: Plan, started: float, **extra: Json) -> None:
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


def plan(
    path: str,
    aws: AwsOptions,
    output: OutputOptions,
    *,
    detailed_exitcode: bool = False,
    allow_mass_delete: bool = False,
) -> CommandResult:
    """Diff the config against live IAM and render the plan."""
    started = time.monotonic()
    loaded, live, the_plan = make_plan(path, connect(aws), allow_mass_delete=allow_mass_delete)
    doc = the_plan.to_json()
    _log_done("plan", live, the_plan, started)
    files = loaded.config.files
    text = sarif(doc, files) if output.fmt == "sarif" else render(doc, output.fmt, color=output.color)
    extra = {output.sarif_out: sarif(doc, files)} if output.sarif_out is not None else {}
    if the_plan.blocking_findings:
        code = ExitCode.REFUSED
    elif detailed_exitcode and not the_plan.summary.empty:
        code = ExitCode.CHANGES
    else:
        code = ExitCode.OK
    return CommandResult(code, text, doc, files=extra)


def sarif(doc: Mapping[str, Json], files: Sequence[str]) -> str:
    """The findings of a plan's or validate's JSON form as SARIF, with paths relative to here."""
    from importlib.metadata import PackageNotFoundError, metadata

    from iamstate import __version__
    from iamstate.render.sarif import RuleText, render_sarif
    from iamstate.rules import RULES

    try:
        urls = metadata("iamstate").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    home = next((u.split(",", 1)[1].strip() for u in urls if u.lower().startswith("homepage,")), "")
    rules = {r.id: RuleText(r.id, r.summary, r.remedy, r.source, r.severity.value) for r in RULES.values()}
    return render_sarif(
        doc, rules, tool_version=__version__, root=str(Path.cwd()), files=files, information_uri=home
    )


def drift(path: str, aws: AwsOptions, output: OutputOptions, *, fail_on: str = "low") -> CommandResult:
    """The plan plus a live audit of credentials, root and MFA; exit 2 on drift (SPEC §1, §6).

    Reads live IAM once (as plan does), then GetAccountSummary, one credential report
    (shared with the stale-key deactivation, if configured) and ListVirtualMFADevices.
    """
    from iamstate.aws.audit import (
        read_account_summary,
        read_credential_report,
        read_virtual_mfa_assignments,
    )
    from iamstate.aws.session import CallCounter
    from iamstate.render.report import render_report

    started = time.monotonic()
    threshold = Level(fail_on)
    clients = connect(aws)
    counter = CallCounter()
    counter.attach(clients.iam, clients.sts)
    try:
        report_once = functools.cache(lambda: read_credential_report(clients.iam))
        loaded, live, the_plan = make_plan(path, clients, read_report=report_once)
        config = loaded.config
        summary = read_account_summary(clients.iam)
        report = report_once()
        assignments = read_virtual_mfa_assignments(clients.iam)
    finally:
        counter.detach(clients.iam, clients.sts)
    users = {
        r.name: standing(r, config.scope, config.stack) is Standing.OWNED
        for r in live.state.of_kind(Kind.USER)
    }
    findings = audit(
        AuditInput(
            rows=report.rows,
            summary=summary,
            now=datetime.now(UTC),
            mfa=config.mfa,
            credentials=config.credentials,
            has_password_policy=live.state.get(PASSWORD_POLICY_ADDRESS) is not None,
            users=users,
            mfa_users=assignments.users,
            root_virtual_mfa=assignments.root,
            saml_providers=[p for p in live.state.of_kind(SAML_PROVIDER) if isinstance(p, SamlProvider)],
        )
    )
    result = DriftReport(the_plan, findings, threshold, report.generated_time)
    doc = result.to_json()
    api_calls = counter.snapshot()
    log.info(
        "drift.done",
        command="drift",
        account=live.account_id,
        changes=len(the_plan.changes),
        live_findings=doc["summary"]["levels"],
        failing_findings=len(result.failing),
        fail_on=threshold.value,
        api_calls=api_calls,
        total_calls=sum(api_calls.values()),
        report_polls=report.polls,
        seconds=round(time.monotonic() - started, 3),
    )
    text = render_report(doc, output.fmt, color=output.color)
    if the_plan.blocking_findings:
        code = ExitCode.REFUSED
    elif result.drifted:
        code = ExitCode.CHANGES
    else:
        code = ExitCode.OK
    return CommandResult(code, text, doc)


class StalePlan(IamstateError):
    """A saved plan no longer matches the config or live IAM."""


@dataclass(frozen=True)
class ApplyOptions:
    """How apply runs."""

    saved_plan: Path | None = None
    auto_approve: bool = False
    parallelism: int = 4
    propagation_timeout: float = 120.0
    allow_mass_delete: bool = False


def apply(
    path: str,
    aws: AwsOptions,
    output: OutputOptions,
    options: ApplyOptions,
    *,
    confirm: Callable[[], bool],
    interactive: bool,
    progress: Callable[[Plan], AbstractContextManager[Callable[[ProgressEvent], None] | None]],
) -> CommandResult:
    """Re-read live IAM, re-plan (or check a saved plan), confirm, and execute in order."""
    from iamstate.aws.write import Boto3Executor

    started = time.monotonic()
    saved = _load_saved_plan(options.saved_plan) if options.saved_plan is not None else None
    clients = connect(aws, max_pool=max(10, options.parallelism + 2))
    loaded, live, fresh = make_plan(path, clients, allow_mass_delete=options.allow_mass_delete)
    the_plan = fresh
    if saved is not None:
        reasons = stale_reasons(saved, loaded.config, live)
        if saved.metadata.get("stale_access_keys") != fresh.metadata.get("stale_access_keys"):
            reasons.append("the stale access keys to deactivate changed since the plan was made")
        if reasons:
            raise StalePlan(
                f"saved plan is stale: {'; '.join(reasons)}. Nothing was written; run plan again."
            )
        the_plan = Plan(saved.account_id, saved.stack, saved.changes, fresh.findings, saved.metadata)

    plan_doc = the_plan.to_json()
    shown = render(plan_doc, output.fmt, color=output.color) if output.fmt != "json" else ""
    if the_plan.blocking_findings:
        return CommandResult(
            ExitCode.REFUSED,
            shown,
            {"format_version": "1", "plan": plan_doc, "apply": None},
            messages=["Refused by safety rules: nothing was written."],
        )
    if the_plan.summary.empty:
        doc = {"format_version": "1", "plan": plan_doc, "apply": None}
        return CommandResult(ExitCode.OK, shown if output.fmt != "json" else _json(doc), doc)
    if not options.auto_approve:
        if not interactive:
            raise IamstateError(
                "apply needs confirmation, but standard input is not a terminal; "
                "review the plan and pass --auto-approve to apply without a prompt. Nothing was written."
            )
        if output.fmt != "json":
            sys.stdout.write(shown)
            sys.stdout.flush()
            shown = ""
        if not confirm():
            return CommandResult(ExitCode.ERROR, "", None, messages=["Apply cancelled: nothing was written."])

    stop = threading.Event()
    with _stop_on_interrupt(stop), progress(the_plan) as on_progress:
        result = apply_plan(
            the_plan,
            Boto3Executor(clients.iam),
            parallelism=options.parallelism,
            propagation_timeout=options.propagation_timeout,
            stop=stop,
            on_progress=on_progress,
        )
    _log_done(
        "apply",
        live,
        the_plan,
        started,
        ok=result.ok,
        interrupted=result.interrupted,
        calls=len(result.done),
        failed=len(result.failed),
        not_started=len(result.not_started),
    )
    doc = {"format_version": "1", "plan": plan_doc, "apply": result.to_json()}
    text = _json(doc) if output.fmt == "json" else shown + "\n" + result.render_text() + "\n"
    return CommandResult(ExitCode.OK if result.ok else ExitCode.ERROR, text, doc)


def _json(doc: Mapping[str, Json]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _load_saved_plan(path: Path) -> Plan:
    try:
        return Plan.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise IamstateError(f"saved plan {path} does not exist") from None
    except (ValueError, KeyError, TypeError) as error:
        raise IamstateError(f"{path} is not a plan written by `iamstate plan --out`: {error}") from None


@contextlib.contextmanager
def _stop_on_interrupt(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop starting calls and let in-flight ones finish; second: abort."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write("\nStopping: no new calls will start; waiting for calls in flight...\n")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def import_(
    out_dir: Path,
    aws: AwsOptions,
    output: OutputOptions,
    *,
    paths: tuple[str, ...],
    ignore: tuple[str, ...],
    stack: str,
    force: bool,
) -> CommandResult:
    """Write the owned part of the live account as YAML that plans as no changes."""
    from iamstate.import_command import import_account
    from iamstate.model import Scope

    started = time.monotonic()
    result = import_account(out_dir, aws, scope=Scope(paths, ignore), stack=stack, force=force)
    doc = result.to_json()
    log.info("import.done", command="import", out=str(out_dir), seconds=round(time.monotonic() - started, 3))
    text = _json(doc) if output.fmt == "json" else result.render_text()
    return CommandResult(ExitCode.OK, text if text.endswith("\n") else text + "\n", doc)


def permissions(path: str, command: str, fmt: str) -> CommandResult:
    """The least IAM policy iamstate needs to run ``command`` on the config (no AWS)."""
    from iamstate.permissions import as_json, as_yaml, least_policy

    document = least_policy(load_config(path).config, command)
    text = as_yaml(document, command) if fmt == "yaml" else as_json(document)
    return CommandResult(ExitCode.OK, text, document)
