"""How long whole-account analysis takes on a large synthetic account, built in memory.

    .venv/bin/python benchmarks/bench_analysis.py [--roles 5000 --policies 1500 --users 2000 --groups 125]

Builds the benchmarks' synthetic account (:mod:`benchmarks.synthetic`) as an
iamstate State, without an endpoint, and times the analysis: effective permissions
of every principal, escalation over the account graph, and the exposure classes of
every principal. ReadOnlyAccess, which every 10th role holds, is analysed from
moto's copy of AWS's document when moto is installed (as it is read at plan time),
else it is left unread as offline. ``--risky N`` makes every Nth customer policy
one that escalates or exposes (so that those code paths are timed too), and has the
roles trust the account, so that principals that may assume roles meet them.

For scale, the load of the same account's configuration (the first step of every
plan) is timed too. Not a test: it asserts nothing and prints figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import synthetic
from benchmarks.synthetic import Shape
from iamstate.analysis.account import analyse
from iamstate.analysis.effective import AccountContext
from iamstate.analysis.managed import builtin_documents
from iamstate.kinds.group import Group
from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role
from iamstate.kinds.user import User
from iamstate.model import Address, Kind, State
from iamstate.policy import normalize
from tests.support.moto_server import ACCOUNT_ID

NOW = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
RISKY_DOCUMENTS: list[dict[str, Any]] = [
    {
        "Effect": "Allow",
        "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
        "Resource": "*",
    },
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
    {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "kms:CreateGrant"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": f"arn:aws:iam::{ACCOUNT_ID}:role/apps/*"},
]


def _document(i: int, risky: int) -> dict[str, Any]:
    if risky and i % risky == 0:
        statement = RISKY_DOCUMENTS[(i // risky) % len(RISKY_DOCUMENTS)]
        return {"Version": "2012-10-17", "Statement": [statement]}
    return synthetic.policy_document_json(i)


def build_state(shape: Shape, risky: int = 0) -> State:
    """The synthetic account as a State, wired as :func:`benchmarks.synthetic.config` declares it."""
    resources: dict[Address, Any] = {}

    def add(resource: Any) -> None:
        resources[Address(resource.kind, resource.name)] = resource

    for i in range(shape.policies):
        add(
            ManagedPolicy(
                synthetic.policy_name(i),
                synthetic.POLICY_PATH,
                synthetic.policy_description(i),
                normalize(_document(i, risky)),
                arn=synthetic.policy_arn(i),
            )
        )
    for i in range(shape.groups):
        add(
            Group(
                synthetic.group_name(i),
                policies=frozenset(synthetic.policy_arn(p) for p in synthetic.group_policies(shape, i)),
                arn=f"arn:aws:iam::{ACCOUNT_ID}:group/{synthetic.group_name(i)}",
            )
        )
    for i in range(shape.users):
        add(
            User(
                synthetic.user_name(i),
                synthetic.USER_PATH,
                groups=frozenset(synthetic.group_name(g) for g in synthetic.user_groups(shape, i)),
                policies=frozenset({synthetic.policy_arn(synthetic.user_policy(shape, i))}),
                tags={"team": synthetic.user_team(i)},
                arn=f"arn:aws:iam::{ACCOUNT_ID}:user{synthetic.USER_PATH}{synthetic.user_name(i)}",
            )
        )
    trust = synthetic.TRUST_DOCUMENT
    if risky:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                *trust["Statement"],
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                    "Action": "sts:AssumeRole",
                },
            ],
        }
    for i in range(shape.roles):
        policies = {synthetic.policy_arn(p) for p in synthetic.role_policies(shape, i)}
        if synthetic.role_has_read_only(i):
            policies.add(synthetic.READ_ONLY_ACCESS)
        add(
            Role(
                synthetic.role_name(i),
                synthetic.ROLE_PATH,
                synthetic.role_description(i),
                normalize(trust),
                frozenset(policies),
                synthetic.max_session_duration(i),
                tags={"owner": synthetic.role_owner(i)},
                arn=f"arn:aws:iam::{ACCOUNT_ID}:role{synthetic.ROLE_PATH}{synthetic.role_name(i)}",
            )
        )
    return State(resources)


def managed_documents() -> tuple[dict[str, Any], str]:
    """The built-in table, plus ReadOnlyAccess from moto's data when moto is installed."""
    documents = dict(builtin_documents())
    try:
        from moto.iam.aws_managed_policies import aws_managed_policies_data
    except ImportError:
        return documents, "ReadOnlyAccess left unread (moto not installed)"
    data = json.loads(aws_managed_policies_data)["ReadOnlyAccess"]
    documents[synthetic.READ_ONLY_ACCESS] = normalize(data["Document"])
    size = len(json.dumps(data["Document"]))
    return documents, f"ReadOnlyAccess from moto's data ({size:,} characters)"


def time_load(shape: Shape) -> float:
    """Seconds to load the same account's configuration with the product's loader."""
    import tempfile

    import yaml

    from iamstate.config import load_config

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "account.yaml"
        path.write_text(yaml.safe_dump(synthetic.config(shape), sort_keys=False))
        started = time.process_time()
        load_config(path)
        return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=1500)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=125)
    parser.add_argument(
        "--risky", type=int, default=0, help="every Nth policy escalates or exposes (0: none)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs to time (the median is reported)")
    parser.add_argument("--no-load", action="store_true", help="skip timing the configuration load")
    args = parser.parse_args(argv)
    shape = Shape(roles=args.roles, policies=args.policies, users=args.users, groups=args.groups)

    started = time.perf_counter()
    state = build_state(shape, args.risky)
    built = time.perf_counter() - started
    managed, managed_note = managed_documents()
    print(f"state        {len(state)} entities ({shape}), built in memory in {built:.2f} s")
    print(f"managed      {managed_note}")

    runs = []
    cpu = []
    for _ in range(max(1, args.repeat)):
        started, started_cpu = time.perf_counter(), time.process_time()
        analysis = analyse(state, managed=managed, now=NOW, context=AccountContext(ACCOUNT_ID))
        escalating = len(analysis.escalations)
        exposed = sum(1 for address in analysis.permissions if analysis.exposures(address))
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    principals = sum(1 for a in analysis.permissions if a.kind in (Kind.USER, Kind.ROLE, Kind.GROUP))
    print(
        f"analysis     {statistics.median(runs):.2f} s median of {len(runs)} "
        f"({', '.join(f'{r:.2f}' for r in runs)}): {principals} principals, "
        f"{analysis.documents} distinct documents, {escalating} escalate, {exposed} exposed"
    )
    print(
        f"cpu          {statistics.median(cpu):.2f} s median ({', '.join(f'{c:.2f}' for c in cpu)}; the first run "
        "also loads the action catalogue; wall > cpu when the machine is shared)"
    )
    if not args.no_load:
        load = time_load(shape)
        print(f"load config  {load:.2f} s cpu (the first step of a plan of this account)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
