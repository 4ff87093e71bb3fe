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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamstate.config.build import Builder
from iamstate.config.files import config_root, read_config_file
from iamstate.config.limits import MAX_CONFIG_FILE_BYTES
from iamstate.config.refusals import take_refusals
from iamstate.config.schema import prepare as prepare_schema
from iamstate.config.schema import schema as _schema
from iamstate.config.schema import section_keys, validate
from iamstate.config.where import list_sections, subject
from iamstate.config.yamlpos import YamlFile, YamlPath, gc_paused, parse_yaml
from iamstate.errors import ConfigError, Diagnostic
from iamstate.model import DesiredConfig, SourceLocation
from iamstate.plan import Finding

if TYPE_CHECKING:
    from iamstate.config.yamlhalves import SecondCore

__all__ = [
    "LoadedConfig",
    "ParsedConfig",
    "build_config",
    "config_files",
    "load_config",
    "parse_config",
    "prepare_schema",
    "schema",
]

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
    ``.github``) are skipped, and symbolic links to directories are not followed.
    Files come sorted by their path relative to PATH, each as PATH joined with that
    relative path; a symbolic link or special file with a YAML name is listed too, so
    that reading it reports what it is. Raises ConfigError when PATH does not exist.
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
        if candidate.suffix.lower() in _SUFFIXES and (candidate.is_symlink() or not candidate.is_dir()):
            found.append(relative)
    return [root / relative for relative in sorted(found, key=lambda r: r.as_posix())]


def load_config(
    path: str | os.PathLike[str],
    *,
    partition: str = "aws",
    now: datetime | None = None,
    texts: Mapping[Path, str] | None = None,
    second_core: SecondCore | None = None,
) -> LoadedConfig:
    """Load, validate and merge the configuration at PATH (a YAML file or a directory).

    ``partition`` is what ``${partition}`` stands for (``aws``, ``aws-cn``, ...).
    ``now`` is the time temporary grants are evaluated at (what has expired by then is
    no longer granted); commands read their clock once and pass it, and only a caller
    that passes none gets the clock read here. ``texts`` replaces the contents of
    some of the files (by their path as :func:`config_files` gives it), so that an edit
    can be checked before it is written. ``second_core`` (the shell's) lets a large file be
    parsed in two halves at once (:mod:`iamstate.config.yamlhalves`), for the same result.
    Raises ConfigError with every problem found, sorted by file and line.
    """
    # Loading builds millions of small objects that live until the command ends; the
    # cyclic collector would walk them all again and again while they are made.
    with gc_paused():
        return build_config(
            parse_config(path, partition=partition, now=now, texts=texts, second_core=second_core)
        )


@dataclass
class ParsedConfig:
    """The files of a configuration, read and checked against the schema: what
    :func:`build_config` builds the configuration from (each time alike)."""

    files: list[YamlFile]
    """The configuration's files that parsed (documents named by others taken out)."""
    complete: bool
    """False when a file could not be read or parsed: references across files are not checked."""
    broken: set[tuple[str, YamlPath]]
    diagnostics: list[Diagnostic]
    named: list[Diagnostic]
    """Files named as documents that declare configuration (reported where they are named)."""
    findings: list[Finding]
    partition: str
    now: datetime
    root: Path

    @property
    def declarations(self) -> int:
        """How many items the files' lists hold (about as many as the entities they declare)."""
        return sum(
            len(value)
            for file in self.files
            if isinstance(file.data, dict)
            for value in file.data.values()
            if isinstance(value, list)
        )


def parse_config(
    path: str | os.PathLike[str],
    *,
    partition: str = "aws",
    now: datetime | None = None,
    texts: Mapping[Path, str] | None = None,
    second_core: SecondCore | None = None,
) -> ParsedConfig:
    """The first half of :func:`load_config` (same arguments): the files read, parsed and
    checked against the schema. Raises ConfigError only when PATH holds no file."""
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
    root = config_root(path)
    overrides = texts or {}
    with gc_paused():
        parsed = [
            (
                file,
                *(
                    parse_yaml(overrides[file], str(file), second_core=second_core)
                    if file in overrides
                    else _parse_file(root, file, second_core)
                ),
            )
            for file in files
        ]
        parsed, named = _documents_named(parsed)

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
    return ParsedConfig(
        loaded,
        all(file is not None for _, file, _ in parsed),
        broken,
        diagnostics,
        named,
        findings,
        partition,
        now if now is not None else datetime.now(UTC),
        root,
    )


