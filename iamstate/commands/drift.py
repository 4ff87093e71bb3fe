"""``iamstate drift``: the plan plus a live audit of credentials, root and MFA (SPEC §1, §6)."""

from __future__ import annotations

import functools
import time

import structlog

from iamstate.audit import DriftReport, Level, audit_input
from iamstate.commands.shared import (
    AwsOptions,
    CommandResult,
    OutputOptions,
    command_time,
    connect,
    make_plan,
    plan_exit_code,
)
from iamstate.render.report import render_report
from iamstate.rules import live_findings

log = structlog.get_logger()


def drift(
    path: str, aws: AwsOptions, output: OutputOptions, *, fail_on: str = "low", at: str | None = None
) -> CommandResult:
    """The plan plus a live audit; exit 2 on drift. Expiry and credential ages are evaluated
    as of ``at`` (RFC 3339) or now.

    Reads live IAM once (as plan does), then GetAccountSummary, one credential report
    (shared with the stale-key deactivation, if configured) and ListVirtualMFADevices.
    """
    from iamstate.aws.audit import (
        read_account_summary,
        read_credential_report,
        read_virtual_mfa_assignments,
    )
    from iamstate.aws.session import CallCounter

    started = time.monotonic()
    now = command_time(at)
    threshold = Level(fail_on)
    clients = connect(aws)
    counter = CallCounter()
    counter.attach(clients.iam, clients.sts)
    try:
        report_once = functools.cache(lambda: read_credential_report(clients.iam))
        loaded, live, the_plan = make_plan(path, clients, now=now, read_report=report_once)
        summary = read_account_summary(clients.iam)
        report = report_once()
        assignments = read_virtual_mfa_assignments(clients.iam)
    finally:
        counter.detach(clients.iam, clients.sts)
    inp = audit_input(
        loaded.config,
        live,
        report.rows,
        summary,
        now=now,
        mfa_users=assignments.users,
        root_virtual_mfa=assignments.root,
        unmanaged=the_plan.unmanaged,
    )
    result = DriftReport(the_plan, live_findings(inp), threshold, report.generated_time)
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
    code = plan_exit_code(the_plan, changes_exit=result.drifted)
    return CommandResult(code, render_report(doc, output.fmt, color=output.color), doc)
