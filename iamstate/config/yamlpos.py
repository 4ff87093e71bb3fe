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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from iamstate.config.limits import MAX_ALIAS_NODES, MAX_NESTING_DEPTH, MAX_NUMBER_CHARS, MAX_YAML_NODES
from iamstate.config.text import describe_character, location
from iamstate.errors import Diagnostic
from iamstate.model import Json, SourceLocation

if TYPE_CHECKING:
    from iamstate.config.yamlhalves import SecondCore

YamlPath = tuple[str | int, ...]


class Mark(Protocol):
    """Where a node starts, 0-based, as PyYAML's and libyaml's marks say."""

    line: int
    column: int


SPLIT_CHARS = 512 * 1024
"""Files this large are parsed in two halves at once when the caller offers a second core
(:mod:`iamstate.config.yamlhalves`); below it, the second process would save too little."""

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
_RESOLVERS: dict[Any, Any] = yaml.SafeLoader.yaml_implicit_resolvers
_RESOLVED_FIRST = frozenset(k for k in _RESOLVERS if k)
"""The first characters of plain scalars the safe resolver may read as something else than a
string (a number, bool, null or timestamp), as registered when this module is imported."""
_ONLY_BY_FIRST = None not in _RESOLVERS and not yaml.SafeLoader.yaml_path_resolvers
"""Whether a plain scalar's first character alone can tell that it is a string."""
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PRINTABLE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
"""The ASCII characters a YAML file may hold (what :data:`_NON_PRINTABLE` allows below 0x80)."""


def _non_printable(text: str) -> re.Match[str] | None:
    """The first character a YAML file may not hold, or None; text of printable ASCII alone
    (nearly every file) is told at once, without a search character by character."""
    if text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE_ASCII):
        return None
    return _NON_PRINTABLE.search(text)


COLUMN_BITS = 32
_COLUMN_MASK = (1 << COLUMN_BITS) - 1


def place(mark: Mark) -> int:
    """A mark's line and column (0-based) packed in one number, as :class:`YamlFile` keeps them."""
    return (mark.line << COLUMN_BITS) | mark.column


LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
"""Whether PyYAML has libyaml's C parser here; without it parsing is pure Python (slower)."""


Places = Any
"""Where each part of a value was written, shaped like the value itself (see :class:`YamlFile`):

- a scalar: its :func:`place`, or ``(place, text)`` for a scalar that is not text (a number,
  bool or null), with the text as written;
- a list: ``[place, item, item, ...]``, each item's places in turn;
- a mapping: ``(place, {key: (key's place, value's places)})``.

One small object per value, and no path built for any of them; ints, strings, tuples,
lists and dicts only, so that it crosses to another process as cheaply as the data does.
"""


@dataclass
class YamlFile:
    """One parsed YAML file: its data and where each part of it was written."""

    name: str
    """The file's name as shown in messages (the caller's PATH joined with the relative path)."""
    data: Json
    places: Places = None
    """Where each value and key starts (:data:`Places`), packed as :func:`place` packs a mark:
    turned into a location only when asked for, as a large file has hundreds of thousands."""
    key_names: frozenset[str] | None = None
    """Every mapping key the file writes below its top level (or more), when known: a look
    for keys of some spelling can skip a walk of the data when none is among them."""

    def at(self, path: YamlPath) -> SourceLocation:
        """Where the value at ``path`` was written, or its nearest known ancestor."""
        return self._location(self.place(path))

    def place(self, path: YamlPath) -> int:
        """:meth:`at`, packed as :func:`place` packs a mark (0, the start, without places):
        what a location is made from later, when it is wanted."""
        node = self.places
        if node is None:
            return 0
        found = node if node.__class__ is int else node[0]
        for step in path:
            node = _child(node, step)
            if node is None:
                break
            found = node if node.__class__ is int else node[0]
        return found

    def _location(self, packed: int) -> SourceLocation:
        return located(self.name, packed)

    def key_at(self, path: YamlPath) -> SourceLocation:
        """Where the key naming ``path`` was written (the value's place for list items)."""
        if path and isinstance(path[-1], str):
            node = self.places
            for step in path[:-1]:
                node = _child(node, step)
            if isinstance(node, tuple) and isinstance(node[1], dict):
                entry = node[1].get(path[-1])
                if entry is not None:
                    return self._location(entry[0])
        return self.at(path)

    def written(self, path: YamlPath, default: str) -> str:
        """The text of the scalar at ``path`` as written when it is not text (``0123``, ``yes``,
        ``~``), for hints such as "quote it"; else ``default``."""
        node = self.places
        for step in path:
            node = _child(node, step)
        return node[1] if isinstance(node, tuple) and isinstance(node[1], str) else default

    @property
    def values(self) -> dict[YamlPath, int]:
        """Where each value starts, by its path (every one of them: for tests and tools)."""
        return {path: place_of(node) for path, node in _walk(self.places, ())}

    @property
    def keys(self) -> dict[YamlPath, int]:
        """Where each mapping key starts, by the path of its value."""
        return {
            (*path, key): entry[0]
            for path, node in _walk(self.places, ())
            if isinstance(node, tuple) and isinstance(node[1], dict)
            for key, entry in node[1].items()
        }

    @property
    def scalars(self) -> dict[YamlPath, str]:
        """The text as written of each scalar that is not text, by its path."""
        return {
            path: node[1]
            for path, node in _walk(self.places, ())
            if isinstance(node, tuple) and isinstance(node[1], str)
        }

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


