"""Policy documents in a plan: shown in their authors' spelling, compared by meaning (pure).

A plan's ``before`` holds a document as IAM holds it and ``after`` as the
configuration wrote it. A reviewer must be able to find every line of a diff in the
file the author wrote, so the diff is made of the documents as written, statement by
statement:

- statements are matched by ``Sid``, then by meaning (the same statement in another
  spelling), then by likeness (a statement without a Sid whose one action changed);
  a statement that means the same on both sides is not shown;
- inside a matched pair, every part that means the same on both sides (a key, a list
  item, a condition value: ``iam:passrole`` and ``iam:PassRole``, ``true`` and
  ``"true"``) is shown in the configuration's spelling, so only what differs in
  meaning is a changed line, and it is spelt as the configuration and IAM spell it;
- keys keep their authors' order; lists hold one item per line, so that one changed
  action is one changed line.

Pure: no I/O. :func:`document_diff` returns plain :class:`DocLine` values that the
text and markdown renderers lay out.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from iamstate import policy
from iamstate.model import Json

CONTEXT = 3
"""Unchanged lines shown around each change inside a statement."""
_SIMILAR = 0.5
"""How alike two statements without a common Sid must be to be shown as one changed statement."""

_ITEM = object()
"""A path step into a list's items."""

Normalizer = Callable[[Json], Json]


@dataclass(frozen=True)
class DocLine:
    """One line of a document diff: ``sign`` is ``+``, ``-``, `` `` (context), ``@@`` (which
    statement follows) or ``#`` (a remark); ``text`` is the line without its sign."""

    sign: str
    text: str


def pretty(document: Json) -> list[str]:
    """A document (or any JSON value) as 2-space indented JSON lines, keys in their authors' order."""
    return json.dumps(_decoded(document), indent=2, ensure_ascii=False, default=str).splitlines()


def document_lines(document: Json, sign: str) -> list[DocLine]:
    """A whole document, every line marked ``sign`` (a created ``+`` or a deleted ``-`` one)."""
    return [DocLine(sign, line) for line in pretty(document)]


def document_diff(before: Json, after: Json) -> list[DocLine]:
    """The lines that show how ``after`` differs in meaning from ``before`` (pure); [] when they
    mean the same. ``None`` on one side shows the other whole."""
    if before is None and after is None:
        return []
    if before is None:
        return document_lines(after, "+")
    if after is None:
        return document_lines(before, "-")
    b, a = _decoded(before), _decoded(after)
    if policy.normalize(b) == policy.normalize(a):
        return []
    b_statements, a_statements = _statements(b), _statements(a)
    if b_statements is None or a_statements is None:
        return _hunks(_align(b, a, policy.normalize, ()), a)
    out: list[DocLine] = []
    top_b = {k: v for k, v in b.items() if k != "Statement"}
    top_a = {k: v for k, v in a.items() if k != "Statement"}
    if policy.normalize(top_b) != policy.normalize(top_a):
        out.append(DocLine("@@", "document"))
        out += _hunks(_align(top_b, top_a, policy.normalize, ()), top_a)
    unchanged = 0
    for b_index, a_index in _paired(b_statements, a_statements):
        bs = b_statements[b_index] if b_index is not None else None
        st = a_statements[a_index] if a_index is not None else None
        if bs is not None and st is not None:
            if policy.normalize_statement(bs) == policy.normalize_statement(st):
                unchanged += 1
                continue
            assert a_index is not None
            out.append(DocLine("@@", _statement_label(st, a_index)))
            out += _hunks(_align(bs, st, policy.normalize_statement, ()), st)
        elif st is not None:
            assert a_index is not None
            out.append(DocLine("@@", _statement_label(st, a_index) + ", added"))
            out += document_lines(st, "+")
        elif bs is not None:
            assert b_index is not None
            out.append(DocLine("@@", "removed: live " + _statement_label(bs, b_index)))
            out += document_lines(bs, "-")
    if unchanged and out:
        out.append(DocLine("#", f"{unchanged} unchanged statement{'s' if unchanged != 1 else ''} not shown"))
    return out


# --- statements --------------------------------------------------------------------------


def _decoded(document: Json) -> Json:
    if isinstance(document, str):
        try:
            return json.loads(document)
        except ValueError:
            return document
    return document


def _statements(document: Json) -> list[Json] | None:
    if not isinstance(document, Mapping):
        return None
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        return [statements]
    if isinstance(statements, list):
        return list(statements)
    return None


def _sid(statement: Json) -> str:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return sid if isinstance(sid, str) else ""


def _statement_label(statement: Json, index: int) -> str:
    sid = _sid(statement)
    return f"statement {index + 1}" + (f" (Sid {sid})" if sid else "")


