"""The ``iamstate`` command line: options, wiring and exit codes — nothing else."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from iamstate import __version__, logs
from iamstate.apply import ProgressEvent
from iamstate.commands import apply as apply_cmd
from iamstate.commands import drift as drift_cmd
from iamstate.commands import explain as explain_cmd
from iamstate.commands import grant as grant_cmd
from iamstate.commands import import_ as import_cmd
from iamstate.commands import permissions as permissions_cmd
from iamstate.commands import plan as plan_cmd
from iamstate.commands import unlock as unlock_cmd
from iamstate.commands import validate as validate_cmd
from iamstate.commands.apply import ApplyOptions
from iamstate.commands.output import write_output
from iamstate.commands.shared import AwsOptions, CommandResult, OutputOptions
from iamstate.errors import ConfigError, ExitCode, IamstateError, Refused, redact
from iamstate.plan import Plan
from iamstate.render.json import render_json
from iamstate.render.text import finding_lines

app = typer.Typer(
    name="iamstate",
    help="Keep an AWS account's IAM in the state a Git repository declares.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(StrEnum):
    """Output formats."""

    text = "text"
    markdown = "markdown"
    json = "json"


class FindingsFormat(StrEnum):
    """Output formats of the commands whose findings code scanning can show."""

    text = "text"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


class LogFormat(StrEnum):
    """Log event formats."""

    console = "console"
    json = "json"


PathArg = Annotated[
    str, typer.Argument(help="A YAML file, or a directory whose *.yaml/*.yml files (recursively) are merged.")
]
ProfileOpt = Annotated[
    str | None, typer.Option("--profile", help="AWS profile to use (else the default chain).")
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="IAM/STS endpoint (for a local test endpoint); boto3's AWS_ENDPOINT_URL is honoured too.",
    ),
]
LogFormatOpt = Annotated[
    LogFormat, typer.Option("--log-format", help="Log events on stderr as console lines or JSON.")
]
VerboseOpt = Annotated[
    int,
    typer.Option("--verbose", "-v", count=True, help="Log debug events, including API calls by operation."),
]
MassDeleteOpt = Annotated[
    bool,
    typer.Option(
        "--allow-mass-delete",
        help="Let a plan through that deletes more than 20 entities, or more than half of those owned.",
    ),
]
NoColorOpt = Annotated[
    bool, typer.Option("--no-color", help="No colour in output (also when NO_COLOR is set).")
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format on stdout.")]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Evaluate expiry (expires_at, review_by, expiring waivers) as of this RFC 3339 time "
        "instead of now, e.g. 2026-12-05T18:00:00Z.",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Also write the JSON form of the result to this file.", dir_okay=False),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"iamstate {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Keep an AWS account's IAM in the state a Git repository declares."""


def should_color(no_color_flag: bool, stream: object) -> bool:
    """True when output to ``stream`` may use colour: no ``--no-color``, no ``NO_COLOR``
    (any non-empty value, see no-color.org) and ``stream`` is a terminal."""
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


def _setup(log_format: LogFormat, verbose: int, no_color: bool) -> bool:
    color = should_color(no_color, sys.stdout)
    logs.configure(log_format.value, verbose, color=should_color(no_color, sys.stderr))
    return color


def _aws_options(
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    fmt: FormatOpt = Format.text,
    out: OutOpt = None,
    log_format: LogFormatOpt = LogFormat.console,
    verbose: VerboseOpt = 0,
    no_color: NoColorOpt = False,
) -> tuple[AwsOptions, OutputOptions]:
    """The options every AWS-facing command takes: logging and colour set up, AWS and output options."""
    color = _setup(log_format, verbose, no_color)
    return AwsOptions(profile, endpoint_url), OutputOptions(fmt.value, color, out)


