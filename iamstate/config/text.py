"""From a file's bytes to text, and from an offset in that text to ``line:column`` (pure).

Files are UTF-8. A byte-order mark is honoured: UTF-8's is dropped, and a UTF-16 or
UTF-32 mark decodes the file in that encoding. Anything else that is not UTF-8 is a
located error naming the first byte that is not.
"""

from __future__ import annotations

import codecs
import re

from iamstate.errors import Diagnostic
from iamstate.model import SourceLocation

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)

# YAML's line breaks; JSON has only \n and \r, which this counts the same way.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def decode(data: bytes, name: str) -> str | Diagnostic:
    """The file's text, or a located diagnostic when its bytes are not text iamstate reads."""
    encoding = "utf-8"
    for bom, named in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], named
            break
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode(encoding, errors="replace")) + 1
        bad = data[exc.start : exc.end].hex(" ")
        what = "UTF-8" if encoding == "utf-8" else encoding.upper()
        return Diagnostic(
            f"{name} is not valid {what} text: it cannot hold the byte(s) {bad} here",
            SourceLocation(name, line, column),
            "save the file as UTF-8",
        )


def location(name: str, text: str, offset: int) -> SourceLocation:
    """Where character ``offset`` of ``text`` is, 1-based, counting lines as YAML does."""
    line = 1
    line_start = 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line += 1
        line_start = match.end()
    return SourceLocation(name, line, offset - line_start + 1)


def describe_character(char: str) -> str:
    """``U+0000 (NUL)``-style naming of a character a message must not print raw."""
    names = {
        "\x00": "NUL",
        "\x1b": "ESC",
        "\x7f": "DEL",
        "\ufffe": "a noncharacter",
        "\uffff": "a noncharacter",
    }
    code = f"U+{ord(char):04X}"
    named = names.get(char) or ("a control character" if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 else "")
    return f"{code} ({named})" if named else code
