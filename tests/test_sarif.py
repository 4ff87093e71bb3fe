"""SARIF 2.1.0 from `validate` and `plan`: valid by the OASIS schema, read by a real consumer."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from iamstate.render.sarif import RuleText, artifact_uri, parse_location, render_sarif
from tests.support.cli import run_iamstate
from tests.support.moto_server import LocalIam

SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())
SARIF_TOOL = Path(sys.executable).parent / "sarif"

POLICIES = """\
policies:
  - name: wide
    document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: "s3:*"
          Resource: "*"
  - name: admin
    document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: "*"
          Resource: "*"
"""
ROLES = """\
roles:
  - name: break-glass
    trusted: {services: [ec2.amazonaws.com]}
    policies: ["arn:aws:iam::aws:policy/AdministratorAccess"]
    exceptions:
      attach-admin-managed: "Break-glass role, approved by security in SEC-42"
"""


def three_findings(root: Path) -> Path:
    """A config whose two files hold an error, a warning and a waived error."""
    config = root / "iam config"
    config.mkdir()
    (config / "account.yaml").write_text('account: {id: "123456789012"}\n')
    (config / "policies.yaml").write_text(POLICIES)
    (config / "roles.yaml").write_text(ROLES)
    return config


def validate_sarif(cwd: Path, path: str) -> subprocess.CompletedProcess[str]:
    """``iamstate validate PATH --format sarif`` run in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "iamstate", "validate", path, "--format", "sarif"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def validate_schema(log: dict[str, object]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def regions(log: dict[str, object]) -> list[tuple[str, str, str, int, int]]:
    out = []
    for result in log["runs"][0]["results"]:  # type: ignore[index]
        place = result["locations"][0]["physicalLocation"]
        out.append(
            (
                result["ruleId"],
                result["level"],
                place["artifactLocation"]["uri"],
                place["region"]["startLine"],
                place["region"]["startColumn"],
            )
        )
    return sorted(out)


EXPECTED = [
    ("attach-admin-managed", "note", "iam%20config/roles.yaml", 2, 11),
    ("policy-admin-star", "error", "iam%20config/policies.yaml", 9, 11),
    ("service-wildcard", "warning", "iam%20config/policies.yaml", 2, 11),
]


def test_validate_sarif_is_valid_and_names_the_three_regions(tmp_path: Path) -> None:
    three_findings(tmp_path)
    result = validate_sarif(tmp_path, "iam config")
    assert result.returncode == 3, result.stderr  # the unwaived error still refuses
    log = json.loads(result.stdout)
    validate_schema(log)
    assert log["version"] == "2.1.0"
    assert regions(log) == EXPECTED
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "iamstate"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"attach-admin-managed", "policy-admin-star", "service-wildcard"}
    assert rules["policy-admin-star"]["defaultConfiguration"]["level"] == "error"
    assert rules["service-wildcard"]["helpUri"].startswith("https://docs.aws.amazon.com/")
    assert "Remedy:" in rules["policy-admin-star"]["help"]["text"]
    for result_json in run["results"]:
        assert run["tool"]["driver"]["rules"][result_json["ruleIndex"]]["id"] == result_json["ruleId"]
        assert "Remedy: " in result_json["message"]["text"]
    waived = next(r for r in run["results"] if r["ruleId"] == "attach-admin-managed")
    assert waived["suppressions"] == [
        {"kind": "external", "justification": "Break-glass role, approved by security in SEC-42"}
    ]


def test_uris_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    config = three_findings(tmp_path)
    result = validate_sarif(tmp_path, str(config.resolve()))
    assert regions(json.loads(result.stdout)) == EXPECTED


