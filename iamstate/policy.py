"""Policy-document normalization and comparison (pure).

Every function here is pure: no boto3, typer or file I/O. Documents are compared by
meaning, never by text: both sides are brought to one canonical form with
:func:`normalize` and then compared with ``==``. The canonical form is itself a
valid IAM policy document that could be sent to AWS as it is.

Canonical choices (documented in the README):

- ``Statement`` is always a list; statements are sorted by their canonical JSON
  text (duplicates are kept, so that rules still see them).
- ``Action``/``NotAction``/``Resource``/``NotResource``, every principal type's
  value and every condition value are always lists, sorted and deduplicated,
  even with one element.
- Action names are lower-cased (``S3:GetObject`` -> ``s3:getobject``).
- Condition keys are lower-cased (IAM treats them case-insensitively);
  condition operators keep their spelling.
- Booleans and numbers in condition values become strings (``true`` -> ``"true"``,
  ``3600`` -> ``"3600"``).
- A bare 12-digit account id in an ``AWS`` principal becomes
  ``arn:aws:iam::ID:root``.
- ``"Principal": "*"`` stays a string and differs from ``{"AWS": ["*"]}``.
- An empty ``Sid`` is the same as no ``Sid``: it is dropped.
- ``Version``, ``Effect``, ``Sid``, resources, principal ARNs and condition
  string values keep their spelling; unknown fields are kept with sorted keys.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from iamstate.model import Json

_ACTION_FIELDS = ("Action", "NotAction")
_RESOURCE_FIELDS = ("Resource", "NotResource")
_PRINCIPAL_FIELDS = ("Principal", "NotPrincipal")

DOCUMENT_KEYS = ("Version", "Id", "Statement")
"""The keys IAM's policy grammar allows at the top of a document, in the order people read them."""
STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
"""The keys IAM's policy grammar allows in a statement, in the order people read them
(pretty() puts any other key after these, sorted)."""

_ACCOUNT_ID = re.compile(r"\d{12}")
_VARIABLE = re.compile(r"\$\{([^{}]*)\}")


_MEMO: dict[str, Json] = {}
_IN_ORDER: dict[str, list[Json]] = {}
"""Beside each document of ``_MEMO``: its statements normalized, in the order written."""
_CANONICAL: dict[int, Json] = {}
"""Each canonical form of ``_MEMO`` by identity: its statements are already in order."""
_SUBSTITUTED: dict[str, Json] = {}
_MEMO_ENTRIES = 16_384
_MISSING = object()


def normalize(document: Json, *, text: str | None = None) -> Json:
    """Return the canonical form of a policy document (pure).

    Two documents that mean the same to IAM normalize to equal values; the result
    is still a valid policy document. Accepts a mapping or its JSON text (also
    URL-encoded, as IAM returns it). Never raises on malformed input: what it
    cannot read is returned in a best-effort canonical form, left for the
    safety rules to report.

    Equal inputs (same text, or same ``repr``: same keys in the same order, same
    types) share one result, computed once: thousands of roles often carry one trust
    policy. Treat the result as read-only. ``text``: ``repr(document)``, from a caller that
    has it at hand.
    """
    if type(document) not in (dict, list, str):
        return _normalize(document, [])
    key = repr(document) if text is None else text
    found = _MEMO.get(key, _MISSING)
    return _remembered(key, document) if found is _MISSING else found


def statements_in_order(document: Mapping[str, Json]) -> list[Json]:
    """Each statement of ``document`` in its canonical form, in the order written (pure): the
    statements :func:`normalize` sorts, computed and kept with the document's canonical form,
    so that a document already normalized costs a lookup. A single statement counts as a list
    of one; a document without statements has none."""
    if _CANONICAL.get(id(document)) is document:
        canonical: list[Json] = document.get("Statement", [])
        return canonical
    if type(document) is not dict:
        in_order: list[Json] = []
        _normalize(document, in_order)
        return in_order
    key = repr(document)
    found = _IN_ORDER.get(key)
    if found is None:
        _remembered(key, document)
        found = _IN_ORDER[key]
    return found


def _remembered(key: str, document: Json) -> Json:
    """Normalize ``document`` and keep the answers under ``key``, its ``repr``."""
    if len(_MEMO) >= _MEMO_ENTRIES:
        _MEMO.clear()
        _IN_ORDER.clear()
        _CANONICAL.clear()
    in_order: list[Json] = []
    found = _MEMO[key] = _normalize(document, in_order)
    _IN_ORDER[key] = in_order
    if isinstance(found, dict):
        _CANONICAL[id(found)] = found
    return found


