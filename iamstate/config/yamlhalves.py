"""A large YAML file parsed in two halves at once, on two cores, for the same result (pure).

Most of a large configuration is one long list (``roles:``, say) written as iamstate and
PyYAML write lists, each item starting with ``- `` at the start of a line. Such a file is
cut at an item of that list past its middle: this process parses the first part, and
another (the shell's second core) parses the rest. Every line before the cut is left
empty in the rest, so that every line and column is the file's own, except the top-level
keys of the sections and the whole items that define an anchor the rest's aliases name:
those stay as written, so that the rest is the same list and its aliases find their
anchors. The two are then joined: the rest's own items are appended to the list, and the
sections after it added.

The halves are taken only when both parse cleanly from libyaml's events
(:func:`iamstate.config.yamlpos.events`) and nothing can differ from parsing the whole:
no anchor defined in both halves, the anchors the rest borrowed read as in the first
half, no section in both, the bounds held by the sum of both. In every other case, or
when the second core does not answer, the caller parses the whole file, so that its
data, places and messages are always those of one parse.
"""

from __future__ import annotations

import bisect
import marshal
import re
from collections.abc import Callable
from typing import Any

import yaml

from iamstate.config import yamlpos
from iamstate.config.limits import MAX_ALIAS_NODES, MAX_YAML_NODES

SecondCore = Callable[[Callable[[], bytes], Callable[[], Any]], tuple[bytes, Any]]
"""Runs its first argument elsewhere (another core) while running its second here; both
answers (the shell provides one: :func:`iamstate.commands.cores.on_second_core`)."""

