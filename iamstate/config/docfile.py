"""A policy's ``document_file``: read from inside the config root, parsed within bounds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from iamstate.config.files import read_referenced_file
from iamstate.config.jsondoc import JsonProblem, parse_json
from iamstate.config.limits import MAX_DOCUMENT_FILE_BYTES
from iamstate.config.yamlpos import parse_yaml
from iamstate.errors import Diagnostic
from iamstate.model import Json, SourceLocation

DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class DocumentFile:
    """A document file's name as messages show it, and its parsed value."""

    name: str
    data: Json


def load_document_file(
    root: Path, referrer: SourceLocation, relative: str, *, key: str, field: str, entity: str
) -> DocumentFile | list[Diagnostic]:
    """Read and parse the file that ``relative`` (written at ``referrer`` under ``key``) names.

    ``field`` names the field in messages (``policy 'x' document_file``), ``entity``
    the entity (``policy 'x'``). JSON for ``.json``, YAML otherwise.
    """
    found = read_referenced_file(
        root,
        referrer,
        relative,
        what=field,
        max_bytes=MAX_DOCUMENT_FILE_BYTES,
        allowed_suffixes=DOCUMENT_SUFFIXES,
        not_found_hint=f"{key} is relative to the YAML file that declares the policy",
    )
    if isinstance(found, Diagnostic):
        return [found]
    if found.path.suffix.lower() == ".json":
        value = parse_json(found.text, found.name)
        if isinstance(value, JsonProblem):
            return [
                Diagnostic(
                    f"invalid JSON in the document of {entity}: {value.detail}", value.location, value.hint
                )
            ]
        return DocumentFile(found.name, value)
    parsed, problems = parse_yaml(found.text, found.name)
    if parsed is None:
        return problems
    return DocumentFile(found.name, parsed.data)
