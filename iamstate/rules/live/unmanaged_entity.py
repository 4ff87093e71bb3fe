"""``unmanaged-entity``: an entity in scope that is neither declared nor tagged for this stack (pure).

Plan leaves it alone and never deletes it; drift reports it, since IAM made by hand
in a scope a configuration owns is what on-call people want to hear about.
CloudFormation's entities and protected ones are another tool's, and not reported.
"""

from __future__ import annotations

from iamstate.audit import AuditInput, Level
from iamstate.plan import Unmanaged
from iamstate.rules.base import Found, UnmanagedEntityRule


class UnmanagedEntity(UnmanagedEntityRule):
    id = "unmanaged-entity"
    level = Level.MEDIUM
    order = 690
    summary = (
        "an entity in scope is neither declared nor tagged for this stack (made by hand, or by another tool)"
    )
    remedy = (
        "declare it (or `iamstate import` it) to manage it, declare it `absent: true` to delete it, "
        "or add it to scope.ignore"
    )
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"

    def check(self, entry: Unmanaged, inp: AuditInput) -> Found:
        if entry.standing == "unmanaged":
            yield f"{entry.address} is in scope but neither declared nor tagged for this stack"
