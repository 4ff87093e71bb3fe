"""YAML loading that remembers where every key and value was written, within bounds.

PyYAML composes a tree of nodes with marks; this module turns it into plain
JSON-like values plus two maps from a value's path (a tuple of keys and list
indices) to its :class:`SourceLocation`: one for values, one for mapping keys.
Nodes come from libyaml's composer (PyYAML's ``CSafeLoader``) when PyYAML was built
with it, else from the pure-Python ``SafeLoader``; both give the same values and
positions. A file libyaml rejects is parsed again in pure Python (when it is no
larger than :data:`REPARSE_CHARS`), so syntax errors read the same either way.

Deliberate differences from ``yaml.safe_load``:

- mapping keys are always the key's text (``on:`` stays ``"on"``, ``1:`` stays
  ``"1"``), because every key in iamstate's format and in IAM documents is a string;
- timestamps stay strings, so an unquoted ``Version: 2012-10-17`` means what it says;
- a key repeated in one mapping is an error, not "last one wins";
- reading is bounded (:mod:`iamstate.config.limits`): nesting depth, values after
  alias expansion, values aliases bring in (counted before expanding them), number
  length; a recursive alias or merge key, a control character, ``.nan``/``.inf``,
  a lone surrogate or a binary value is a located error, never a crash.
"""

from __future__ import annotations

import contextlib
import gc
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from iamstate.config.limits import MAX_ALIAS_NODES, MAX_NESTING_DEPTH, MAX_NUMBER_CHARS, MAX_YAML_NODES
from iamstate.config.text import describe_character, location
from iamstate.errors import Diagnostic
from iamstate.model import Json, SourceLocation

YamlPath = tuple[str | int, ...]


class Mark(Protocol):
    """Where a node starts, 0-based, as PyYAML's and libyaml's marks say."""

    line: int
    column: int


REPARSE_CHARS = 256 * 1024
"""Files up to this size that libyaml rejects are parsed again in pure Python for the message."""

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_SCALAR_TAGS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", *_NUMBER_TAGS)
_CONSTRUCTORS: dict[str, Callable[[Any, ScalarNode], Any]] = {
    tag: yaml.SafeLoader.yaml_constructors[tag] for tag in _SCALAR_TAGS
}
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
"""Whether PyYAML has libyaml's C parser here; without it parsing is pure Python (slower)."""


