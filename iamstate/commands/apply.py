"""``iamstate apply``: re-read live IAM, re-plan (or check a saved plan), confirm, execute in order."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from iamstate.apply import ProgressEvent, apply_plan
from iamstate.commands.shared import (
    AwsOptions,
    CommandResult,
    OutputOptions,
    command_time,
    connect,
    load_saved_plan,
    log_done,
    make_plan,
)
from iamstate.config import load_config
from iamstate.errors import ConfigError, ExitCode, IamstateError, StalePlan
from iamstate.model import DesiredConfig, Json
from iamstate.plan import Plan
from iamstate.render import render
from iamstate.render.json import render_json
from iamstate.render.results import apply_text
from iamstate.savedplan import expiry_reasons, made_at, stale_reasons


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
    now = command_time(None)
    saved = load_saved_plan(options.saved_plan) if options.saved_plan is not None else None
    clients = connect(aws, max_pool=max(10, options.parallelism + 2))
    loaded, live, fresh = make_plan(path, clients, now=now, allow_mass_delete=options.allow_mass_delete)
    the_plan = fresh
    if saved is not None:
        reasons = expiry_reasons(saved, loaded.config, now)
        reasons += stale_reasons(saved, _config_as_made(path, saved, loaded.config, live.partition), live)
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
        doc: dict[str, Json] = {"format_version": "1", "plan": plan_doc, "apply": None}
        text = shown + "\n" + apply_text({"ok": True}, plan_doc["summary"]) if output.fmt != "json" else ""
        return CommandResult(ExitCode.OK, text if output.fmt != "json" else render_json(doc), doc)
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
    log_done(
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
    result_doc = result.to_json()
    doc = {"format_version": "1", "plan": plan_doc, "apply": result_doc}
    summary = plan_doc["summary"]
    text = render_json(doc) if output.fmt == "json" else shown + "\n" + apply_text(result_doc, summary) + "\n"
    return CommandResult(ExitCode.OK if result.ok else ExitCode.ERROR, text, doc)


def _config_as_made(path: str, saved: Plan, current: DesiredConfig, partition: str) -> DesiredConfig:
    """The configuration as of the time the saved plan was made: what its fingerprint is of.

    Only time moved when it equals the saved fingerprint; a configuration that no longer
    loads at that time has changed (its fingerprint then differs from the current one's).
    """
    made = made_at(saved)
    if made is None:
        return current
    try:
        return load_config(path, partition=partition, now=made).config
    except ConfigError:
        return current


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
