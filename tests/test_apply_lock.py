"""One apply at a time per account and stack: the lock held in the account, against the strict layer."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from iamstate.lock import (
    LOCK_PATH,
    TTL,
    LockHolder,
    lock_arn,
    lock_document,
    lock_name,
    new_holder,
    renewed,
)
from tests.support.cli import run_iamstate as run_cli
from tests.support.strict import StrictIam, is_lock_call

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
STACK = "platform"
LOCK = lock_arn("aws", ACCOUNT, STACK)


def examples(into: Path, edit: Any = None) -> Path:
    """examples/ copied to ``into`` (optionally with roles.yaml edited), as a second config would be."""
    shutil.copytree(ROOT / "examples", into)
    if edit is not None:
        path = into / "roles.yaml"
        data = yaml.safe_load(path.read_text())
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return into


def other_config(into: Path) -> Path:
    """examples/ with every role described differently: a plan of one config changes the other's roles."""

    def describe(data: dict[str, Any]) -> None:
        for role in data["roles"]:
            role["description"] = f"the other configuration's {role['name']}"

    return examples(into, describe)


class Apply:
    """An apply running in the background; its output goes to files, so that no pipe can fill."""

    def __init__(self, strict: StrictIam, cwd: Path, config: str, *args: str) -> None:
        self.out = cwd / f"{config}.stdout"
        self.err = cwd / f"{config}.stderr"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "iamstate",
                    "apply",
                    config,
                    "--auto-approve",
                    "--format",
                    "json",
                    *args,
                ],
                cwd=cwd,
                env=strict.env(dict(os.environ)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
            )

    def finish(self, timeout: float = 600) -> tuple[int, str, str]:
        """Its exit code, stdout and stderr once it ends."""
        code = self.process.wait(timeout=timeout)
        return code, self.out.read_text(), self.err.read_text()


def plans_empty(strict: StrictIam, cwd: Path, config: str) -> bool:
    result = run_cli(strict, cwd, "plan", config, "--detailed-exitcode")
    assert result.returncode in (0, 2), result.stdout + result.stderr
    return result.returncode == 0


def lock_exists(strict: StrictIam) -> bool:
    policies = strict.client("iam").list_policies(Scope="Local", PathPrefix=LOCK_PATH)["Policies"]
    return bool(policies)


def put_lock(strict: StrictIam, holder: LockHolder) -> None:
    """A lock as another caller's apply would have left it."""
    strict.client("iam").create_policy(
        PolicyName=lock_name(STACK),
        Path=LOCK_PATH,
        PolicyDocument=json.dumps(lock_document("aws", ACCOUNT)),
        Tags=holder.tags(),
    )


