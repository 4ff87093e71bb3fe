"""Edits of a configuration file's text that keep the rest of it byte for byte (pure).

``iamstate grant`` adds a temporary membership to the file that declares a user, or a
temporary policy attachment to the file that declares a user, group or role. The new
text is inserted where PyYAML's nodes say the entry's ``groups:`` or ``policies:`` (or
the entry) is written, never by dumping YAML again, so comments, key order, quoting and
line endings stay as they were.
"""

from __future__ import annotations

import json
import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+=.@-]*")
_NULL_TAG = "tag:yaml.org,2002:null"
ITEM_KEYS = {"groups": "group", "policies": "policy"}
"""The key that names what a temporary item of each list grants."""


class EditError(Exception):
    """The text cannot be edited as asked; the message says why, and where."""


def grant_item(key: str, target: str, expires_at: str, reason: str) -> str:
    """``{group: NAME, expires_at: "T", reason: "TEXT"}`` (``key`` is ``group`` or ``policy``): a
    temporary grant as flow YAML."""
    quoted = json.dumps(reason, ensure_ascii=False)
    return f'{{{key}: {_scalar(target)}, expires_at: "{expires_at}", reason: {quoted}}}'


def add_grant(text: str, file: str, section: str, name: str, key: str, item: str, target: str) -> str:
    """``text`` with ``item`` (see :func:`grant_item`) added to the list ``key`` (``groups`` or
    ``policies``) of the entry named ``name`` under ``section`` (``users``, ``groups``,
    ``roles``); a temporary grant of the same ``target`` is replaced by it.

    Raises EditError when the file does not declare the entry, when the entry already
    holds ``target`` for good, or when its entry has a shape this edit does not handle
    (say which, and where, so that it can be edited by hand).
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise EditError(f"{file}: cannot read it as YAML: {error}") from None
    holder = f"{section.removesuffix('s')} '{name}'"
    entry = _entry(root, section, name)
    if entry is None:
        raise EditError(f"{file}: declares no {holder} under {section}:")
    newline = "\r\n" if "\r\n" in text else "\n"
    listed = _value(entry, key)
    if listed is None:
        return _add_key(text, entry, f"{key}: [{item}]", newline)
    if isinstance(listed, ScalarNode) and listed.tag == _NULL_TAG:
        key_node = next(k for k, _ in entry.value if isinstance(k, ScalarNode) and k.value == key)
        colon = text.index(":", key_node.end_mark.index)
        if listed.value:  # `groups: ~` or `groups: null`
            return _splice(text, listed.start_mark.index, listed.end_mark.index, f"[{item}]")
        return _splice(text, colon + 1, colon + 1, f" [{item}]")
    if not isinstance(listed, SequenceNode):
        raise EditError(f"{_at(file, listed)}: {key} of {holder} is not a list; edit it by hand")
    item_key = ITEM_KEYS[key]
    for member in listed.value:
        held = _member_name(member, item_key)
        if held is None or held.lower() != target.lower():
            continue
        if isinstance(member, ScalarNode):
            raise EditError(
                f"{_at(file, member)}: {holder} already has {item_key} '{held}', without an "
                f"expiry; remove that entry of {key} first to make it temporary"
            )
        return _splice(text, member.start_mark.index, _end(member), item)
    if listed.flow_style:
        if not listed.value:
            opening = listed.start_mark.index + 1
            return _splice(text, opening, opening, item)
        last_end = _end(listed.value[-1])
        return _splice(text, last_end, last_end, f", {item}")
    if not listed.value:
        raise EditError(f"{_at(file, listed)}: {key} of {holder} is an empty block list; edit it by hand")
    last = listed.value[-1]
    line_start = text.rfind("\n", 0, last.start_mark.index) + 1
    dash = text[line_start : last.start_mark.index].rstrip().rfind("-")
    if dash < 0:
        raise EditError(f"{_at(file, last)}: cannot tell how {key} of {holder} are indented")
    return _insert_line(text, _end(last), " " * dash + f"- {item}", newline)


def _entry(root: Node | None, section: str, name: str) -> MappingNode | None:
    entries = _value(root, section) if isinstance(root, MappingNode) else None
    if not isinstance(entries, SequenceNode):
        return None
    for entry in entries.value:
        found = _value(entry, "name")
        if isinstance(entry, MappingNode) and isinstance(found, ScalarNode) and found.value == name:
            return entry
    return None


def _value(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value
    return None


def _member_name(member: Node, key: str) -> str | None:
    if isinstance(member, ScalarNode):
        return str(member.value)
    found = _value(member, key)
    return str(found.value) if isinstance(found, ScalarNode) else None


def _end(node: Node) -> int:
    """Where a node's own text ends: a block collection ends with its last value, not where the
    next line starts."""
    if isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    if isinstance(node, MappingNode) and node.value:
        return _end(node.value[-1][1])
    if isinstance(node, SequenceNode) and node.value:
        return _end(node.value[-1])
    return int(node.end_mark.index)


def _add_key(text: str, entry: MappingNode, line: str, newline: str) -> str:
    """``line`` (``key: value``) added as the entry's last key."""
    last_end = _end(entry.value[-1][1])
    if entry.flow_style:
        return _splice(text, last_end, last_end, f", {line}")
    column = entry.value[0][0].start_mark.column
    return _insert_line(text, last_end, " " * column + line, newline)


def _insert_line(text: str, after: int, line: str, newline: str) -> str:
    """``line`` inserted as a line of its own after the line that holds position ``after``
    (a block scalar's text ends with its line break: then right there)."""
    if after > 0 and text[after - 1] == "\n":
        return _splice(text, after, after, line + newline)
    end = text.find("\n", after)
    if end < 0:
        return text + newline + line + newline
    return _splice(text, end + 1, end + 1, line + newline)


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _at(file: str, node: Node) -> str:
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _scalar(value: str) -> str:
    """A value as a plain flow scalar when YAML reads it back as the same text, else quoted."""
    if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)
