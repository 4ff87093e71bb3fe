"""Terraform-style text output of a plan, built only from the plan's JSON form.

Pure: the renderer reads the ``Plan.to_json()`` dict, never the dataclasses, so
that what a reviewer reads and what a machine reads cannot disagree.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from iamstate import policy
from iamstate.model import Json
from iamstate.render.temporary import temporary_lines

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "import": "<="}
"""Terraform's symbol for each change action (``<=``: adopt a live entity)."""

_ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "replace": "magenta",
    "import": "cyan",
}
_SIGN_STYLE = {"+": "green", "-": "red", "~": "yellow", "-/+": "magenta", "<=": "cyan"}
_FIELD_SIGN = {"add": "+", "remove": "-", "change": "~"}

_DOCUMENT_FIELDS = frozenset({"document", "trust"})
_DOCUMENT_PREFIXES = ("inline_policies.",)

_ANSI = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "magenta": "35", "cyan": "36"}

# Indentation of the parts of a change block.
_FIELD_INDENT = 6
_ITEM_INDENT = 10
_CALL_INDENT = 8

# Parameter values longer than this are cut in API call lines (ARNs never are).
_MAX_PARAM_CHARS = 80


def paint(text: str, style: str, *, color: bool) -> str:
    """``text`` wrapped in the ANSI codes of ``style`` (space-separated names), or as is."""
    if not color or not style or not text:
        return text
    codes = ";".join(_ANSI[name] for name in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"


@dataclass(frozen=True)
class Line:
    """One line of a change block: indentation, a diff sign (``+``, ``-``, ``~``, ``-/+``,
    a space or nothing) and the text after it, with their styles."""

    indent: int
    sign: str
    text: str
    sign_style: str = ""
    text_style: str = ""
    comment: str = ""
    """Display-only remark after the text, dimmed (``  # ...``)."""

    def plain(self) -> str:
        """The line without colour, as the text renderer prints it."""
        return " " * self.indent + self.sign + self.text + self._comment()

    def _comment(self) -> str:
        if not self.comment:
            return ""
        return f"  # {self.comment}" if self.sign or self.text else f"# {self.comment}"

    def painted(self, *, color: bool) -> str:
        """The line with its styles applied when ``color`` is true."""
        return (
            " " * self.indent
            + paint(self.sign, self.sign_style, color=color)
            + paint(self.text, self.text_style, color=color)
            + paint(self._comment(), "dim", color=color)
        )

    def diff_marked(self) -> str:
        """The line with a ``+``/``-`` sign moved to column 0, so that a ```` ```diff ````
        block highlights it; other lines are unchanged."""
        if self.sign in ("+", "-"):
            return self.sign + " " * self.indent + self.text + self._comment()
        return self.plain()


def render_text(doc: Mapping[str, Json], *, color: bool) -> str:
    """The plan as Terraform-style text, ending in exactly one summary line (pure)."""
    out: list[str] = []
    if doc.get("changes") or doc.get("findings"):
        out += [header_line("plan", doc, color=color), ""]
    out += plan_body_lines(doc, color=color)
    out.append(paint(str(doc["summary_line"]), "bold", color=color))
    return "\n".join(out) + "\n"


def header_line(command: str, doc: Mapping[str, Json], *, color: bool) -> str:
    """``iamstate COMMAND for account ID (stack "NAME")`` (pure)."""
    text = f'iamstate {command} for account {doc.get("account_id", "")} (stack "{doc.get("stack", "")}")'
    return paint(text, "bold", color=color)


def plan_body_lines(plan: Mapping[str, Json], *, color: bool) -> list[str]:
    """A plan's change blocks, access summary and findings, each followed by a blank line (pure)."""
    out: list[str] = []
    for change in plan.get("changes") or []:
        out.extend(line.painted(color=color) for line in change_lines(change))
        out.append("")
    unmanaged = unmanaged_lines(plan.get("unmanaged") or [], color=color)
    if unmanaged:
        out.extend([*unmanaged, ""])
    from iamstate.render import access

    summary = access.text_lines(access.section(plan), color=color)
    if summary:
        out.extend([*summary, ""])
    temporary = temporary_lines(plan, color=color)
    if temporary:
        out.extend([*temporary, ""])
    for finding in plan.get("findings") or []:
        out.extend(finding_lines(finding, color=color))
        out.append("")
    return out


def unmanaged_lines(entries: list[Mapping[str, Json]], *, color: bool) -> list[str]:
    """Live entities in scope the plan leaves alone, each with why, then what to do (pure)."""
    if not entries:
        return []
    out = [paint("Not managed by this configuration, never deleted:", "bold", color=color)]
    remedies: dict[str, str] = {}
    for entry in entries:
        out.append(f"  {entry['address']}: {entry['reason']}")
        remedies.setdefault(str(entry["standing"]), str(entry["remedy"]))
    for standing, remedy in remedies.items():
        out.append(f"  {standing}: {remedy}")
    return out


def change_lines(change: Mapping[str, Json]) -> list[Line]:
    """The block of one change: its address line, field diffs and API calls (pure)."""
    action = str(change["action"])
    lines = [_address_line(change)]
    before, after = change.get("before"), change.get("after")
    fields = list(change.get("fields") or [])
    if action == "create" or (action == "replace" and not fields):
        lines.extend(_essence_lines(after, sign="+"))
    elif action == "delete":
        lines.extend(_essence_lines(before, sign="-"))
    else:
        for f in fields:
            lines.extend(_field_lines(str(f["path"]), f.get("before"), f.get("after")))
    calls = list(change.get("api_calls") or [])
    if calls:
        lines.append(Line(_CALL_INDENT, "", "", comment="API calls"))
        lines.extend(_call_line(c) for c in calls)
    return lines


def finding_lines(finding: Mapping[str, Json], *, color: bool) -> list[str]:
    """A finding as ``Error:``/``Warning:`` with its rule, entity, remedy and location (pure)."""
    error = finding.get("severity") == "error"
    waived = bool(finding.get("waived"))
    label = "Error:" if error else "Warning:"
    label_style = "dim" if waived else ("bold red" if error else "bold yellow")
    address = str(finding.get("address") or "")
    text = f" [{finding['rule']}] " + (f"{address}: " if address else "") + str(finding["message"])
    if waived:
        reason = str(finding.get("waiver_reason") or "")
        text += f" (waived: {reason})" if reason else " (waived)"
    lines = [paint(label, label_style, color=color) + paint(text, "dim" if waived else "", color=color)]
    if finding.get("remedy"):
        lines.append(f"  remedy: {finding['remedy']}")
    if finding.get("location"):
        lines.append(f"  at: {finding['location']}")
    return lines


def format_call(call: Mapping[str, Json]) -> str:
    """``Operation(Param=value, ...)``, with documents and long values shortened (pure)."""
    params = call.get("params") or {}
    args = ", ".join(f"{key}={_param(str(key), value)}" for key, value in params.items())
    return f"{call['operation']}({args})"


def _call_line(call: Mapping[str, Json]) -> Line:
    return Line(_CALL_INDENT, "", format_call(call), text_style="dim", comment=str(call.get("note") or ""))


def _address_line(change: Mapping[str, Json]) -> Line:
    action = str(change["action"])
    sign = SYMBOLS[action]
    text = f" {change['address']}"
    reason = str(change.get("reason") or "")
    if action == "replace":
        text += f" (replace: {reason})" if reason else " (replace)"
        reason = ""
    # Right-align the sign in three columns, as Terraform does: "  +", "  ~", "-/+".
    return Line(
        3 - len(sign),
        sign,
        text,
        sign_style=f"bold {_ACTION_STYLE[action]}",
        text_style="bold",
        comment=reason,
    )


def _is_document(path: str, before: Json, after: Json) -> bool:
    if path in _DOCUMENT_FIELDS or path.startswith(_DOCUMENT_PREFIXES):
        return isinstance(before, (dict, str, type(None))) and isinstance(after, (dict, str, type(None)))
    return False


def _action(before: Json, after: Json) -> str:
    if before is None:
        return "add"
    if after is None:
        return "remove"
    return "change"


def _field_header(path: str, sign: str) -> Line:
    return Line(_FIELD_INDENT, sign, f" {path}:", sign_style=_SIGN_STYLE[sign])


def _field_lines(path: str, before: Json, after: Json) -> list[Line]:
    """Lines for one field difference: a document diff, list items, map keys or a scalar."""
    sign = _FIELD_SIGN[_action(before, after)]
    if _is_document(path, before, after):
        return [_field_header(path, sign), *_document_lines(path, before, after)]
    if _is_text(before) or _is_text(after):
        return [_field_header(path, sign), *_text_lines(before, after)]
    if isinstance(before, (dict, type(None))) and isinstance(after, (dict, type(None))) and (before or after):
        # Mappings such as tags: one line per key that differs.
        b, a = before or {}, after or {}
        lines: list[Line] = []
        for key in sorted(set(b) | set(a)):
            if key in b and key in a and b[key] == a[key]:
                continue
            lines.extend(_field_lines(f"{path}.{key}", b.get(key), a.get(key)))
        return lines
    if isinstance(before, (list, type(None))) and isinstance(after, (list, type(None))):
        b_items, a_items = before or [], after or []
        removed = [item for item in b_items if item not in a_items]
        added = [item for item in a_items if item not in b_items]
        if removed or added or not (b_items or a_items):
            return [
                _field_header(path, sign),
                *(Line(_ITEM_INDENT, "-", f" {_item(i)}", sign_style="red") for i in removed),
                *(Line(_ITEM_INDENT, "+", f" {_item(i)}", sign_style="green") for i in added),
            ]
        # Same items in another order: show both lists.
    if sign == "~":
        text = f" {path}: {_value(before)} → {_value(after)}"
    else:
        text = f" {path}: {_value(after if sign == '+' else before)}"
    return [Line(_FIELD_INDENT, sign, text, sign_style=_SIGN_STYLE[sign])]


def _document_lines(path: str, before: Json, after: Json) -> list[Line]:
    """A unified diff of the normalized pretty documents, without its file headers."""
    diff = policy.unified_diff(before, after, label=path)
    one_sided = before is None or after is None
    lines: list[Line] = []
    in_header = True
    for raw in diff:
        if in_header and raw.startswith(("--- ", "+++ ")):
            continue
        in_header = False
        if raw.startswith("@@"):
            if not one_sided:
                lines.append(Line(_ITEM_INDENT, "", raw, text_style="cyan"))
            continue
        # One space after the sign, as on every other line of the block.
        sign, text = raw[:1], " " + raw[1:]
        style = {"+": "green", "-": "red"}.get(sign, "")
        lines.append(Line(_ITEM_INDENT, sign, text, sign_style=style, text_style=style))
    if not lines:
        lines.append(Line(_ITEM_INDENT, "", "", comment="equivalent after normalization"))
    return lines


def _is_text(value: Json) -> bool:
    """A string of several lines (a SAML metadata document): shown line by line."""
    return isinstance(value, str) and "\n" in value


def _text_lines(before: Json, after: Json) -> list[Line]:
    """A unified diff of two texts of several lines, without its file headers."""
    a = before.splitlines() if isinstance(before, str) else []
    b = after.splitlines() if isinstance(after, str) else []
    lines: list[Line] = []
    for raw in difflib.unified_diff(a, b, n=1, lineterm=""):
        if raw.startswith(("--- ", "+++ ")):
            continue
        if raw.startswith("@@"):
            if a and b:
                lines.append(Line(_ITEM_INDENT, "", raw, text_style="cyan"))
            continue
        sign, text = raw[:1], " " + raw[1:]
        style = {"+": "green", "-": "red"}.get(sign, "")
        lines.append(Line(_ITEM_INDENT, sign, text, sign_style=style, text_style=style))
    return lines


def _essence_lines(essence: Json, *, sign: str) -> list[Line]:
    """The attributes of a created (``+``) or deleted (``-``) entity.

    Empty values and the name (already in the address) are left out. Documents of a
    created entity are shown in full; of a deleted one, only summarized.
    """
    if not isinstance(essence, dict):
        return [] if essence is None else [Line(_FIELD_INDENT, sign, f" {_value(essence)}")]
    style = _SIGN_STYLE[sign]
    plain: list[Line] = []
    documents: list[Line] = []
    for key, value in _flatten(essence):
        if key == "name" or value in (None, "", [], {}):
            continue
        if _is_document(key, value, value):
            if sign == "+":
                documents.append(_field_header(key, sign))
                documents.extend(_document_lines(key, None, value))
            else:
                plain.append(
                    Line(_FIELD_INDENT, sign, f" {key}: {_document_summary(value)}", sign_style=style)
                )
        elif isinstance(value, list):
            plain.append(_field_header(key, sign))
            plain.extend(Line(_ITEM_INDENT, sign, f" {_item(i)}", sign_style=style) for i in value)
        elif _is_text(value):
            count = len(str(value).splitlines())
            plain.append(Line(_FIELD_INDENT, sign, f" {key}: <text, {count} lines>", sign_style=style))
        else:
            plain.append(Line(_FIELD_INDENT, sign, f" {key}: {_value(value)}", sign_style=style))
    return plain + documents


def _flatten(essence: Mapping[str, Json], prefix: str = "") -> Iterable[tuple[str, Json]]:
    """``(path, value)`` pairs, with mappings that are not documents spread into keys."""
    for key, value in essence.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not _is_document(path, value, value):
            yield from _flatten(value, f"{path}.")
        else:
            yield path, value


def _document_summary(document: Json) -> str:
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if isinstance(statements, list):
        n = len(statements)
        return f"<policy document, {n} statement{'s' if n != 1 else ''}>"
    return "<policy document>"


def _value(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _item(value: Json) -> str:
    return value if isinstance(value, str) else _value(value)


def _param(key: str, value: Json) -> str:
    if key == "SAMLMetadataDocument":
        return "<SAML metadata document>"
    if key.endswith("Document") or (isinstance(value, dict) and "Statement" in value):
        return "<policy document>"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and set(v) == {"Key", "Value"} for v in value):
            return "[" + ", ".join(f"{v['Key']}={_param('', v['Value'])}" for v in value) + "]"
        return "[" + ", ".join(_param("", v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_param(str(k), v)}" for k, v in value.items()) + "}"
    text = str(value)
    if len(text) > _MAX_PARAM_CHARS and not text.startswith("arn:"):
        text = text[: _MAX_PARAM_CHARS - 1] + "…"
    if not text or any(c in text for c in " ,()=[]{}\"'#"):
        return json.dumps(text, ensure_ascii=False)
    return text
