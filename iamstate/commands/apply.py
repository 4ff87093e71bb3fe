"""``iamstate apply``: re-read live IAM, re-plan (or check a saved plan), lock, confirm, execute in order.

Apply plans first without the lock: a plan with nothing to do, or one the safety
rules refuse, ends there and writes nothing at all. Otherwise it takes the account's
apply lock for the stack (:mod:`iamstate.aws.lock`), plans again under it, so that
what it shows and executes is what live IAM holds once no other apply can move it,
and releases the lock however it ends: success, failure, Ctrl-C or SIGTERM.

With ``--plan FILE`` the plan executed is still the one made here, from the
configuration and live IAM, and only when its changes and calls are identical to
the saved ones (:func:`iamstate.savedplan.first_difference`), before and again
under the lock; the safety rules run on it again.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from iamstate.apply import CreatedPrincipals, ProgressEvent, apply_plan
from iamstate.commands.saved import read_plan_file
from iamstate.commands.shared import (
    AwsOptions,
    Clients,
    CommandResult,
    OutputOptions,
    command_time,
    connect,
    log_done,
    make_plan,
)
from iamstate.config import LoadedConfig, load_config
from iamstate.errors import ConfigError, ExitCode, IamstateError, StalePlan
from iamstate.model import DesiredConfig, Json, LiveAccount
from iamstate.plan import Plan
from iamstate.render import render
from iamstate.render.json import render_json
from iamstate.render.results import apply_text
from iamstate.savedplan import expiry_reasons, first_difference, made_at, stale_reasons


@dataclass(frozen=True)
class ApplyOptions:
    """How apply runs."""

    saved_plan: Path | None = None
    auto_approve: bool = False
    parallelism: int = 4
    propagation_timeout: float = 120.0
    allow_mass_delete: bool = False
    lock_timeout: float = 0.0


@dataclass(frozen=True)
class SavedPlan:
    """A plan written by ``plan --out``: its JSON form as read, and the plan it describes."""

    path: Path
    doc: Mapping[str, Json]
    plan: Plan

    @property
    def config_path(self) -> str | None:
        """The PATH the plan was made from, when it says."""
        value = self.plan.metadata.get("config_path")
        return value if isinstance(value, str) and value else None


class SavedPlanMismatch(IamstateError):
    """A saved plan's changes or calls are not the ones iamstate plans now."""


def apply(
    path: str | None,
    aws: AwsOptions,
    output: OutputOptions,
    options: ApplyOptions,
    *,
    confirm: Callable[[], bool],
    interactive: bool,
    progress: Callable[[Plan], AbstractContextManager[Callable[[ProgressEvent], None] | None]],
) -> CommandResult:
    """Re-read live IAM, re-plan (or check a saved plan), lock, confirm, and execute in order.

    ``path`` None: the saved plan's configuration path, else ``.``.
    """
    from iamstate.aws.lock import ApplyLock

    started = time.monotonic()
    saved = load_saved_plan(options.saved_plan) if options.saved_plan is not None else None
    config_path = path if path is not None else (saved.config_path if saved else None) or "."
    clients = connect(aws, max_pool=max(10, options.parallelism + 2))

    loaded, live, fresh = _plan(config_path, clients, options, saved, command_time(None))
    early = _without_writes(fresh, output)
    if early is not None:
        return early
    if not options.auto_approve and not interactive:
        raise IamstateError(
            "apply needs confirmation, but standard input is not a terminal; "
            "review the plan and pass --auto-approve to apply without a prompt. Nothing was written."
        )

    lock = ApplyLock(
        clients.iam,
        partition=live.partition,
        account_id=live.account_id,
        stack=loaded.config.stack,
        caller_arn=live.caller_arn,
        timeout=options.lock_timeout,
    )
    with _interrupt_on_sigterm(), lock:
        # Planned again under the lock: another apply may have changed live IAM meanwhile.
        loaded, live, the_plan = _plan(config_path, clients, options, saved, command_time(None))
        early = _without_writes(the_plan, output)
        if early is not None:
            return early
        return _execute(the_plan, live, clients, output, options, started, confirm=confirm, progress=progress)


