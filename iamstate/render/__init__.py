"""Plan renderers (text, markdown, json), all built from the plan's JSON form."""

from __future__ import annotations

import os
from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render.json import render_json
from iamstate.render.markdown import render_markdown
from iamstate.render.text import render_text

FORMATS = ("text", "markdown", "json")
"""The values ``--format`` accepts."""

__all__ = ["FORMATS", "render", "render_json", "render_markdown", "render_text", "should_color"]


def render(doc: Mapping[str, Json], fmt: str, *, color: bool) -> str:
    """The plan's JSON form ``doc`` in output format ``fmt``; ValueError for an unknown format."""
    if fmt == "text":
        return render_text(doc, color=color)
    if fmt == "markdown":
        return render_markdown(doc)
    if fmt == "json":
        return render_json(doc)
    raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")


def should_color(no_color_flag: bool, stream: object) -> bool:
    """True when output to ``stream`` may use colour: no ``--no-color``, no ``NO_COLOR``
    (any non-empty value, see no-color.org) and ``stream`` is a terminal."""
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False