def aws_command(
    formats: type[StrEnum] = Format,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command that takes the options of :func:`_aws_options` after its own (``--format``
    one of ``formats``), and is called with the ``aws`` and ``output`` options they make
    (``output.out`` is ``--out``)."""
    shared = inspect.signature(_aws_options, eval_str=True).parameters
    fmt = Annotated[formats, typer.Option("--format", help="Output format on stdout.")]  # type: ignore[valid-type]
    options = [
        p.replace(annotation=fmt, default=formats("text")) if p.name == "fmt" else p for p in shared.values()
    ]

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        own = [
            p
            for p in inspect.signature(func, eval_str=True).parameters.values()
            if p.name not in ("aws", "output")
        ]

        @functools.wraps(func)
        def command(**values: Any) -> None:
            aws, output = _aws_options(**{name: values.pop(name) for name in shared})
            func(aws=aws, output=output, **values)

        command.__signature__ = inspect.Signature([*own, *options])  # type: ignore[attr-defined]
        return command

    return decorate


def _finish(run: object, out: Path | None = None) -> None:
    """Run a command thunk, print its result, write ``--out``, exit with its code."""
    try:
        result = run()  # type: ignore[operator]
        assert isinstance(result, CommandResult)
        if result.stdout:
            sys.stdout.write(result.stdout)
        for message in result.messages:
            typer.echo(redact(message), err=True)
        for path, text in result.files.items():
            write_output(path, text, what="--sarif-out")
        if out is not None and result.document is not None:
            write_output(out, render_json(result.document), what="--out")
    except ConfigError as error:
        for diagnostic in error.diagnostics:
            typer.echo(redact(str(diagnostic)), err=True)
        raise typer.Exit(ExitCode.ERROR) from None
    except Refused as error:
        for finding in error.findings:
            for line in finding_lines(finding.to_json(), color=False):
                typer.echo(line, err=True)
        typer.echo(f"Error: {redact(str(error))}; nothing was written.", err=True)
        raise typer.Exit(error.exit_code) from None
    except IamstateError as error:
        typer.echo(f"Error: {redact(str(error))}", err=True)
        raise typer.Exit(error.exit_code) from None
    raise typer.Exit(int(result.exit_code))


@app.command()
def validate(
    path: PathArg = ".",
    fmt: Annotated[
        FindingsFormat, typer.Option("--format", help="Output format on stdout (markdown prints text).")
    ] = FindingsFormat.text,
    at: AtOpt = None,
    log_format: LogFormatOpt = LogFormat.console,
    verbose: VerboseOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """Check the config offline: schema, references and safety rules. Exit 0 valid, 1 invalid, 3 refused."""
    color = _setup(log_format, verbose, no_color)
    output = OutputOptions(fmt.value if fmt in (FindingsFormat.json, FindingsFormat.sarif) else "text", color)
    _finish(lambda: validate_cmd.validate(path, output, at=at))


@app.command()
@aws_command(formats=FindingsFormat)
def plan(
    aws: AwsOptions,
    output: OutputOptions,
    path: PathArg = ".",
    sarif_out: Annotated[
        Path | None,
        typer.Option(
            "--sarif-out", help="Also write the findings as SARIF 2.1.0 to this file.", dir_okay=False
        ),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 2 when changes are pending, 0 when none (as Terraform)."
        ),
    ] = False,
    allow_mass_delete: MassDeleteOpt = False,
    at: AtOpt = None,
) -> None:
    """Diff the config against live IAM (read only) and print what apply would change."""
    output = dataclasses.replace(output, sarif_out=sarif_out)
    _finish(
        lambda: plan_cmd.plan(
            path,
            aws,
            output,
            detailed_exitcode=detailed_exitcode,
            allow_mass_delete=allow_mass_delete,
            at=at,
        ),
        output.out,
    )


@app.command()
@aws_command()
def apply(
    aws: AwsOptions,
    output: OutputOptions,
    path: Annotated[
        str | None,
        typer.Argument(
            help="A YAML file, or a directory whose *.yaml/*.yml files (recursively) are merged "
            "(default: the one the --plan file was made from, else .).",
            show_default=False,
        ),
    ] = None,
    saved_plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Execute this plan saved by `plan --out`, only if config and live IAM still match it.",
            dir_okay=False,
        ),
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Apply without asking (for pipelines).")
    ] = False,
    parallelism: Annotated[
        int, typer.Option("--parallelism", min=1, max=32, help="At most this many concurrent API calls.")
    ] = 4,
    propagation_timeout: Annotated[
        float,
        typer.Option(
            "--propagation-timeout",
            min=0,
            help="Seconds to keep retrying IAM's eventual-consistency errors for one call.",
        ),
    ] = 120.0,
    allow_mass_delete: MassDeleteOpt = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            help="Seconds to wait for the apply lock while another apply holds it (0: fail at once).",
        ),
    ] = 0.0,
) -> None:
    """Re-read live IAM, show the plan, confirm, and make the changes in a safe order."""
    options = ApplyOptions(
        saved_plan, auto_approve, parallelism, propagation_timeout, allow_mass_delete, lock_timeout
    )
    _finish(
        lambda: apply_cmd.apply(
            path,
            aws,
            output,
            options,
            confirm=_confirm,
            interactive=sys.stdin.isatty(),
            progress=progress_bar,
        ),
        output.out,
    )


class FailOn(StrEnum):
    """Live-finding levels, lowest first."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


@app.command()
@aws_command()
def drift(
    aws: AwsOptions,
    output: OutputOptions,
    path: PathArg = ".",
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit 2 for live findings of this level or above (low: any finding); changes always do.",
        ),
    ] = FailOn.low,
    at: AtOpt = None,
) -> None:
    """Plan plus a live audit of credentials, root and MFA (read only). Exit 0 clean, 2 drift, for nightly jobs."""
    _finish(lambda: drift_cmd.drift(path, aws, output, fail_on=fail_on.value, at=at), output.out)


