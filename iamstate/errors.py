"""Exit codes and the errors iamstate reports to users, each with the code it ends a command with.

A leaf: at run time this module imports nothing else from iamstate, so that every
layer (the loader, the core, the AWS adapters, the commands) can raise these errors
and name these exit codes without depending on one another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iamstate.model import SourceLocation
    from iamstate.plan import Finding


_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")


def redact(text: str) -> str:
    """``text`` with the user name and password of every URL in it replaced by ``***``
    (``http://user:secret@host`` becomes ``http://***@host``), for messages and logs."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)


class ExitCode(IntEnum):
    """Exit codes shared by every command (SPEC §1)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    REFUSED = 3


@dataclass(frozen=True)
class Diagnostic:
    """One located problem in the configuration: where, what, and what to do."""

    message: str
    location: SourceLocation | None = None
    hint: str = ""

    def __str__(self) -> str:
        # ``file:line:column: error: ...`` as compilers write it; ``Error: ...`` where no place is.
        hint = f" ({self.hint})" if self.hint else ""
        if self.location:
            return f"{self.location}: error: {self.message}{hint}"
        return f"Error: {self.message}{hint}"


class IamstateError(Exception):
    """Base of all user-facing errors; ``exit_code`` is what the command exits with."""

    exit_code = ExitCode.ERROR


class ConfigError(IamstateError):
    """The configuration is invalid: one or more located diagnostics."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class AwsError(IamstateError):
    """An AWS call failed permanently (after retries)."""


class AccountMismatch(IamstateError):
    """The credentials reach another account than ``account.id`` declares."""


class ConflictError(IamstateError):
    """The config declares an entity that iamstate must not touch (foreign stack, reserved)."""


class StalePlan(IamstateError):
    """A saved plan no longer matches the config or live IAM."""


class Refused(IamstateError):
    """A safety rule of severity error fired; nothing was written. Carries the findings."""

    exit_code = ExitCode.REFUSED

    def __init__(self, message: str, findings: Sequence[Finding] = ()):
        self.findings = list(findings)
        super().__init__(message)
