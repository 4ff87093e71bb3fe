"""``review-overdue``: a user, role or policy is past its ``review_by`` date (pure)."""

from __future__ import annotations

from iamstate.model import Address, Kind, Resource
from iamstate.plan import Severity
from iamstate.rules.access import AWS_TEMPORARY_ACCESS
from iamstate.rules.base import EntityRule, Found, RuleInput
from iamstate.temporary import duration_text


class ReviewOverdue(EntityRule):
    id = "review-overdue"
    severity = Severity.WARNING
    order = 820
    kinds = (Kind.USER, Kind.ROLE, Kind.POLICY)
    summary = "a user, role or policy is past its `review_by` date"
    remedy = "review who needs the access and why, then set review_by to the next review date (or remove the entity)"
    source = AWS_TEMPORARY_ACCESS

    def check(self, entity: Resource, data: RuleInput) -> Found:
        now = data.config.as_of
        review = data.config.reviews.get(Address(entity.kind, entity.name))
        if now is not None and review is not None and now >= review.due:
            yield f"was due for review by {review.written} (overdue by {duration_text(now - review.due)})"
