"""``iamstate import``: read the live account and write it as configuration files.

The shell around :mod:`iamstate.importer`: it reads IAM (guarded against the root
user), renders the owned part of the account, loads the rendered files back with
the configuration loader, waives the waivable safety rules that fire on what was
found (with a dated reason a reviewer must look at), plans the files against the
same live state and warns about any change beyond the inline policies it converts,
and only then writes the files.
"""

from __future__ import annotations

import datetime
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from iamstate.commands.output import check_writable, check_writable_dir, write_output
from iamstate.commands.shared import AwsOptions, Clients, CommandResult, OutputOptions, connect, read_account
from iamstate.config import LoadedConfig, config_files, load_config
from iamstate.diff import build_plan
from iamstate.errors import ConfigError, ConflictError, ExitCode, IamstateError
from iamstate.importer import ImportedFiles, import_files, render_import, unexpected_changes, waivers_for
from iamstate.kinds import in_reading_order
from iamstate.model import DEFAULT_STACK, Json, LiveAccount, Scope
from iamstate.plan import Finding
from iamstate.render.json import render_json
from iamstate.render.results import import_text
from iamstate.rules import RuleInput, run_rules

log = structlog.get_logger()


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the files, the entities declared per kind, and what to review."""

    files: list[Path]
    entities: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Json]:
        """The result as JSON values (:func:`iamstate.render.results.import_text` shows it)."""
        return {
            "format_version": "1",
            "files": [str(path) for path in self.files],
            "entities": dict(self.entities),
            "warnings": list(self.warnings),
        }


def import_(
    out_dir: Path,
    aws: AwsOptions,
    output: OutputOptions,
    *,
    paths: tuple[str, ...],
    ignore: tuple[str, ...],
    stack: str,
    force: bool,
) -> CommandResult:
    """Write the owned part of the live account as YAML that plans as no changes."""
    started = time.monotonic()
    result = import_account(out_dir, aws, scope=Scope(paths, ignore), stack=stack, force=force)
    doc = result.to_json()
    log.info("import.done", command="import", out=str(out_dir), seconds=round(time.monotonic() - started, 3))
    return CommandResult(ExitCode.OK, render_json(doc) if output.fmt == "json" else import_text(doc), doc)


def read_for_import(iam: Any, sts: Any, scope: Scope) -> LiveAccount:
    """Read the whole live account; refuses (exit 3) before reading IAM when the caller is root.

    There is no configuration yet, so there is no account id to check against.
    """
    return read_account(Clients(iam, sts), scope, None)


def run_import(
    out_dir: Path,
    *,
    live: LiveAccount,
    scope: Scope | None = None,
    stack: str = DEFAULT_STACK,
    force: bool = False,
    imported_on: datetime.date | None = None,
) -> ImportResult:
    """Write the owned part of ``live`` as configuration files into ``out_dir``.

    Refuses (IamstateError) when ``out_dir`` holds files other than hidden ones
    (``.git``), unless ``force``; with ``force`` the files import writes are
    overwritten, and those of an earlier import that this one does not write are
    removed. ``imported_on`` (default: today, UTC) dates the waivers' reasons.
    """
    scope = scope or Scope()
    _check_out_dir(out_dir, force)
    on = (imported_on or datetime.datetime.now(datetime.UTC).date()).isoformat()

    first = render_import(live, scope=scope, stack=stack)
    loaded = _load(first, live.partition)
    findings = _findings(loaded, live)
    waivers, rule_warnings = waivers_for(findings, on)
    rendered = render_import(live, scope=scope, stack=stack, exceptions=waivers) if waivers else first
    if waivers:
        loaded = _load(rendered, live.partition)

    warnings = list(rendered.warnings) + rule_warnings
    try:
        changes = build_plan(loaded.config, live).changes
        warnings += unexpected_changes(changes, rendered.conversions)
    except ConflictError as error:
        warnings.append(f"the imported files conflict with live IAM: {error}")

    files = _write(out_dir, rendered.texts, force)
    others = _other_yaml(out_dir, files)
    if others:
        warnings.append(
            f"{out_dir} also holds {', '.join(others)}, which plan and apply would merge with the imported files"
        )
    state = loaded.config.state
    entities = {kind.value: len(state.of_kind(kind)) for kind in in_reading_order() if state.of_kind(kind)}
    log.info("import.done", directory=str(out_dir), entities=entities, warnings=len(warnings))
    return ImportResult(files, entities, warnings)


def import_account(
    out_dir: Path,
    aws: AwsOptions,
    *,
    scope: Scope | None = None,
    stack: str = DEFAULT_STACK,
    force: bool = False,
) -> ImportResult:
    """Read the account that ``aws`` reaches and import it into ``out_dir``.

    The directory is checked before anything is read, so a refusal costs no API call.
    """
    scope = scope or Scope()
    _check_out_dir(out_dir, force)
    clients = connect(aws)
    live = read_for_import(clients.iam, clients.sts, scope)
    return run_import(out_dir, live=live, scope=scope, stack=stack, force=force)


def _check_out_dir(out_dir: Path, force: bool) -> None:
    check_writable_dir(out_dir, "--out")
    if force or not out_dir.exists():
        return
    present = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("."))
    if present:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise IamstateError(
            f"{out_dir} is not empty ({shown}); import into an empty directory, or pass --force "
            f"to overwrite {', '.join(import_files())} there. Nothing was written."
        )


def _load(rendered: ImportedFiles, partition: str) -> LoadedConfig:
    """Load the rendered files with the configuration loader, as plan will."""
    with tempfile.TemporaryDirectory(prefix="iamstate-import-") as tmp:
        for name, text in rendered.texts.items():
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            return load_config(tmp, partition=partition)
        except ConfigError as error:
            raise IamstateError(
                f"import rendered a configuration the loader rejects; nothing was written:\n{error}"
            ) from error


def _findings(loaded: LoadedConfig, live: LiveAccount) -> list[Finding]:
    """The findings plan will make of the imported files that need no plan: the configuration
    rules, with the principals judged in the live account and its AWS-managed policies."""
    now = datetime.datetime.now(datetime.UTC)
    return run_rules(RuleInput(loaded.config, live, loaded=loaded.findings, now=now), live=False)


def _write(out_dir: Path, texts: Mapping[str, str], force: bool) -> list[Path]:
    check_writable_dir(out_dir, "--out")
    for name in texts:
        check_writable(out_dir / name, what="--out", root=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = out_dir / name
        write_output(path, text, what="--out", root=out_dir)
        written.append(path)
    if force:
        for name in import_files():
            if name not in texts and (out_dir / name).is_file():
                (out_dir / name).unlink()
    return written


def _other_yaml(out_dir: Path, written: list[Path]) -> list[str]:
    ours = {p.resolve() for p in written}
    return [str(p.relative_to(out_dir)) for p in config_files(out_dir) if p.resolve() not in ours]
