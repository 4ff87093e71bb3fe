"""One escaping function per output format, for every string that comes from outside (pure).

Entity names, file names, tag keys and values, descriptions, actions, condition
values, messages, waiver reasons and remedies come from a configuration that anyone
who opens a pull request may write, or from a live account that anyone with IAM
access may have changed. Each renderer passes every such string through the one
function for the format it writes, so that no value can change the structure of the
output around it:

- :func:`text`: no newline, control character or bidirectional override survives
  (each is shown as a visible escape such as ``\\n``, ``\\x1b`` or ``\\u202e``);
  a value can neither add a line (a fake ``Plan:`` summary) nor reorder what a
  terminal shows.
- :func:`markdown`, for prose, table cells, code spans and ``<summary>`` text: on
  top of :func:`text`, no HTML, no emphasis, link, heading or list syntax, no ``|``
  that splits a table cell, no backtick that closes a code span, no ``</details>``.
- :func:`sarif`: :func:`text`, and SARIF's own message syntax (``[text](id)``
  links, ``{0}`` placeholders) escaped with a backslash as SARIF 2.1.0 §3.11.5 asks.
- Logs use :func:`text` for console lines (``iamstate.logs``); JSON logs are
  escaped by JSON itself.

Pure: no I/O.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from typing import Literal

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
"""Characters that reorder, join or hide text, or break lines, without being control characters."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&$@]|:(?=//)|(?<=www)\.)", re.IGNORECASE)
"""What markdown (or HTML) could read inside a line: emphasis, code, links and images, HTML and
entities, table pipes, strikethrough, math, mentions and issue references, and the ``://`` and
``www.`` that start an autolink. Characters that matter only at the start of a line (lists,
headings, quotes) need nothing: an escaped value never starts a line."""
_BACKTICKS = re.compile(r"`+")


def _unsafe(char: str) -> bool:
    if char in _BIDI_AND_INVISIBLE:
        return True
    # Cc: C0 and C1 controls and DEL; Cs: lone surrogates; Co/Cn: private use, unassigned.
    return unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn")


def _visible(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def text(value: object) -> str:
    """``value`` as one line of plain text: every newline, control, bidirectional or
    invisible formatting character replaced by a visible escape (``\\n``, ``\\x1b``,
    ``\\u202e``). Idempotent: what it returns it leaves alone."""
    raw = value if isinstance(value, str) else str(value)
    # Printable ASCII holds none of _BIDI_AND_INVISIBLE: most text is told safe in one step.
    if raw.isprintable() and (raw.isascii() or _BIDI_AND_INVISIBLE.isdisjoint(raw)):
        return raw
    return "".join(_visible(c) if _unsafe(c) else c for c in raw)


MarkdownPlace = Literal["prose", "code", "table code", "html"]


def markdown(value: object, where: MarkdownPlace = "prose") -> str:
    """``value`` for GitHub-flavoured markdown, as one line that reads as the text it is, in
    the place it lands:

    - ``prose``: inline text (list items, callouts, table cells): every character that
      markdown or HTML could read is escaped with a backslash, ``|`` included, so a cell
      is never split;
    - ``code`` (``table code`` in a table cell): a whole inline code span whose fence is
      one backtick longer than the longest run inside; in a table, ``|`` is ``\\|``, which
      GitHub reads as a literal pipe even inside a code span;
    - ``html``: text inside an element of an HTML block (the ``<summary>`` of a
      ``<details>`` line, where markdown is not read): ``&``, ``<``, ``>`` and quotes as
      entities, so that no tag opens or closes.

    Every place gets :func:`text` first: no newline can end a block or start a heading.
    """
    body = text(value)
    if where == "prose":
        return _MARKDOWN_SPECIAL.sub(r"\\\1", body)
    if where == "html":
        return _html.escape(body, quote=True)
    if where == "table code":
        body = body.replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    if not body:
        return "` `"
    if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ")):
        body = f" {body} "
    return f"{fence}{body}{fence}"


def sarif(value: object) -> str:
    """``value`` as SARIF ``message.text``: one line (as :func:`text`), with ``\\``, ``[``,
    ``]``, ``{`` and ``}`` escaped by a backslash so that nothing reads as an embedded
    link or a placeholder."""
    return re.sub(r"([\\\[\]{}])", r"\\\1", text(value))


def fence_for(lines: list[str]) -> str:
    """The backtick fence for a code block holding ``lines``: longer than any run inside."""
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    return "`" * max(3, longest + 1)
