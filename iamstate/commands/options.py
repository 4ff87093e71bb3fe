"""What every command takes and returns: AWS and output options, the command's time, its result.

Kept apart from :mod:`iamstate.commands.shared` so that the command line can name them
without importing the core, the rules or boto3 (``--help`` and ``validate`` start fast).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from iamstate.errors import ExitCode, IamstateError

if TYPE_CHECKING:
    from iamstate.model import Json


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
    sarif_out: Path | None = None
    max_chars: int = 60_000
    """The longest markdown to print (a pull-request comment's budget; the default is
    :data:`iamstate.render.markdown.DEFAULT_MAX_CHARS`, spelt here so that the command line
    needs no renderer to start)."""

    @property
    def full(self) -> str:
        """Where the whole result is when markdown must leave parts out: the ``--out`` file."""
        return str(self.out) if self.out is not None else ""


@dataclass
class CommandResult:
    """What a command produced: stdout text, the JSON document for ``--out``, the exit code."""

    exit_code: ExitCode
    stdout: str = ""
    document: Mapping[str, Json] | None = None
    messages: list[str] = field(default_factory=list)
    """Lines for stderr (refusal explanations)."""
    files: dict[Path, str] = field(default_factory=dict)
    """Further outputs to write (``--sarif-out``)."""


def command_time(at: str | None) -> datetime:
    """The one time a command evaluates expiry at: ``--at`` (RFC 3339, any offset, as UTC),
    else the clock, read here once per command."""
    if at is None:
        return datetime.now(UTC)
    from iamstate.temporary import parse_instant

    parsed = parse_instant(at)
    if parsed is None:
        raise IamstateError(
            f"--at {at!r} is not an RFC 3339 time; give a date, a time and an offset, "
            "such as 2026-12-05T18:00:00Z"
        )
    return parsed