def test_sarif_tools_reads_the_findings_and_their_places(tmp_path: Path) -> None:
    three_findings(tmp_path)
    sarif = tmp_path / "iamstate.sarif"
    result = validate_sarif(tmp_path, "iam config")
    sarif.write_text(result.stdout)
    summary = subprocess.run(
        [str(SARIF_TOOL), "summary", str(sarif)], capture_output=True, text=True, check=True
    ).stdout
    assert "error: 1" in summary and "warning: 1" in summary and "note: 1" in summary
    assert "policy-admin-star" in summary
    table = tmp_path / "findings.csv"
    subprocess.run(
        [str(SARIF_TOOL), "csv", str(sarif), "--output", str(table)], capture_output=True, check=True
    )
    rows = sorted(
        (row["Code"], row["Severity"], row["Location"], row["Line"])
        for row in csv.DictReader(table.read_text().splitlines())
    )
    assert rows == [
        ("attach-admin-managed", "note", "iam%20config/roles.yaml", "2"),
        ("policy-admin-star", "error", "iam%20config/policies.yaml", "9"),
        ("service-wildcard", "warning", "iam%20config/policies.yaml", "2"),
    ]


def test_a_clean_config_gives_a_valid_log_without_results(tmp_path: Path) -> None:
    (tmp_path / "iam.yaml").write_text('account: {id: "123456789012"}\n')
    result = validate_sarif(tmp_path, "iam.yaml")
    assert result.returncode == 0
    log = json.loads(result.stdout)
    validate_schema(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_plan_writes_sarif_next_to_markdown_and_the_json_plan(iam_endpoint: LocalIam, tmp_path: Path) -> None:
    three_findings(tmp_path)
    (tmp_path / "iam config" / "policies.yaml").write_text(POLICIES.split("  - name: admin")[0])
    result = run_iamstate(
        iam_endpoint,
        tmp_path,
        "plan",
        "iam config",
        "--format",
        "markdown",
        "--out",
        "plan.json",
        "--sarif-out",
        "out/plan.sarif",
    )
    assert result.returncode == 0, result.stderr
    assert "Plan: " in result.stdout and "<details>" in result.stdout
    plan = json.loads((tmp_path / "plan.json").read_text())
    log = json.loads((tmp_path / "out" / "plan.sarif").read_text())
    validate_schema(log)
    assert regions(log) == [EXPECTED[0], EXPECTED[2]]
    assert len(log["runs"][0]["results"]) == len(plan["findings"]) == 2
    stdout_sarif = run_iamstate(iam_endpoint, tmp_path, "plan", "iam config", "--format", "sarif")
    assert json.loads(stdout_sarif.stdout) == log


RULES = {
    "mass-delete": RuleText("mass-delete", "the plan deletes many", "review", "https://x.test/a b", "error")
}


def test_findings_without_a_place_go_to_the_first_file() -> None:
    doc = {
        "findings": [
            {
                "rule": "mass-delete",
                "severity": "error",
                "address": "plan",
                "message": "the plan deletes 30 entities",
                "remedy": "review",
                "waived": False,
            },
            {
                "rule": "novel",
                "severity": "warning",
                "address": "",
                "message": "m",
                "remedy": "",
                "waived": False,
            },
        ]
    }
    log = json.loads(render_sarif(doc, RULES, tool_version="0", root="/repo", files=["/repo/iam/a.yaml"]))
    validate_schema(log)
    results = log["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == [
        "iam/a.yaml",
        "iam/a.yaml",
    ]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["mass-delete", "novel"]
    assert rules[0]["helpUri"] == "https://x.test/a"
    assert "helpUri" not in rules[1]


def test_locations_and_uris() -> None:
    assert parse_location("iam/roles.yaml:12:5") is not None
    region = parse_location("/repo/iam/roles.yaml:12:5", "/repo")
    assert region is not None and (region.uri, region.line, region.column) == ("iam/roles.yaml", 12, 5)
    assert parse_location("C:\\work\\iam\\a.yaml:3:1", "C:\\work") == parse_location("iam/a.yaml:3:1")
    assert parse_location("no place") is None
    assert artifact_uri("./iam/a b#1.yaml") == "iam/a%20b%231.yaml"
    assert artifact_uri("/elsewhere/a.yaml", "/repo") == "/elsewhere/a.yaml"
