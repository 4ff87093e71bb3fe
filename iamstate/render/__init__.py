"""Plan renderers (text, markdown, json), all built from the plan's JSON form.

Pure: no boto3, typer or file I/O. The drift report has its own renderers
(:mod:`iamstate.render.report`), and so do the other commands' results
(:mod:`iamstate.render.results`).
"""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render.json import render_json
from iamstate.render.markdown import render_markdown
from iamstate.render.text import render_text

FORMATS = ("text", "markdown", "json")
"""The values ``--format`` accepts."""

__all__ = ["FORMATS", "render", "render_json", "render_markdown", "render_text"]


def render(doc: Mapping[str, Json], fmt: str, *, color: bool) -> str:
    """The plan's JSON form ``doc`` in output format ``fmt``; ValueError for an unknown format."""
    if fmt == "text":
        return render_text(doc, color=color)
    if fmt == "markdown":
        return render_markdown(doc)
    if fmt == "json":
        return render_json(doc)
    raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")
