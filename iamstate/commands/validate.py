"""``iamstate validate``: load the config and run the offline safety rules; no AWS."""

from __future__ import annotations

import functools

from iamstate.commands import collector
from iamstate.commands.cores import fan_out_for, meanwhile, second_core
from iamstate.commands.options import CommandResult, OutputOptions, command_time
from iamstate.config import ParsedConfig, build_config, parse_config, prepare_schema
from iamstate.errors import ConfigError, Diagnostic, ExitCode
from iamstate.kinds import in_reading_order
from iamstate.model import Json
from iamstate.render.json import render_json
from iamstate.render.results import validate_text
from iamstate.rules import RuleInput, prepare_rules, run_rules, run_rules_apart


def validate(path: str, output: OutputOptions, *, at: str | None = None) -> CommandResult:
    """Load the config, check schema, references and offline safety rules; expiry is
    evaluated as of ``at`` (RFC 3339) or now.

    With ``--format json`` an invalid configuration is reported on stdout as JSON too
    (``diagnostics``, each with its place), so that a pipeline reads one document either way.
    """
    try:
        with collector.building():
            # While the other core parses the second half of a large file, this one readies
            # what both processes use after the next fork (the schema's validator, the rules).
            parsing = meanwhile(second_core(), _ready)
            parsed = parse_config(path, now=command_time(at), second_core=parsing)
            apart = fan_out_for(parsed)
            if apart is None:
                data = _rule_input(parsed)
                findings = run_rules(data, live=False)
            else:
                # Each process builds the configuration from the parsed files and runs half
                # the rules; the other one skips the checks that only report, which this one makes.
                data, findings = run_rules_apart(
                    functools.partial(_rule_input, parsed),
                    functools.partial(_rule_input, parsed, checks=False),
                    apart,
                )
    except ConfigError as error:
        if output.fmt != "json":
            raise
        invalid: dict[str, Json] = {
            "format_version": "1",
            "valid": False,
            "files": [],
            "entities": {},
            "findings": [],
            "diagnostics": [diagnostic_json(d) for d in error.diagnostics],
        }
        return CommandResult(ExitCode.ERROR, render_json(invalid), invalid)
    collector.keep(parsed, data)
    config = data.config
    blocking = [f for f in findings if f.blocking]
    doc: dict[str, Json] = {
        "format_version": "1",
        "valid": not blocking,
        "files": list(config.files),
        "entities": {kind.value: len(config.state.of_kind(kind)) for kind in in_reading_order()},
        "findings": [f.to_json() for f in findings],
        "diagnostics": [],
    }
    if output.fmt == "json":
        text = render_json(doc)
    elif output.fmt == "sarif":
        from iamstate.commands.saved import sarif

        text = sarif(doc, config.files)
    else:
        text = validate_text(doc, color=output.color)
    return CommandResult(ExitCode.REFUSED if blocking else ExitCode.OK, text, doc)


def _ready() -> None:
    """What both processes of a large validate use: the schema's validator and the rules."""
    prepare_schema()
    prepare_rules()


def _rule_input(parsed: ParsedConfig, *, checks: bool = True) -> RuleInput:
    """The rules' input: the configuration built from ``parsed``."""
    loaded = build_config(parsed, checks=checks)
    return RuleInput(loaded.config, loaded=loaded.findings)


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Json]:
    """A configuration error as JSON: its message, its place (``file:line:column`` and the parts)
    and its hint."""
    where = diagnostic.location
    out: dict[str, Json] = {"message": diagnostic.message, "location": str(where) if where else ""}
    if where is not None:
        out.update({"file": where.file, "line": where.line, "column": where.column})
    out["hint"] = diagnostic.hint
    out["text"] = str(diagnostic)
    return out
