"""The apply engine with a fake executor: step order, bounded concurrency, retries, stopping."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iamstate import policy
from iamstate.apply import (
    ApplyResult,
    CallError,
    CreatedPrincipals,
    PermanentError,
    ProgressEvent,
    ProgressKind,
    RetryableError,
    apply_plan,
    classify,
    plan_steps,
)
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.model import Address, Kind
from iamstate.plan import Action, ApiCall, Change, Phase, Plan
from iamstate.render.results import apply_text
from iamstate.statefile import live_from_json

Behaviour = Callable[[ApiCall], None]


def call(name: str, phase: Phase = Phase.CREATE, order: int = 0) -> ApiCall:
    """A call told apart by its ``Name`` parameter."""
    return ApiCall("CreateUser", {"UserName": name}, phase, order=order)


def make_plan(*steps: list[str]) -> Plan:
    """One change per call; step ``k`` is phase CREATE, order ``k``."""
    changes = tuple(
        Change(Address(Kind.USER, name), Action.CREATE, None, {}, api_calls=(call(name, order=k),))
        for k, names in enumerate(steps)
        for name in names
    )
    return Plan("123456789012", "iamstate", changes)


def name_of(c: ApiCall) -> str:
    return str(c.params["UserName"])


@dataclass
class FakeExecutor:
    """Records when each call starts and ends (a shared sequence number) and how many overlap."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    default_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    seq: int = 0
    active: int = 0
    max_active: int = 0
    starts: dict[str, int] = field(default_factory=dict)
    ends: dict[str, int] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def execute(self, c: ApiCall) -> None:
        name = name_of(c)
        with self.lock:
            self.seq += 1
            self.starts.setdefault(name, self.seq)
            self.attempts[name] = self.attempts.get(name, 0) + 1
            self.order.append(name)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            behaviour = self.behaviours.get(name)
            if behaviour is not None:
                behaviour(c)
            elif self.default_seconds:
                time.sleep(self.default_seconds)
        finally:
            with self.lock:
                self.active -= 1
                self.seq += 1
                self.ends[name] = self.seq


def sleeping(seconds: float) -> Behaviour:
    def behaviour(_c: ApiCall) -> None:
        time.sleep(seconds)

    return behaviour


def names(entries: tuple[Any, ...]) -> list[str]:
    return [name_of(e.call) for e in entries]


