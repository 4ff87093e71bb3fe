"""``delete-in-use``: the plan deletes a role or user used lately, or a policy others still use (pure).

A role's last use comes with GetAccountAuthorizationDetails (``RoleLastUsed``); a
user's, from the credential report, which plan reads only when it deletes users.
"in use" means within ``safety.in_use_days`` (default 30) of the live read. A customer
policy is in use when something this configuration does not manage holds it
(attached, or as a permissions boundary); what another stack holds is a conflict
before any rule runs.
"""

from __future__ import annotations

from iamstate.model import Kind, LiveAccount
from iamstate.ownership import owned_by
from iamstate.plan import Action, Change, Severity
from iamstate.rules.base import ChangeRule, Found, RuleInput
from iamstate.rules.changes import days_between


class DeleteInUse(ChangeRule):
    id = "delete-in-use"
    severity = Severity.ERROR
    waivable = True
    order = 550
    summary = (
        "the plan deletes a role or user used within `safety.in_use_days` (default 30), or a customer "
        "policy that entities this configuration does not manage still use"
    )
    remedy = (
        "check that nothing depends on it any more; to delete it anyway, declare it with absent: true "
        "and waive delete-in-use there with a reason"
    )
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html"

    def check(self, change: Change, live: LiveAccount, data: RuleInput) -> Found:
        if change.action is not Action.DELETE:
            return
        days = data.config.in_use_days
        entity = live.state.get(change.address)
        if entity is None:
            return
        if change.address.kind is Kind.ROLE:
            used = str(getattr(entity, "last_used", ""))
            ago = days_between(used, live.read_at) if used else None
            if ago is not None and ago <= days:
                yield f"deletes {change.address}, which was assumed {_ago(ago)} ({used[:10]})"
        elif change.address.kind is Kind.USER:
            used = live.user_last_used.get(entity.name, "")
            ago = days_between(used, live.read_at) if used else None
            if ago is not None and ago <= days:
                yield (
                    f"deletes {change.address}, whose password or access key was used {_ago(ago)} "
                    f"({used[:10]})"
                )
        elif change.address.kind is Kind.POLICY:
            arn = str(getattr(entity, "arn", ""))
            owned = owned_by(data.config, live.state).owned.resources
            holders = sorted(
                str(address)
                for address, other in live.state.resources.items()
                if address not in owned and _holds(other, arn)
            )
            if holders:
                yield f"deletes {change.address}, which {', '.join(holders)} still use (not managed here)"


def _holds(entity: object, arn: str) -> bool:
    return bool(arn) and (
        arn in getattr(entity, "policies", ()) or getattr(entity, "permissions_boundary", None) == arn
    )


def _ago(days: float) -> str:
    if days < 1:
        return "within the last day"
    return f"{int(days)} days ago"