def test_two_simultaneous_applies_end_with_one_config_and_a_clear_refusal(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    examples(tmp_path / "a")
    other_config(tmp_path / "b")
    strict_iam.configure(latency=0.1)  # each apply holds the lock for several seconds
    applies = {name: Apply(strict_iam, tmp_path, name) for name in ("a", "b")}
    outcomes = {name: apply.finish() for name, apply in applies.items()}
    strict_iam.configure()

    codes = sorted(code for code, _, _ in outcomes.values())
    assert codes == [0, 1], {n: (c, err[-2000:]) for n, (c, _, err) in outcomes.items()}
    winner = next(n for n, (c, _, _) in outcomes.items() if c == 0)
    loser = "b" if winner == "a" else "a"
    _, _, refusal = outcomes[loser]
    assert "the apply lock of stack 'platform' in account 123456789012 is held: locked by arn:" in refusal
    assert " since 20" in refusal and "Nothing was written" in refusal
    assert "Traceback" not in refusal

    # The winner's configuration is what the account holds; the loser's is not.
    assert plans_empty(strict_iam, tmp_path, winner)
    assert not plans_empty(strict_iam, tmp_path, loser)
    # Every successful write but the lock's own is one the winner reported making.
    done = json.loads(outcomes[winner][1])["apply"]["done"]
    made = [c for c in strict_iam.writes() if c.status == 200]
    assert len(made) == len(done)
    lock_calls = [(c.operation, c.status) for c in strict_iam.writes(lock=True) if is_lock_call(c)]
    assert lock_calls.count(("CreatePolicy", 200)) == 1
    assert ("CreatePolicy", 409) in lock_calls  # the loser's attempt, refused by IAM
    assert lock_calls.count(("DeletePolicy", 200)) == 1
    assert not lock_exists(strict_iam)


def test_with_a_lock_timeout_the_second_apply_waits_and_converges(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    examples(tmp_path / "a")
    other_config(tmp_path / "b")
    strict_iam.configure(latency=0.1)
    applies = {
        name: Apply(strict_iam, tmp_path, name, "--lock-timeout", "300", "--log-format", "json")
        for name in ("a", "b")
    }
    outcomes = {name: apply.finish(timeout=900) for name, apply in applies.items()}
    strict_iam.configure()
    assert [c for c, _, _ in outcomes.values()] == [0, 0], {n: e[-2000:] for n, (_, _, e) in outcomes.items()}
    waited = [n for n, (_, _, err) in outcomes.items() if '"event": "apply.lock_wait"' in err]
    assert len(waited) == 1, "exactly one apply waited for the other"
    # The one that waited planned again under the lock and applied last: its config is what holds.
    last = waited[0]
    first = "b" if last == "a" else "a"
    assert plans_empty(strict_iam, tmp_path, last)
    assert not plans_empty(strict_iam, tmp_path, first)
    assert not lock_exists(strict_iam)


def apply_under_way(strict: StrictIam, tmp_path: Path) -> Apply:
    """An apply of examples/ (slowed down, one call at a time) that has made its first writes."""
    examples(tmp_path / "iam")
    strict.configure(latency=0.15)
    apply = Apply(strict, tmp_path, "iam", "--parallelism", "1")
    deadline = time.monotonic() + 120
    while len(strict.writes()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    return apply


def test_sigterm_releases_the_lock_and_the_rerun_converges(strict_iam: StrictIam, tmp_path: Path) -> None:
    apply = apply_under_way(strict_iam, tmp_path)
    assert lock_exists(strict_iam), "the apply holds the lock while it writes"
    apply.process.send_signal(signal.SIGTERM)
    code, out, err = apply.finish(timeout=120)
    assert code == 1, err
    assert json.loads(out)["apply"]["interrupted"] is True
    assert not lock_exists(strict_iam), "SIGTERM left the lock behind"
    strict_iam.configure()
    result = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert plans_empty(strict_iam, tmp_path, "iam")


def test_a_killed_applys_lock_is_reported_and_unlock_clears_it(strict_iam: StrictIam, tmp_path: Path) -> None:
    apply = apply_under_way(strict_iam, tmp_path)
    apply.process.kill()  # SIGKILL: no handler runs, the lock stays
    apply.finish(timeout=60)
    strict_iam.configure()
    assert lock_exists(strict_iam), "a killed apply cannot release its lock"

    strict_iam.clear()
    refused = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert (
        "the apply lock of stack 'platform' in account 123456789012 is held: locked by arn:" in refused.stderr
    )
    assert [c for c in strict_iam.writes() if c.status == 200] == []

    # The same caller's own lock: unlock removes it without --force.
    cleared = run_cli(strict_iam, tmp_path, "unlock", "iam")
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    assert "Released the apply lock of stack 'platform' (locked by arn:" in cleared.stdout
    assert not lock_exists(strict_iam)
    result = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert plans_empty(strict_iam, tmp_path, "iam")


def test_another_holders_lock_is_reported_and_only_force_removes_it(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    examples(tmp_path / "iam")
    someone = "arn:aws:iam::123456789012:user/someone-else"
    put_lock(strict_iam, new_holder(someone, "run-7", "laptop-1", datetime.now(UTC)))
    strict_iam.clear()

    result = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve")
    assert result.returncode == 1
    assert f"is held: locked by {someone} (run run-7 on laptop-1) since 20" in result.stderr
    assert [c for c in strict_iam.writes() if c.status == 200] == []

    result = run_cli(strict_iam, tmp_path, "unlock", "iam")
    assert result.returncode == 1
    assert f"is locked by {someone} (run run-7 on laptop-1)" in result.stderr
    assert "pass --force once you are sure none is" in result.stderr
    assert lock_exists(strict_iam)

    result = run_cli(strict_iam, tmp_path, "unlock", "iam", "--force")
    assert result.returncode == 0, result.stderr
    assert f"Released the apply lock of stack 'platform' (locked by {someone}" in result.stdout
    assert not lock_exists(strict_iam)
    result = run_cli(strict_iam, tmp_path, "unlock", "iam")
    assert result.returncode == 0
    assert "No apply lock is held for stack 'platform'" in result.stdout


def test_an_expired_lock_is_taken_over(strict_iam: StrictIam, tmp_path: Path) -> None:
    examples(tmp_path / "iam")
    long_ago = datetime.now(UTC) - 2 * TTL
    put_lock(strict_iam, new_holder("arn:aws:iam::123456789012:user/killed", "run-1", "ci-9", long_ago))
    result = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve", "--log-format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"event": "apply.lock_expired"' in result.stderr
    assert not lock_exists(strict_iam)
    assert plans_empty(strict_iam, tmp_path, "iam")


def test_plans_never_see_the_lock(strict_iam: StrictIam, tmp_path: Path) -> None:
    iam_dir = examples(tmp_path / "iam")
    result = run_cli(strict_iam, tmp_path, "apply", "iam", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    put_lock(strict_iam, new_holder("arn:aws:iam::123456789012:user/x", "r", "h", datetime.now(UTC)))
    account = yaml.safe_load((iam_dir / "account.yaml").read_text())
    account.setdefault("scope", {})["prune"] = "all"
    (iam_dir / "account.yaml").write_text(yaml.safe_dump(account, sort_keys=False))
    result = run_cli(strict_iam, tmp_path, "plan", "iam", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    assert "iamstate-lock" not in json.dumps([plan["changes"], plan.get("unmanaged", [])])

    (iam_dir / "locks.yaml").write_text(
        "policies:\n  - name: mine\n    path: /iamstate-lock/\n"
        '    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:ListBucket", Resource: "*"}]}\n'
    )
    result = run_cli(strict_iam, tmp_path, "validate", "iam")
    assert result.returncode == 1
    assert (
        "locks.yaml:2:11: error: policy 'mine' is declared but this configuration would not own it: "
        "its name or path is reserved (by AWS, or /iamstate-lock/ by iamstate for its apply lock)"
        in result.stderr
    )


# --- the lock's data -------------------------------------------------------------------------


def test_the_lock_is_named_for_its_stack_within_iams_limits() -> None:
    assert lock_name("platform") == "iamstate-lock-platform"
    odd = lock_name("team/a:b")
    assert odd.startswith("iamstate-lock-team-a-b-") and odd != lock_name("team:a/b")
    assert len(lock_name("x" * 256)) <= 128
    assert LOCK == "arn:aws:iam::123456789012:policy/iamstate-lock/iamstate-lock-platform"


def test_the_holder_survives_its_tags_and_expires() -> None:
    now = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    holder = new_holder("arn:aws:sts::123456789012:assumed-role/ci/GitHub,Actions", "abc", "runner`1", now)
    tags = {t["Key"]: t["Value"] for t in holder.tags()}
    assert tags["iamstate:lock-holder"] == "arn:aws:sts::123456789012:assumed-role/ci/GitHub_Actions"
    assert tags["iamstate:lock-host"] == "runner_1"  # IAM refuses , and ` in tag values
    back = LockHolder.from_tags(tags)
    assert back.run_id == "abc" and back.since == now.replace(tzinfo=None)
    assert back.expires == (now + TTL).replace(tzinfo=None)
    assert not back.expired(now + TTL - timedelta(seconds=1)) and back.expired(now + TTL)
    assert back.describe(now) == (
        "locked by arn:aws:sts::123456789012:assumed-role/ci/GitHub_Actions (run abc on runner_1) "
        "since 2026-12-01T10:00:00Z, until 2026-12-01T10:15:00Z"
    )
    later = renewed(back, now + timedelta(minutes=10))
    assert later.since == back.since and later.expires == (now + timedelta(minutes=25)).replace(tzinfo=None)
    assert (
        LockHolder.from_tags({}).describe() == "locked by an unknown caller (run unknown on an unknown host)"
    )


def test_the_lock_document_grants_nothing() -> None:
    (statement,) = lock_document("aws", ACCOUNT)["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"].startswith(f"arn:aws:iam::{ACCOUNT}:user{LOCK_PATH}")
