"""``console-user-no-mfa``: a user can sign in to the console without MFA (pure).

Only with ``mfa.console_users: required``. A virtual MFA device assigned since the
credential report was made counts (ListVirtualMFADevices is read live).
"""

from __future__ import annotations

from iamstate.audit import AuditInput, CredentialRow, Level
from iamstate.rules.base import Found, UserRule
from iamstate.rules.live import SECURITY_HUB_IAM


class ConsoleUserNoMfa(UserRule):
    id = "console-user-no-mfa"
    level = Level.HIGH
    order = 630
    summary = "`mfa.console_users: required` and a user has a console password but no MFA device"
    remedy = "have the user assign an MFA device, or delete the console password if it is not needed"
    source = SECURITY_HUB_IAM + "#iam-5"

    def check(self, row: CredentialRow, inp: AuditInput) -> Found:
        if inp.mfa.console_users != "required":
            return
        if row.password_enabled and not row.mfa_active and row.user not in inp.mfa_users:
            yield f"user {row.user} can sign in to the console without MFA (mfa.console_users: required)"
