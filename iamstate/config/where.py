"""How the loader names places and suggests fixes in its messages."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from typing import Any

from iamstate.config.yamlpos import YamlFile, YamlPath
from iamstate.kinds import KindSpec, specs
from iamstate.model import Json


@functools.cache
def list_sections() -> dict[tuple[str, ...], KindSpec[Any]]:
    """The YAML paths that hold lists of declared entities, and the kind each item declares.

    Computed once (the kinds are registered at import); treat it as read-only.
    """
    return {s.section: s for s in specs() if s.section is not None and not s.singleton}


def entity_at(path: YamlPath) -> tuple[KindSpec[Any], YamlPath] | None:
    """The kind and the path of the declared entity that ``path`` lies in (``("roles", 2)``), or None."""
    for section, found in list_sections().items():
        end = len(section)
        if tuple(path[:end]) == section and len(path) > end and isinstance(path[end], int):
            return found, tuple(path[: end + 1])
    return None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean 'X'?" hint for a misspelt word, or "" when nothing is close."""
    options = sorted(set(choices))
    by_case = [c for c in options if c.lower() == word.lower()]
    close = by_case or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def entity_label(file: YamlFile, path: YamlPath) -> str | None:
    """``role 'ci-deploy'`` for a path inside a declared entity, else None."""
    found = entity_at(path)
    if found is None:
        return None
    kind, entity = found
    name = kind.name_of(file.get(entity))
    if name:
        return f"{kind.label} '{name}'"
    return dotted(entity)


def dotted(path: YamlPath) -> str:
    """``trusted.services[0]`` for ``("trusted", "services", 0)``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def subject(file: YamlFile, path: YamlPath) -> str:
    """How a message names the value at ``path``: ``role 'x' max_session_duration``, ``account.id``."""
    label = entity_label(file, path)
    found = entity_at(path)
    if label is not None and found is not None:
        kind, entity = found
        if tuple(path[len(entity) :]) == (kind.name_key,):
            # The name itself is the problem: "role 'x y' name 'x y'" would say it twice.
            return f"{dotted(entity)} {kind.name_key}"
        rest = dotted(path[len(entity) :])
        return f"{label} {rest}" if rest else label
    return dotted(path) if path else "the top level"


def describe_value(value: Json) -> str:
    """A short description of a YAML value for "must be X, got Y" messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def quoted_list(words: Iterable[str]) -> str:
    """``'a', 'b' or 'c'``."""
    items = [f"'{w}'" for w in words]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" or {items[-1]}"