def _memoized(memo: dict[str, Json], key: str, compute: Callable[[], Json]) -> Json:
    found = memo.get(key, _MISSING)
    if found is _MISSING:
        if len(memo) >= _MEMO_ENTRIES:
            memo.clear()
        found = memo[key] = compute()
    return found


def _normalize(document: Json, in_order: list[Json]) -> Json:
    """The canonical form of ``document``; its statements' go into ``in_order`` as written."""
    document = _parse(document)
    if not isinstance(document, Mapping):
        return _canonical_json(document)
    out: dict[str, Json] = {}
    for key, value in document.items():
        key = str(key)
        if key == "Statement":
            statements = value if isinstance(value, list) else [value]
            in_order.extend(_normalize_statement(s) for s in statements)
            out[key] = sorted(in_order, key=_sort_key)
        else:
            out[key] = _canonical_json(value)
    return _ordered(out, DOCUMENT_KEYS)


def normalize_statement(statement: Json) -> Json:
    """The canonical form of one statement, as :func:`normalize` makes it inside a document (pure).

    Every key is normalized on its own, so a statement holding only ``Action`` (or only
    one condition) gives that part's canonical form: the unit the plan's diffs compare.
    """
    return _normalize_statement(statement)


def statement_label(index: int, statement: Json) -> str:
    """How messages name the ``index``-th statement of a document (from 1): ``statement 2 (Sid Foo)``."""
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return f"statement {index}" + (f" (Sid {sid})" if isinstance(sid, str) and sid else "")


def equivalent(a: Json, b: Json) -> bool:
    """True when two policy documents mean the same (pure)."""
    return bool(normalize(a) == normalize(b))


def pretty(document: Json) -> str:
    """Stable, 2-space indented JSON text of a document, for unified diffs (pure).

    ``Version`` comes before ``Statement`` and statement fields follow IAM's
    usual order (``Sid``, ``Effect``, ``Principal``, ``Action``, ``Resource``,
    ``Condition``); every other mapping has sorted keys. The document is shown as
    given: normalize it first to compare by meaning.
    """
    return json.dumps(_pretty_order(document), indent=2, ensure_ascii=False, default=str)


def unified_diff(before: Json | None, after: Json | None, label: str = "document") -> list[str]:
    """Unified-diff lines between two documents' normalized pretty forms (pure).

    ``None`` stands for "no document" (empty text). Lines carry no trailing
    newline; the headers are ``--- before/LABEL`` and ``+++ after/LABEL``. An
    empty list means the documents are equivalent.
    """
    a = [] if before is None else pretty(normalize(before)).splitlines()
    b = [] if after is None else pretty(normalize(after)).splitlines()
    return list(
        difflib.unified_diff(a, b, fromfile=f"before/{label}", tofile=f"after/{label}", n=3, lineterm="")
    )


def substitute(value: Json, variables: Mapping[str, str]) -> Json:
    """Replace ``${name}`` for every name in ``variables`` in all strings of a value (pure).

    Mapping keys are substituted too. Unknown ``${...}`` references, such as the
    IAM policy variable ``${aws:username}``, are left untouched. Equal inputs share
    one result, as in :func:`normalize`; treat it as read-only.
    """
    if type(value) in (dict, list):
        key = repr((value, sorted(variables.items())))
        return _memoized(_SUBSTITUTED, key, lambda: _substitute(value, variables))
    return _substitute(value, variables)


def _substitute(value: Json, variables: Mapping[str, str]) -> Json:

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return variables[name] if name in variables else match.group(0)

    def walk(item: Json) -> Json:
        if isinstance(item, str):
            return _VARIABLE.sub(replace, item)
        if isinstance(item, Mapping):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        return item

    return walk(value)


# --- parsing -----------------------------------------------------------------


def _parse(document: Json) -> Json:
    """Turn JSON text (plain or URL-encoded) into a value; other values pass through."""
    if isinstance(document, (bytes, bytearray)):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError:
            return document
    if not isinstance(document, str):
        return document
    text = document.strip()
    if text[:3].upper() == "%7B":
        text = urllib.parse.unquote(text)
    try:
        return json.loads(text)
    except ValueError:
        return document


# --- statements ----------------------------------------------------------------


