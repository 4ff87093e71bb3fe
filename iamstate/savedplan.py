"""Saved plans: what a plan was made from, and whether that still holds (pure).

``plan --out FILE`` records two fingerprints in the plan's metadata: one of the
configuration (desired state and the settings that shape the plan) and one of the
live state the plan depends on (every owned entity with its live-only facts, and
every other entity's use of an owned policy), and the time the plan was made as
of (``made_at``: the clock, or ``--at``). ``apply --plan FILE`` re-reads both
and refuses when either differs, or when a temporary grant expired between
``made_at`` and now: the saved plan is stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from iamstate import __version__
from iamstate.calls import ENTITY_KEY
from iamstate.model import DesiredConfig, Json, LiveAccount, to_json
from iamstate.ownership import owned_by
from iamstate.plan import Plan
from iamstate.statefile import fingerprint, state_to_json
from iamstate.temporary import crossed, format_timestamp, parse_instant


def config_fingerprint(config: DesiredConfig) -> str:
    """A fingerprint of everything in the config that shapes a plan."""
    return fingerprint(
        {
            "state": state_to_json(config.state),
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
        {"account_id": live.account_id, "owned": state_to_json(owned), "uses_of_owned_policies": uses}
    )


def metadata(config: DesiredConfig, live: LiveAccount) -> dict[str, Json]:
    """The metadata a plan carries so that it can be applied later."""
    out: dict[str, Json] = {
        "iamstate_version": __version__,
        "config_fingerprint": config_fingerprint(config),
        "live_fingerprint": live_fingerprint(config, live),
    }
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
