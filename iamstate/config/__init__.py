"""Loading the YAML configuration: files, schema, references, and the desired state.

``load_config(PATH)`` reads every ``*.yaml``/``*.yml`` file that PATH means, checks
each against ``iamstate/schemas/iamstate.schema.json``, merges them, resolves names
across files and returns a :class:`LoadedConfig`. An invalid configuration raises
:class:`~iamstate.errors.ConfigError` with every problem found, each located at
``file:line:column``. Inline policies and credentials written into the config are
not errors but refusals: findings in :attr:`LoadedConfig.findings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iamstate.config.build import Builder
from iamstate.config.refusals import take_refusals
from iamstate.config.schema import schema as _schema
from iamstate.config.schema import section_keys, validate
from iamstate.config.where import list_sections
from iamstate.config.yamlpos import YamlFile, YamlPath, load_yaml_file, parse_yaml
from iamstate.errors import ConfigError, Diagnostic
from iamstate.model import DesiredConfig, SourceLocation
from iamstate.plan import Finding

__all__ = ["LoadedConfig", "config_files", "load_config", "schema"]

_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedConfig:
    """A valid configuration and the config-time refusals found while loading it."""

    config: DesiredConfig
    findings: tuple[Finding, ...]


def schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of one configuration file."""
    return _schema()


def config_files(path: str | os.PathLike[str]) -> list[Path]:
    """The YAML files PATH means: the file itself, or every ``*.yaml``/``*.yml`` below a directory.

    Below a directory, files and directories whose name starts with "." (``.git``,
    ``.github``) are skipped. Files come sorted by their path relative to PATH, each
    as PATH joined with that relative path. Raises ConfigError when PATH does not exist.
    """
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ConfigError([Diagnostic(f"{os.fspath(path)}: no such file or directory")])
    found = []
    for candidate in root.rglob("*"):
        relative = candidate.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if candidate.suffix.lower() in _SUFFIXES and candidate.is_file():
            found.append(relative)
    return [root / relative for relative in sorted(found, key=lambda r: r.as_posix())]


def load_config(
    path: str | os.PathLike[str],
    *,
    partition: str = "aws",
    now: datetime | None = None,
    texts: Mapping[Path, str] | None = None,
) -> LoadedConfig:
    """Load, validate and merge the configuration at PATH (a YAML file or a directory).

    ``partition`` is what ``${partition}`` stands for (``aws``, ``aws-cn``, ...).
    ``now`` is the time temporary grants are evaluated at (what has expired by then is
    no longer granted); commands read their clock once and pass it, and only a caller
    that passes none gets the clock read here. ``texts`` replaces the contents of
    some of the files (by their path as :func:`config_files` gives it), so that an edit
    can be checked before it is written.
    Raises ConfigError with every problem found, sorted by file and line.
    """
    files = config_files(path)
    if not files:
        raise ConfigError(
            [
                Diagnostic(
                    f"{os.fspath(path)}: no *.yaml or *.yml files found",
                    hint="an empty configuration would delete everything it owns; point PATH at your config",
                )
            ]
        )
    overrides = texts or {}
    parsed = [
        (
            file,
            *(
                parse_yaml(overrides[file], str(file))
                if file in overrides
                else load_yaml_file(file, str(file))
            ),
        )
        for file in files
    ]

    # A YAML policy document named by a document_file is data, not configuration.
    documents = _document_files([f for _, f, _ in parsed if f is not None])
    parsed = [entry for entry in parsed if entry[0].resolve() not in documents]

    diagnostics: list[Diagnostic] = []
    findings: list[Finding] = []
    loaded: list[YamlFile] = []
    broken: set[tuple[str, YamlPath]] = set()
    for _, file, problems in parsed:
        diagnostics.extend(problems)
        if file is None:
            continue
        if file.data is None:
            file.data = {}
        if not isinstance(file.data, dict):
            diagnostics.append(
                Diagnostic(
                    f"the top level of {file.name} must be a mapping of sections, "
                    f"not a {'list' if isinstance(file.data, list) else 'single value'}",
                    file.at(()),
                    f"start with one of: {', '.join(section_keys())}",
                )
            )
            continue
        findings.extend(take_refusals(file))
        problems, bad = validate(file)
        diagnostics.extend(problems)
        broken |= {(file.name, b) for b in bad}
        loaded.append(file)

    config: DesiredConfig | None = None
    # With a file unreadable, names it declares are unknown: checking references
    # across files would only add noise to the syntax error that explains it.
    if all(file is not None for _, file, _ in parsed):
        builder = Builder(loaded, broken, partition, now if now is not None else datetime.now(UTC))
        config = builder.build()
        diagnostics.extend(builder.diagnostics)
    if diagnostics or config is None:
        raise ConfigError(_sorted_unique(diagnostics))
    return LoadedConfig(config, tuple(sorted(findings, key=lambda f: _location_key(f.location))))


def _document_files(files: list[YamlFile]) -> set[Path]:
    """Files that declarations name (``document_file``, ``metadata_file``): data, not configuration."""
    out: set[Path] = set()
    for file in files:
        for section in list_sections():
            items = file.get(section)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                for key, value in item.items():
                    if key.endswith("_file") and isinstance(value, str):
                        out.add((Path(file.name).parent / value).resolve())
    return out


def _location_key(location: SourceLocation | str | None) -> tuple[int, str, int, int]:
    if location is None or location == "":
        return (0, "", 0, 0)
    if isinstance(location, SourceLocation):
        return (1, location.file, location.line, location.column)
    file, _, rest = location.rpartition(":")
    file, _, line = file.rpartition(":")
    try:
        return (1, file, int(line), int(rest))
    except ValueError:
        return (1, location, 0, 0)


def _sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = list(dict.fromkeys(diagnostics))
    return sorted(unique, key=lambda d: _location_key(d.location))
