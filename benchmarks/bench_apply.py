"""How long apply and plan take on a large account, against the strict local endpoint with latency.

    .venv/bin/python benchmarks/bench_apply.py [--roles 1000] [--latency 0.05] [--parallelism 8]

Writes a synthetic configuration (benchmarks/synthetic.py: per 1,000 roles 250
customer policies, 150 users, 25 groups) to a temporary directory and, through
the strict layer in front of moto's server (127.0.0.1 only) with ``--latency``
seconds added to every call, as real IAM costs:

1. applies it to an empty account at parallelism 1 and at ``--parallelism``
   (a fresh account each time), timing the read + plan and the writes apart;
2. plans again on the applied account (must be empty), and times a bare
   sequential boto3 script making the same reads (the read floor);
3. makes the plan's writes with plain sequential boto3 calls (the write floor).

The strict layer runs writes one at a time (moto breaks under parallel writes)
but sleeps the latency outside that lock; the time moto holds the lock is
measured and shown, since no parallelism can go below it. Everything runs in
this one Python process (client, strict layer, moto), so their CPU time shares
one interpreter lock too.

Not a test: it asserts only that each run converged. The defaults take about
ten minutes on two cores, mostly the two sequential write runs; ``--roles 200``
is a quick run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.floor import bare_reads, read_list
from benchmarks.synthetic import READ_ONLY_ACCESS, Shape, config
from iamstate.apply import apply_plan
from iamstate.aws.write import Boto3Executor
from iamstate.commands.shared import AwsOptions, Clients, connect, make_plan, read_live
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.plan import Plan
from iamstate.render.results import apply_text
from tests.support.moto_server import ACCOUNT_ID
from tests.support.strict import StrictIam, is_write

DOCUMENT_SUFFIX = "Document"
"""Planned parameters holding a policy document (sent to IAM as JSON text)."""


class TimedStrictIam(StrictIam):
    """The strict layer, also summing how long answering calls takes (latency excluded).

    For writes that is the time the layer holds its write lock (the prerequisite
    check and moto's own work): the part of an apply that runs one call at a time.
    """

    def __init__(self) -> None:
        super().__init__()
        self._timing_lock = threading.Lock()
        self._answer_seconds: defaultdict[str, float] = defaultdict(float)

    def _answer(self, request: Any) -> Any:
        started = time.perf_counter()
        try:
            return super()._answer(request)
        finally:
            spent = time.perf_counter() - started
            with self._timing_lock:
                self._answer_seconds[request.operation] += spent

    def answer_seconds(self) -> dict[str, float]:
        """Seconds spent answering each operation since the timers were reset (writes: under the lock)."""
        with self._timing_lock:
            return dict(self._answer_seconds)

    def reset_timers(self) -> None:
        with self._timing_lock:
            self._answer_seconds = defaultdict(float)


@dataclass
class Measure:
    """One timed run: wall seconds and the calls the strict layer answered."""

    label: str
    seconds: float
    calls: int
    writes: Counter[str] = field(default_factory=Counter)
    reads: Counter[str] = field(default_factory=Counter)
    answer_seconds: dict[str, float] = field(default_factory=dict)
    """Seconds the strict layer and moto took to answer, by operation (latency excluded)."""
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def moto_write_seconds(self) -> float:
        """Time the layer held its write lock: the part of the writes that cannot overlap."""
        return sum(t for op, t in self.answer_seconds.items() if is_write(op))

    @property
    def moto_read_seconds(self) -> float:
        return sum(t for op, t in self.answer_seconds.items() if not is_write(op))


class Bench:
    """The strict endpoint, the clients, and the runs."""

    def __init__(self, strict: TimedStrictIam, path: Path, latency: float, max_pool: int) -> None:
        self.strict = strict
        self.path = path
        self.latency = latency
        self.clients: Clients = connect(AwsOptions(endpoint_url=strict.endpoint), max_pool=max_pool)
        self.bare_iam = strict.client("iam")
        self.bare_sts = strict.client("sts")
        self._moto_iam = strict.moto.client("iam")

    # --- account and records ----------------------------------------------------------

    def fresh_account(self) -> None:
        """An empty account, AWS-managed policies loaded, latency set, no records."""
        self.strict.reset()
        # The first IAM call after a reset loads moto's AWS-managed policies; not ours to time.
        self._moto_iam.get_policy(PolicyArn=READ_ONLY_ACCESS)
        self.start_recording()

    def start_recording(self) -> None:
        self.strict.configure(latency=self.latency)
        self.strict.clear()
        self.strict.reset_timers()

    def measure(self, label: str, seconds: float, parts: dict[str, float] | None = None) -> Measure:
        calls = self.strict.calls()
        timers = self.strict.answer_seconds()
        return Measure(
            label,
            seconds,
            len(calls),
            Counter(c.operation for c in calls if is_write(c.operation)),
            Counter(c.operation for c in calls if not is_write(c.operation)),
            timers,
            parts or {},
        )

    # --- runs ------------------------------------------------------------------------------

    def apply(self, parallelism: int) -> tuple[Measure, Plan]:
        """Apply the config to an empty account: read + plan, then the writes."""
        self.fresh_account()
        started = time.perf_counter()
        _, _, plan = make_plan(str(self.path), self.clients)
        planned = time.perf_counter()
        result = apply_plan(plan, Boto3Executor(self.clients.iam), parallelism=parallelism)
        done = time.perf_counter()
        if not result.ok:
            raise SystemExit(f"apply at parallelism {parallelism} failed:\n{apply_text(result.to_json())}")
        measure = self.measure(
            f"apply, parallelism {parallelism}",
            done - started,
            {"read + plan": planned - started, "writes": done - planned},
        )
        return measure, plan

    def plan(self, repeats: int) -> tuple[Measure, Measure]:
        """Plan on the applied account as ``iamstate plan`` does (load, read, diff, rules);
        then load_config, read_live and build_plan alone, to show where its time goes."""
        plans: list[Measure] = []
        for _ in range(repeats):
            self.start_recording()
            started = time.perf_counter()
            _, _, plan = make_plan(str(self.path), self.clients)
            seconds = time.perf_counter() - started
            if not plan.summary.empty:
                raise SystemExit(f"the plan after apply is not empty: {plan.summary}")
            plans.append(self.measure("plan (load + read + diff + rules)", seconds))
        reads: list[Measure] = []
        loads: list[float] = []
        diffs: list[float] = []
        for _ in range(repeats):
            started = time.perf_counter()
            loaded = load_config(self.path)
            loads.append(time.perf_counter() - started)
            self.start_recording()
            started = time.perf_counter()
            live = read_live(loaded.config, self.clients)
            reads.append(self.measure("read_account alone", time.perf_counter() - started))
            started = time.perf_counter()
            build_plan(loaded.config, live)
            diffs.append(time.perf_counter() - started)
        planned, read = _median(plans), _median(reads)
        planned.parts = {
            "load_config, alone": statistics.median(loads),
            "build_plan, alone": statistics.median(diffs),
        }
        return planned, read

    def read_floor(self, repeats: int) -> Measure:
        """The same reads, by a bare sequential boto3 script."""
        runs: list[Measure] = []
        for _ in range(repeats):
            self.start_recording()
            started = time.perf_counter()
            bare_reads(self.bare_iam, self.bare_sts, read_list())
            runs.append(self.measure("read floor (bare boto3, sequential)", time.perf_counter() - started))
        return _median(runs)

    def write_floor(self, plan: Plan) -> Measure:
        """The plan's writes by plain sequential boto3 calls, on an empty account."""
        methods = _methods(self.bare_iam)
        requests = [(methods[call.operation], call.params) for _, call in plan.ordered_calls()]
        self.fresh_account()
        started = time.perf_counter()
        for method, params in requests:
            method(**{k: _sent(k, v) for k, v in params.items()})
        measure = self.measure("write floor (bare boto3, sequential)", time.perf_counter() - started)
        # The floor made the same account: planning it now (without latency) finds nothing to do.
        self.strict.configure(latency=0.0)
        _, _, after = make_plan(str(self.path), self.clients)
        if not after.summary.empty:
            raise SystemExit(f"the write floor did not make the configured account: {after.summary}")
        return measure


def _methods(client: Any) -> dict[str, Callable[..., Any]]:
    """The client's methods by IAM operation name."""
    return {api: getattr(client, name) for name, api in client.meta.method_to_api_mapping.items()}


def _sent(key: str, value: Any) -> Any:
    return json.dumps(value) if key.endswith(DOCUMENT_SUFFIX) and isinstance(value, dict | list) else value


def _median(runs: list[Measure]) -> Measure:
    middle = statistics.median_low([m.seconds for m in runs])
    return next(m for m in runs if m.seconds == middle)


# --- output ----------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(text, flush=True)


def _by_operation(counts: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _row(m: Measure) -> str:
    writes = sum(m.writes.values())
    reads = sum(m.reads.values())
    return (
        f"{m.label:42} {m.seconds:9.2f} {m.calls:7} {writes:7} {reads:6} "
        f"{m.moto_write_seconds:9.2f} {m.moto_read_seconds:9.2f}"
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def _describe(path: Path, shape: Shape) -> Iterable[str]:
    text = path.read_text()
    yield f"config       {path} ({len(text.splitlines())} lines, {len(text) // 1024} KiB)"
    yield (
        f"             account {ACCOUNT_ID}, stack bench: {shape.roles} roles (trust, 2 policies, "
        f"ReadOnlyAccess on every 10th, instance profile on every 5th), {shape.policies} policies, "
        f"{shape.users} users (2 groups, 1 policy), {shape.groups} groups (2 policies), password policy"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--roles", type=int, default=1000, help="roles; other kinds in proportion")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every call")
    parser.add_argument("--parallelism", type=int, default=8, help="the concurrent apply's parallelism")
    parser.add_argument(
        "--repeats", type=int, default=1, help="plan and read-floor runs (the median is shown)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary config directory")
    args = parser.parse_args(argv)
    if args.roles < 1 or args.parallelism < 1 or args.repeats < 1 or args.latency < 0:
        parser.error("--roles, --parallelism and --repeats must be at least 1, --latency at least 0")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    shape = Shape.for_roles(args.roles)
    workdir = Path(tempfile.mkdtemp(prefix="iamstate-bench-"))
    path = workdir / "iamstate.yaml"
    path.write_text(yaml.safe_dump(config(shape), sort_keys=False, width=120))

    wall = time.perf_counter()
    strict = TimedStrictIam()
    with strict:
        # Only the fake credentials and the local endpoint: no profile or real credential is read.
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(strict.env())
        bench = Bench(strict, path, args.latency, max_pool=max(10, args.parallelism + 2))
        _say(f"endpoint     {strict.endpoint} (strict layer) -> {strict.moto.endpoint} (moto)")
        for line in _describe(path, shape):
            _say(line)
        _say(f"latency      {args.latency * 1000:.0f} ms added to every call")
        _say("")

        _say("apply at parallelism 1 ...")
        p1, plan = bench.apply(1)
        _say(f"  {p1.seconds:.1f} s; writes: {_by_operation(p1.writes)}")
        _say("plan on the applied account ...")
        planned, read = bench.plan(args.repeats)
        _say(f"  {planned.seconds:.2f} s; calls: {_by_operation(planned.reads)}")
        _say("read floor ...")
        read_floor = bench.read_floor(args.repeats)
        _say(f"  {read_floor.seconds:.2f} s; calls: {_by_operation(read_floor.reads)}")
        _say(f"apply at parallelism {args.parallelism} ...")
        pn, _ = bench.apply(args.parallelism)
        _say(f"  {pn.seconds:.1f} s")
        _say("write floor ...")
        write_floor = bench.write_floor(plan)
        _say(f"  {write_floor.seconds:.1f} s")
    total = time.perf_counter() - wall
    if not args.keep:
        path.unlink()
        workdir.rmdir()

    _report(args, plan, p1, pn, planned, read, read_floor, write_floor, total)
    return 0


def _report(
    args: argparse.Namespace,
    plan: Plan,
    p1: Measure,
    pn: Measure,
    planned: Measure,
    read: Measure,
    read_floor: Measure,
    write_floor: Measure,
    total: float,
) -> None:
    n = args.parallelism
    planned_calls = len(plan.ordered_calls())
    rule = "-" * 94
    _say("")
    _say(
        f"Results: {args.roles} roles, {args.latency * 1000:.0f} ms latency per call, {planned_calls} planned calls"
    )
    _say("")
    _say(f"{'run':42} {'wall s':>9} {'calls':>7} {'writes':>7} {'reads':>6} {'moto-w s':>9} {'moto-r s':>9}")
    _say(rule)
    for measure in (p1, pn, write_floor, planned, read, read_floor):
        _say(_row(measure))
        for part, seconds in measure.parts.items():
            _say(f"  {part:40} {seconds:9.2f}")
    _say(rule)
    _say("calls: as answered by the strict layer (reads include STS GetCallerIdentity).")
    _say("moto-w s / moto-r s: time the layer and moto took to answer writes / reads, summed over calls,")
    _say("latency excluded (concurrent reads overlap, so moto-r s can exceed the wall time);")
    _say("the layer holds its write lock for all of moto-w, so that part of the writes cannot overlap.")
    _say("")
    _say(f"write calls of one apply: {_by_operation(p1.writes)}")
    _say(f"read calls of one plan:   {_by_operation(planned.reads)}")
    slowest = sorted(planned.answer_seconds.items(), key=lambda item: -item[1])[:3]
    _say("moto's time per plan:     " + ", ".join(f"{op} {t:.2f} s" for op, t in slowest))
    _say("")

    p1_writes, pn_writes = p1.parts["writes"], pn.parts["writes"]
    overhead = (p1_writes - write_floor.seconds) / max(1, planned_calls)
    _say(
        f"speed-up, parallelism {n} vs 1:  {_ratio(p1_writes, pn_writes)} (writes)   "
        f"{_ratio(p1.seconds, pn.seconds)} (whole apply)   target >= 4x"
    )
    _say(
        f"plan / read floor:              {_ratio(planned.seconds, read_floor.seconds)}   "
        f"(read_account alone {_ratio(read.seconds, read_floor.seconds)})   target <= 1.2x"
    )
    _say(
        f"apply p1 / write floor:         {_ratio(p1_writes, write_floor.seconds)} (writes)   "
        f"{_ratio(p1.seconds, write_floor.seconds)} (whole apply); "
        f"{overhead * 1000:+.1f} ms per call"
    )

    # What the serialised writes allow the concurrent apply.
    serial = pn.moto_write_seconds
    per_write = serial / max(1, sum(pn.writes.values()))
    best = max(serial, p1_writes / n)
    _say("")
    _say(
        f"write lock, parallelism {n}: held {serial:.1f} s of the {pn_writes:.1f} s of writes "
        f"({per_write * 1000:.1f} ms per write; {p1.moto_write_seconds:.1f} s at parallelism 1)."
    )
    _say(
        f"fastest the lock and latency allow: max({serial:.1f}, {p1_writes:.1f} / {n}) = {best:.1f} s, "
        f"a speed-up of at most {_ratio(p1_writes, best)}; the run took {_ratio(pn_writes, best)} that."
    )
    _say("")
    _say(f"benchmark wall time {total:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
