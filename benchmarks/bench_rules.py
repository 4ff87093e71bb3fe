"""How long the safety rules take on a large configuration, offline.

    .venv/bin/python benchmarks/bench_rules.py [--roles 2000] [--repeats 3]

Writes the synthetic configuration (benchmarks/synthetic.py: per 1,000 roles 250
policies, 150 users and 25 groups) to a temporary file, loads it once, and runs the
rules as ``validate`` runs them, then as ``plan`` runs them against an empty live
account (every entity a create). Prints the entities, the findings and the best
time of each over the repeats. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import Shape, config
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.model import LiveAccount, State
from iamstate.plan import Finding
from iamstate.rules import RuleInput, run_rules
from tests.support.moto_server import ACCOUNT_ID


def best(repeats: int, run: Callable[[], list[Finding]]) -> tuple[float, int]:
    """The fastest of ``repeats`` runs, in seconds, and the number of findings."""
    times = []
    found = 0
    for _ in range(repeats):
        started = time.perf_counter()
        found = len(run())
        times.append(time.perf_counter() - started)
    return min(times), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--roles", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    shape = Shape.for_roles(args.roles)
    with tempfile.TemporaryDirectory(prefix="iamstate-bench-") as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(config(shape), sort_keys=False))
        loaded = load_config(path)
    desired = loaded.config
    live = LiveAccount(State(), ACCOUNT_ID, caller_arn=f"arn:aws:iam::{ACCOUNT_ID}:user/bench")
    changes = build_plan(desired, live).changes

    offline = best(args.repeats, lambda: run_rules(RuleInput(desired, loaded=loaded.findings), live=False))
    at_plan = best(
        args.repeats, lambda: run_rules(RuleInput(desired, live, changes, loaded.findings), live=True)
    )
    print(f"entities: {len(desired.state)} ({shape.roles} roles, {shape.policies} policies, ", end="")
    print(f"{shape.users} users, {shape.groups} groups); planned changes: {len(changes)}")
    print(f"rules as validate runs them: {offline[0]:.3f} s, {offline[1]} findings")
    print(f"rules as plan runs them:     {at_plan[0]:.3f} s, {at_plan[1]} findings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
