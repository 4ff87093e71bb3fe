"""``iamstate explain ADDRESS [PATH]``: what one user, group or role can do, and why.

Three views of the principal, all read by the same whole-account analysis the rules use:

- **live** (the default): as it is in the account now, read as ``plan`` reads it (the
  live account and its AWS-managed policies), for on-call people asking what a
  principal can do today; it need not be declared;
- ``--desired``: as apply would leave it (the configuration over the live account),
  for reviewers asking what a change grants;
- ``--offline``: as the configuration declares it, without AWS, AWS-managed policies
  from the built-in table of the high-risk ones (others are listed as not read).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog

from iamstate.analysis.access import explain as explain_principal
from iamstate.analysis.account import AccountAnalysis
from iamstate.commands.shared import AwsOptions, CommandResult, OutputOptions, connect, read_live
from iamstate.config import load_config
from iamstate.diff import build_plan
from iamstate.errors import ExitCode, IamstateError
from iamstate.model import Address, Json, Kind
from iamstate.render.explain import render_explain
from iamstate.rules.base import RuleInput, analyse_input, analyse_live

log = structlog.get_logger()

KINDS = (Kind.USER, Kind.GROUP, Kind.ROLE)
VIEWS = ("live", "desired", "offline")


def explain(
    address_text: str,
    path: str,
    aws: AwsOptions,
    output: OutputOptions,
    *,
    offline: bool = False,
    desired: bool = False,
) -> CommandResult:
    """Explain one principal in the chosen view (see the module docstring)."""
    started = time.monotonic()
    wanted = _address(address_text)
    loaded = load_config(path)
    config = loaded.config
    now = datetime.now(UTC)
    view = "offline" if offline else "desired" if desired else "live"
    if offline:
        analysis = analyse_input(RuleInput(config, now=now))
        account = config.account_id or ""
    else:
        live = read_live(config, connect(aws))
        changes = build_plan(config, live).changes if desired else ()
        data = RuleInput(config, live, changes, now=now)
        found = analyse_input(data) if desired else analyse_live(data)
        assert found is not None
        analysis, account = found, live.account_id
    address = _find(analysis, wanted, view)
    doc: dict[str, Json] = {
        "format_version": "1",
        "view": view,
        "account_id": account,
        "evaluated_at": now.isoformat(timespec="seconds"),
        **explain_principal(analysis, address),
    }
    log.info(
        "explain.done",
        command="explain",
        address=str(address),
        view=view,
        escalations=len(doc["escalations"]),
        seconds=round(time.monotonic() - started, 3),
    )
    return CommandResult(ExitCode.OK, render_explain(doc, output.fmt, color=output.color), doc)


def _address(text: str) -> Address:
    try:
        address = Address.parse(text)
    except ValueError:
        address = None
    if address is None or address.kind not in KINDS:
        raise IamstateError(
            f"{text!r} is not the address of a user, group or role "
            "(write KIND.NAME, e.g. user.alice, group.developers or role.ci-deploy)"
        )
    return address


def _find(analysis: AccountAnalysis, wanted: Address, view: str) -> Address:
    """The analysed principal at ``wanted`` (IAM names match case-insensitively)."""
    for address in analysis.permissions:
        if address.key == wanted.key:
            return address
    where = {
        "live": "in the live account (use --desired for a principal the configuration declares but apply has not made yet)",
        "desired": "in the configuration or the live account",
        "offline": "in the configuration",
    }[view]
    known = sorted(str(a) for a in analysis.permissions if a.kind is wanted.kind)
    close = [k for k in known if wanted.name.lower() in k.lower()][:3]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise IamstateError(f"{wanted} is not {where}{hint}")