def _paired(before: list[Json], after: list[Json]) -> list[tuple[int | None, int | None]]:
    """``(before index, after index)`` pairs in the order to show them: the configuration's
    statements in its order, each live statement without a partner after the one before it."""
    partner: dict[int, int] = {}  # after index -> before index
    taken: set[int] = set()

    def pair(match: Callable[[Json, Json], bool]) -> None:
        for ai, a in enumerate(after):
            if ai in partner:
                continue
            for bi, b in enumerate(before):
                if bi not in taken and match(b, a):
                    partner[ai] = bi
                    taken.add(bi)
                    break

    pair(lambda b, a: bool(_sid(a)) and _sid(a) == _sid(b))
    normalized_b = [policy.normalize_statement(s) for s in before]
    normalized_a = [policy.normalize_statement(s) for s in after]
    pair(lambda b, a: normalized_b[before.index(b)] == normalized_a[after.index(a)])
    # The same statement under another Sid.
    pair(
        lambda b, a: _without_sid(normalized_b[before.index(b)]) == _without_sid(normalized_a[after.index(a)])
    )
    for ai in range(len(after)):
        if ai in partner:
            continue
        best, score = None, _SIMILAR
        for bi in range(len(before)):
            if bi in taken or (_sid(before[bi]) and _sid(after[ai])):
                continue  # two statements with their own Sids are two statements
            ratio = difflib.SequenceMatcher(
                None, _canonical_lines(normalized_b[bi]), _canonical_lines(normalized_a[ai])
            ).ratio()
            if ratio >= score:
                best, score = bi, ratio
        if best is not None:
            partner[ai] = best
            taken.add(best)

    out: list[tuple[int | None, int | None]] = []
    placed: set[int] = set()

    def lone(indexes: range) -> None:
        for bi in indexes:
            if bi in taken:
                if bi > indexes.start:
                    break
                continue
            if bi not in placed:
                out.append((bi, None))
                placed.add(bi)

    for ai in range(len(after)):
        paired = partner.get(ai)
        if paired is None:
            out.append((None, ai))
            continue
        # Live statements without a partner go where they were: before and after this one.
        lone(range(paired))
        out.append((paired, ai))
        lone(range(paired + 1, len(before)))
    out += [(bi, None) for bi in range(len(before)) if bi not in taken and bi not in placed]
    return out


def _without_sid(statement: Json) -> Json:
    if isinstance(statement, Mapping):
        return {k: v for k, v in statement.items() if k != "Sid"}
    return statement


def _canonical_lines(value: Json) -> list[str]:
    return json.dumps(value, indent=1, sort_keys=True, default=str).splitlines()


# --- aligning the live side to the configuration's spelling -------------------------------


def _child(normalize: Normalizer, key: object) -> Normalizer:
    """The normalizer of the part at ``key`` (a mapping key, or :data:`_ITEM` for a list's
    items) of what ``normalize`` normalizes: the part is put back alone in its place and
    the result read out, so each part is compared exactly as the whole would be."""

    def child(value: Json) -> Json:
        wrapped = [value] if key is _ITEM else {key: value}
        result = normalize(wrapped)
        if key is _ITEM:
            return result
        if isinstance(result, Mapping):
            return next(iter(result.values()), None) if len(result) == 1 else result
        return result

    return child


def _key_match(b_key: str, a_key: str, depth: tuple[object, ...]) -> bool:
    # Condition keys (Condition -> operator -> key) are read case-insensitively by IAM.
    if len(depth) == 2 and depth[0] == "Condition":
        return b_key.lower() == a_key.lower()
    return b_key == a_key


def _align(before: Json, after: Json, normalize: Normalizer, depth: tuple[object, ...]) -> Json:
    """``before``, meaning what it means, but spelt as ``after`` wherever the two agree in
    meaning, with its keys and items in ``after``'s order (what only ``before`` has comes
    after what the two share)."""
    if normalize(before) == normalize(after):
        return after
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: dict[str, Json] = {}
        used: set[str] = set()
        for a_key in after:
            b_key = next((k for k in before if k not in used and _key_match(str(k), str(a_key), depth)), None)
            if b_key is None:
                continue
            used.add(b_key)
            out[str(a_key)] = _align(before[b_key], after[a_key], _child(normalize, b_key), (*depth, a_key))
        for b_key in before:
            if b_key not in used:
                out[str(b_key)] = before[b_key]
        return out
    if (
        isinstance(after, list)
        and not isinstance(before, (list, Mapping))
        and normalize([before]) == normalize(before)
    ):
        before = [before]  # a string where the configuration writes a list: the same, lined up as one
    if isinstance(before, list) and isinstance(after, list):
        item = _child(normalize, _ITEM)
        a_norm = [item(a) for a in after]
        claimed: set[int] = set()
        positioned: list[tuple[float, int, Json]] = []
        last = -1.0
        for bi, b in enumerate(before):
            b_norm = item(b)
            ai = next((i for i, n in enumerate(a_norm) if i not in claimed and n == b_norm), None)
            if ai is None:
                positioned.append((last + 0.5, bi, b))
            else:
                claimed.add(ai)
                last = float(ai)
                positioned.append((float(ai), bi, after[ai]))
        return [value for _, _, value in sorted(positioned, key=lambda p: (p[0], p[1]))]
    return before


def _hunks(before: Json, after: Json) -> list[DocLine]:
    """The changed lines of two values' pretty forms with a few lines of context around each
    (unchanged lines as ``after`` writes them); a gap of more than two unchanged lines is
    shown as ``…``."""
    b, a = pretty(before), pretty(after)
    out: list[DocLine] = []
    shown_to = 0  # the configuration's lines shown so far

    def gap(until: int) -> None:
        if until - shown_to > 2:
            out.append(DocLine(" ", "…"))
        else:
            out.extend(DocLine(" ", line) for line in a[shown_to:until])

    # A line that differs only by its trailing comma (an item added after it) is unchanged.
    bare_b, bare_a = [line.rstrip(",") for line in b], [line.rstrip(",") for line in a]
    for group in difflib.SequenceMatcher(None, bare_b, bare_a, autojunk=False).get_grouped_opcodes(CONTEXT):
        gap(group[0][3])
        for tag, b1, b2, a1, a2 in group:
            if tag == "equal":
                out += [DocLine(" ", line) for line in a[a1:a2]]
            else:
                out += [DocLine("-", line) for line in b[b1:b2]]
                out += [DocLine("+", line) for line in a[a1:a2]]
        shown_to = group[-1][4]
    if out:
        gap(len(a))
    return out
