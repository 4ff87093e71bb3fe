"""Saved plans: what a plan was made from, and whether it still is the plan to apply (pure).

A saved plan is an approval, not a script. ``plan --out FILE`` records in the plan's
metadata the iamstate version, the configuration's path, the time the plan was made
as of (``made_at``: the clock, or ``--at``) and two fingerprints: one of the
configuration (desired state and the settings that shape the plan) and one of the
live state the plan depends on (every owned entity with its live-only facts, and
every other entity's use of an owned policy). ``apply --plan FILE`` plans again from
the configuration and live IAM and executes the plan it made itself, and only when
its changes and API calls are identical to the saved ones
(:func:`first_difference`): a call added to the file, or a parameter changed, is
never sent. A fingerprint that differs, or a temporary grant that expired between
``made_at`` and now, makes the saved plan stale.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from iamstate import __version__
from iamstate.calls import ENTITY_KEY
from iamstate.model import DesiredConfig, Json, LiveAccount, to_json
from iamstate.ownership import owned_by
from iamstate.plan import Plan
from iamstate.statefile import fingerprint, state_for_fingerprint
from iamstate.temporary import crossed, format_timestamp, parse_instant


def config_fingerprint(config: DesiredConfig) -> str:
    """A fingerprint of everything in the config that shapes a plan."""
    return fingerprint(
        {
            "state": state_for_fingerprint(config.state),
            "account_id": config.account_id,
            "stack": config.stack,
            "scope": to_json(config.scope),
            "manages_password_policy": config.manages_password_policy,
        }
    )


def live_fingerprint(config: DesiredConfig, live: LiveAccount) -> str:
    """A fingerprint of the live state a plan for ``config`` depends on."""
    ownership = owned_by(config, live.state)
    owned = ownership.owned
    owned_policy_arns = {getattr(r, "arn", "") for r in owned.resources.values()} - {""}
    uses: list[Json] = []
    for address in sorted(ownership.others):
        other = live.state.resources[address]
        if other.kind in ENTITY_KEY:
            boundary = getattr(other, "permissions_boundary", None) or ""
            used = sorted(owned_policy_arns & (set(getattr(other, "policies", ())) | {boundary}))
            if used:
                uses.append([str(address), used])
    return fingerprint(
        {"account_id": live.account_id, "owned": state_for_fingerprint(owned), "uses_of_owned_policies": uses}
    )


def metadata(config: DesiredConfig, live: LiveAccount, config_path: str | None = None) -> dict[str, Json]:
    """The metadata a plan carries so that it can be applied later (``config_path``: the PATH
    it was made from, which ``apply --plan`` uses when no PATH is given)."""
    out: dict[str, Json] = {
        "iamstate_version": __version__,
        "config_fingerprint": config_fingerprint(config),
        "live_fingerprint": live_fingerprint(config, live),
    }
    if config_path is not None:
        out["config_path"] = config_path
    if config.as_of is not None:
        out["made_at"] = format_timestamp(config.as_of)
    return out


def made_at(saved: Plan) -> datetime | None:
    """The time a saved plan was made as of (``metadata.made_at``), None when it does not say."""
    value = saved.metadata.get("made_at")
    return parse_instant(value) if isinstance(value, str) else None


def expiry_reasons(saved: Plan, config: DesiredConfig, now: datetime) -> list[str]:
    """Why time alone makes a saved plan stale ([] when it does not): it was made as of a later
    time than ``now`` (``plan --at``), or a grant of ``config`` expired since it was made."""
    made = made_at(saved)
    if made is None:
        return []
    if made > now:
        return [f"it was made as of {format_timestamp(made)}, later than now ({format_timestamp(now)})"]
    return [
        f"{grant.subject} expired at {grant.until}, after the plan was made ({format_timestamp(made)})"
        for grant in crossed(config.temporary, made, now)
    ]


def stale_reasons(saved: Plan, config: DesiredConfig, live: LiveAccount) -> list[str]:
    """Why a saved plan may no longer be applied ([] when it still may)."""
    meta: Mapping[str, Json] = saved.metadata
    reasons = []
    if saved.account_id != live.account_id:
        reasons.append(f"it was made for account {saved.account_id}, not {live.account_id}")
    if meta.get("config_fingerprint") != config_fingerprint(config):
        reasons.append("the configuration changed since the plan was made")
    if meta.get("live_fingerprint") != live_fingerprint(config, live):
        reasons.append("live IAM changed since the plan was made")
    return reasons


# --- the saved plan against the plan made now ----------------------------------------------

SHOWN_PARAMETER_SUFFIXES = ("Name", "Arn", "Path", "Id", "Url", "Status", "Duration")
"""Parameters whose values a difference shows: names and identifiers. Any other value (a
password, a key, a document) is never printed, whoever wrote it into the file."""
_MAX_SHOWN = 120


def _shown(key: str, value: Json) -> str:
    if (
        key.endswith(SHOWN_PARAMETER_SUFFIXES)
        and isinstance(value, (str, int))
        and not isinstance(value, bool)
    ):
        text = json.dumps(value, ensure_ascii=True)
        return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 2] + '…"'
    return "…"


def call_text(call: Json) -> str:
    """``Operation(Name="x", Password=…)``: a saved call as a difference names it, showing only
    names and identifiers (control characters escaped)."""
    if not isinstance(call, Mapping):
        return json.dumps(call, ensure_ascii=True)[:_MAX_SHOWN]
    operation = json.dumps(str(call.get("operation", "?")), ensure_ascii=True)[1:-1]
    params = call.get("params")
    args = (
        ", ".join(f"{_key(k)}={_shown(str(k), v)}" for k, v in params.items())
        if isinstance(params, Mapping)
        else ""
    )
    return f"{operation}({args})"


def _key(key: object) -> str:
    return json.dumps(str(key), ensure_ascii=True)[1:-1]


def _address(change: Json) -> str:
    address = change.get("address") if isinstance(change, Mapping) else None
    return json.dumps(str(address), ensure_ascii=True)[1:-1]


def first_difference(saved: Mapping[str, Json], made: Mapping[str, Json]) -> str | None:
    """The first way the saved plan differs from the plan made now, in words, or None.

    Both are a plan's JSON form; ``made`` must have been through JSON (lists, not
    tuples). Compared: the account, the stack, and every change as a whole, its API
    calls one by one, parameter by parameter. Findings, the summary and metadata
    are not: the safety rules run again on the plan made now, and the fingerprints
    say whether the plan is stale.
    """
    for key, label in (("account_id", "account"), ("stack", "stack")):
        if saved.get(key) != made.get(key):
            shown = json.dumps(saved.get(key), ensure_ascii=True)[:_MAX_SHOWN]
            return f"it was made for {label} {shown}, not {json.dumps(made.get(key))}"
    saved_changes = saved.get("changes")
    made_changes = list(made.get("changes") or [])
    if not isinstance(saved_changes, list):
        return "its changes are not a list"
    saved_by = {_address(c): c for c in saved_changes}
    made_by = {_address(c): c for c in made_changes}
    for change in saved_changes:
        address = _address(change)
        if address not in made_by:
            action = change.get("action") if isinstance(change, Mapping) else None
            return f"it {_action(action)} {address}, which the plan made now does not change"
        difference = _change_difference(change, made_by[address])
        if difference:
            return f"change {address}: {difference}"
    for change in made_changes:
        address = _address(change)
        if address not in saved_by:
            return f"the plan made now also {_action(change.get('action'))} {address}, which the saved plan does not"
    if [_address(c) for c in saved_changes] != [_address(c) for c in made_changes] or len(
        saved_changes
    ) != len(made_changes):
        return "its changes are listed in another order, or repeated"
    return None


def _action(action: Json) -> str:
    verbs = {
        "create": "creates",
        "update": "updates",
        "delete": "deletes",
        "replace": "replaces",
        "import": "imports",
    }
    return verbs.get(str(action), "changes")


def _change_difference(saved: Json, made: Mapping[str, Json]) -> str | None:
    if not isinstance(saved, Mapping):
        return "it is not an object"
    if saved.get("action") != made.get("action"):
        return f"its action is {_shown('ActionName', saved.get('action'))}, the plan made now {made.get('action')}"
    difference = _calls_difference(saved.get("api_calls"), list(made.get("api_calls") or []))
    if difference:
        return difference
    for key in sorted(set(saved) | set(made)):
        if saved.get(key) != made.get(key):
            return f"its {_key(key)} differs from the plan made now"
    return None


def _calls_difference(saved: Json, made: Sequence[Mapping[str, Json]]) -> str | None:
    if not isinstance(saved, list):
        return "its api_calls are not a list"
    for index in range(max(len(saved), len(made))):
        number = index + 1
        if index >= len(made):
            return f"the saved plan's call {number}, {call_text(saved[index])}, is not in the plan made now"
        if index >= len(saved):
            return (
                f"the plan made now has call {number}, {call_text(made[index])}, which the saved plan lacks"
            )
        ours, theirs = made[index], saved[index]
        if not isinstance(theirs, Mapping):
            return f"call {number} is not an object"
        if theirs.get("operation") != ours.get("operation"):
            return (
                f"call {number} is {call_text(theirs)} in the saved plan, "
                f"{call_text(ours)} in the plan made now"
            )
        saved_params = theirs.get("params")
        made_params = ours.get("params") or {}
        if not isinstance(saved_params, Mapping):
            return f"call {number}, {call_text(ours)}: its params are not an object"
        for key in [*saved_params, *(k for k in made_params if k not in saved_params)]:
            if saved_params.get(key) != made_params.get(key):
                if key not in made_params:
                    what = "is not a parameter of the call the plan made now makes"
                elif key not in saved_params:
                    what = "is missing from the saved plan"
                else:
                    what = f"is {_shown(str(key), saved_params[key])} in the saved plan, {_shown(str(key), made_params[key])} now"
                return f"call {number}, {call_text(ours)}: parameter {_key(key)} {what}"
        for key in sorted(set(theirs) | set(ours)):
            if theirs.get(key) != ours.get(key):
                return f"call {number}, {call_text(ours)}: its {_key(key)} differs from the plan made now"
    return None
