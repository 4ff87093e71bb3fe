"""``replace-in-use``: the plan replaces a policy that is attached or is a permissions boundary (pure).

IAM cannot change a managed policy's description or path in place: a replace
deletes it (detaching it from everything first) and creates it again. Apply never
leaves a principal unbounded on the way (boundaries move to a temporary copy), but
attachments are gone between the delete and the re-attach, and every policy that
names the old one by ARN stops matching it.
"""

from __future__ import annotations

from iamstate.model import Kind, LiveAccount
from iamstate.plan import Action, Change, Severity
from iamstate.rules.base import ChangeRule, Found, RuleInput


class ReplaceInUse(ChangeRule):
    id = "replace-in-use"
    severity = Severity.ERROR
    waivable = True
    order = 560
    summary = "the plan replaces a policy that is attached or used as a permissions boundary"
    remedy = (
        "keep the old description and path (IAM cannot change them in place), or move to a policy of "
        "a new name and detach the old one; to replace it anyway, waive replace-in-use with a reason"
    )
    source = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html"

    def check(self, change: Change, live: LiveAccount, data: RuleInput) -> Found:
        if change.action is not Action.REPLACE or change.address.kind is not Kind.POLICY:
            return
        before = live.state.get(change.address)
        arn = str(getattr(before, "arn", ""))
        if not arn:
            return
        attached = sorted(
            str(a) for a, e in live.state.resources.items() if arn in getattr(e, "policies", ())
        )
        bounded = sorted(
            str(a) for a, e in live.state.resources.items() if getattr(e, "permissions_boundary", None) == arn
        )
        uses = []
        if attached:
            uses.append(f"attached to {_some(attached)}")
        if bounded:
            uses.append(f"the permissions boundary of {_some(bounded)}")
        if uses:
            yield f"replaces {change.address} ({change.reason}), which is {' and '.join(uses)}"


def _some(addresses: list[str], shown: int = 5) -> str:
    more = f" and {len(addresses) - shown} more" if len(addresses) > shown else ""
    return ", ".join(addresses[:shown]) + more
