"""``iamstate show PLANFILE``: render a saved plan (or drift report) in any format; no AWS.

A pipeline plans once (``plan --out plan.json``) and renders the comment, the job
summary or the SARIF from that file, so that what is posted is what was planned.
"""

from __future__ import annotations

from pathlib import Path

from iamstate.commands.options import CommandResult, OutputOptions
from iamstate.commands.saved import read_plan_file, sarif
from iamstate.errors import ExitCode, IamstateError
from iamstate.model import Json
from iamstate.plan import Plan
from iamstate.render import render
from iamstate.render.sarif import parse_location


def show(planfile: Path, output: OutputOptions) -> CommandResult:
    """Render the plan ``plan --out`` (or the report ``drift --out``) wrote to ``planfile``."""
    doc = read_plan_file(planfile)
    report = "live_findings" in doc and isinstance(doc.get("plan"), dict)
    plan_doc = doc["plan"] if report else doc
    try:
        Plan.from_json(plan_doc)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise IamstateError(f"{planfile} is not a plan written by `iamstate plan --out`: {error}") from None
    full = str(planfile)
    if output.fmt == "sarif":
        text = sarif(plan_doc, _files(plan_doc))
    elif report:
        from iamstate.render.report import render_report  # a drift report's renderer, for reports alone

        text = render_report(
            doc, output.fmt, color=output.color, max_chars=output.max_chars, full_report=full
        )
    else:
        text = render(doc, output.fmt, color=output.color, max_chars=output.max_chars, full_plan=full)
    return CommandResult(ExitCode.OK, text, None)


def _files(plan: dict[str, Json]) -> list[str]:
    """The configuration files the plan's findings name, in order: where SARIF puts findings
    about the plan as a whole (a saved plan does not list the configuration's files)."""
    files: list[str] = []
    for finding in plan.get("findings") or []:
        location = str(finding.get("location", ""))
        if parse_location(location) is not None:
            file = location.rsplit(":", 2)[0]
            if file not in files:
                files.append(file)
    return files
