"""``principal-references-break``: the plan replaces or deletes a role or user that policies may name (pure).

When a principal is deleted, AWS rewrites every trust and resource policy that
names its ARN to the principal's unique id; re-creating the same name makes a new
principal that those policies no longer match. The rule names the declared and
live trust policies of this account that mention the ARN; resource policies of
other services (bucket, key, queue policies) cannot be seen from IAM.
"""

from __future__ import annotations

import json

from iamstate.model import Kind, LiveAccount
from iamstate.plan import Action, Change, Severity
from iamstate.rules.base import ChangeRule, Found, RuleInput
from iamstate.rules.changes import REFERENCES


class PrincipalReferencesBreak(ChangeRule):
    id = "principal-references-break"
    severity = Severity.WARNING
    waivable = True
    order = 570
    summary = "the plan replaces or deletes a role or user whose ARN other policies may name"
    remedy = (
        "update the trust and resource policies that name it (S3 bucket, KMS key, SQS queue, other "
        "accounts' roles) after apply: they will hold the old principal's unique id"
    )
    source = REFERENCES

    def check(self, change: Change, live: LiveAccount, data: RuleInput) -> Found:
        if change.action not in (Action.DELETE, Action.REPLACE):
            return
        if change.address.kind not in (Kind.ROLE, Kind.USER):
            return
        entity = live.state.get(change.address)
        arn = str(getattr(entity, "arn", ""))
        if not arn:
            return
        naming = sorted(
            str(address)
            for state in (data.config.state, live.state)
            for address, role in state.resources.items()
            if address.kind is Kind.ROLE
            and address.key != change.address.key
            and arn in json.dumps(getattr(role, "trust", None) or {})
        )
        where = f"; the trust of {', '.join(dict.fromkeys(naming))} names it" if naming else ""
        verb = "replaces" if change.action is Action.REPLACE else "deletes"
        yield (
            f"{verb} {change.address}: policies naming {arn} stop matching it (AWS rewrites them to the "
            f"deleted principal's unique id){where}"
        )
