"""``iamstate permissions``: the least IAM policy iamstate needs to run a command on the config; no AWS."""

from __future__ import annotations

from iamstate.commands.shared import CommandResult
from iamstate.config import load_config
from iamstate.errors import ExitCode
from iamstate.permissions import as_json, as_yaml, least_policy


def permissions(path: str, command: str, fmt: str) -> CommandResult:
    """The least IAM policy iamstate needs to run ``command`` on the config (no AWS)."""
    document = least_policy(load_config(path).config, command)
    text = as_yaml(document, command) if fmt == "yaml" else as_json(document)
    return CommandResult(ExitCode.OK, text, document)