def located(name: str, packed: int) -> SourceLocation:
    """The location in file ``name`` of a place packed as :func:`place` packs a mark."""
    return SourceLocation(name, (packed >> COLUMN_BITS) + 1, (packed & _COLUMN_MASK) + 1)


def place_of(node: Places) -> int:
    return node if isinstance(node, int) else int(node[0])


def _child(node: Places, step: str | int) -> Places:
    """The places of ``node``'s item or value at ``step``, or None."""
    kind = node.__class__
    if kind is list:
        if step.__class__ is int and 0 <= step < len(node) - 1:
            return node[step + 1]
    elif kind is tuple and step.__class__ is str:
        entries = node[1]
        if entries.__class__ is dict:
            entry = entries.get(step)
            if entry is not None:
                return entry[1]
    return None


def _walk(node: Places, path: YamlPath) -> Iterator[tuple[YamlPath, Places]]:
    """Every value's places, with its path, parents first."""
    if node is None:
        return
    yield path, node
    if isinstance(node, list):
        for index, item in enumerate(node[1:]):
            yield from _walk(item, (*path, index))
    elif isinstance(node, tuple) and isinstance(node[1], dict):
        for key, (_, value) in node[1].items():
            yield from _walk(value, (*path, key))


def _places(value: Json, path: YamlPath, file: _Converter) -> Places:
    """The places of ``value`` (at ``path``) from the composer path's tables."""
    where = file.values.get(path)
    if isinstance(value, dict):
        return (
            where,
            {k: (file.keys.get((*path, k)), _places(v, (*path, k), file)) for k, v in value.items()},
        )
    if isinstance(value, list):
        return [where, *(_places(v, (*path, i), file) for i, v in enumerate(value))]
    text = file.scalars.get(path)
    return where if text is None else (where, text)


def parse_yaml(
    text: str, name: str, *, libyaml: bool | None = None, second_core: SecondCore | None = None
) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Parse YAML text into a :class:`YamlFile`; any problem becomes located diagnostics.

    ``libyaml`` chooses the parser (default: libyaml when PyYAML has it). With
    ``second_core``, a file of :data:`SPLIT_CHARS` or more may be parsed in two halves at
    once (:mod:`iamstate.config.yamlhalves`), for the same result.
    """
    bad = _non_printable(text)
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
                if second_core is not None and len(text) >= SPLIT_CHARS:
                    from iamstate.config.yamlhalves import parse_halves

                    halves = parse_halves(text, name, second_core)
                    if halves is not None:
                        return halves, []
                with contextlib.suppress(Unusual):
                    return _load_events(_CLoader(text), name)
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
    return YamlFile(name, data, _places(data, (), converter)), []


class Unusual(Exception):
    """The file holds what only the composer's path converts (a merge key, an explicit tag,
    an anchor on a key, a second document, an empty stream) or something it reports (a
    duplicate key or anchor, an undefined or recursive alias, a bound exceeded, a value
    that is not valid): convert it that way instead, for the same data and messages."""


def _load_events(loader: Any, name: str) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Build the data straight from libyaml's events, recording the same positions as
    :func:`_load`, for files of mappings, lists, scalars, anchors and aliases (every
    configuration iamstate writes, and nearly every one people write); raises
    :class:`Unusual` for the rest. No node tree is built, which for a large file is most
    of the memory parsing takes. yaml.YAMLError from the parser propagates, as from the
    composer."""
    return _from_events(loader, name)[0], []


def events(text: str, name: str) -> tuple[YamlFile, _EventBuilder]:
    """:func:`_load_events` of ``text`` with libyaml, and the builder (its anchors and counts)."""
    return _from_events(_CLoader(text), name)


