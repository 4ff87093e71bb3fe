"""The ``iamstate`` command line: options, wiring and exit codes — nothing else."""

from __future__ import annotations

import contextlib
import copy
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
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.main
from typer.core import TyperGroup

from iamstate import __version__
from iamstate.commands.options import AwsOptions, CommandResult, OutputOptions
from iamstate.errors import ConfigError, ExitCode, IamstateError, Refused, redact

if TYPE_CHECKING:
    from iamstate.apply import ProgressEvent
    from iamstate.plan import Plan

# The commands, the core they run and boto3 are imported by the command that runs, not
# here: ``--help`` and ``validate`` never load boto3 (tests/test_startup.py).

DEFAULT_MAX_CHARS = 60_000
"""``--max-chars``'s default: :data:`iamstate.render.markdown.DEFAULT_MAX_CHARS`, spelt here so
that ``--help`` needs no renderer."""
MIN_MAX_CHARS = 1_000
"""The smallest ``--max-chars``: :data:`iamstate.render.markdown.MIN_MAX_CHARS`."""

_CLICK_EXCEPTION: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""The base of click's errors (usage errors, bad parameters), as this typer ships click."""


class CommandGroup(TyperGroup):
    """The ``iamstate`` group: a usage error (an unknown option, a bad value, no command) exits 1,
    never click's 2, which pipelines read as "changes pending" or "drift found"; commands are
    listed in the order they are defined."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def main(  # type: ignore[override]  # click's signature differs across the versions typer ships
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _CLICK_EXCEPTION as error:
            if getattr(error, "exit_code", 2) == 2:
                error.exit_code = ExitCode.ERROR  # type: ignore[attr-defined]
            if not standalone_mode:
                raise
            error.show()  # type: ignore[attr-defined]
            sys.exit(error.exit_code)  # type: ignore[attr-defined]
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("Aborted.", err=True)
            sys.exit(ExitCode.ERROR)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


app = typer.Typer(
    name="iamstate",
    cls=CommandGroup,
    help="Keep an AWS account's IAM in the state a Git repository declares.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
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
    str,
    typer.Argument(
        help="A YAML file, or a directory whose *.yaml/*.yml files (recursively) are merged.",
        metavar="PATH",
    ),
]
ProfileOpt = Annotated[
    str | None, typer.Option("--profile", help="AWS profile to use (else the default chain).", metavar="NAME")
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="IAM/STS endpoint (for a local test endpoint); boto3's AWS_ENDPOINT_URL is honoured too.",
        metavar="URL",
    ),
]
LogFormatOpt = Annotated[
    LogFormat,
    typer.Option(
        "--log-format", help="Log events on stderr as console lines or JSON.", metavar="[console|json]"
    ),
]
VerboseOpt = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help="Log debug events, including API calls by operation.",
    ),
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
FormatOpt = Annotated[
    Format, typer.Option("--format", help="Output format on stdout.", metavar="[text|markdown|json]")
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Evaluate expiry (expires_at, review_by, expiring waivers) as of this RFC 3339 time "
        "instead of now, e.g. 2026-12-05T18:00:00Z.",
        metavar="TIME",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Also write the JSON form of the result to this file.", dir_okay=False, metavar="FILE"
    ),
]
MaxCharsOpt = Annotated[
    int,
    typer.Option(
        "--max-chars",
        min=MIN_MAX_CHARS,
        metavar="N",
        help="markdown: the longest output, a pull-request comment's budget (GitHub allows 65,536); "
        "what does not fit is left out whole, with a line saying where the full result is (--out).",
    ),
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
    from iamstate import logs

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
    choices = "[" + "|".join(f.value for f in formats) + "]"
    fmt = Annotated[formats, typer.Option("--format", help="Output format on stdout.", metavar=choices)]  # type: ignore[valid-type]
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
    from iamstate.commands.output import write_output
    from iamstate.render import escape
    from iamstate.render.json import render_json

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
            typer.echo(escape.text(redact(str(diagnostic))), err=True)
        raise typer.Exit(ExitCode.ERROR) from None
    except Refused as error:
        typer.echo(f"Refused: {escape.text(redact(str(error)))}; nothing was written.", err=True)
        from iamstate.render.text import finding_lines

        for finding in error.findings:
            for line in finding_lines(finding.to_json(), color=False):
                typer.echo(line, err=True)
        raise typer.Exit(error.exit_code) from None
    except IamstateError as error:
        for number, line in enumerate(str(error).splitlines() or [""]):
            typer.echo(
                f"Error: {escape.text(redact(line))}" if number == 0 else escape.text(redact(line)), err=True
            )
        raise typer.Exit(error.exit_code) from None
    raise typer.Exit(int(result.exit_code))


def command(name: str | None = None) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``@app.command`` with the docstring's first sentence as the command list's description, whole."""

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        first = (func.__doc__ or "").strip().split("\n\n", 1)[0]
        return app.command(name, short_help=" ".join(first.split()))(func)

    return decorate


