"""Plan renderers (text, markdown, json), all built from the plan's JSON form.

Pure: no boto3, typer or file I/O. The drift report has its own renderers
(:mod:`iamstate.render.report`), and so do the other commands' results
(:mod:`iamstate.render.results`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from iamstate.model import Json
from iamstate.render.json import render_json
from iamstate.render.text import render_text

if TYPE_CHECKING:
    from iamstate.render.markdown import render_markdown

FORMATS = ("text", "markdown", "json")
"""The values ``--format`` accepts."""

DEFAULT_MAX_CHARS = 60_000
"""The default comment budget: under GitHub's 65,536-character limit, with room for a marker."""


def __getattr__(name: str) -> Any:
    # The markdown renderer is loaded when first asked for: validate renders no plan.
    if name == "render_markdown":
        from iamstate.render.markdown import render_markdown

        return render_markdown
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MAX_CHARS",
    "FORMATS",
    "render",
    "render_as",
    "render_json",
    "render_markdown",
    "render_text",
]


def render(
    doc: Mapping[str, Json], fmt: str, *, color: bool, max_chars: int = DEFAULT_MAX_CHARS, full_plan: str = ""
) -> str:
    """The plan's JSON form ``doc`` in output format ``fmt``; ValueError for an unknown format.

    Markdown stays within ``max_chars`` characters and names ``full_plan`` (the ``--out``
    file) as where the whole plan is when it had to leave parts out.
    """

    def markdown(d: Mapping[str, Json]) -> str:
        from iamstate.render.markdown import render_markdown  # loaded for markdown alone

        return render_markdown(d, max_chars=max_chars, full_plan=full_plan)

    return render_as(doc, fmt, text=lambda d: render_text(d, color=color), markdown=markdown)


def render_as(
    doc: Mapping[str, Json],
    fmt: str,
    *,
    text: Callable[[Mapping[str, Json]], str],
    markdown: Callable[[Mapping[str, Json]], str],
) -> str:
    """``doc`` in output format ``fmt``, by the given text and markdown renderers (JSON is the
    document itself); ValueError for an unknown format."""
    if fmt == "text":
        return text(doc)
    if fmt == "markdown":
        return markdown(doc)
    if fmt == "json":
        return render_json(doc)
    raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")