_ITEM = "\n- "
_TOP_LINE = re.compile(r"\n[^\s#-]")
"""The start of a line that begins a top-level key (not an item, a comment or indented)."""
_SECTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):[ \t]*(?:#[^\n]*)?\n")
"""A top-level key with nothing after it but a comment: a block list or mapping follows."""
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")
_ALIAS = re.compile(r"\*([^\s,\[\]{}]+)")
"""What may be an anchor or an alias (also some text in values: what no alias names is ignored)."""
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
"""Line breaks that YAML counts but the padding does not write: files with them are parsed whole."""
_WINDOW = 64 * 1024
"""How far past the middle an item to cut at is looked for."""


def cut(text: str) -> tuple[int, str] | None:
    """Where to cut ``text`` (the offset of an item's ``-``, past the middle) and the key of
    the top-level list it is an item of; None when no such item is near the middle."""
    if any(brk in text for brk in _OTHER_BREAKS):
        return None
    start = len(text) // 2
    while True:
        item = text.find(_ITEM, start, start + _WINDOW)
        if item < 0:
            return None
        header = _header(text, item)
        if header is not None:
            key, body = header
            if text.find(_ITEM, body - 1, item) >= 0:
                return item + 1, key  # not the list's first item: the first part holds some
        start = item + 1


def _header(text: str, item: int) -> tuple[str, int] | None:
    """The top-level key whose list holds the item at ``item`` (a newline's offset), and where
    its list starts; None when the nearest top-level line before is not a bare key."""
    line = 0
    for found in _TOP_LINE.finditer(text, 0, item):
        line = found.start() + 1
    match = _SECTION.match(text, line)
    if match is None:
        return None
    return match.group(1), match.end()


def parse_halves(text: str, name: str, second_core: SecondCore) -> yamlpos.YamlFile | None:
    """The parse of ``text`` from two halves at once, or None when it must be parsed whole."""
    where = cut(text)
    if where is None:
        return None
    offset, key = where
    prelude = _prelude(text, offset, key)
    if prelude is None:
        return None
    rest, skipped = prelude

    def elsewhere() -> bytes:
        half = _half(rest, name, key, skipped, text.count("\n", 0, offset))
        return b"" if half is None else marshal.dumps(half)

    def here() -> tuple[Any, ...] | None:
        return _half(text[:offset], name)

    theirs, mine = second_core(elsewhere, here)
    if not theirs or mine is None:
        return None
    return _joined(mine, marshal.loads(theirs), key, name)


def _prelude(text: str, offset: int, key: str) -> tuple[str, int] | None:
    """The rest of ``text`` from ``offset`` as the second half parses it, and how many items of
    the ``key`` list come before the rest's own; None when the rest cannot be parsed apart.

    Every line before ``offset`` is left empty, but for the top-level keys of the sections
    and the whole items that define an anchor the rest names in an alias: those stay as
    written, so that the rest's aliases find their anchors, each at its own place."""
    named = set(_ALIAS.findall(text, offset))
    tops = [0, *(found.start() + 1 for found in _TOP_LINE.finditer(text, 0, offset))]
    kept: dict[int, int] = {}
    header = tops[-1]
    kept[header] = text.index("\n", header) + 1
    skipped = 0
    for anchor in _ANCHOR.finditer(text, 0, offset):
        if anchor.group(1) not in named:
            continue
        at = anchor.start()
        top = tops[bisect.bisect_right(tops, at) - 1]
        item = text.rfind(_ITEM, top, at) + 1
        if item <= 0 or _SECTION.match(text, top) is None:
            return None  # an anchor outside a top-level list's items
        if item in kept:
            continue
        following = bisect.bisect_right(tops, at)
        end = text.find(_ITEM, at, offset) + 1
        if end <= 0 or (following < len(tops) and tops[following] < end):
            end = tops[following] if following < len(tops) else offset
        kept[top] = text.index("\n", top) + 1
        kept[item] = end
        if top == header:
            skipped += 1
    pieces = []
    written = 0
    for start in sorted(kept):
        pieces.append("\n" * text.count("\n", written, start))
        pieces.append(text[start : kept[start]])
        written = kept[start]
    pieces.append("\n" * text.count("\n", written, offset))
    pieces.append(text[offset:])
    return "".join(pieces), skipped


def _half(
    text: str, name: str, key: str | None = None, skipped: int = 0, line: int = 0
) -> tuple[Any, ...] | None:
    """One half's data, places, anchors (value and places by name) and counts; None when it does
    not parse cleanly. For the rest (``key`` given), only the ``key`` list's items past the
    first ``skipped`` and the sections after it: the others came along for their anchors,
    which are kept apart (those that start before ``line``)."""
    try:
        parsed = yamlpos.events(text, name)
    except (yaml.YAMLError, yamlpos.Unusual):  # parsing the whole says what it is
        return None
    file, builder = parsed
    data, places = file.data, file.places
    if key is not None:
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            return None
        sections = list(data)
        later = sections[sections.index(key) + 1 :]
        data = {key: data[key][skipped:], **{k: data[k] for k in later}}
        entries = places[1]
        places = (places[0], {key: (entries[key][0], [entries[key][1][0], *entries[key][1][1 + skipped :]])})
        places[1].update({k: entries[k] for k in later})
        anchors = builder.anchors
        before = {n: a for n, a in anchors.items() if yamlpos.place_of(a[1]) >> yamlpos.COLUMN_BITS < line}
        own = {n: a for n, a in anchors.items() if n not in before}
        return data, places, own, builder.count, builder.aliased, before, builder.key_names
    return data, places, builder.anchors, builder.count, builder.aliased, {}, builder.key_names


def _joined(first: tuple[Any, ...], rest: tuple[Any, ...], key: str, name: str) -> yamlpos.YamlFile | None:
    data, places, anchors, count, aliased, _, keys = first
    more_data, more_places, more_anchors, more_count, more_aliased, borrowed, more_keys = rest
    if (
        not isinstance(data, dict)
        or not isinstance(more_data, dict)
        or next(reversed(data), None) != key
        or next(iter(more_data), None) != key
        or not isinstance(data[key], list)
        or not isinstance(more_data[key], list)
        or set(anchors) & set(more_anchors)
        or any(anchors.get(n) != value for n, value in borrowed.items())
        or count + more_count > MAX_YAML_NODES
        or aliased + more_aliased > MAX_ALIAS_NODES
    ):
        return None
    later = list(more_data)[1:]
    if any(k in data for k in later):
        return None  # a section in both: parsing the whole reports it
    entries = places[1]
    more_entries = more_places[1]
    data[key].extend(more_data[key])
    entries[key][1].extend(more_entries[key][1][1:])
    for k in later:
        data[k] = more_data[k]
        entries[k] = more_entries[k]
    return yamlpos.YamlFile(name, data, places, frozenset(keys | more_keys))