@app.command()
def unlock(
    path: PathArg = ".",
    force: Annotated[
        bool,
        typer.Option("--force", help="Remove the lock even while it is another holder's and unexpired."),
    ] = False,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    log_format: LogFormatOpt = LogFormat.console,
    verbose: VerboseOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """Remove the apply lock a killed apply left (only an expired one, or your own, without --force)."""
    aws, _ = _aws_options(profile, endpoint_url, Format.text, None, log_format, verbose, no_color)
    _finish(lambda: unlock_cmd.unlock(path, aws, force=force))


class ExplainFormat(StrEnum):
    """Output formats of ``explain``."""

    text = "text"
    json = "json"


@app.command()
@aws_command(formats=ExplainFormat)
def explain(
    aws: AwsOptions,
    output: OutputOptions,
    address: Annotated[
        str, typer.Argument(help="The principal: user.NAME, group.NAME or role.NAME.", show_default=False)
    ],
    path: PathArg = ".",
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Explain the configuration as declared, without AWS (AWS-managed policies from the built-in table).",
        ),
    ] = False,
    desired: Annotated[
        bool,
        typer.Option(
            "--desired", help="Explain the principal as apply would leave it, not as it is live (reads AWS)."
        ),
    ] = False,
) -> None:
    """What one user, group or role can do: access by service and level, escalation paths, exposures, and the policies behind each."""
    _finish(
        lambda: explain_cmd.explain(address, path, aws, output, offline=offline, desired=desired), output.out
    )


class ForCommand(StrEnum):
    """The commands whose permissions ``iamstate permissions`` prints."""

    plan = "plan"
    apply = "apply"
    drift = "drift"


class PolicyFormat(StrEnum):
    """Forms of a policy document."""

    json = "json"
    yaml = "yaml"


@app.command()
def permissions(
    for_command: Annotated[
        ForCommand, typer.Option("--for", help="The command to run with the policy: plan, apply or drift.")
    ],
    path: PathArg = ".",
    fmt: Annotated[
        PolicyFormat,
        typer.Option("--format", help="json: the policy document; yaml: a policies: entry for the config."),
    ] = PolicyFormat.json,
) -> None:
    """Print the least IAM policy iamstate needs to run plan, apply or drift on the config (no AWS)."""
    _finish(lambda: permissions_cmd.permissions(path, for_command.value, fmt.value))