def build_config(parsed: ParsedConfig, *, checks: bool = True) -> LoadedConfig:
    """The second half of :func:`load_config`: the configuration built from ``parsed`` (two
    processes that build it from one parse build the same). Raises ConfigError with every
    problem found, sorted by file and line. ``checks=False`` skips the checks that only
    report, for a process whose configuration another one builds with them."""
    diagnostics = list(parsed.diagnostics)
    config: DesiredConfig | None = None
    # With a file unreadable, names it declares are unknown: checking references
    # across files would only add noise to the syntax error that explains it.
    if parsed.complete:
        with gc_paused():
            builder = Builder(
                parsed.files, parsed.broken, parsed.partition, parsed.now, root=parsed.root, checks=checks
            )
            config = builder.build()
        diagnostics.extend(builder.diagnostics)
    diagnostics.extend(parsed.named)
    if diagnostics or config is None:
        raise ConfigError(_sorted_unique(diagnostics))
    return LoadedConfig(config, tuple(sorted(parsed.findings, key=lambda f: _location_key(f.location))))


def _parse_file(
    root: Path, file: Path, second_core: SecondCore | None
) -> tuple[YamlFile | None, list[Diagnostic]]:
    text = read_config_file(root, file, str(file), max_bytes=MAX_CONFIG_FILE_BYTES)
    if isinstance(text, Diagnostic):
        return None, [text]
    return parse_yaml(text, str(file), second_core=second_core)


Parsed = list[tuple[Path, YamlFile | None, list[Diagnostic]]]


def _documents_named(parsed: Parsed) -> tuple[Parsed, list[Diagnostic]]:
    """Take out the YAML files that declarations name (``document_file``, ``metadata_file``):
    they are data, not configuration.

    A named file that declares configuration sections stays configuration, and naming
    it is an error where it is named: reading it as a document would silently
    drop what it declares.
    """
    by_path = {_resolved(entry[0]): entry for entry in parsed}
    taken: set[Path] = set()
    problems: list[Diagnostic] = []
    sections = set(section_keys())
    for file, key_path, value in _named_files(parsed):
        try:
            named = (Path(file.name).parent / value).resolve()
        except (OSError, RuntimeError):
            continue  # a symbolic-link loop: reading it reports that
        entry = by_path.get(named)
        if entry is None:
            continue
        declared = (
            sorted(sections & set(entry[1].data)) if entry[1] and isinstance(entry[1].data, dict) else []
        )
        if declared:
            problems.append(
                Diagnostic(
                    f"{subject(file, key_path)} '{value}' is one of the configuration's own files "
                    f"(it declares {', '.join(declared)})",
                    file.at(key_path),
                    "name a file that holds only the document or metadata; reading this one as such "
                    "would drop what it declares",
                )
            )
        else:
            taken.add(named)
    return [entry for entry in parsed if _resolved(entry[0]) not in taken], problems


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _named_files(parsed: Parsed) -> Iterator[tuple[YamlFile, YamlPath, str]]:
    """Each ``*_file`` a declared entity names: the file, where (``("policies", 0, "document_file")``), the value."""
    for _, file, _ in parsed:
        if file is None or not isinstance(file.data, dict):
            continue
        if file.key_names is not None and not any(key.endswith("_file") for key in file.key_names):
            continue  # it names no file (most files): no walk
        for section in list_sections():
            items = file.get(section)
            for index, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, dict):
                    continue
                for key, value in item.items():
                    if key.endswith("_file") and isinstance(value, str):
                        yield file, (*section, index, key), value


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
