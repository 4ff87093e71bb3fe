"""Apply: run a plan's API calls through an executor, step by step (SPEC §5).

A *step* is every call of the plan that shares one ``(phase, order)``. Steps run
strictly one after another; the calls of one step are independent by
construction (``iamstate.calls`` gives a call that needs another a higher order
or a later phase), so they run concurrently, at most ``parallelism`` at a time.

The executor performs one planned call and raises :class:`RetryableError` or
:class:`PermanentError`; :func:`classify` is the one place that decides which
AWS error is which. Retryable errors (IAM's eventual consistency, throttling
that outlived botocore's own retries) are retried with backoff until the call's
``propagation_timeout`` runs out. A permanent error stops apply from starting
anything new; calls already in flight finish, and the :class:`ApplyResult` says
what was done and what was not, so that the next apply can finish the job.

This module imports no boto3: tests hand :func:`apply_plan` a fake executor, and
``iamstate.aws.write`` holds the boto3 adapter.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import groupby
from typing import NamedTuple, Protocol

from iamstate.kinds import spec
from iamstate.model import Json
from iamstate.plan import Action, ApiCall, Plan

DEFAULT_PARALLELISM = 4
DEFAULT_PROPAGATION_TIMEOUT = 120.0
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
STOP_POLL_SECONDS = 0.1
"""How often the waiting thread looks at the caller's stop event."""


# --- errors ---------------------------------------------------------------------------


class CallError(Exception):
    """One planned call failed; ``code`` is AWS's error code (or a transport error's name)."""

    def __init__(self, call: ApiCall, code: str, message: str) -> None:
        self.call = call
        self.code = code
        self.message = message
        super().__init__(f"{call.operation} failed: {code}: {message}" if code else message)


class RetryableError(CallError):
    """The call may succeed if tried again later (eventual consistency, throttling, 5xx)."""


class PermanentError(CallError):
    """Trying the call again will not help; apply stops."""


