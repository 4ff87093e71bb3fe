"""Refusals as a user meets them: `iamstate validate` on a folder, exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

ADMIN_POLICY = """\
policies:
  - name: break-glass
    document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: "*"
          Resource: "*"
{exceptions}
groups:
  - name: admins
    policies: [break-glass]
"""


def validate(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamstate", "validate", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "main.yaml").write_text(text)
    return folder


@pytest.mark.parametrize(
    ("rule", "text", "line"),
    [
        ("policy-admin-star", ADMIN_POLICY.format(exceptions=""), 2),
        (
            "trust-oidc-unscoped",
            """\
roles:
  - name: ci
    trust:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {Federated: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}
          Action: sts:AssumeRoleWithWebIdentity
""",
            2,
        ),
        (
            "trust-mfa-missing",
            """\
account: {id: "123456789012"}
roles:
  - name: ops
    require_mfa: true
    trust:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: sts:AssumeRole}
""",
            3,
        ),
        (
            "password-policy-weak",
            "password_policy:\n  minimum_length: 8\n  reuse_prevention: 24\n",
            1,
        ),
    ],
)
def test_an_error_finding_refuses_with_exit_3_naming_rule_entity_and_place(
    tmp_path: Path, rule: str, text: str, line: int
) -> None:
    result = validate(write(tmp_path / "cfg", text))
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"Error: [{rule}]" in result.stdout
    assert f"main.yaml:{line}:" in result.stdout
    assert "remedy:" in result.stdout
    assert "refused by safety rules" in result.stdout


def test_unknown_action_says_did_you_mean(tmp_path: Path) -> None:
    text = """\
policies:
  - name: reports
    document:
      Version: "2012-10-17"
      Statement: [{Effect: Allow, Action: "s3:GetObjekt", Resource: "arn:aws:s3:::reports/*"}]
groups: [{name: readers, policies: [reports]}]
"""
    result = validate(write(tmp_path / "cfg", text))
    assert result.returncode == 3
    assert "[unknown-action] policy.reports:" in result.stdout
    assert "did you mean s3:GetObject?" in result.stdout


def test_a_waived_finding_passes_and_still_shows(tmp_path: Path) -> None:
    exceptions = '    exceptions:\n      policy-admin-star: "Break-glass access, approved in SEC-42"'
    result = validate(write(tmp_path / "cfg", ADMIN_POLICY.format(exceptions=exceptions)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[policy-admin-star]" in result.stdout
    assert "  reason: Break-glass access, approved in SEC-42" in result.stdout

    as_json = validate(tmp_path / "cfg", "--format", "json")
    findings = json.loads(as_json.stdout)["findings"]
    assert [(f["rule"], f["waived"]) for f in findings] == [("policy-admin-star", True)]


def test_a_non_waivable_rule_cannot_be_waived(tmp_path: Path) -> None:
    text = """\
roles:
  - name: odd
    trust:
      Version: "2012-10-17"
      Statement: [{Effect: Allow, NotPrincipal: {AWS: "123456789012"}, Action: sts:AssumeRole}]
    exceptions:
      trust-notprincipal: "We know what we are doing here"
"""
    result = validate(write(tmp_path / "cfg", text))
    assert result.returncode == 1
    assert "cannot waive rule 'trust-notprincipal': it is not waivable" in result.stderr
    assert "main.yaml:7:7" in result.stderr


def test_mass_delete_points_to_its_flag(tmp_path: Path) -> None:
    text = 'users:\n  - name: alice\n    exceptions:\n      mass-delete: "Decommissioning the old stack"\n'
    result = validate(write(tmp_path / "cfg", text))
    assert result.returncode == 1
    assert "pass --allow-mass-delete to the command instead" in result.stderr


def test_warnings_show_in_every_format_and_do_not_refuse(tmp_path: Path) -> None:
    text = """\
policies:
  - name: logs
    document:
      Version: "2012-10-17"
      Statement: [{Effect: Allow, Action: "logs:*", Resource: "arn:aws:logs:*:*:log-group:/app/*"}]
groups: [{name: apps, policies: [logs]}]
"""
    folder = write(tmp_path / "cfg", text)
    text_result = validate(folder)
    assert text_result.returncode == 0
    assert "Warning: [service-wildcard] policy.logs:" in text_result.stdout
    json_result = validate(folder, "--format", "json")
    assert json_result.returncode == 0
    assert [f["severity"] for f in json.loads(json_result.stdout)["findings"]] == ["warning"]


def test_the_examples_validate_without_errors() -> None:
    result = validate(EXAMPLES, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["valid"]
    assert not [f for f in doc["findings"] if f["severity"] == "error" and not f["waived"]]