def _normalize_statement(statement: Json) -> Json:
    if not isinstance(statement, Mapping):
        return _canonical_json(statement)
    out: dict[str, Json] = {}
    for key, value in statement.items():
        key = str(key)
        if key in _ACTION_FIELDS:
            out[key] = _sorted_unique(_as_list(value), _normalize_action)
        elif key in _RESOURCE_FIELDS:
            out[key] = _sorted_unique(_as_list(value), _canonical_json)
        elif key in _PRINCIPAL_FIELDS:
            out[key] = _normalize_principal(value)
        elif key == "Condition":
            out[key] = _normalize_condition(value)
        elif key == "Sid" and value == "":
            continue  # an empty Sid says nothing: the same as no Sid
        else:
            out[key] = _canonical_json(value)
    return _ordered(out, STATEMENT_KEYS)


def _normalize_action(action: Json) -> Json:
    # IAM matches service prefixes and action names case-insensitively.
    return action.lower() if isinstance(action, str) else _canonical_json(action)


def _normalize_principal(principal: Json) -> Json:
    # "*" (anyone, including anonymous) is kept apart from {"AWS": ["*"]}.
    if not isinstance(principal, Mapping):
        return _canonical_json(principal)
    out: dict[str, Json] = {}
    for kind, value in principal.items():
        kind = str(kind)
        normalize_item = _normalize_aws_principal if kind == "AWS" else _canonical_json
        out[kind] = _sorted_unique(_as_list(value), normalize_item)
    return _ordered(out, ())


def _normalize_aws_principal(principal: Json) -> Json:
    if isinstance(principal, str) and _ACCOUNT_ID.fullmatch(principal):
        return f"arn:aws:iam::{principal}:root"
    return _canonical_json(principal)


def _normalize_condition(condition: Json) -> Json:
    if not isinstance(condition, Mapping):
        return _canonical_json(condition)
    out: dict[str, Json] = {}
    for operator, block in condition.items():
        operator = str(operator)
        if not isinstance(block, Mapping):
            out[operator] = _canonical_json(block)
            continue
        keys = [str(k) for k in block]
        lowered = [k.lower() for k in keys]
        # Keys that differ only in case would collide once lower-cased; merging
        # them would change the meaning (AND becomes OR), so they keep their case.
        fold = len(set(lowered)) == len(lowered)
        values: dict[str, Json] = {}
        for raw_key, key, folded in zip(block, keys, lowered, strict=True):
            values[folded if fold else key] = _sorted_unique(_as_list(block[raw_key]), _condition_value)
        out[operator] = _ordered(values, ())
    return _ordered(out, ())


def _condition_value(value: Json) -> Json:
    # IAM reads condition values as strings: true, "true", 3600 and "3600" agree.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return _canonical_json(value)


# --- generic helpers -----------------------------------------------------------


def _canonical_json(value: Json) -> Json:
    """A JSON copy with string keys in sorted order; dates become ISO text."""
    if isinstance(value, Mapping):
        return _ordered({str(k): _canonical_json(v) for k, v in value.items()}, ())
    if isinstance(value, (list, tuple)):
        return [_canonical_json(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        # YAML reads an unquoted Version: 2012-10-17 as a date.
        return value.isoformat()
    return value


def _as_list(value: Json) -> list[Json]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sorted_unique(items: Iterable[Json], normalize_item: Callable[[Json], Json]) -> list[Json]:
    unique: dict[str, Json] = {}
    for item in items:
        canonical = normalize_item(item)
        unique.setdefault(_sort_key(canonical), canonical)
    return [unique[k] for k in sorted(unique)]


def _sort_key(value: Json) -> str:
    # Strings sort by their own text; other values after them by their JSON text.
    if isinstance(value, str):
        return "0" + value
    return "1" + json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _ordered(mapping: Mapping[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    """A copy with the keys in ``first`` leading, in that order, then the rest sorted."""
    rank = {k: i for i, k in enumerate(first)}
    keys = sorted(mapping, key=lambda k: (rank.get(k, len(first)), k))
    return {k: mapping[k] for k in keys}


def _pretty_order(document: Json) -> Json:
    document = _canonical_json(document)
    if not isinstance(document, dict):
        return document
    out = _ordered(document, DOCUMENT_KEYS)
    statements = out.get("Statement")
    if isinstance(statements, dict):
        out["Statement"] = _ordered(statements, STATEMENT_KEYS)
    elif isinstance(statements, list):
        out["Statement"] = [_ordered(s, STATEMENT_KEYS) if isinstance(s, dict) else s for s in statements]
    return out
