"""The commands as functions that return a result object; the CLI only wires options.

This is the shell around the pure core: it loads files, talks to AWS through
``iamstate.aws``, runs the core, and returns a :class:`CommandResult` whose
``exit_code`` follows SPEC §1.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import structlog

from iamstate.config import LoadedConfig, load_config
from iamstate.diff import build_plan
from iamstate.errors import AccountMismatch, ConfigError, Diagnostic, Refused
from iamstate.model import DesiredConfig, Json, Kind, LiveAccount, State
from iamstate.ownership import owns_path_and_name
from iamstate.plan import Finding, Plan
from iamstate.render import render
from iamstate.render.text import finding_lines
from iamstate.rules import RuleInput, apply_waivers, run_rules

log = structlog.get_logger()
ROOT_RULE = "root-credentials-in-use"


class ExitCode(IntEnum):
    """Exit codes shared by every command (SPEC §1)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    REFUSED = 3


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS."""

    profile: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class OutputOptions:
    """How to show results."""

    fmt: str = "text"
    color: bool = False
    out: Path | None = None


@dataclass
class CommandResult:
    """What a command produced: stdout text, the JSON document for ``--out``, the exit code."""

    exit_code: ExitCode
    stdout: str = ""
    document: Mapping[str, Json] | None = None
    messages: list[str] = field(default_factory=list)
    """Lines for stderr (refusal explanations)."""


def _config_findings(loaded: LoadedConfig) -> list[Finding]:
    exceptions = {str(a): dict(e) for a, e in loaded.config.exceptions.items()}
    return apply_waivers(loaded.findings, exceptions)


def validate(path: str, output: OutputOptions) -> CommandResult:
    """Load the config, check schema, references and offline safety rules."""
    loaded = load_config(path)
    config = loaded.config
    findings = _config_findings(loaded) + run_rules(RuleInput(config), live=False)
    counts = {kind.value: len(config.state.of_kind(kind)) for kind in Kind}
    blocking = [f for f in findings if f.blocking]
    doc: dict[str, Json] = {
        "format_version": "1",
        "valid": not blocking,
        "files": list(config.files),
        "entities": counts,
        "findings": [f.to_json() for f in findings],
    }
    if output.fmt == "json":
        import json

        text = json.dumps(doc, indent=2) + "\n"
    else:
        lines = [line for f in findings for line in finding_lines(f.to_json(), color=output.color)]
        described = ", ".join(f"{kind}: {n}" for kind, n in counts.items() if n)
        verdict = "refused by safety rules" if blocking else "valid"
        lines.append(f"Configuration {verdict}: {len(config.files)} file(s); {described or 'no entities'}.")
        text = "\n".join(lines) + "\n"
    return CommandResult(ExitCode.REFUSED if blocking else ExitCode.OK, text, doc)


def _require_account(config: DesiredConfig) -> str:
    if config.account_id is None:
        raise ConfigError(
            [
                Diagnostic(
                    "account.id is required for commands that talk to AWS",
                    hint='add `account: {id: "123456789012"}` to one of the files',
                )
            ]
        )
    return config.account_id


def read_live(config: DesiredConfig, aws: AwsOptions) -> LiveAccount:
    """Read the whole live account with the paged reader, stopping first if it is the wrong
    account (exit 1) or the caller is the root user (exit 3)."""
    from iamstate.aws.read import read_account
    from iamstate.aws.session import iam_client, make_session, sts_client

    expected = _require_account(config)

    def check_identity(account_id: str, caller_arn: str) -> None:
        if account_id != expected:
            raise AccountMismatch(
                f"the credentials reach account {account_id} ({caller_arn}), but account.id declares "
                f"{expected}; nothing further was read and nothing was written"
            )
        probe = LiveAccount(State(), account_id, caller_arn=caller_arn)
        root = [f for f in run_rules(RuleInput(config, probe), live=True) if f.rule == ROOT_RULE]
        if root:
            raise Refused("refused: iamstate does not run as the root user", root)

    session = make_session(aws.profile)
    iam = iam_client(session, aws.endpoint_url)
    sts = sts_client(session, aws.endpoint_url)
    started = time.monotonic()
    live = read_account(
        iam,
        sts,
        owns_policy=lambda p, n: owns_path_and_name(config.scope, p, n),
        check_identity=check_identity,
    )
    log.info(
        "aws.read",
        account=live.account_id,
        api_calls=dict(live.api_calls),
        total_calls=sum(live.api_calls.values()),
        entities=len(live.state),
        seconds=round(time.monotonic() - started, 3),
    )
    return live


def plan(
    path: str, aws: AwsOptions, output: OutputOptions, *, detailed_exitcode: bool = False
) -> tuple[CommandResult, Plan | None]:
    """Diff the config against live IAM and render the plan."""
    loaded = load_config(path)
    live = read_live(loaded.config, aws)
    if live.partition != "aws":
        loaded = load_config(path, partition=live.partition)
    config = loaded.config
    the_plan = build_plan(config, live)
    findings = _config_findings(loaded) + run_rules(RuleInput(config, live, the_plan.changes), live=True)
    the_plan = Plan(the_plan.account_id, the_plan.stack, the_plan.changes, tuple(findings), the_plan.metadata)
    doc = the_plan.to_json()
    text = render(doc, output.fmt, color=output.color)
    if the_plan.blocking_findings:
        code = ExitCode.REFUSED
    elif detailed_exitcode and not the_plan.summary.empty:
        code = ExitCode.CHANGES
    else:
        code = ExitCode.OK
    return CommandResult(code, text, doc), the_plan
