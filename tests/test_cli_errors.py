"""Errors pipelines can trust: exit codes, one located line and never a traceback, no secret in
a message or a log, and writes that never follow a symbolic link."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

from iamstate import cli
from iamstate.commands import validate as validate_cmd
from tests.support.cli import run_iamstate
from tests.support.moto_server import LocalIam

CONFIG = 'account: {id: "123456789012"}\nusers:\n  - name: alice\n'


class Unreachable:
    """No endpoint: what these runs check happens before any call (or fails to connect)."""

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in (base or {}).items() if not k.startswith("AWS_")}
        return env | {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "iam.yaml").write_text(CONFIG)
    return tmp_path


def assert_one_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    for text in expected:
        assert text in result.stderr, output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan", "--formt", "json"], "No such option: --formt"),
        (["apply", "--parallelism", "0"], "Invalid value for '--parallelism'"),
        (["drift", "--fail-on", "sometimes"], "Invalid value for '--fail-on'"),
        (["nonsense"], "No such command 'nonsense'"),
        ([], "Usage: iamstate [OPTIONS] COMMAND [ARGS]..."),
    ],
)
def test_usage_errors_exit_1_never_2(work: Path, args: list[str], expected: str) -> None:
    assert_one_error(run_iamstate(Unreachable(), work, *args), expected)


def test_help_and_version_still_exit_0(work: Path) -> None:
    assert run_iamstate(Unreachable(), work, "--help").returncode == 0
    assert run_iamstate(Unreachable(), work, "apply", "--help").returncode == 0
    assert run_iamstate(Unreachable(), work, "--version").stdout.startswith("iamstate ")


def test_an_unknown_profile_is_one_line(work: Path) -> None:
    result = run_iamstate(Unreachable(), work, "plan", "--profile", "nope")
    assert_one_error(result, "Error: the AWS profile 'nope' is not configured")


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/", "http://", "http://127.0.0.1:port/"])
def test_an_endpoint_that_is_no_url_is_one_line(work: Path, url: str) -> None:
    result = run_iamstate(Unreachable(), work, "plan", "--endpoint-url", url)
    assert_one_error(result, "--endpoint-url", "is not an http:// or https:// URL with a host")


def test_credentials_in_an_endpoint_url_never_show(work: Path) -> None:
    url = "http://someone:s3cr3t-pw@127.0.0.1:9"
    result = run_iamstate(Unreachable(), work, "plan", "--endpoint-url", url, "--log-format", "json", "-v")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "s3cr3t-pw" not in output and "someone" not in output
    assert "http://***@127.0.0.1:9" in output
    assert "Traceback" not in output


def test_plain_http_to_another_host_is_warned_about(work: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is never routed: the warning comes before the call that fails.
    result = run_iamstate(
        Unreachable(), work, "plan", "--endpoint-url", "http://192.0.2.1:9", "--log-format", "json"
    )
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    warned = [e for e in events if e.get("event") == "aws.plain_http"]
    assert warned and warned[0]["level"] == "warning"
    assert "travel unencrypted" in warned[0]["message"]
    loopback = run_iamstate(Unreachable(), work, "plan", "--log-format", "json")
    assert "aws.plain_http" not in loopback.stderr


def test_a_saved_plan_that_is_a_list_is_one_line(work: Path) -> None:
    (work / "plan.json").write_text("[]")
    result = run_iamstate(Unreachable(), work, "apply", ".", "--plan", "plan.json", "--auto-approve")
    assert_one_error(result, "plan.json is not a plan written by `iamstate plan --out`: it holds a JSON list")
    (work / "plan.json").write_text("[" * 100_000 + "]" * 100_000)
    assert_one_error(run_iamstate(Unreachable(), work, "apply", "--plan", "plan.json"), "is not a plan")
    (work / "plan.json").write_bytes(b"\xff\xfe{}")
    assert_one_error(run_iamstate(Unreachable(), work, "apply", "--plan", "plan.json"), "not UTF-8")
    (work / "plan.json").unlink()
    (work / "plan.json").mkdir()
    assert_one_error(run_iamstate(Unreachable(), work, "apply", "--plan", "plan.json"), "plan.json")


def test_an_unexpected_exception_is_an_internal_error(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("http://user:pw@example.com/boom")

    monkeypatch.setattr(validate_cmd, "validate", broken)
    # cli.run configures logging to this test's captured stderr; later tests log elsewhere.
    saved = structlog.get_config()
    try:
        _internal_error_is_one_line_unless_verbose(work, capsys)
    finally:
        structlog.configure(**saved)


def _internal_error_is_one_line_unless_verbose(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate", str(work)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: internal error: KeyError:")
    assert "This is a bug in iamstate" in err and "-v prints" in err
    assert "Traceback" not in err and ":pw@" not in err

    assert cli.run(["validate", str(work), "-v"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "raise KeyError" in err
    assert ":pw@" not in err


# --- writes never follow links -------------------------------------------------------------


def test_out_never_writes_through_a_symlink_or_into_a_special_file(
    iam_endpoint: LocalIam, work: Path
) -> None:
    target = work / "elsewhere.txt"
    target.write_text("keep me\n")
    (work / "plan.json").symlink_to(target)
    result = run_iamstate(iam_endpoint, work, "plan", "iam.yaml", "--out", "plan.json")
    assert_one_error(result, "--out plan.json is a symbolic link; iamstate never writes through one")
    assert target.read_text() == "keep me\n"

    (work / "reports").symlink_to(work.parent)
    result = run_iamstate(iam_endpoint, work, "plan", "iam.yaml", "--out", "reports/plan.json")
    assert_one_error(result, "is a symbolic link")
    assert not (work.parent / "plan.json").exists()

    os.mkfifo(work / "fifo.json")
    result = run_iamstate(iam_endpoint, work, "plan", "iam.yaml", "--sarif-out", "fifo.json")
    assert_one_error(result, "--sarif-out fifo.json is a FIFO; iamstate writes only regular files")

    result = run_iamstate(iam_endpoint, work, "plan", "iam.yaml", "--out", "/proc/version")
    assert_one_error(result, "cannot write --out /proc/version")

    result = run_iamstate(iam_endpoint, work, "plan", "iam.yaml", "--out", "saved/plan.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((work / "saved" / "plan.json").read_text())["metadata"]["config_path"] == "iam.yaml"


def test_import_never_writes_through_a_symlink(iam_endpoint: LocalIam, tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    result = run_iamstate(iam_endpoint, tmp_path, "import", "--out", "dangling")
    assert_one_error(result, "--out dangling is a symbolic link")
    assert not (tmp_path / "nowhere").exists()

    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "users.yaml").symlink_to(outside / "users.yaml")
    iam_endpoint.client("iam").create_user(UserName="alice")
    result = run_iamstate(iam_endpoint, tmp_path, "import", "--out", "iam", "--force")
    assert_one_error(result, "--out iam/users.yaml is a symbolic link")
    assert list(outside.iterdir()) == []
    assert [p.name for p in (tmp_path / "iam").iterdir()] == ["users.yaml"], "nothing else was written"


def test_python_dash_m_and_the_console_script_exit_alike(work: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from iamstate.cli import main; sys.argv=['iamstate']; main()"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Usage: iamstate" in result.stderr
