"""How plan and validate scale to 10,000 entities, beside the floor of the same read calls.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1k,5k,10k] [--repeats 3] [--baseline /path/to/checkout]

For each size (5k = 5,000 roles, 1,500 customer policies, 2,000 users, 300
groups; 1k and 10k in proportion) it builds the synthetic account of
benchmarks/synthetic.py once on moto's server (started here on 127.0.0.1, stopped
at the end), writes the matching configuration, and measures, ``--repeats`` times
each (min and median shown):

- ``plan`` with no changes: the real CLI as a subprocess (so start-up counts),
  its API calls by operation (from the ``aws.read`` log event) and peak RSS;
- the floor: benchmarks/floor.py, a bare boto3 script run the same way, making
  the reader's declared read calls (same operations, page sizes and concurrency);
- ``validate`` alone (CLI subprocess), and with ``--baseline`` the same validate
  run by another checkout of iamstate (e.g. main) for comparison;
- each pair (plan and the floor; validate and the baseline's) run in turns, so that a
  machine whose speed drifts skews neither ratio;
- a phase breakdown of one plan, in this process, calling the functions the
  command calls: parse, schema, build, read, diff, analysis, rules, render
  (normalize is the part of build and read spent normalizing documents).

It also times ``iamstate validate examples/`` and ``iamstate --help``. Ratios are
what count: absolute times are noisy on a shared machine. Not a test: it asserts
only that each plan has no changes. The defaults take half an hour or more on two
cores, mostly building the 10k account; ``--sizes 1k --repeats 1`` is a quick run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SIZES = {"1k": 1_000, "5k": 5_000, "10k": 10_000}
"""Roles per size; other kinds in the proportion of the 5k account."""


def shape_for(roles: int) -> Any:
    from benchmarks.synthetic import Shape

    return Shape(roles=roles, policies=roles * 3 // 10, users=roles * 2 // 5, groups=max(1, roles * 3 // 50))


# --- runs in subprocesses ----------------------------------------------------------------------


@dataclass
class Run:
    """One subprocess: wall seconds, peak RSS and what it printed."""

    seconds: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


TIME = Path("/usr/bin/time")
"""GNU time: a small parent, so that the peak RSS it reports is the command's own (a child
forked from this large process would count this process's pages as its own peak)."""


def run_process(args: Sequence[str], *, env: dict[str, str], cwd: Path) -> Run:
    """Run ``args``; its wall time, and its peak RSS through GNU time (or wait4 without it)."""
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        command = [str(TIME), "-f", "%M", "-o", rss.name, *args] if TIME.exists() else list(args)
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        reported = rss.read().strip().splitlines()
        # Both in KiB on Linux.
        kib = int(reported[-1]) if TIME.exists() and reported else usage.ru_maxrss
        return Run(seconds, kib / 1024, process.returncode, out.read(), err.read())


@dataclass
class Series:
    """Repeated runs of one command."""

    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def max_rss_mb(self) -> float:
        return max(r.max_rss_mb for r in self.runs)


def iamstate_env(code: Path, local: Any = None) -> dict[str, str]:
    """The environment for a run of the iamstate at ``code``; AWS only ``local``'s endpoint, if any."""
    # Bytecode cached, as an installed iamstate has it (both checkouts alike).
    base = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env: dict[str, str] = local.env(base) if local is not None else base
    env["PYTHONPATH"] = str(code)
    env["NO_COLOR"] = "1"
    return env


Command = tuple[str, Sequence[str], dict[str, str], Path]
"""A label, the arguments, the environment and the working directory of one command."""


def alternate(commands: Sequence[Command], times: int) -> list[Series]:
    """Each of ``commands`` run ``times`` times, in turns (one run of each, then the next
    round), so that the ratios between them are not skewed by a machine whose speed
    drifts during the run."""
    series = [Series(label) for label, _, _, _ in commands]
    for _ in range(times):
        for (label, args, env, cwd), out in zip(commands, series, strict=True):
            run = run_process(args, env=env, cwd=cwd)
            if run.returncode not in (0, 3):
                raise SystemExit(f"{label} failed ({run.returncode}):\n{run.stderr[-2000:]}")
            out.runs.append(run)
    return series


def api_calls(run: Run) -> dict[str, int]:
    """The calls by operation that plan logged in its ``aws.read`` event."""
    for line in run.stderr.splitlines():
        if '"aws.read"' in line:
            event = json.loads(line)
            calls: dict[str, int] = event["api_calls"]
            return calls
    raise SystemExit("plan logged no aws.read event")