class FakeTime:
    """A clock that only moves when the engine sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


# --- order and concurrency ------------------------------------------------------------


def test_a_step_starts_only_after_every_call_of_the_previous_step_finished() -> None:
    steps = [[f"s{k}c{i}" for i in range(5)] for k in range(4)]
    fake = FakeExecutor()
    # Uneven durations, so a step's calls finish in an order unlike their start order.
    for k, step in enumerate(steps):
        for i, name in enumerate(step):
            fake.behaviours[name] = sleeping(0.002 * ((i * 7 + k * 3) % 5))

    result = apply_plan(make_plan(*steps), fake, parallelism=4)

    assert result.ok and result.total == 20
    for previous, step in itertools.pairwise(steps):
        last_end = max(fake.ends[n] for n in previous)
        first_start = min(fake.starts[n] for n in step)
        assert first_start > last_end
    assert names(result.done) == [n for step in steps for n in step]  # reported in plan order


def test_calls_of_one_step_run_concurrently_up_to_parallelism_and_never_beyond() -> None:
    step = [f"c{i}" for i in range(10)]
    barrier = threading.Barrier(3, timeout=5)
    fake = FakeExecutor(default_seconds=0.02)

    def meet(_c: ApiCall) -> None:
        barrier.wait()
        time.sleep(0.02)

    # The first three can only get past the barrier when three run at the same time.
    for name in step[:3]:
        fake.behaviours[name] = meet

    result = apply_plan(make_plan(step), fake, parallelism=3)

    assert result.ok, apply_text(result.to_json())
    assert fake.max_active == 3


def test_parallelism_one_runs_every_call_alone_in_plan_order() -> None:
    steps = [["a", "b", "c"], ["d", "e"]]
    fake = FakeExecutor(default_seconds=0.005)

    result = apply_plan(make_plan(*steps), fake, parallelism=1)

    assert result.ok
    assert fake.max_active == 1
    assert fake.order == ["a", "b", "c", "d", "e"]


def test_parallelism_must_be_positive() -> None:
    with pytest.raises(ValueError, match="parallelism"):
        apply_plan(make_plan(["a"]), FakeExecutor(), parallelism=0)


def test_steps_group_calls_by_phase_then_order() -> None:
    changes = (
        Change(
            Address(Kind.USER, "u"),
            Action.DELETE,
            {},
            None,
            api_calls=(
                ApiCall("DeleteUser", {"UserName": "u"}, Phase.DELETE, order=20),
                ApiCall("RemoveUserFromGroup", {"UserName": "u", "GroupName": "g"}, Phase.DELETE, order=19),
            ),
        ),
        Change(
            Address(Kind.GROUP, "g"),
            Action.CREATE,
            None,
            {},
            api_calls=(
                ApiCall("CreateGroup", {"GroupName": "g"}, Phase.CREATE, order=4),
                ApiCall("AttachGroupPolicy", {"GroupName": "g", "PolicyArn": "arn:x"}, Phase.ATTACH),
            ),
        ),
    )
    steps = plan_steps(Plan("1", "s", changes))
    assert [[p.call.operation for p in step] for step in steps] == [
        ["CreateGroup"],
        ["AttachGroupPolicy"],
        ["RemoveUserFromGroup"],
        ["DeleteUser"],
    ]


# --- permanent errors and stopping ----------------------------------------------------


def test_a_permanent_error_stops_new_calls_but_lets_calls_in_flight_finish() -> None:
    a_failing = threading.Event()
    b_started = threading.Event()

    def slow(_c: ApiCall) -> None:
        b_started.set()
        assert a_failing.wait(5)
        time.sleep(0.05)  # still running when A's failure is recorded

    def fail(c: ApiCall) -> None:
        assert b_started.wait(5)
        a_failing.set()
        raise PermanentError(c, "DeleteConflict", "Cannot delete entity, must detach all policies first.")

    fake = FakeExecutor(behaviours={"b": slow, "a": fail})
    plan = make_plan(["b", "a", "c", "d"], ["e", "f"])

    result = apply_plan(plan, fake, parallelism=2)

    assert set(fake.starts) == {"a", "b"}
    assert names(result.done) == ["b"]
    assert [(name_of(f.call), f.error) for f in result.failed] == [
        ("a", "DeleteConflict: Cannot delete entity, must detach all policies first.")
    ]
    assert names(result.not_started) == ["c", "d", "e", "f"]
    assert not result.ok and not result.interrupted
    text = apply_text(result.to_json())
    assert text.startswith("Apply failed: user.a: CreateUser(UserName=a): DeleteConflict")
    assert "What was done (1 of 6 calls):\n  user.b: CreateUser(UserName=b)\n" in text
    assert "  user.e: CreateUser(UserName=e)  [not started]\n" in text
    assert "Run apply again" in text


def test_an_unexpected_executor_exception_is_a_failure_not_a_crash() -> None:
    def boom(_c: ApiCall) -> None:
        raise KeyError("UserName")

    result = apply_plan(make_plan(["a"], ["b"]), FakeExecutor(behaviours={"a": boom}), parallelism=1)

    assert [f.error for f in result.failed] == ["KeyError: 'UserName'"]
    assert names(result.not_started) == ["b"]


def test_setting_stop_lets_the_call_in_flight_finish_and_starts_nothing_more() -> None:
    stop = threading.Event()

    def stop_midway(_c: ApiCall) -> None:
        stop.set()  # as the CLI's signal handler would, while this call is in flight
        time.sleep(0.02)

    fake = FakeExecutor(behaviours={"b": stop_midway})

    result = apply_plan(make_plan(["a", "b", "c"], ["d"]), fake, parallelism=1, stop=stop)

    assert result.interrupted and not result.ok
    assert names(result.done) == ["a", "b"]
    assert names(result.not_started) == ["c", "d"]
    assert result.failed == ()
    assert apply_text(result.to_json()).startswith("Apply interrupted: 2 of 4 calls made.")
    assert "Run apply again to converge." in apply_text(result.to_json())


def test_stop_set_before_apply_makes_no_call() -> None:
    stop = threading.Event()
    stop.set()
    fake = FakeExecutor()

    result = apply_plan(make_plan(["a"], ["b"]), fake, stop=stop)

    assert fake.starts == {}
    assert result.interrupted and names(result.not_started) == ["a", "b"]


def test_stop_is_noticed_while_a_retry_is_pending() -> None:
    stop = threading.Event()

    def not_yet(c: ApiCall) -> None:
        stop.set()
        raise RetryableError(c, "NoSuchEntity", "The role with name r cannot be found.")

    started = time.monotonic()
    result = apply_plan(
        make_plan(["a"], ["b"]), FakeExecutor(behaviours={"a": not_yet}), stop=stop, propagation_timeout=60
    )

    assert time.monotonic() - started < 5
    assert result.interrupted
    assert [f.error for f in result.failed] == [
        "NoSuchEntity: The role with name r cannot be found. (not retried: apply was stopping)"
    ]
    assert names(result.not_started) == ["b"]


# --- retries --------------------------------------------------------------------------


def test_retryable_errors_are_retried_with_growing_backoff_until_the_call_succeeds() -> None:
    fake_time = FakeTime()
    failures = {"n": 0}

    def flaky(c: ApiCall) -> None:
        if failures["n"] < 4:
            failures["n"] += 1
            raise RetryableError(c, "ConcurrentModification", "try again")

    fake = FakeExecutor(behaviours={"a": flaky})

    result = apply_plan(make_plan(["a"], ["b"]), fake, sleep=fake_time.sleep, clock=fake_time.clock)

    assert result.ok
    assert fake.attempts == {"a": 5, "b": 1}
    assert len(fake_time.sleeps) == 4
    for attempt, seconds in enumerate(fake_time.sleeps):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= seconds <= ceiling  # exponential, with jitter


def test_a_retryable_error_becomes_a_failure_once_the_propagation_timeout_is_spent() -> None:
    fake_time = FakeTime()

    def never(c: ApiCall) -> None:
        raise RetryableError(c, "NoSuchEntity", "The user with name a cannot be found.")

    fake = FakeExecutor(behaviours={"a": never})

    result = apply_plan(
        make_plan(["a"], ["b"]),
        fake,
        propagation_timeout=30,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )

    assert fake_time.now == pytest.approx(30)
    assert max(fake_time.sleeps) <= 8.0
    assert fake.attempts["a"] == len(fake_time.sleeps) + 1
    assert [f.error for f in result.failed] == [
        "NoSuchEntity: The user with name a cannot be found. (still failing after 30s of retries)"
    ]
    assert names(result.not_started) == ["b"]
    assert not result.interrupted


# --- progress and the result's forms --------------------------------------------------


def test_progress_reports_every_call_with_running_counts() -> None:
    events: list[ProgressEvent] = []
    fake_time = FakeTime()
    tries = {"n": 0}

    def once(c: ApiCall) -> None:
        tries["n"] += 1
        if tries["n"] == 1:
            raise RetryableError(c, "Throttling", "Rate exceeded")

    apply_plan(
        make_plan(["a", "b"], ["c"]),
        FakeExecutor(behaviours={"b": once}),
        on_progress=events.append,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )

    kinds = [e.kind for e in events]
    assert kinds.count(ProgressKind.STARTED) == 3
    assert kinds.count(ProgressKind.DONE) == 3
    assert kinds.count(ProgressKind.RETRYING) == 1
    assert {e.total for e in events} == {3}
    assert [e.finished for e in events if e.kind is ProgressKind.DONE] == [1, 2, 3]
    retry = next(e for e in events if e.kind is ProgressKind.RETRYING)
    assert retry.address == "user.b" and retry.message.startswith("Throttling: Rate exceeded; retrying in")


def test_result_json_is_serialisable_and_says_what_was_and_was_not_done() -> None:
    def fail(c: ApiCall) -> None:
        raise PermanentError(c, "AccessDenied", "not authorized")

    result = apply_plan(make_plan(["a"], ["b"]), FakeExecutor(behaviours={"a": fail}))
    doc = json.loads(json.dumps(result.to_json()))

    assert doc == {
        "ok": False,
        "interrupted": False,
        "done": [],
        "failed": [
            {
                "address": "user.a",
                "operation": "CreateUser",
                "params": {"UserName": "a"},
                "error": "AccessDenied: not authorized",
            }
        ],
        "not_started": [{"address": "user.b", "operation": "CreateUser", "params": {"UserName": "b"}}],
        "summary": {"total": 2, "done": 0, "failed": 1, "not_started": 1},
    }


def test_success_is_one_line() -> None:
    result = apply_plan(make_plan(["a", "b"], ["c"]), FakeExecutor())
    assert apply_text(result.to_json()) == "Apply complete! 3 API calls made.\n"
    assert result.to_json()["ok"] is True
    assert apply_text(ApplyResult().to_json()) == "Apply complete! 0 API calls made.\n"
    summary = {"import": 1, "add": 2, "change": 0, "destroy": 1}
    assert apply_text(result.to_json(), summary) == (
        "Apply complete! Resources: 1 imported, 2 added, 0 changed, 1 destroyed.\n3 API calls made.\n"
    )


# --- classification -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "status", "expected"),
    [
        ("NoSuchEntity", "The role with name r cannot be found.", 404, RetryableError),
        (
            "MalformedPolicyDocument",
            'Invalid principal in policy: "AWS":"arn:aws:iam::1:role/x"',
            400,
            RetryableError,
        ),
        ("MalformedPolicyDocument", "Policy document should not specify a principal.", 400, PermanentError),
        ("ConcurrentModification", "", 409, RetryableError),
        ("EntityTemporarilyUnmodifiable", "", 409, RetryableError),
        ("Throttling", "Rate exceeded", 400, RetryableError),
        ("ServiceFailure", "", 500, RetryableError),
        ("", "<html>Internal Server Error</html>", 500, RetryableError),
        ("SomethingNew", "", 503, RetryableError),
        ("SomethingNew", "", 429, RetryableError),
        ("AccessDenied", "not authorized", 403, PermanentError),
        ("DeleteConflict", "must detach all policies first", 409, PermanentError),
        ("LimitExceeded", "Cannot exceed quota", 409, PermanentError),
        ("EntityAlreadyExists", "exists", 409, PermanentError),
        ("ValidationError", "", None, PermanentError),
    ],
)
def test_classify(code: str, message: str, status: int | None, expected: type[CallError]) -> None:
    assert classify(code, message, status) is expected


# --- the plans calls.py makes fit the engine ------------------------------------------

ENTITY_PARAMS = {
    "UserName": Kind.USER,
    "GroupName": Kind.GROUP,
    "RoleName": Kind.ROLE,
    "InstanceProfileName": Kind.INSTANCE_PROFILE,
}
LIFECYCLE = {
    f"{verb}{kind}"
    for verb in ("Create", "Delete")
    for kind in ("User", "Group", "Role", "InstanceProfile", "Policy")
}


def _entities(c: ApiCall) -> set[tuple[Kind, str]]:
    found = {(kind, str(c.params[key]).lower()) for key, kind in ENTITY_PARAMS.items() if key in c.params}
    if "PolicyArn" in c.params:
        found.add((Kind.POLICY, str(c.params["PolicyArn"]).rsplit("/", 1)[-1].lower()))
    if c.operation == "CreatePolicy":
        found.add((Kind.POLICY, str(c.params["PolicyName"]).lower()))
    return found


CASES = Path(__file__).parent / "cases"


def _case_plan(name: str) -> Plan:
    folder = CASES / name
    raw = json.loads((folder / "live.json").read_text())
    for item in raw.get("resources", []):
        for key in ("document", "trust"):
            if key in item:
                item[key] = policy.normalize(item[key])
        if "inline_policies" in item:
            item["inline_policies"] = {k: policy.normalize(v) for k, v in item["inline_policies"].items()}
    live = live_from_json(raw)
    return build_plan(load_config(folder / "config.yaml", partition=live.partition).config, live)


@pytest.mark.parametrize("name", sorted(p.parent.name for p in CASES.glob("*/expected.json")))
def test_calls_sharing_a_step_never_depend_on_each_other(name: str) -> None:
    """A create or delete never shares a step with another call on the same entity, nor a
    DeactivateMFADevice with the DeleteVirtualMFADevice that depends on it."""
    for step in plan_steps(_case_plan(name)):
        calls = [p.call for p in step]
        for c in calls:
            others = [o for o in calls if o is not c]
            if c.operation in LIFECYCLE:
                primary = {e for e in _entities(c) if e[0].value.replace("_", "") == c.operation[6:].lower()}
                for other in others:
                    assert not primary & _entities(other), f"{c} and {other} share a step"
            if c.operation == "DeactivateMFADevice":
                assert not any(
                    o.operation == "DeleteVirtualMFADevice" and o.params == c.params for o in others
                )
            if c.operation == "CreatePolicyVersion":
                assert not any(
                    o.operation == "DeletePolicyVersion" and o.params["PolicyArn"] == c.params["PolicyArn"]
                    for o in others
                )


def _role_with_trust(name: str, *principals: str) -> ApiCall:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
        ],
    }
    return ApiCall("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": trust}, Phase.CREATE)


def test_invalid_principal_is_retried_only_for_a_principal_this_apply_creates() -> None:
    new_user = Change(Address(Kind.USER, "Deployer"), Action.CREATE, None, {}, api_calls=(call("Deployer"),))
    old_role = Change(Address(Kind.ROLE, "old"), Action.UPDATE, {}, {}, api_calls=())
    created = CreatedPrincipals.of(Plan("123456789012", "iamstate", (new_user, old_role)))
    account = "arn:aws:iam::123456789012"
    message = 'Invalid principal in policy: "AWS":"{}"'

    # IAM has not caught up with the user this apply created (names compare case-insensitively).
    trusting_new = _role_with_trust("r", f"{account}:user/team/deployer")
    assert (
        classify(
            "MalformedPolicyDocument",
            message.format(f"{account}:user/team/deployer"),
            400,
            call=trusting_new,
            created=created,
        )
        is RetryableError
    )
    # A typo'd account id, or a role that nobody creates, will not appear by waiting.
    for principal in (
        "arn:aws:iam::12345678901:user/deployer",
        f"{account}:role/old",
        f"{account}:role/nope",
    ):
        assert (
            classify(
                "MalformedPolicyDocument",
                message.format(principal),
                400,
                call=_role_with_trust("r", principal),
                created=created,
            )
            is PermanentError
        )
    # A message that names no principal: the call's own document decides.
    generic = "Invalid principal in policy"
    assert (
        classify("MalformedPolicyDocument", generic, 400, call=trusting_new, created=created)
        is RetryableError
    )
    assert created.waiting_for(_role_with_trust("r", f"{account}:role/nope"), generic) == (
        False,
        f"{account}:role/nope",
    )