@dataclass
class YamlFile:
    """One parsed YAML file: its data and where each part of it was written."""

    name: str
    """The file's name as shown in messages (the caller's PATH joined with the relative path)."""
    data: Json
    values: dict[YamlPath, Mark] = field(default_factory=dict)
    """Where each value starts (marks are turned into locations only when asked for)."""
    keys: dict[YamlPath, Mark] = field(default_factory=dict)
    scalars: dict[YamlPath, str] = field(default_factory=dict)
    """The text of each scalar as written, for hints such as "quote it"."""

    def at(self, path: YamlPath) -> SourceLocation:
        """Where the value at ``path`` was written, or its nearest known ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return SourceLocation(self.name, found.line + 1, found.column + 1)
        return SourceLocation(self.name, 1, 1)

    def key_at(self, path: YamlPath) -> SourceLocation:
        """Where the key naming ``path`` was written (the value's place for list items)."""
        found = self.keys.get(path)
        return SourceLocation(self.name, found.line + 1, found.column + 1) if found else self.at(path)

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


def parse_yaml(
    text: str, name: str, *, libyaml: bool | None = None
) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Parse YAML text into a :class:`YamlFile`; any problem becomes located diagnostics.

    ``libyaml`` chooses the parser (default: libyaml when PyYAML has it).
    """
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        return None, [
            Diagnostic(
                f"invalid YAML: the character {describe_character(bad.group())} is not allowed in a YAML file",
                location(name, text, bad.start()),
                'remove it; to put it in a value, write it as an escape in double quotes, e.g. "\\t"',
            )
        ]
    use_c = LIBYAML if libyaml is None else libyaml and LIBYAML
    with gc_paused():
        if use_c:
            try:
                too_many = _too_many_values(text, name)
                if too_many is not None:
                    return None, [too_many]
                return _load(_CLoader(text), name)
            except yaml.YAMLError as exc:
                if len(text) > REPARSE_CHARS:
                    return None, [_yaml_error(exc, name, text)]
        try:
            return _load(_BoundedSafeLoader(text), name)
        except yaml.YAMLError as exc:
            return None, [_yaml_error(exc, name, text)]


_NODE_PUNCTUATION = "-:?,[{"


def _too_many_values(text: str, name: str) -> Diagnostic | None:
    """Refuse a file of more than MAX_YAML_NODES values before composing it (libyaml composes
    all of it at once, which for millions of values takes long and much memory).

    Every value but the first follows one of ``- : ? , [ {``, and none of them
    introduces more than two, so twice their count is a cheap bound; only a file over
    it has its events counted (which costs no memory). This only spares the composer:
    the converter counts the values exactly as it goes.
    """
    if 1 + 2 * sum(text.count(c) for c in _NODE_PUNCTUATION) <= MAX_YAML_NODES:
        return None
    parser = _CLoader(text)
    try:
        values = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                values += 1
                if values > MAX_YAML_NODES:
                    return Diagnostic(
                        f"invalid YAML: the file holds more than {MAX_YAML_NODES:,} values",
                        _located(event.start_mark, name),
                        "split the configuration into several files",
                    )
    finally:
        parser.dispose()
    return None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees memory)."""
    # Composing creates hundreds of thousands of acyclic objects; the cyclic collector
    # would scan them all again and again (it takes most of the time for a large file).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(loader: Any, name: str) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Compose with ``loader`` and convert; yaml.YAMLError from the composer propagates."""
    try:
        node = loader.get_single_node()
        converter = _Converter(name, loader)
        try:
            data = converter.convert(node, ()) if node is not None else None
        except _Abort as stop:
            return None, [stop.diagnostic]
    finally:
        loader.dispose()
    if converter.diagnostics:
        return None, converter.diagnostics
    return YamlFile(name, data, converter.values, converter.keys, converter.scalars), []


class _ResolveOnce:
    """Resolves each distinct (kind, text, implicit) once per file: most scalars repeat."""

    def resolve(self, kind: type, value: str | None, implicit: Any) -> str:
        try:
            return self._resolved[kind, value, implicit]
        except AttributeError:
            self._resolved: dict[tuple[type, str | None, Any], str] = {}
        except KeyError:
            pass
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[misc]
        self._resolved[kind, value, implicit] = tag
        return tag


class _CLoader(_ResolveOnce, yaml.CSafeLoader):
    """libyaml's composer with PyYAML's safe resolver and constructors."""


class _BoundedSafeLoader(_ResolveOnce, yaml.SafeLoader):
    """PyYAML's pure-Python loader, refusing to compose deeper than MAX_NESTING_DEPTH.

    Its composer recurses once per level; without a bound, deep nesting ends in
    RecursionError. libyaml has its own bound (1,000 levels), and the converter
    applies this one to what it composes, at the same node.
    """

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH and not self.check_event(yaml.AliasEvent):
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_deep_message() -> str:
    return f"invalid YAML: nested more than {MAX_NESTING_DEPTH} levels deep"


_TOO_DEEP_HINT = "iamstate's files and IAM documents need about ten levels; flatten this part"


class _TooDeep(yaml.MarkedYAMLError):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__(problem=_too_deep_message(), problem_mark=mark)


class _Abort(Exception):
    """Stops converting a file: going on would exceed a bound."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _yaml_error(exc: yaml.YAMLError, name: str, text: str) -> Diagnostic:
    if isinstance(exc, _TooDeep):
        return Diagnostic(exc.problem or "", _located(exc.problem_mark, name), _TOO_DEEP_HINT)
    if isinstance(exc, yaml.MarkedYAMLError):
        return _syntax_diagnostic(exc, name)
    if isinstance(exc, yaml.reader.ReaderError):
        offset = exc.position
        if isinstance(exc.character, int) and exc.encoding != "unicode":
            offset = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
        return Diagnostic(f"invalid YAML: {exc.reason}", location(name, text, offset))
    return Diagnostic(f"invalid YAML: {exc}", SourceLocation(name, 1, 1))


def _located(mark: Mark | None, name: str) -> SourceLocation:
    return SourceLocation(name, mark.line + 1, mark.column + 1) if mark else SourceLocation(name, 1, 1)


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, name: str) -> Diagnostic:
    where = _located(exc.problem_mark or exc.context_mark, name)
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context and exc.context_mark:
        message += f", {exc.context} at {_located(exc.context_mark, name)}"
    hint = "check the indentation and quoting around this place"
    if "expected a single document" in str(exc.context or ""):
        message = "invalid YAML: a second document starts here; a file holds one document"
        hint = "put each part in its own file instead of separating documents with ---"
    return Diagnostic(message, where, hint)


class _Converter:
    """Walks a composed node tree, building values and recording positions, within bounds."""

    def __init__(self, name: str, loader: Any):
        self.name = name
        self.loader = loader
        self.values: dict[YamlPath, Mark] = {}
        self.keys: dict[YamlPath, Mark] = {}
        self.scalars: dict[YamlPath, str] = {}
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[int] = set()
        self._sizes: dict[int, int] = {}
        self._nodes = 0
        self._aliased = 0
        self._merge_depth = 0
        self._expanding = 0
        """Above 0 while expanding an alias: its values were counted when it was weighed."""

    def where(self, node: Node) -> SourceLocation:
        return SourceLocation(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: Node, path: YamlPath, ref: Node | None = None) -> Json:
        """The value of ``node`` at ``path``; ``ref`` is where a reference to it was written
        (the key of a mapping value, the list holding an item)."""
        if len(path) >= MAX_NESTING_DEPTH:
            raise _Abort(Diagnostic(_too_deep_message(), self.where(node), _TOO_DEEP_HINT))
        if self._expanding:
            return self._value(node, path)
        entered = self._enter(node, ref)
        if entered is None:
            return None
        if not entered:
            return self._value(node, path)
        self._expanding += 1
        try:
            return self._value(node, path)
        finally:
            self._expanding -= 1

    def _value(self, node: Node, path: YamlPath) -> Json:
        self.values.setdefault(path, node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i), node) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return None

    def _enter(self, node: Node, ref: Node | None) -> bool | None:
        """Count the values ``node`` brings in: False for a node met for the first time, True
        for one met again (an alias, which is weighed before it is expanded), None when it
        contains itself (a recursive alias, which cannot be converted)."""
        key = id(node)
        if key not in self._seen:
            self._seen.add(key)
            self._nodes += 1
            if self._nodes > MAX_YAML_NODES:
                self._count(0, ref or node)
            return False
        size = self._size(node)
        if size is None:
            self.diagnostics.append(Diagnostic("recursive YAML alias", self.where(node)))
            return None
        self._aliased += size
        if self._aliased > MAX_ALIAS_NODES:
            raise _Abort(
                Diagnostic(
                    f"invalid YAML: aliases would bring in more than {MAX_ALIAS_NODES:,} values",
                    self.where(ref or node),
                    "an alias bomb? write the values out, or use fewer aliases of large anchors",
                )
            )
        self._count(size, ref or node)
        return True

    def _count(self, nodes: int, at: Node) -> None:
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            raise _Abort(
                Diagnostic(
                    f"invalid YAML: the file holds more than {MAX_YAML_NODES:,} values",
                    self.where(at),
                    "split the configuration into several files",
                )
            )

    def _size(self, root: Node) -> int | None:
        """How many values ``root`` stands for once expanded (at most one past the limit);
        None when it contains itself. Iterative, so that chains of aliases cannot recurse."""
        sizes = self._sizes
        cap = MAX_YAML_NODES + 1
        pending = [(root, False)]
        open_: set[int] = set()
        while pending:
            node, finished = pending.pop()
            key = id(node)
            if finished:
                open_.discard(key)
                sizes[key] = min(cap, 1 + sum(sizes[id(child)] for child in _children(node)))
                continue
            if key in sizes:
                continue
            if key in open_:
                return None
            open_.add(key)
            pending.append((node, True))
            pending.extend((child, False) for child in _children(node) if id(child) not in sizes)
        return sizes[id(root)]

    def _scalar(self, node: ScalarNode, path: YamlPath) -> Json:
        text: str = node.value
        self.scalars[path] = text
        tag = node.tag
        if tag in (_STR_TAG, _TIMESTAMP_TAG):
            self._check_text(text, node)
            return text
        if tag in _NUMBER_TAGS and len(text) > MAX_NUMBER_CHARS:
            raise _Abort(
                Diagnostic(
                    f"invalid YAML: a number of {len(text):,} characters; at most {MAX_NUMBER_CHARS} are read",
                    self.where(node),
                    "quote it if it is text",
                )
            )
        construct = _CONSTRUCTORS.get(tag)
        try:
            value = (
                construct(self.loader, node) if construct else self.loader.construct_object(node, deep=True)
            )
        except (ValueError, KeyError, TypeError, OverflowError):
            # An explicit tag on text that is not of its type: !!int abc, !!bool maybe.
            self.diagnostics.append(
                Diagnostic(
                    f"invalid YAML: {text!r} is not a valid !!{tag.rsplit(':', 1)[-1]}",
                    self.where(node),
                    "remove the tag, or write a value of that type",
                )
            )
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.diagnostics.append(
                Diagnostic(
                    f"{text} is not a number IAM accepts (not finite)",
                    self.where(node),
                    "quote it if it is text",
                )
            )
        elif isinstance(value, (bytes, bytearray)):
            self.diagnostics.append(
                Diagnostic(
                    "binary values (!!binary) are not allowed", self.where(node), "write the text itself"
                )
            )
        elif isinstance(value, str):
            self._check_text(value, node)
        return value

    def _check_text(self, text: str, node: Node) -> None:
        # The file's text holds no surrogate (decoding refuses them): only the escapes of a
        # double-quoted scalar can make one.
        if getattr(node, "style", None) != '"':
            return
        surrogate = _SURROGATE.search(text)
        if surrogate is not None:
            self.diagnostics.append(
                Diagnostic(
                    f"invalid YAML: the escape for {describe_character(surrogate.group())} is half of a "
                    "surrogate pair, not a character",
                    self.where(node),
                    "write the character itself, or its \\U00XXXXXX escape",
                )
            )

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Json]:
        out: dict[str, Json] = {}
        first_seen: dict[str, Node] = {}
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
            self._check_text(key, key_node)
            if key in first_seen:
                self.diagnostics.append(
                    Diagnostic(
                        f"duplicate key '{key}' (first at {self.where(first_seen[key])})",
                        self.where(key_node),
                        "YAML would silently keep only the last one; remove or rename one of them",
                    )
                )
                continue
            first_seen[key] = key_node
            self.keys.setdefault((*path, key), key_node.start_mark)
            out[key] = self.convert(value_node, (*path, key), key_node)
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
            if self._merge_depth >= MAX_NESTING_DEPTH:
                raise _Abort(
                    Diagnostic(
                        f"invalid YAML: merge keys (<<) nested more than {MAX_NESTING_DEPTH} deep",
                        self.where(source),
                        _TOO_DEEP_HINT,
                    )
                )
            entered = False if self._expanding else self._enter(source, value_node)
            if entered is None:
                continue
            self._merge_depth += 1
            self._expanding += int(entered)
            try:
                yield from self._mapping(source, path).items()
            finally:
                self._merge_depth -= 1
                self._expanding -= int(entered)


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value
