"""What the whole-account analysis adds to plan's wall time, on a large account on the local endpoint.

    .venv/bin/python benchmarks/bench_plan_analysis.py [--roles 5000] [--repeats 3]

Builds the benchmarks' synthetic account (benchmarks/synthetic.py; 5,000 roles, 1,500
customer policies, 2,000 users, 300 groups by default, ReadOnlyAccess on every 10th
role) on moto's server (127.0.0.1, stopped at the end), writes the matching
configuration, and runs ``iamstate plan`` as a subprocess, alternately with the
analysis and without it (benchmarks/without_analysis.py switches it off: no
AWS-managed reads, no analyses, no principal rules, no access section), ``--repeats``
times each. It prints the min and median of each, the overhead of the analysis, and
the plan's ``analysis.done`` event (its own seconds). The first run with the analysis
fills the AWS-managed policy cache; the cache lives in a temporary directory.
Not a test: it asserts only that each plan has no changes. Ratios are what count:
absolute times are noisy on a shared machine.
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    if "No changes." not in done.stdout:
        raise SystemExit(f"the plan is not empty:\n{done.stdout[-2000:]}")
    return seconds, done.stdout, done.stderr


def event(stderr: str, name: str) -> dict[str, object]:
    for line in stderr.splitlines():
        if f'"{name}"' in line:
            found: dict[str, object] = json.loads(line)
            return found
    return {}


def tag_for_the_stack(iam: Any, shape: Any, workers: int) -> None:
    """Tag the users and roles for the configuration's stack, as an earlier apply leaves them, so
    that the plan has no changes (not even adoptions)."""
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks import synthetic

    tags = [{"Key": "iamstate:stack", "Value": synthetic.STACK}]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        synthetic.run_all(
            pool,
            iam.tag_user,
            ({"UserName": synthetic.user_name(i), "Tags": tags} for i in range(shape.users)),
        )
        synthetic.run_all(
            pool,
            iam.tag_role,
            ({"RoleName": synthetic.role_name(i), "Tags": tags} for i in range(shape.roles)),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8, help="threads that build the account")
    args = parser.parse_args(argv)

    import structlog
    import yaml

    from benchmarks.synthetic import Shape, build_account, config
    from tests.support.moto_server import LocalIam

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    roles = args.roles
    shape = Shape(roles=roles, policies=roles * 3 // 10, users=roles * 2 // 5, groups=max(1, roles * 3 // 50))
    with tempfile.TemporaryDirectory(prefix="iamstate-bench-") as tmp, LocalIam() as local:
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        workdir = Path(tmp)
        print(f"building {shape} on {local.endpoint} ...", flush=True)
        local.reset()
        started = time.perf_counter()
        iam = local.client("iam", max_pool_connections=args.workers + 2)
        build_account(iam, shape, args.workers)
        tag_for_the_stack(iam, shape, args.workers)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        folder = workdir / "config"
        folder.mkdir()
        (folder / "iamstate.yaml").write_text(yaml.safe_dump(config(shape), sort_keys=False, width=120))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env = local.env(env)
        env.update({"PYTHONPATH": str(REPO), "NO_COLOR": "1", "IAMSTATE_CACHE_DIR": str(workdir / "cache")})
        plan = ["plan", str(folder), "--log-format", "json", "-v"]
        with_analysis = [sys.executable, "-m", "iamstate", *plan]
        without = [sys.executable, str(REPO / "benchmarks" / "without_analysis.py"), *plan]
        times: dict[str, list[float]] = {"with": [], "without": []}
        analysis_seconds: list[float] = []
        calls: dict[str, object] = {}
        for i in range(args.repeats):
            for label, command in (("without", without), ("with", with_analysis)):
                seconds, _, stderr = run(command, env, workdir)
                times[label].append(seconds)
                if label == "with":
                    done = event(stderr, "analysis.done")
                    analysis_seconds.append(float(done.get("seconds", 0.0)))  # type: ignore[arg-type]
                    calls = event(stderr, "aws.read").get("api_calls", {})  # type: ignore[assignment]
                print(f"  run {i + 1} {label:8} {seconds:7.2f} s", flush=True)

    print()
    print(f"== {shape}")
    for label in ("without", "with"):
        series = times[label]
        print(
            f"  plan {label:8} analysis: min {min(series):7.2f} s  median {statistics.median(series):7.2f} s"
        )
    overhead_min = min(times["with"]) / min(times["without"]) - 1
    overhead_median = statistics.median(times["with"]) / statistics.median(times["without"]) - 1
    print(
        f"  the analysis adds {overhead_min:.1%} (min) and {overhead_median:.1%} (median) to plan's wall time"
    )
    print(f"  analysis.done seconds, per run: {', '.join(f'{s:.2f}' for s in analysis_seconds)}")
    print(f"  API calls of a plan with the analysis: {json.dumps(calls, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
