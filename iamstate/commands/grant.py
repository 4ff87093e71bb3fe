"""``iamstate grant``: add a temporary group membership to the YAML, as a reviewed change; no AWS."""

from __future__ import annotations

import difflib
from pathlib import Path

from iamstate.commands.shared import CommandResult, command_time
from iamstate.config import config_files, load_config
from iamstate.config.edit import EditError, add_membership, membership_item
from iamstate.errors import ConfigError, Diagnostic, ExitCode, IamstateError, Refused
from iamstate.model import Address, Kind
from iamstate.rules import RuleInput, run_rules
from iamstate.temporary import format_timestamp, parse_duration


def grant(address: str, group: str, duration: str, reason: str, path: str) -> CommandResult:
    """Add ``{group: GROUP, expires_at: now + DURATION, reason: REASON}`` to the ``groups:`` of
    the user at ``address``, in the file that declares it; print the diff.

    Writes nothing when the edited configuration would not validate (exit 1) or would be
    refused by a safety rule (exit 3).
    """
    now = command_time(None)
    user = _user(address)
    delta = parse_duration(duration)
    if delta is None:
        raise IamstateError(
            f"--for {duration!r} is not a duration; write it as 4h, 90m, 2d, 1w or 1h30m. Nothing was written."
        )
    expires_at = format_timestamp(now + delta)
    loaded = load_config(path, now=now)
    if loaded.config.state.get(Address(Kind.USER, user)) is None:
        raise IamstateError(
            f"{address}: no such user is declared (and in force) in {path}. Nothing was written."
        )
    where = loaded.config.sources[Address(Kind.USER, user)]
    file = next(f for f in config_files(path) if str(f) == where.file)
    text = file.read_bytes().decode("utf-8")
    name = str(getattr(loaded.config.state.get(Address(Kind.USER, user)), "name", user))
    try:
        edited = add_membership(text, where.file, name, membership_item(group, expires_at, reason), group)
    except EditError as error:
        raise IamstateError(f"{error}; nothing was written") from None

    try:
        checked = load_config(path, now=now, texts={file: edited})
    except ConfigError as error:
        lead = Diagnostic(
            f"the membership would make the configuration invalid; nothing was written to {file}"
        )
        raise ConfigError([*error.diagnostics, lead]) from None
    findings = run_rules(RuleInput(checked.config, loaded=checked.findings), live=False)
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise Refused(f"the membership would be refused by safety rules (in {file})", blocking)

    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            edited.splitlines(keepends=True),
            fromfile=f"a/{file.as_posix()}",
            tofile=f"b/{file.as_posix()}",
        )
    )
    summary = (
        f"user '{user}' joins group '{group}' until {expires_at} ({reason}); "
        f"review the change, commit it, and plan"
    )
    return CommandResult(ExitCode.OK, diff, None, messages=[summary], files={Path(file): edited})


def _user(address: str) -> str:
    try:
        parsed = Address.parse(address)
    except ValueError:
        parsed = None
    if parsed is None or parsed.kind is not Kind.USER:
        raise IamstateError(
            f"{address!r} is not a user's address; write it as user.NAME, such as user.alice. Nothing was written."
        )
    return parsed.name
