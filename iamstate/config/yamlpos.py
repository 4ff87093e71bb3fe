"""YAML loading that remembers where every key and value was written.

PyYAML's composer gives nodes with marks; this module turns a node tree into plain
JSON-like values plus two maps from a value's path (a tuple of keys and list
indices) to its :class:`SourceLocation`: one for values, one for mapping keys.

Deliberate differences from ``yaml.safe_load``:

- mapping keys are always the key's text (``on:`` stays ``"on"``, ``1:`` stays
  ``"1"``), because every key in iamstate's format and in IAM documents is a string;
- timestamps stay strings, so an unquoted ``Version: 2012-10-17`` means what it says;
- a key repeated in one mapping is an error, not "last one wins".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from iamstate.errors import Diagnostic
from iamstate.model import Json, SourceLocation

YamlPath = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class YamlFile:
    """One parsed YAML file: its data and where each part of it was written."""

    name: str
    """The file's name as shown in messages (the caller's PATH joined with the relative path)."""
    data: Json
    values: dict[YamlPath, SourceLocation] = field(default_factory=dict)
    keys: dict[YamlPath, SourceLocation] = field(default_factory=dict)
    scalars: dict[YamlPath, str] = field(default_factory=dict)
    """The text of each scalar as written, for hints such as "quote it"."""

    def at(self, path: YamlPath) -> SourceLocation:
        """Where the value at ``path`` was written, or its nearest known ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return SourceLocation(self.name, 1, 1)

    def key_at(self, path: YamlPath) -> SourceLocation:
        """Where the key naming ``path`` was written (the value's place for list items)."""
        return self.keys.get(path) or self.at(path)

    def get(self, path: YamlPath) -> Json:
        """The value at ``path``, or None when any step is missing."""
        value: Json = self.data
        for step in path:
            if isinstance(step, int):
                if not isinstance(value, list) or step >= len(value):
                    return None
            elif not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
        return value


def load_yaml_file(path: Path, name: str) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Read and parse one YAML file; on failure return located diagnostics instead."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Diagnostic(f"cannot read {name}: {exc}", SourceLocation(name, 1, 1))]
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Parse YAML text into a :class:`YamlFile`; a syntax error becomes one located diagnostic."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        converter = _Converter(name, loader)
        data = converter.convert(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_diagnostic(exc, name)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(f"invalid YAML: {exc}", SourceLocation(name, 1, 1))]
    finally:
        loader.dispose()
    if converter.diagnostics:
        return None, converter.diagnostics
    return YamlFile(name, data, converter.values, converter.keys, converter.scalars), []


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, name: str) -> Diagnostic:
    def located(mark: yaml.Mark | None) -> SourceLocation:
        return SourceLocation(name, mark.line + 1, mark.column + 1) if mark else SourceLocation(name, 1, 1)

    where = located(exc.problem_mark or exc.context_mark)
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context and exc.context_mark:
        message += f", {exc.context} at {located(exc.context_mark)}"
    hint = "check the indentation and quoting around this place"
    if "expected a single document" in str(exc.context or ""):
        message = "invalid YAML: a second document starts here; a file holds one document"
        hint = "put each part in its own file instead of separating documents with ---"
    return Diagnostic(message, where, hint)


class _Converter:
    """Walks a composed node tree, building values and recording positions."""

    def __init__(self, name: str, loader: yaml.SafeLoader):
        self.name = name
        self.loader = loader
        self.values: dict[YamlPath, SourceLocation] = {}
        self.keys: dict[YamlPath, SourceLocation] = {}
        self.scalars: dict[YamlPath, str] = {}
        self.diagnostics: list[Diagnostic] = []
        self._active: set[int] = set()

    def where(self, node: Node) -> SourceLocation:
        return SourceLocation(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: Node, path: YamlPath) -> Json:
        self.values.setdefault(path, self.where(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self.diagnostics.append(Diagnostic("recursive YAML alias", self.where(node)))
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self._active.discard(id(node))
        return None

    def _scalar(self, node: ScalarNode, path: YamlPath) -> Json:
        self.scalars[path] = node.value
        if node.tag == _TIMESTAMP_TAG:
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Json]:
        out: dict[str, Json] = {}
        first_seen: dict[str, SourceLocation] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self.diagnostics.append(
                    Diagnostic("mapping keys must be plain text, not lists or mappings", self.where(key_node))
                )
                continue
            key = str(key_node.value)
            where = self.where(key_node)
            if key in first_seen:
                self.diagnostics.append(
                    Diagnostic(
                        f"duplicate key '{key}' (first at {first_seen[key]})",
                        where,
                        "YAML would silently keep only the last one; remove or rename one of them",
                    )
                )
                continue
            first_seen[key] = where
            self.keys.setdefault((*path, key), where)
            out[key] = self.convert(value_node, (*path, key))
        # Merged keys come after the explicit ones so that positions and values written
        # explicitly win, whatever the order in the file.
        for merge in merges:
            for key, value in self._merge(merge, path):
                out.setdefault(key, value)
        return out

    def _merge(self, value_node: Node, path: YamlPath) -> Iterator[tuple[str, Json]]:
        """``<<: *anchor`` (or a list of anchors): keys not written explicitly come from these."""
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.diagnostics.append(
                    Diagnostic(
                        "a YAML merge key (<<) needs a mapping or a list of mappings", self.where(source)
                    )
                )
                continue
            yield from self._mapping(source, path).items()