def check_floor_matches_reader() -> None:
    """The floor script keeps its own copies of the reader's settings (to import only boto3)."""
    from benchmarks import floor
    from iamstate.aws import read, session

    assert floor.MAX_ATTEMPTS == session.MAX_ATTEMPTS
    assert read.read_account.__kwdefaults__["tag_concurrency"] == floor.CONCURRENCY


# --- the phase breakdown, in this process -----------------------------------------------------


@contextmanager
def timing_normalize(spent: list[float]) -> Iterator[None]:
    """Add the seconds spent in policy.normalize (where build and read call it) to ``spent``."""
    from iamstate import policy

    original = policy.normalize

    def timed(document: Any, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(document, **options)
        finally:
            spent[0] += time.perf_counter() - started

    policy.normalize = timed  # type: ignore[assignment]
    try:
        yield
    finally:
        policy.normalize = original  # type: ignore[assignment]


@contextmanager
def timing(spent: dict[str, float], phase: str, owner: Any, name: str) -> Iterator[None]:
    """Add the seconds spent in ``owner.name`` (a function the command calls) to ``spent[phase]``."""
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


PHASES = ("parse", "schema", "build", "read", "normalize", "diff", "analysis", "rules", "render")


def phases(path: Path, endpoint: str) -> dict[str, float]:
    """One plan's phases: ``make_plan`` and the render, run here with the functions they call
    timed (parse, schema and build inside the config loader; the read; the diff and the
    plan's facts; the whole-account analysis and the access section; the rules)."""
    from contextlib import ExitStack

    from iamstate import config, policy
    from iamstate.commands import shared
    from iamstate.render import render

    policy._MEMO.clear()
    policy._SUBSTITUTED.clear()
    out: dict[str, float] = {}
    normalize = [0.0]
    patches = [
        ("parse", config, "_parse_file"),
        ("schema", config, "validate"),
        ("build", config.Builder, "build"),
        ("read", shared, "read_live"),
        ("diff", shared, "build_plan"),
        ("diff", shared, "metadata"),
        ("analysis", shared, "analysed"),
        ("analysis", shared, "plan_access"),
        ("rules", shared, "run_rules"),
    ]
    clients = shared.connect(shared.AwsOptions(endpoint_url=endpoint))
    with ExitStack() as stack:
        stack.enter_context(timing_normalize(normalize))
        for phase, owner, name in patches:
            stack.enter_context(timing(out, phase, owner, name))
        _, _, plan = shared.make_plan(str(path), clients)
        started = time.perf_counter()
        render(plan.to_json(), "text", color=False)
        out["render"] = time.perf_counter() - started
    if not plan.summary.empty:
        raise SystemExit(f"the in-process plan is not empty: {plan.summary}")
    out["normalize"] = normalize[0]
    return out


# --- one size ----------------------------------------------------------------------------------


@dataclass
class SizeResult:
    name: str
    shape: Any
    config_bytes: int
    build_seconds: float
    plan: Series
    floor: Series
    validate: Series
    baseline_validate: Series | None
    calls: dict[str, int]
    phases: dict[str, float]


def measure_size(name: str, local: Any, workdir: Path, args: argparse.Namespace) -> SizeResult:
    import yaml

    from benchmarks.synthetic import build_account, config

    shape = shape_for(SIZES[name])
    say(f"[{name}] building {shape} on {local.endpoint} ...")
    local.reset()
    started = time.perf_counter()
    iam = local.client("iam", max_pool_connections=args.workers + 2)
    build_account(iam, shape, args.workers)
    build_seconds = time.perf_counter() - started
    config_dir = workdir / name
    config_dir.mkdir()
    text = yaml.safe_dump(config(shape), sort_keys=False, width=120)
    (config_dir / "iamstate.yaml").write_text(text)
    say(f"[{name}] built in {build_seconds:.0f} s; config {len(text) // 1024} KiB")

    python = sys.executable
    env = iamstate_env(REPO, local)
    from benchmarks.floor import read_list

    reads = workdir / "reads.json"
    reads.write_text(json.dumps(read_list()))
    floor_script = str(Path(__file__).with_name("floor.py"))
    plan, floor = alternate(
        [
            (
                "plan",
                [python, "-m", "iamstate", "plan", str(config_dir), "--log-format", "json"],
                env,
                workdir,
            ),
            ("floor", [python, floor_script, str(reads)], env, workdir),
        ],
        args.repeats,
    )
    if not all("No changes." in run.stdout for run in plan.runs):
        raise SystemExit(f"[{name}] plan found changes:\n{plan.runs[0].stdout[-2000:]}")
    validating: list[Command] = [
        ("validate", [python, "-m", "iamstate", "validate", str(config_dir)], env, workdir)
    ]
    if args.baseline is not None:
        command = [python, "-m", "iamstate", "validate", str(config_dir)]
        validating.append(("baseline validate", command, iamstate_env(args.baseline), workdir))
    validate, *others = alternate(validating, args.repeats)
    baseline = others[0] if others else None
    say(f"[{name}] phases ...")
    parts = phases(config_dir, local.endpoint)
    return SizeResult(
        name, shape, len(text), build_seconds, plan, floor, validate, baseline, api_calls(plan.runs[0]), parts
    )


# --- output -------------------------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def times(series: Series) -> str:
    return f"{series.min:8.2f} {series.median:8.2f}"


def report_size(r: SizeResult, args: argparse.Namespace) -> None:
    """One size's results, printed as soon as they are measured."""
    s = r.shape
    say()
    say(
        f"== {r.name}: {s.roles} roles, {s.policies} policies, {s.users} users, {s.groups} groups "
        f"({r.config_bytes // 1024} KiB of YAML; account built in {r.build_seconds:.0f} s)"
    )
    say(f"  {'run':34} {'min':>8} {'median':>8} {'RSS MB':>8}")
    rows = [("plan, no changes (CLI)", r.plan), ("floor: bare boto3, same reads", r.floor)]
    rows.append(("validate (CLI)", r.validate))
    if r.baseline_validate is not None:
        rows.append(("validate, baseline checkout", r.baseline_validate))
    for label, series in rows:
        say(f"  {label:34} {times(series)} {series.max_rss_mb:8.0f}")
    say(
        f"  plan / floor: {ratio(r.plan.median, r.floor.median)} (median)  "
        f"{ratio(r.plan.min, r.floor.min)} (min)"
    )
    if r.baseline_validate is not None:
        say(
            f"  validate / baseline validate: {ratio(r.validate.median, r.baseline_validate.median)} "
            f"(median)  {ratio(r.validate.min, r.baseline_validate.min)} (min)"
        )
    total = sum(r.calls.values())
    say(f"  API calls of plan ({total}): " + ", ".join(f"{op} {n}" for op, n in sorted(r.calls.items())))
    in_process = sum(v for k, v in r.phases.items() if k != "normalize")
    say(f"  phases of one plan, in process ({in_process:.2f} s in all):")
    for phase in PHASES:
        seconds = r.phases.get(phase, 0.0)
        note = "  (within build and read)" if phase == "normalize" else ""
        say(f"    {phase:10} {seconds:8.2f}  {seconds / in_process:6.1%}{note}")


def report_small(small: dict[str, Series], args: argparse.Namespace) -> None:
    say()
    say(f"Start-up ({max(args.repeats, 5)} runs; seconds, min and median; peak RSS MB)")
    for label, series in small.items():
        say(f"  {label:42} {times(series)} {series.max_rss_mb:8.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="1k,5k,10k", help="comma-separated: 1k, 5k, 10k; none: the start-up figures only"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each measurement (min and median shown)"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another iamstate checkout to time validate with (e.g. main)"
    )
    parser.add_argument("--workers", type=int, default=8, help="threads that build the accounts")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip() and s.strip() != "none"]
    if (not sizes and args.sizes.strip() != "none") or any(s not in SIZES for s in sizes) or args.repeats < 1:
        parser.error("--sizes takes 1k, 5k and 10k, or none; --repeats at least 1")

    import structlog

    from tests.support.moto_server import LocalIam

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    check_floor_matches_reader()
    python = sys.executable
    small: dict[str, Series] = {}
    # Each checkout validates its own examples/ (the baseline's may not know today's keys).
    quick = [
        ("iamstate validate examples/", ["validate", "examples"]),
        ("iamstate --help", ["--help"]),
    ]
    for label, cli in quick:
        # Run from the checkout itself: `python -m` puts the working directory first on
        # the path, so the checkout imported is the one in the working directory.
        checkouts = [(code, suffix) for code, suffix in [(REPO, ""), (args.baseline, ", baseline")] if code]
        commands = [
            (label + suffix, [python, "-m", "iamstate", *cli], iamstate_env(code), code)
            for code, suffix in checkouts
        ]
        for series in alternate(commands, max(args.repeats, 5)):
            small[series.label] = series
    report_small(small, args)
    if not sizes:
        return 0
    say()
    say(f"Results ({args.repeats} repetitions each; seconds, min and median; RSS is the peak of one process)")
    with tempfile.TemporaryDirectory(prefix="iamstate-scale-") as tmp, LocalIam() as local:
        # moto logs every request it fails under parallel writes; the build retries them.
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        # The in-process phases: only the fake credentials and the local endpoint.
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(local.env())
        for name in sizes:
            report_size(measure_size(name, local, Path(tmp), args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