@command()
def validate(
    path: PathArg = ".",
    fmt: Annotated[
        FindingsFormat,
        typer.Option(
            "--format",
            help="Output format on stdout (markdown prints text); json reports configuration errors too.",
            metavar="[text|markdown|json|sarif]",
        ),
    ] = FindingsFormat.text,
    at: AtOpt = None,
    log_format: LogFormatOpt = LogFormat.console,
    verbose: VerboseOpt = 0,
    no_color: NoColorOpt = False,
) -> None:
    """Check the config offline: schema, references and safety rules. Exit 0 valid, 1 invalid, 3 refused."""
    # validate runs the config loader and the core alone, which log no events: it sets up no
    # logging, and structlog is never loaded (start-up time; tests/test_startup.py).
    color = should_color(no_color, sys.stdout)
    output = OutputOptions(fmt.value if fmt in (FindingsFormat.json, FindingsFormat.sarif) else "text", color)
    from iamstate.commands import validate as validate_cmd

    _finish(lambda: validate_cmd.validate(path, output, at=at))


@command()
@aws_command(formats=FindingsFormat)
def plan(
    aws: AwsOptions,
    output: OutputOptions,
    path: PathArg = ".",
    sarif_out: Annotated[
        Path | None,
        typer.Option(
            "--sarif-out",
            help="Also write the findings as SARIF 2.1.0 to this file.",
            dir_okay=False,
            metavar="FILE",
        ),
    ] = None,
    max_chars: MaxCharsOpt = DEFAULT_MAX_CHARS,
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
    from iamstate.commands import plan as plan_cmd

    output = dataclasses.replace(output, sarif_out=sarif_out, max_chars=max_chars)
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


@command()
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
            metavar="FILE",
        ),
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Apply without asking (for pipelines).")
    ] = False,
    parallelism: Annotated[
        int,
        typer.Option(
            "--parallelism",
            min=1,
            max=32,
            metavar="N",
            help="At most this many concurrent API calls (1 to 32).",
        ),
    ] = 4,
    propagation_timeout: Annotated[
        float,
        typer.Option(
            "--propagation-timeout",
            min=0,
            metavar="SECONDS",
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
    from iamstate.commands import apply as apply_cmd

    options = apply_cmd.ApplyOptions(
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


@command()
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
            metavar="[low|medium|high|critical]",
        ),
    ] = FailOn.low,
    max_chars: MaxCharsOpt = DEFAULT_MAX_CHARS,
    at: AtOpt = None,
) -> None:
    """Plan plus a live audit of credentials, root and MFA (read only). Exit 0 clean, 2 drift, for nightly jobs."""
    from iamstate.commands import drift as drift_cmd

    output = dataclasses.replace(output, max_chars=max_chars)
    _finish(lambda: drift_cmd.drift(path, aws, output, fail_on=fail_on.value, at=at), output.out)


@command()
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
    from iamstate.commands import unlock as unlock_cmd

    _finish(lambda: unlock_cmd.unlock(path, aws, force=force))


class ExplainFormat(StrEnum):
    """Output formats of ``explain``."""

    text = "text"
    json = "json"


