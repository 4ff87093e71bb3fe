"""What reviewers and pipelines read, end to end: the real CLI against the strict local endpoint.

A one-action change reads as one line in the author's words; apply ends with Terraform's
line; a saved plan renders the same without AWS; drift names a high-risk out-of-band
change in its banner; the command line behaves as pipelines expect.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_iamstate
from tests.support.strict import StrictIam

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COMMANDS = ["validate", "plan", "apply", "drift", "explain", "grant", "import", "permissions", "show"]


class NoAws:
    """For commands that never talk to AWS: the environment as it is."""

    @staticmethod
    def env(base: dict[str, str] | None = None) -> dict[str, str]:
        return dict(base or {})


@pytest.fixture
def applied(strict_iam: StrictIam, tmp_path: Path) -> Path:
    """examples/ copied to ``tmp_path/iam`` and applied to a clean account."""
    shutil.copytree(EXAMPLES, tmp_path / "iam")
    result = run_iamstate(strict_iam, tmp_path, "apply", "iam", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path


def document_section(text: str, address: str) -> list[str]:
    """The lines of the ``document`` diff of one change block in text output."""
    lines = text.splitlines()
    start = lines.index(f"  ~ {address}")
    block = lines[start : lines.index("", start)]
    document = block.index("      ~ document:")
    calls = block.index("        # API calls")
    return block[document + 1 : calls]


def test_a_one_action_change_of_ci_deploy_is_one_changed_line_spelt_as_in_the_file(
    strict_iam: StrictIam, applied: Path
) -> None:
    policy = applied / "iam" / "policies" / "ci-deploy.json"
    policy.write_text(policy.read_text().replace('"s3:ListBucket"', '"s3:ListBucketVersions"'))
    result = run_iamstate(strict_iam, applied, "plan", "iam", "--no-color", "--out", "plan.json")
    assert result.returncode == 0, result.stderr
    section = document_section(result.stdout, "policy.ci-deploy")
    changed = [" ".join(line.split()) for line in section if line.lstrip().startswith(("-", "+"))]
    assert changed == ['- "s3:ListBucket"', '+ "s3:ListBucketVersions"']
    assert section[0].strip() == "@@ statement 1 (Sid DeployArtifacts) @@"
    # Context lines are the file's own spelling too: actions as written, a string Resource.
    assert any(line.strip() == '"s3:PutObject",' for line in section)

    doc = json.loads((applied / "plan.json").read_text())
    change = next(c for c in doc["changes"] if c["address"] == "policy.ci-deploy")
    written = json.loads(
        policy.read_text().replace("${partition}", "aws").replace("${account_id}", "123456789012")
    )
    assert change["after"]["document"] == written, "after: the document as the configuration writes it"
    assert change["before"]["document"]["Statement"][0]["Action"] == [
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
    ]
    normalized = change["normalized"]["after"]["document"]["Statement"]
    assert any("s3:listbucketversions" in statement["Action"] for statement in normalized), "for machines"

    # The saved plan renders the same without AWS, in every format.
    for fmt in ("text", "markdown", "json", "sarif"):
        planned = run_iamstate(
            strict_iam, applied, "plan", "iam", "--format", fmt, "--no-color", "--out", "plan.json"
        )
        shown = run_iamstate(NoAws(), applied, "show", "plan.json", "--format", fmt, "--no-color")
        assert shown.returncode == 0, shown.stderr
        if fmt == "sarif":
            assert (
                json.loads(shown.stdout)["runs"][0]["results"]
                == json.loads(planned.stdout)["runs"][0]["results"]
            )
        else:
            assert shown.stdout == planned.stdout, fmt

    # The saved plan still applies: its fingerprints hold with the documents as written.
    result = run_iamstate(
        strict_iam, applied, "apply", "iam", "--plan", "plan.json", "--auto-approve", "--no-color"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    again = run_iamstate(strict_iam, applied, "plan", "iam", "--detailed-exitcode", "--no-color")
    assert again.returncode == 0, again.stdout


def test_apply_ends_with_terraforms_summary_line_then_the_calls(
    strict_iam: StrictIam, tmp_path: Path
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "iam")
    planned = run_iamstate(strict_iam, tmp_path, "plan", "iam", "--format", "json")
    summary = json.loads(planned.stdout)["summary"]
    result = run_iamstate(strict_iam, tmp_path, "apply", "iam", "--auto-approve", "--no-color")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").splitlines()
    assert lines[-2] == (
        f"Apply complete! Resources: {summary['add']} added, {summary['change']} changed, "
        f"{summary['destroy']} destroyed."
    )
    calls = len(strict_iam.writes())
    assert lines[-1] == f"{calls} API calls made."
    assert "Apply complete" not in result.stderr
    again = run_iamstate(strict_iam, tmp_path, "apply", "iam", "--auto-approve", "--no-color")
    assert again.stdout.rstrip("\n").splitlines()[-2:] == [
        "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.",
        "0 API calls made.",
    ]


def test_drift_names_an_out_of_band_administrator_attachment_in_its_banner(
    strict_iam: StrictIam, applied: Path
) -> None:
    iam = strict_iam.client("iam")
    iam.attach_group_policy(GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    text = run_iamstate(strict_iam, applied, "drift", "iam", "--no-color")
    assert text.returncode == 2, text.stderr
    lines = text.stdout.splitlines()
    banner = lines.index("High-risk changes made out of band:")
    assert lines[banner + 1] == (
        "  group.developers: AdministratorAccess attached out of band (every action on every resource)"
    )
    assert banner < lines.index("  ~ group.developers"), "named before the change blocks"
    markdown = run_iamstate(strict_iam, applied, "drift", "iam", "--format", "markdown").stdout
    caution = markdown.split("> [!CAUTION]", 1)[1].split("\n\n", 1)[0]
    assert "`group.developers`: AdministratorAccess attached out of band" in caution
    assert markdown.index("[!CAUTION]") < markdown.index("<details")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_takes_h_and_shows_real_placeholders(name: str) -> None:
    result = run_iamstate(NoAws(), ROOT, name, "-h")
    assert result.returncode == 0, result.stderr
    assert re.match(rf"Usage: (python -m )?iamstate {name} ", result.stdout)
    assert "[default: 0]" not in result.stdout
    assert "<str>" not in result.stdout.split("Options:", 1)[-1], "options show placeholders, not types"
    for option, placeholder in (
        ("--out", "(FILE|DIR)"),
        ("--sarif-out", "FILE"),
        ("--plan", "FILE"),
        ("--parallelism", "N"),
        ("--max-chars", "N"),
        ("--profile", "NAME"),
        ("--endpoint-url", "URL"),
    ):
        if re.search(rf"^\s+{option} ", result.stdout, re.M):
            assert re.search(rf"^\s+{option} {placeholder}\b", result.stdout, re.M), (name, option)


def test_the_command_list_is_not_truncated() -> None:
    result = run_iamstate(NoAws(), ROOT, "--help")
    assert result.returncode == 0
    assert "..." not in result.stdout.split("Commands:", 1)[1]
    assert "Exit 0 clean, 2 drift, for nightly jobs." in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("plan", "--formt", "json"),
        ("apply", "--parallelism", "0"),
        ("show",),
        ("nope",),
        ("drift", "--fail-on", "x"),
    ],
)
def test_usage_errors_exit_1_never_2(args: tuple[str, ...], tmp_path: Path) -> None:
    result = run_iamstate(NoAws(), tmp_path, *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_validate_json_reports_configuration_errors_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "groups.yaml").write_text("groups:\n  - name: devs\n    polices: [x]\n")
    result = run_iamstate(NoAws(), tmp_path, "validate", ".", "--format", "json")
    assert result.returncode == 1
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["valid"] is False
    [diagnostic] = doc["diagnostics"]
    assert diagnostic["location"] == "groups.yaml:3:5" and diagnostic["line"] == 3
    assert (
        "unknown key 'polices'" in diagnostic["message"] and "did you mean 'policies'" in diagnostic["hint"]
    )
    valid = run_iamstate(NoAws(), ROOT, "validate", "examples", "--format", "json")
    assert json.loads(valid.stdout)["diagnostics"] == []


def test_errors_have_one_spelling(tmp_path: Path) -> None:
    result = run_iamstate(NoAws(), tmp_path, "validate", ".")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ."), result.stderr
    missing = run_iamstate(NoAws(), tmp_path, "show", "nothing.json")
    assert missing.returncode == 1
    assert missing.stderr == "Error: saved plan nothing.json does not exist\n"
    (tmp_path / "list.json").write_text("[]")
    listed = run_iamstate(NoAws(), tmp_path, "show", "list.json")
    assert listed.returncode == 1 and listed.stderr.startswith("Error: list.json is not a plan")


def test_import_and_apply_reports_go_to_stdout_and_logs_to_stderr(
    strict_iam: StrictIam, applied: Path
) -> None:
    result = run_iamstate(
        strict_iam, applied, "import", "--out", "imported", "--stack", "platform", "--log-format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("Imported ") for line in result.stdout.splitlines())
    events: list[dict[str, Any]] = [json.loads(line) for line in result.stderr.splitlines()]
    assert "import.done" in {e["event"] for e in events}
    assert not any(line.startswith(("Imported", "  wrote")) for line in result.stderr.splitlines())
    applied_again = run_iamstate(
        strict_iam, applied, "apply", "iam", "--auto-approve", "--log-format", "json"
    )
    assert "Apply complete!" in applied_again.stdout
    assert all(line.startswith("{") for line in applied_again.stderr.splitlines())


def test_the_command_lines_budget_is_the_renderers() -> None:
    from iamstate import cli
    from iamstate.commands.options import OutputOptions
    from iamstate.render import markdown

    assert cli.DEFAULT_MAX_CHARS == OutputOptions().max_chars == markdown.DEFAULT_MAX_CHARS
    assert cli.MIN_MAX_CHARS == markdown.MIN_MAX_CHARS
