"""``multiple-active-keys``: a user has both access keys active (pure)."""

from __future__ import annotations

from iamstate.audit import AuditInput, CredentialRow, Level
from iamstate.rules.account import CIS
from iamstate.rules.base import Found, UserRule


class MultipleActiveKeys(UserRule):
    id = "multiple-active-keys"
    level = Level.LOW
    order = 660
    summary = "a user has two active access keys"
    remedy = "finish the rotation: deactivate and delete the key no longer in use"
    source = CIS + " (1.13: one active access key per user)"

    def check(self, row: CredentialRow, inp: AuditInput) -> Found:
        if len(row.active_keys) > 1:
            yield f"user {row.user} has {len(row.active_keys)} active access keys"
