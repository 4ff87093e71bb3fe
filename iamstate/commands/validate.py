"""``iamstate validate``: load the config and run the offline safety rules; no AWS."""

from __future__ import annotations

from iamstate.commands.shared import CommandResult, OutputOptions, command_time, sarif
from iamstate.config import load_config
from iamstate.errors import ExitCode
from iamstate.kinds import in_reading_order
from iamstate.model import Json
from iamstate.render.json import render_json
from iamstate.render.results import validate_text
from iamstate.rules import RuleInput, run_rules


def validate(path: str, output: OutputOptions, *, at: str | None = None) -> CommandResult:
    """Load the config, check schema, references and offline safety rules; expiry is
    evaluated as of ``at`` (RFC 3339) or now."""
    loaded = load_config(path, now=command_time(at))
    config = loaded.config
    findings = run_rules(RuleInput(config, loaded=loaded.findings), live=False)
    blocking = [f for f in findings if f.blocking]
    doc: dict[str, Json] = {
        "format_version": "1",
        "valid": not blocking,
        "files": list(config.files),
        "entities": {kind.value: len(config.state.of_kind(kind)) for kind in in_reading_order()},
        "findings": [f.to_json() for f in findings],
    }
    if output.fmt == "json":
        text = render_json(doc)
    elif output.fmt == "sarif":
        text = sarif(doc, config.files)
    else:
        text = validate_text(doc, color=output.color)
    return CommandResult(ExitCode.REFUSED if blocking else ExitCode.OK, text, doc)
