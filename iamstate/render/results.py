"""Text for what commands report besides plans: validate's verdict, apply's result, import's
summary, each built only from the command's JSON form.

Pure: no boto3, typer or file I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.model import Json
from iamstate.render import escape
from iamstate.render.text import finding_lines, format_call


def validate_text(doc: Mapping[str, Json], *, color: bool) -> str:
    """Validate's findings, then one line: valid or refused, the files and the entities per kind."""
    lines = [line for f in doc.get("findings") or [] for line in finding_lines(f, color=color)]
    verdict = "valid" if doc.get("valid") else "refused by safety rules"
    lines.append(f"Configuration {verdict}: {len(doc.get('files') or [])} file(s); {_entities(doc)}.")
    return "\n".join(lines) + "\n"


def apply_text(doc: Mapping[str, Json], summary: Mapping[str, Json] | None = None) -> str:
    """Apply's result. When all went well, Terraform's line with the plan's ``summary`` counts
    (``Apply complete! Resources: 1 imported, 2 added, 0 changed, 1 destroyed.``, the imports
    only when there are any, as Terraform prints it; what Atlantis and tfcmt read), then the
    count of API calls; else what was and was not done."""
    done = list(doc.get("done") or [])
    failed = list(doc.get("failed") or [])
    not_started = list(doc.get("not_started") or [])
    made, total = len(done), len(done) + len(failed) + len(not_started)
    if doc.get("ok"):
        calls = f"{made} API call{'s' if made != 1 else ''} made."
        if summary is None:
            return f"Apply complete! {calls}\n"
        counts = {key: int(summary.get(key) or 0) for key in ("import", "add", "change", "destroy")}
        imported = f"{counts['import']} imported, " if counts["import"] else ""
        resources = (
            f"Resources: {imported}{counts['add']} added, {counts['change']} changed, "
            f"{counts['destroy']} destroyed."
        )
        return f"Apply complete! {resources}\n{calls}\n"
    if failed and not doc.get("interrupted"):
        headline = f"Apply failed: {_call(failed[0])}: {escape.text(failed[0]['error'])}"
    else:
        headline = f"Apply interrupted: {made} of {total} calls made."
    lines = [headline, f"What was done ({made} of {total} calls):"]
    lines += [f"  {_call(d)}" for d in done] or ["  nothing"]
    lines.append(f"What was not ({len(failed) + len(not_started)} calls):")
    lines += [f"  {_call(f)}  [failed: {escape.text(f['error'])}]" for f in failed]
    lines += [f"  {_call(n)}  [not started]" for n in not_started]
    if failed:
        lines.append("Run apply again to converge, after fixing the failure above.")
    else:
        lines.append("Run apply again to converge.")
    return "\n".join(lines) + "\n"


def import_text(doc: Mapping[str, Json]) -> str:
    """Import's summary: one line per file written, the warnings, and a closing line."""
    files = list(doc.get("files") or [])
    warnings = list(doc.get("warnings") or [])
    lines = [f"  wrote {escape.text(path)}" for path in files]
    lines += [f"  warning: {escape.text(warning)}" for warning in warnings]
    lines.append(f"Imported {_entities(doc)} into {len(files)} file(s).")
    if warnings:
        lines.append("Review the warnings, then run `iamstate plan` on the directory.")
    return "\n".join(lines) + "\n"


def _call(entry: Mapping[str, Json]) -> str:
    return f"{escape.text(entry['address'])}: {format_call(entry)}"


def _entities(doc: Mapping[str, Json]) -> str:
    described = ", ".join(f"{escape.text(kind)}: {n}" for kind, n in (doc.get("entities") or {}).items() if n)
    return described or "no entities"
