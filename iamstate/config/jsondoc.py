"""Reading a JSON policy document within bounds, every problem located (pure).

``json.loads`` alone recurses without bound, turns a 5,000-digit integer into a
ValueError without a position, and accepts ``NaN``, ``Infinity`` and lone
surrogate escapes, none of which IAM takes. A scan of the text's tokens finds
those first, at their ``line:column``; the text is parsed only when they are absent.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from iamstate.config.limits import MAX_NESTING_DEPTH, MAX_NUMBER_CHARS
from iamstate.config.text import location
from iamstate.model import Json, SourceLocation

# A string runs to its closing quote or, unterminated, to the end: never quadratic.
_TOKEN = re.compile(r'"(?:[^"\\]|\\[\s\S])*(?:"|\\?\Z)|[\[{]|[\]}]|-?Infinity|NaN|-?[0-9][0-9.eE+-]*')
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class JsonProblem:
    """Why a JSON text was not read, and where."""

    detail: str
    location: SourceLocation
    hint: str = ""


def parse_json(text: str, name: str) -> Json | JsonProblem:
    """The value of a JSON text, or the first problem in it (``name`` is the file's name)."""
    problem = _scan(text, name)
    if problem is not None:
        return problem
    try:
        value: Json = json.loads(text)
    except json.JSONDecodeError as exc:
        return JsonProblem(exc.msg, SourceLocation(name, exc.lineno, exc.colno))
    except (ValueError, RecursionError) as exc:  # defence in depth: the scan should have caught it
        return JsonProblem(str(exc), SourceLocation(name, 1, 1))
    return value


def _scan(text: str, name: str) -> JsonProblem | None:
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first in "[{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                return JsonProblem(
                    f"nested more than {MAX_NESTING_DEPTH} levels deep",
                    location(name, text, match.start()),
                    "a policy document needs about five levels; flatten this part",
                )
        elif first in "]}":
            depth = max(0, depth - 1)
        elif first == '"':
            if "\\u" in token and _SURROGATE.search(_string(token)):
                return JsonProblem(
                    "a \\u escape here is half of a surrogate pair, not a character",
                    location(name, text, match.start()),
                    "write the character itself, or both halves of the pair",
                )
        elif token.lstrip("-") in ("NaN", "Infinity"):
            return JsonProblem(
                f"{token} is not a number IAM accepts",
                location(name, text, match.start()),
                "write a finite number, or quote it",
            )
        elif len(token) > MAX_NUMBER_CHARS:
            return JsonProblem(
                f"a number of {len(token):,} characters; at most {MAX_NUMBER_CHARS} are read",
                location(name, text, match.start()),
                "quote it if it is text",
            )
        elif _is_infinite(token):
            return JsonProblem(
                f"{token} is too large for a number", location(name, text, match.start()), "quote it"
            )
    return None


def _string(token: str) -> str:
    try:
        decoded = json.loads(token)
    except ValueError:
        return ""
    return decoded if isinstance(decoded, str) else ""


def _is_infinite(token: str) -> bool:
    if not any(c in token for c in ".eE"):
        return False
    try:
        return not math.isfinite(float(token))
    except ValueError:
        return False
