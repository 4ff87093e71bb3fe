"""``iamstate grant``: add a temporary group membership or policy attachment to the YAML, as a
reviewed change; no AWS."""

from __future__ import annotations

import difflib
from pathlib import Path

from iamstate.commands.shared import CommandResult, command_time
from iamstate.config import config_files, load_config
from iamstate.config.edit import ITEM_KEYS, EditError, add_grant, grant_item
from iamstate.errors import ConfigError, Diagnostic, ExitCode, IamstateError, Refused
from iamstate.kinds import spec
from iamstate.model import Address, Kind
from iamstate.rules import RuleInput, run_rules
from iamstate.temporary import format_timestamp, parse_duration

_POLICY_HOLDERS = (Kind.USER, Kind.GROUP, Kind.ROLE)


def grant(
    address: str, target: str, duration: str, reason: str, path: str, *, policy: bool = False
) -> CommandResult:
    """Add ``{group: TARGET, expires_at: now + DURATION, reason: REASON}`` to the ``groups:`` of
    the user at ``address`` (with ``policy``: ``{policy: TARGET, ...}`` to the ``policies:``
    of the user, group or role at ``address``), in the file that declares it; print the diff.

    Writes nothing when the edited configuration would not validate (exit 1) or would be
    refused by a safety rule (exit 3).
    """
    now = command_time(None)
    holder = _holder(address, _POLICY_HOLDERS if policy else (Kind.USER,))
    delta = parse_duration(duration)
    if delta is None:
        raise IamstateError(
            f"--for {duration!r} is not a duration; write it as 4h, 90m, 2d, 1w or 1h30m. Nothing was written."
        )
    expires_at = format_timestamp(now + delta)
    loaded = load_config(path, now=now)
    declared = loaded.config.state.get(holder)
    if declared is None:
        raise IamstateError(
            f"{address}: no such {holder.kind.value} is declared (and in force) in {path}. Nothing was written."
        )
    where = loaded.config.sources[holder]
    file = next(f for f in config_files(path) if str(f) == where.file)
    text = file.read_bytes().decode("utf-8")
    name = str(getattr(declared, "name", holder.name))
    key = "policies" if policy else "groups"
    section = (spec(holder.kind).section or ("users",))[0]
    item = grant_item(ITEM_KEYS[key], target, expires_at, reason)
    try:
        edited = add_grant(text, where.file, section, name, key, item, target)
    except EditError as error:
        raise IamstateError(f"{error}; nothing was written") from None

    try:
        checked = load_config(path, now=now, texts={file: edited})
    except ConfigError as error:
        lead = Diagnostic(f"the grant would make the configuration invalid; nothing was written to {file}")
        raise ConfigError([*error.diagnostics, lead]) from None
    findings = run_rules(RuleInput(checked.config, loaded=checked.findings), live=False)
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise Refused(f"the grant would be refused by safety rules (in {file})", blocking)

    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            edited.splitlines(keepends=True),
            fromfile=f"a/{file.as_posix()}",
            tofile=f"b/{file.as_posix()}",
        )
    )
    subject = f"{holder.kind.value} '{holder.name}'"
    summary = (
        f"policy '{target}' is attached to {subject} until {expires_at} ({reason}); "
        if policy
        else f"{subject} joins group '{target}' until {expires_at} ({reason}); "
    ) + "review the change, commit it, and plan"
    return CommandResult(ExitCode.OK, diff, None, messages=[summary], files={Path(file): edited})


def _holder(address: str, kinds: tuple[Kind, ...]) -> Address:
    try:
        parsed = Address.parse(address)
    except ValueError:
        parsed = None
    if parsed is None or parsed.kind not in kinds:
        shapes = " or ".join(f"{k.value}.NAME" for k in kinds)
        raise IamstateError(
            f"{address!r} is not the address of a {' or '.join(k.value for k in kinds)}; write it as "
            f"{shapes}, such as {kinds[0].value}.alice. Nothing was written."
        )
    return parsed