def _from_events(loader: Any, name: str) -> tuple[YamlFile, _EventBuilder]:
    try:
        get = loader.get_event
        if not isinstance(get(), yaml.StreamStartEvent) or not isinstance(get(), yaml.DocumentStartEvent):
            raise Unusual
        builder = _EventBuilder(loader)
        data, places = builder.value(get(), 0)
        if not isinstance(get(), yaml.DocumentEndEvent) or not isinstance(get(), yaml.StreamEndEvent):
            raise Unusual
    finally:
        loader.dispose()
    return YamlFile(name, data, places, frozenset(builder.key_names)), builder


class _Anchored:
    """A value written with an anchor: what an alias of it brings in."""

    def __init__(self, placed: int) -> None:
        self.data: Json = None
        self.places: Places = None
        self.size = placed
        """The values and keys it stands for, as the composer's path weighs an alias (the
        count of those placed so far until it is done)."""
        self.depth = 0
        """How much deeper than its start its deepest value lies."""
        self.done = False


class _EventBuilder:
    """The values of one document from its events (see :func:`_load_events`).

    Each step returns a value and its :data:`Places`; ``depth`` is the length its path
    would have (no path is built)."""

    def __init__(self, loader: Any):
        self.get = loader.get_event
        self.loader = loader
        self.key_names: set[str] = set()
        """Every mapping key read below the top level."""
        self._count = 0
        self._placed = 0
        """Values and keys placed so far (an anchored value's size is what it adds)."""
        self._aliased = 0
        self._deepest = 0
        """The deepest value read since the innermost anchored value being read started."""
        self._constructed: dict[tuple[str, str], Json] = {}
        self._anchors: dict[str, _Anchored] = {}
        self._recording: list[_Anchored] = []
        """The anchored values being read, outermost first."""

    @property
    def anchors(self) -> dict[str, tuple[Json, Places]]:
        """The anchors the document defines: each one's value and places."""
        return {name: (a.data, a.places) for name, a in self._anchors.items()}

    @property
    def count(self) -> int:
        """The values read, aliases weighed as the composer's path weighs them."""
        return self._count

    @property
    def aliased(self) -> int:
        """The values aliases brought in."""
        return self._aliased

    def value(self, event: Any, depth: int) -> tuple[Json, Places]:
        kind = event.__class__
        if kind is yaml.AliasEvent:
            return self._alias(event, depth)
        if depth >= MAX_NESTING_DEPTH:
            raise Unusual
        self._count += 1
        if self._count > MAX_YAML_NODES:
            raise Unusual
        self._placed += 1
        anchor = event.anchor
        if anchor is not None:
            if anchor in self._anchors:
                raise Unusual  # a duplicate anchor: the composer's path reports it
            anchored = self._anchors[anchor] = _Anchored(self._placed - 1)
            self._recording.append(anchored)
            outer, self._deepest = self._deepest, depth
        elif self._recording and depth > self._deepest:
            self._deepest = depth
        mark = event.start_mark
        where = (mark.line << COLUMN_BITS) | mark.column
        out: Json
        places: Places
        if kind is yaml.ScalarEvent:
            out, places = self._scalar(event, where)
        elif event.tag is not None and event.tag != "!":
            raise Unusual
        elif kind is yaml.MappingStartEvent:
            out, entries = self._mapping(depth)
            places = (where, entries)
        elif kind is yaml.SequenceStartEvent:
            out, places = self._sequence(depth, where)
        else:
            raise Unusual
        if anchor is not None:
            self._recording.pop()
            anchored.data = out
            anchored.places = places
            anchored.size = self._placed - anchored.size
            anchored.depth = self._deepest - depth
            anchored.done = True
            self._deepest = max(outer, self._deepest)
        return out, places

    def _mapping(self, depth: int) -> tuple[dict[str, Json], dict[str, tuple[int, Places]]]:
        get = self.get
        out: dict[str, Json] = {}
        entries: dict[str, tuple[int, Places]] = {}
        inner = depth + 1
        plain = inner < MAX_NESTING_DEPTH
        while True:
            key_event: Any = get()
            if key_event.__class__ is yaml.MappingEndEvent:
                return out, entries
            if (
                key_event.__class__ is not yaml.ScalarEvent
                or key_event.anchor is not None
                or (key_event.tag is not None and key_event.tag != "!")
            ):
                raise Unusual
            key: str = key_event.value
            if depth:
                self.key_names.add(key)
            if key == "<<" or key in out or (key_event.style == '"' and _SURROGATE.search(key)):
                raise Unusual
            key_mark: Any = key_event.start_mark
            self._placed += 1
            event = get()
            if event.__class__ is yaml.ScalarEvent and event.anchor is None and plain:
                out[key], places = self._unanchored_scalar(event, inner)
            else:
                out[key], places = self.value(event, inner)
            entries[key] = ((key_mark.line << COLUMN_BITS) | key_mark.column, places)

    def _sequence(self, depth: int, where: int) -> tuple[list[Json], list[Places]]:
        get = self.get
        items: list[Json] = []
        places: list[Places] = [where]
        inner = depth + 1
        plain = inner < MAX_NESTING_DEPTH
        while True:
            item = get()
            if item.__class__ is yaml.SequenceEndEvent:
                return items, places
            if item.__class__ is yaml.ScalarEvent and item.anchor is None and plain:
                value, place_ = self._unanchored_scalar(item, inner)
            else:
                value, place_ = self.value(item, inner)
            items.append(value)
            places.append(place_)

    def _alias(self, event: Any, depth: int) -> tuple[Json, Places]:
        """An alias: the anchored value again, weighed and placed as the composer's path does."""
        anchored = self._anchors.get(event.anchor)
        if anchored is None or not anchored.done or depth + anchored.depth >= MAX_NESTING_DEPTH:
            raise Unusual
        self._aliased += anchored.size
        self._count += anchored.size
        self._placed += anchored.size
        if self._aliased > MAX_ALIAS_NODES or self._count > MAX_YAML_NODES:
            raise Unusual
        if self._recording and depth + anchored.depth > self._deepest:
            self._deepest = depth + anchored.depth
        return _copy(anchored.data), anchored.places

    def _unanchored_scalar(self, event: Any, depth: int) -> tuple[Json, Places]:
        """:meth:`value` of a scalar with no anchor at a depth within bounds (most of a
        file): the same, in fewer steps."""
        self._count += 1
        if self._count > MAX_YAML_NODES:
            raise Unusual
        self._placed += 1
        if self._recording and depth > self._deepest:
            self._deepest = depth
        mark = event.start_mark
        where = (mark.line << COLUMN_BITS) | mark.column
        if event.tag is None and event.style != '"':
            text: str = event.value
            if event.style or (_ONLY_BY_FIRST and text and text[0] not in _RESOLVED_FIRST):
                # Quoted with ' or a block scalar; or plain, starting with a character no
                # implicit type (number, bool, null, timestamp) starts with: a string as written.
                return text, where
        return self._scalar(event, where)

    def _scalar(self, event: Any, where: int) -> tuple[Json, Places]:
        if event.tag is not None and event.tag != "!":
            raise Unusual
        text: str = event.value
        tag = self.loader.resolve(ScalarNode, text, event.implicit)
        if tag in (_STR_TAG, _TIMESTAMP_TAG):
            if event.style == '"' and _SURROGATE.search(text):
                raise Unusual
            return text, where
        construct = _CONSTRUCTORS.get(tag)
        if construct is None or (tag in _NUMBER_TAGS and len(text) > MAX_NUMBER_CHARS):
            raise Unusual
        try:
            return self._constructed[tag, text], (where, text)
        except KeyError:
            pass
        try:
            value = construct(
                self.loader, ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
            )
        except (ValueError, KeyError, TypeError, OverflowError) as error:
            raise Unusual from error
        if isinstance(value, float) and not math.isfinite(value):
            raise Unusual
        self._constructed[tag, text] = value
        return value, (where, text)


def _copy(value: Json) -> Json:
    """A fresh copy of converted data (each alias gets its own, as the composer's path gives)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


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
        self.values: dict[YamlPath, int] = {}
        self.keys: dict[YamlPath, int] = {}
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
        key = id(node)
        seen = self._seen
        if key not in seen:  # the common case of _enter, inline: a node met for the first time
            seen.add(key)
            self._nodes += 1
            if self._nodes > MAX_YAML_NODES:
                self._count(0, ref or node)
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
        values = self.values
        if path not in values:
            values[path] = place(node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            convert = self.convert
            return [convert(item, (*path, i), node) for i, item in enumerate(node.value)]
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
        tag = node.tag
        if tag in (_STR_TAG, _TIMESTAMP_TAG):
            if node.style == '"':
                self._check_text(text, node)
            return text
        # What a value that is not text was written as (for hints such as "quote it").
        self.scalars[path] = text
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
        keys = self.keys
        convert = self.convert
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
            if key_node.style == '"':
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
            sub = (*path, key)
            if sub not in keys:
                keys[sub] = place(key_node.start_mark)
            out[key] = convert(value_node, sub, key_node)
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
