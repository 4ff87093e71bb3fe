"""``root-no-mfa``: no source says the root user has MFA (pure).

Present when any source says so: the summary's AccountMFAEnabled, the report's
root row, or a virtual device assigned to the root user right now.
"""

from __future__ import annotations

from iamstate.audit import AuditInput, Level
from iamstate.rules.base import Found, Hit, RootRule
from iamstate.rules.live import SECURITY_HUB_IAM


class RootNoMfa(RootRule):
    id = "root-no-mfa"
    level = Level.HIGH
    order = 620
    summary = "the root user has no MFA device; critical when `mfa.root: required`"
    remedy = "sign in as root and assign an MFA device, preferably a hardware key"
    source = SECURITY_HUB_IAM + "#iam-9"

    def check(self, inp: AuditInput) -> Found:
        row = inp.root_row
        summary_mfa = bool(inp.summary.get("AccountMFAEnabled", 0))
        if summary_mfa or inp.root_virtual_mfa or (row is not None and row.mfa_active):
            return
        if inp.mfa.root == "required":
            yield Hit("the root user has no MFA device (mfa.root: required)", level=Level.CRITICAL)
        else:
            yield "the root user has no MFA device"