def _plan(
    path: str, clients: Clients, options: ApplyOptions, saved: SavedPlan | None, now: datetime
) -> tuple[LoadedConfig, LiveAccount, Plan]:
    """The plan made as of ``now``; with a saved plan, only when the saved one is still the same plan."""
    loaded, live, fresh = make_plan(path, clients, now=now, allow_mass_delete=options.allow_mass_delete)
    if saved is not None:
        check_saved_plan(saved, fresh, loaded, live, path=path, now=now)
    return loaded, live, fresh


def check_saved_plan(
    saved: SavedPlan, fresh: Plan, loaded: LoadedConfig, live: LiveAccount, *, path: str, now: datetime
) -> None:
    """Raise StalePlan when what the saved plan was made from moved (or a temporary grant
    expired since), SavedPlanMismatch when its changes or calls are not the ones planned now
    (the first difference named)."""
    made = json.loads(render_json(fresh.to_json()))
    difference = first_difference(saved.doc, made)
    reasons = expiry_reasons(saved.plan, loaded.config, now)
    reasons += stale_reasons(
        saved.plan, _config_as_made(path, saved.plan, loaded.config, live.partition), live
    )
    if saved.plan.metadata.get("stale_access_keys") != fresh.metadata.get("stale_access_keys"):
        reasons.append("the stale access keys to deactivate changed since the plan was made")
    versions = (saved.plan.metadata.get("iamstate_version"), fresh.metadata.get("iamstate_version"))
    made_by = (
        f" (it was saved by iamstate {versions[0]}, this is {versions[1]})"
        if versions[0] != versions[1]
        else ""
    )
    if reasons:
        first = f"; first difference: {difference}" if difference else ""
        raise StalePlan(
            f"saved plan is stale: {'; '.join(reasons)}{first}{made_by}. Nothing was written; run plan again."
        )
    if difference:
        raise SavedPlanMismatch(
            f"saved plan {saved.path} does not match the plan iamstate makes now from the configuration "
            f"and live IAM: {difference}{made_by}. Nothing was written; run plan again and review it."
        )


def _without_writes(the_plan: Plan, output: OutputOptions) -> CommandResult | None:
    """The result of an apply that has nothing to write (refused, or no changes), else None."""
    if the_plan.blocking_findings:
        plan_doc = the_plan.to_json()
        return CommandResult(
            ExitCode.REFUSED,
            _shown(plan_doc, output),
            {"format_version": "1", "plan": plan_doc, "apply": None},
            messages=["Refused by safety rules: nothing was written."],
        )
    if the_plan.summary.empty:
        plan_doc = the_plan.to_json()
        doc: dict[str, Json] = {"format_version": "1", "plan": plan_doc, "apply": None}
        if output.fmt == "json":
            return CommandResult(ExitCode.OK, render_json(doc), doc)
        text = _shown(plan_doc, output) + "\n" + apply_text({"ok": True}, plan_doc["summary"])
        return CommandResult(ExitCode.OK, text, doc)
    return None


def _shown(plan_doc: Mapping[str, Json], output: OutputOptions) -> str:
    return render(plan_doc, output.fmt, color=output.color) if output.fmt != "json" else ""


def _execute(
    the_plan: Plan,
    live: LiveAccount,
    clients: Clients,
    output: OutputOptions,
    options: ApplyOptions,
    started: float,
    *,
    confirm: Callable[[], bool],
    progress: Callable[[Plan], AbstractContextManager[Callable[[ProgressEvent], None] | None]],
) -> CommandResult:
    """Confirm (unless auto-approved), run the plan's calls, and report."""
    from iamstate.aws.write import Boto3Executor

    plan_doc = the_plan.to_json()
    shown = _shown(plan_doc, output)
    if not options.auto_approve:
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
            Boto3Executor(clients.iam, CreatedPrincipals.of(the_plan)),
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


def load_saved_plan(path: Path) -> SavedPlan:
    """The plan ``plan --out`` wrote to ``path``; IamstateError, naming the file, for anything else."""
    doc = read_plan_file(path)
    try:
        plan = Plan.from_json(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise IamstateError(
            f"{path} is not a plan written by `iamstate plan --out`: {str(error)[:200]}"
        ) from None
    return SavedPlan(path, doc, plan)


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """While apply holds its lock, SIGTERM interrupts it as Ctrl-C does, so that the lock is released."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