@app.command()
def grant(
    address: Annotated[
        str,
        typer.Argument(
            help="Who is granted: the user, as user.NAME (with --policy also group.NAME or role.NAME)."
        ),
    ],
    target: Annotated[
        str,
        typer.Argument(
            metavar="GROUP",
            help="The declared group the user joins for a while (with --policy: the policy to attach).",
        ),
    ],
    duration: Annotated[
        str,
        typer.Option(
            "--for", help="How long: 4h, 90m, 2d, 1w or 1h30m; expires_at is now plus this, in UTC."
        ),
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (an incident, a ticket); written as the grant's reason.")
    ],
    path: PathArg = ".",
    policy: Annotated[
        bool,
        typer.Option(
            "--policy",
            help="Attach GROUP as a policy (a name or ARN, as policies: takes it) to the user, group or "
            "role at ADDRESS for a while, instead of a group membership.",
        ),
    ] = False,
    log_format: LogFormatOpt = LogFormat.console,
    verbose: VerboseOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """Add a temporary group membership or policy attachment to the YAML (no AWS) and print the diff, for review."""
    _setup(log_format, verbose, no_color)
    _finish(lambda: grant_cmd.grant(address, target, duration, reason, path, policy=policy))


def _confirm() -> bool:
    answer = typer.prompt(
        "\nDo you want to perform these actions? Only 'yes' will be accepted to approve",
        default="",
        show_default=False,
    )
    return bool(answer.strip() == "yes")


@contextlib.contextmanager
def progress_bar(plan: Plan) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """A progress bar on stderr while apply runs, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("Applying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=sum(len(c.api_calls) for c in plan.changes))

        def on_progress(event: ProgressEvent) -> None:
            bar.update(task, completed=event.finished, description=f"{event.call.operation} {event.address}")

        yield on_progress


@app.command("import")
def import_command(
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the YAML into (must be empty unless --force).")
    ],
    scope_path: Annotated[
        list[str] | None,
        typer.Option("--scope-path", help="IAM path prefix to own and import (repeatable; default /)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore", help="Name glob never to import or touch (repeatable), e.g. 'AWSReservedSSO_*'."
        ),
    ] = None,
    stack: Annotated[
        str, typer.Option("--stack", help="Ownership label written as account.stack.")
    ] = "iamstate",
    force: Annotated[
        bool,
        typer.Option("--force", help="Write into a non-empty directory, replacing earlier import files."),
    ] = False,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    fmt: FormatOpt = Format.text,
    log_format: LogFormatOpt = LogFormat.console,
    verbose: VerboseOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """Write YAML for the owned part of the live account, so that plan on it shows no changes."""
    text_or_json = Format.json if fmt is Format.json else Format.text
    aws, output = _aws_options(profile, endpoint_url, text_or_json, None, log_format, verbose, no_color)
    _finish(
        lambda: import_cmd.import_(
            out,
            aws,
            output,
            paths=tuple(scope_path or ["/"]),
            ignore=tuple(ignore or []),
            stack=stack,
            force=force,
        )
    )


def _verbose(argv: Sequence[str]) -> bool:
    return any(arg == "--verbose" or re.fullmatch(r"-v+", arg) for arg in argv)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return its exit code.

    Pipelines read exit 2 as "changes pending" or "drift found", so a usage error
    (an unknown option, a bad value, no command at all) exits 1 with click's message.
    An exception nothing else handled is an internal error: one line that asks for a
    report, exit 1, and the traceback only with ``-v``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name="iamstate", standalone_mode=False)
    except typer.exceptions.TyperException as error:
        # click's usage errors (and bare `iamstate`, which shows the help): their message, exit 1.
        show = getattr(error, "show", None)
        typer.echo(str(error), err=True) if show is None else show()
        return int(ExitCode.ERROR)
    except (typer.Abort, KeyboardInterrupt, EOFError):
        typer.echo("\nAborted.", err=True)
        return int(ExitCode.ERROR)
    except Exception as error:
        if _verbose(args):
            typer.echo(redact(traceback.format_exc()), err=True, nl=False)
        typer.echo(
            redact(
                f"Error: internal error: {type(error).__name__}: {error}. This is a bug in iamstate "
                f"{__version__}; please report it with the command you ran"
                + ("" if _verbose(args) else " and the traceback that -v prints")
                + "."
            ),
            err=True,
        )
        return int(ExitCode.ERROR)
    return code if isinstance(code, int) else int(ExitCode.OK)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