@command()
@aws_command(formats=ExplainFormat)
def explain(
    aws: AwsOptions,
    output: OutputOptions,
    address: Annotated[
        str,
        typer.Argument(
            help="The principal: user.NAME, group.NAME or role.NAME.", show_default=False, metavar="ADDRESS"
        ),
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
    from iamstate.commands import explain as explain_cmd

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


@command()
def permissions(
    for_command: Annotated[
        ForCommand,
        typer.Option(
            "--for",
            help="The command to run with the policy: plan, apply or drift.",
            metavar="[plan|apply|drift]",
        ),
    ],
    path: PathArg = ".",
    fmt: Annotated[
        PolicyFormat,
        typer.Option(
            "--format",
            help="json: the policy document; yaml: a policies: entry for the config.",
            metavar="[json|yaml]",
        ),
    ] = PolicyFormat.json,
) -> None:
    """Print the least IAM policy iamstate needs to run plan, apply or drift on the config (no AWS)."""
    from iamstate.commands import permissions as permissions_cmd

    _finish(lambda: permissions_cmd.permissions(path, for_command.value, fmt.value))


@command()
def grant(
    address: Annotated[
        str,
        typer.Argument(
            help="Who is granted: the user, as user.NAME (with --policy also group.NAME or role.NAME).",
            metavar="ADDRESS",
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
            "--for",
            help="How long: 4h, 90m, 2d, 1w or 1h30m; expires_at is now plus this, in UTC.",
            metavar="DURATION",
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why (an incident, a ticket); written as the grant's reason.", metavar="TEXT"
        ),
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
    from iamstate.commands import grant as grant_cmd

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


@command("import")
def import_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Directory to write the YAML into (must be empty unless --force).", metavar="DIR"
        ),
    ],
    scope_path: Annotated[
        list[str] | None,
        typer.Option(
            "--scope-path",
            help="IAM path prefix to own and import (repeatable; default /).",
            metavar="PREFIX",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="Name glob never to import or touch (repeatable), e.g. 'AWSReservedSSO_*'.",
            metavar="GLOB",
        ),
    ] = None,
    stack: Annotated[
        str, typer.Option("--stack", help="Ownership label written as account.stack.", metavar="NAME")
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
    from iamstate.commands import import_ as import_cmd

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


class ShowFormat(StrEnum):
    """Formats ``show`` renders a saved plan in."""

    text = "text"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


@command()
def show(
    planfile: Annotated[
        Path,
        typer.Argument(
            help="A plan written by `plan --out` (or a report by `drift --out`).",
            metavar="PLANFILE",
            dir_okay=False,
        ),
    ],
    fmt: Annotated[
        ShowFormat,
        typer.Option("--format", help="Output format on stdout.", metavar="[text|markdown|json|sarif]"),
    ] = ShowFormat.text,
    max_chars: MaxCharsOpt = DEFAULT_MAX_CHARS,
    no_color: NoColorOpt = False,
) -> None:
    """Render a saved plan in any format, without AWS (plan once, post the comment from the file)."""
    # show logs nothing: no logging is set up (that would load structlog for no line).
    output = OutputOptions(fmt.value, should_color(no_color, sys.stdout), max_chars=max_chars)
    from iamstate.commands import show as show_cmd

    _finish(lambda: show_cmd.show(planfile, output))


def _verbose(argv: Sequence[str]) -> bool:
    return any(arg == "--verbose" or re.fullmatch(r"-v+", arg) for arg in argv)


def app_for(args: Sequence[str]) -> typer.Typer:
    """The app that parses ``args``: when they start with a command's name, the app with that
    command alone, else the whole app. Its usage, help and errors are the same; the parsers of
    the other commands are simply not built (that takes a noticeable part of a small
    ``validate``)."""
    if not args:
        return app
    chosen = [
        info
        for info in app.registered_commands
        if (info.name or typer.main.get_command_name(getattr(info.callback, "__name__", ""))) == args[0]
    ]
    if len(chosen) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = chosen
    return one


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return its exit code.

    Pipelines read exit 2 as "changes pending" or "drift found", so a usage error
    (an unknown option, a bad value, no command at all) exits 1 with click's message.
    An exception nothing else handled is an internal error: one line that asks for a
    report, exit 1, and the traceback only with ``-v``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app_for(args)(args=args, prog_name="iamstate", standalone_mode=False)
    except _CLICK_EXCEPTION as error:
        # click's usage errors (and bare `iamstate`, which shows the help): their message, and
        # the exit code CommandGroup gave them (1, never 2).
        error.show()  # type: ignore[attr-defined]
        return int(getattr(error, "exit_code", ExitCode.ERROR))
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
    tune_collector()
    code = run()
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` once what it wrote is flushed, without tearing down every
    object one by one (a large account's model takes a noticeable part of a second to free,
    for nothing: the process ends)."""
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)  # under a profiler or coverage, which write their results at exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    os._exit(code)


def tune_collector() -> None:
    """The collector as a command's process uses it (:mod:`iamstate.commands.collector`)."""
    from iamstate.commands import collector

    collector.tune()
