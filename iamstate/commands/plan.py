"""``iamstate plan``: diff the config against live IAM (read only) and render the plan."""

from __future__ import annotations

import time

from iamstate.commands.saved import sarif
from iamstate.commands.shared import (
    AwsOptions,
    CommandResult,
    OutputOptions,
    command_time,
    connect,
    log_done,
    make_plan,
    plan_exit_code,
)
from iamstate.render import render


def plan(
    path: str,
    aws: AwsOptions,
    output: OutputOptions,
    *,
    detailed_exitcode: bool = False,
    allow_mass_delete: bool = False,
    at: str | None = None,
) -> CommandResult:
    """Diff the config against live IAM and render the plan; expiry is evaluated as of ``at``
    (RFC 3339) or now."""
    started = time.monotonic()
    now = command_time(at)
    loaded, live, the_plan = make_plan(path, connect(aws), now=now, allow_mass_delete=allow_mass_delete)
    doc = the_plan.to_json()
    log_done("plan", live, the_plan, started)
    files = loaded.config.files
    if output.fmt == "sarif":
        text = sarif(doc, files)
    else:
        text = render(doc, output.fmt, color=output.color, max_chars=output.max_chars, full_plan=output.full)
    extra = {output.sarif_out: sarif(doc, files)} if output.sarif_out is not None else {}
    code = plan_exit_code(the_plan, changes_exit=detailed_exitcode and not the_plan.summary.empty)
    return CommandResult(code, text, doc, files=extra)