RETRYABLE_CODES = frozenset(
    {
        # IAM's eventual consistency: an entity created moments ago is not yet visible
        # everywhere, or another change to the same entity is still settling.
        "NoSuchEntity",
        "ConcurrentModification",
        "EntityTemporarilyUnmodifiable",
        # Throttling and server faults that outlived botocore's own retries.
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceFailure",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


PRINCIPAL_ARN_TYPES = frozenset({"role", "user", "oidc-provider", "saml-provider"})
"""The kinds (by the resource type in their ARNs) whose entities a trust policy can name."""
_NAMED_PRINCIPAL = re.compile(r'"(?:AWS|Federated)"\s*:\s*"([^"]+)"')
_PRINCIPAL_ARN = re.compile(r"arn:[^:]+:iam::(\d{12}):([a-z-]+)/(.+)")


@dataclass(frozen=True)
class CreatedPrincipals:
    """The principals (roles, users, identity providers) that this apply creates: only a trust
    policy naming one of them may meet "Invalid principal" because IAM has not caught up."""

    account_id: str = ""
    keys: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    """``(arn type, name)`` lower-cased: ``("role", "ci")``, ``("oidc-provider", "host/path")``."""

    @classmethod
    def of(cls, plan: Plan) -> CreatedPrincipals:
        """The principals ``plan`` creates or replaces."""
        keys = {
            (str(spec(c.address.kind).arn_type), c.address.name.lower())
            for c in plan.changes
            if c.action in (Action.CREATE, Action.REPLACE)
            and spec(c.address.kind).arn_type in PRINCIPAL_ARN_TYPES
        }
        return cls(plan.account_id, frozenset(keys))

    def created(self, arn: str) -> bool:
        """True when ``arn`` names a principal this apply creates."""
        match = _PRINCIPAL_ARN.fullmatch(arn)
        if match is None or match.group(1) != self.account_id:
            return False
        arn_type, rest = match.group(2), match.group(3)
        name = rest if arn_type.endswith("-provider") else rest.rsplit("/", 1)[-1]
        return (arn_type, name.lower()) in self.keys

    def waiting_for(self, call: ApiCall, message: str) -> tuple[bool, str]:
        """Whether an "Invalid principal" answer to ``call`` may be IAM not seeing a new principal
        yet, and the principal it is about (named by the message, else by the call's document)."""
        named = _NAMED_PRINCIPAL.findall(message)
        if named:
            return any(self.created(p) for p in named), named[0]
        written = [p for p in _document_principals(call) if p.startswith("arn:")]
        created = [p for p in written if self.created(p)]
        if created:
            return True, created[0]
        return False, ", ".join(written)


def _document_principals(call: ApiCall) -> list[str]:
    """Every AWS and Federated principal the trust document of a call names."""
    document = call.params.get("AssumeRolePolicyDocument", call.params.get("PolicyDocument"))
    statements = document.get("Statement") if isinstance(document, dict) else None
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        if not isinstance(principal, dict):
            continue
        for kind in ("AWS", "Federated"):
            value = principal.get(kind)
            found += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    return found


def classify(
    code: str,
    message: str,
    status: int | None,
    *,
    call: ApiCall | None = None,
    created: CreatedPrincipals | None = None,
) -> type[CallError]:
    """Whether an AWS error is worth retrying: the only place that decides it.

    ``NoSuchEntity`` is retried because right after a create IAM may not see the
    new entity yet; a writer that knows NoSuchEntity means "already so" (a delete
    of something gone) handles that before asking. A trust policy naming a
    principal created moments ago fails with MalformedPolicyDocument "Invalid
    principal" until the principal propagates: that is retried only when the
    principal is one this apply creates (``created``, for ``call``); any other
    principal will not appear by waiting (a typo'd account id or name), so it fails
    at once. Without ``created`` it is retried, as nothing says otherwise.
    """
    if code in RETRYABLE_CODES:
        return RetryableError
    if code == "MalformedPolicyDocument" and "invalid principal" in message.lower():
        if created is None or call is None:
            return RetryableError
        return RetryableError if created.waiting_for(call, message)[0] else PermanentError
    if status is not None and (status == 429 or status >= 500):
        return RetryableError
    return PermanentError


class Executor(Protocol):
    """Performs one planned call.

    Raises :class:`RetryableError` or :class:`PermanentError` on failure, and
    treats "already so" (deleting what is gone, creating what exists) as success.
    Called from several threads at once.
    """

    def execute(self, call: ApiCall) -> None:
        """Make ``call`` so, or raise a :class:`CallError`."""
        ...


# --- progress and result --------------------------------------------------------------


class ProgressKind(StrEnum):
    """What happened to a call."""

    STARTED = "started"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class ProgressEvent:
    """A call started, will be retried, finished or failed; ``finished`` of ``total`` are over."""

    kind: ProgressKind
    address: str
    call: ApiCall
    finished: int
    total: int
    message: str = ""


class DoneCall(NamedTuple):
    """A call that was made (or was already so)."""

    address: str
    call: ApiCall


class FailedCall(NamedTuple):
    """A call that failed, with the error apply reports."""

    address: str
    call: ApiCall
    error: str


def _call_json(address: str, call: ApiCall) -> dict[str, Json]:
    out: dict[str, Json] = {"address": address, "operation": call.operation, "params": dict(call.params)}
    if call.note:
        out["note"] = call.note
    return out


@dataclass(frozen=True)
class ApplyResult:
    """What apply did: calls done, failed and not started, in the plan's order."""

    done: tuple[DoneCall, ...] = ()
    failed: tuple[FailedCall, ...] = ()
    not_started: tuple[DoneCall, ...] = ()
    interrupted: bool = False
    """True when the caller's stop event (or Ctrl-C) ended apply early."""

    @property
    def ok(self) -> bool:
        """True when every planned call was made."""
        return not self.failed and not self.not_started and not self.interrupted

    @property
    def total(self) -> int:
        """The number of planned calls."""
        return len(self.done) + len(self.failed) + len(self.not_started)

    def to_json(self) -> dict[str, Json]:
        """The result's JSON form (:func:`iamstate.render.results.apply_text` shows it)."""
        return {
            "ok": self.ok,
            "interrupted": self.interrupted,
            "done": [_call_json(d.address, d.call) for d in self.done],
            "failed": [{**_call_json(f.address, f.call), "error": f.error} for f in self.failed],
            "not_started": [_call_json(n.address, n.call) for n in self.not_started],
            "summary": {
                "total": self.total,
                "done": len(self.done),
                "failed": len(self.failed),
                "not_started": len(self.not_started),
            },
        }


# --- the engine -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    index: int
    address: str
    call: ApiCall


def plan_steps(plan: Plan) -> list[list[_Planned]]:
    """The plan's calls grouped into steps: one per ``(phase, order)``, in apply's order."""
    planned = [
        _Planned(i, str(change.address), call) for i, (change, call) in enumerate(plan.ordered_calls())
    ]
    return [list(group) for _, group in groupby(planned, key=lambda p: (p.call.phase, p.call.order))]


class _Run:
    """Shared bookkeeping of one apply: outcomes by call index, progress, the halt flag."""

    def __init__(
        self,
        total: int,
        stop: threading.Event | None,
        on_progress: Callable[[ProgressEvent], None] | None,
    ) -> None:
        self.total = total
        self.stop = stop
        self.halt = threading.Event()
        """Set on a permanent error or when the caller stops apply; nothing new starts after."""
        self.interrupted = False
        self.done: dict[int, _Planned] = {}
        self.failed: dict[int, tuple[_Planned, str]] = {}
        self._lock = threading.Lock()
        self._on_progress = on_progress

    def stopping(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            self.interrupt()
        return self.halt.is_set()

    def interrupt(self) -> None:
        with self._lock:
            self.interrupted = True
        self.halt.set()

    def emit(self, kind: ProgressKind, item: _Planned, message: str = "") -> None:
        if self._on_progress is None:
            return
        with self._lock:
            # Under the lock, so the callback sees events one at a time and counts in order.
            finished = len(self.done) + len(self.failed)
            self._on_progress(ProgressEvent(kind, item.address, item.call, finished, self.total, message))

    def record_done(self, item: _Planned) -> None:
        with self._lock:
            self.done[item.index] = item
        self.emit(ProgressKind.DONE, item)

    def record_failed(self, item: _Planned, error: str, *, halt: bool) -> None:
        with self._lock:
            self.failed[item.index] = (item, error)
        if halt:
            self.halt.set()
        self.emit(ProgressKind.FAILED, item, error)

    def result(self, steps: Sequence[Sequence[_Planned]]) -> ApplyResult:
        everything = [item for step in steps for item in step]
        done = tuple(DoneCall(i.address, i.call) for i in everything if i.index in self.done)
        failed = tuple(
            FailedCall(i.address, i.call, self.failed[i.index][1])
            for i in everything
            if i.index in self.failed
        )
        not_started = tuple(
            DoneCall(i.address, i.call)
            for i in everything
            if i.index not in self.done and i.index not in self.failed
        )
        interrupted = self.interrupted and bool(failed or not_started)
        return ApplyResult(done, failed, not_started, interrupted)


def apply_plan(
    plan: Plan,
    executor: Executor,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    propagation_timeout: float = DEFAULT_PROPAGATION_TIMEOUT,
    stop: threading.Event | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ApplyResult:
    """Make every call of ``plan`` through ``executor``, in apply's order; never raises a CallError.

    Steps run in sequence, the calls of a step concurrently on at most
    ``parallelism`` threads. A retryable error is retried with exponential backoff
    and jitter until ``propagation_timeout`` seconds have passed since the call
    first started; then it counts as permanent. After a permanent error, or once
    ``stop`` is set (the CLI sets it on Ctrl-C; a KeyboardInterrupt in this thread
    does the same), no further call starts, calls in flight finish, and the result
    lists what was done, what failed and what did not start.

    ``on_progress`` receives a :class:`ProgressEvent` per call started, retried,
    done or failed, one at a time, from worker threads. ``sleep`` and ``clock``
    are for tests; by default the backoff waits on an event that stopping sets,
    so that Ctrl-C is not held up by a pending retry.
    """
    if parallelism < 1:
        raise ValueError("parallelism must be at least 1")
    steps = plan_steps(plan)
    run = _Run(sum(len(s) for s in steps), stop, on_progress)

    def pause(seconds: float) -> None:
        if sleep is None:
            run.halt.wait(seconds)
        else:
            sleep(seconds)

    def perform(item: _Planned) -> None:
        if run.stopping():
            return  # not started
        run.emit(ProgressKind.STARTED, item)
        _perform(item, executor, run, propagation_timeout, pause, clock)

    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="iamstate-apply") as pool:
        for step in steps:
            if run.stopping():
                break
            futures = [pool.submit(perform, item) for item in step]
            _wait_for(futures, run)
    return run.result(steps)


def _perform(
    item: _Planned,
    executor: Executor,
    run: _Run,
    propagation_timeout: float,
    pause: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    """One call with its retries; records the outcome and never raises."""
    started = clock()
    attempt = 0
    while True:
        try:
            executor.execute(item.call)
        except RetryableError as error:
            elapsed = clock() - started
            remaining = propagation_timeout - elapsed
            if remaining <= 0:
                run.record_failed(
                    item, f"{_reason(error)} (still failing after {elapsed:.0f}s of retries)", halt=True
                )
                return
            if run.stopping():
                run.record_failed(item, f"{_reason(error)} (not retried: apply was stopping)", halt=False)
                return
            delay = min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * 2**attempt)
            delay = min(remaining, random.uniform(delay / 2, delay))
            attempt += 1
            run.emit(ProgressKind.RETRYING, item, f"{_reason(error)}; retrying in {delay:.1f}s")
            pause(delay)
        except CallError as error:
            run.record_failed(item, _reason(error), halt=True)
            return
        except Exception as error:  # an executor bug must not hang or kill the pool
            run.record_failed(item, f"{type(error).__name__}: {error}", halt=True)
            return
        else:
            run.record_done(item)
            return


def _reason(error: CallError) -> str:
    return f"{error.code}: {error.message}" if error.code else error.message


def _wait_for(futures: Sequence[Future[None]], run: _Run) -> None:
    """Wait until every future of a step is over, watching the caller's stop event.

    A first KeyboardInterrupt stops apply the same way the stop event does (calls in
    flight finish); a second one is let through.
    """
    interrupted = False
    pending = set(futures)
    while pending:
        try:
            _, pending = wait(pending, timeout=STOP_POLL_SECONDS)
            run.stopping()  # turns the caller's stop event into the halt flag
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            run.interrupt()
