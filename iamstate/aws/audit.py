"""Read what the live audit needs: the account summary, one credential report, MFA devices.

The cost is fixed, not per user: one GetAccountSummary, GenerateCredentialReport
until the report is COMPLETE (a few polls with bounded backoff), one
GetCredentialReport, and ListVirtualMFADevices pages of 1,000. Only
``credentials.stale_access_keys: deactivate`` adds calls: one ListAccessKeys per
user whose report row shows a stale key, because the report names keys by slot,
not by id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from botocore.exceptions import ClientError

from iamstate.audit import CredentialRow, ListedKey, parse_credential_report
from iamstate.aws.session import aws_errors, error_code
from iamstate.errors import AwsError

log = structlog.get_logger()

PAGE_SIZE = 1000
FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 8.0
REPORT_TIMEOUT_SECONDS = 120.0
"""How long to wait for AWS to generate the credential report before giving up."""
NOT_READY = frozenset({"ReportInProgress", "ReportNotPresent", "ReportExpired", "LimitExceeded"})
"""Errors that mean "the report is not ready (yet, or any more)": generate and poll again."""


@dataclass(frozen=True)
class CredentialReport:
    """The parsed credential report and when AWS generated it."""

    rows: tuple[CredentialRow, ...]
    generated_time: str = ""
    polls: int = 1
    """GenerateCredentialReport calls it took."""


def read_credential_report(
    iam: Any,
    *,
    timeout: float = REPORT_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CredentialReport:
    """Generate (or reuse) the account's credential report, wait until it is COMPLETE, read it.

    Polls GenerateCredentialReport with exponential backoff (0.25 s doubling to
    8 s) for at most ``timeout`` seconds; AWS reuses a report up to four hours
    old, so the first call usually answers COMPLETE.
    """
    started = clock()
    delay = FIRST_DELAY_SECONDS
    polls = 0
    while True:
        polls += 1
        state = _generate(iam)
        if state == "COMPLETE":
            content = _get(iam)
            if content is not None:
                text, generated = content
                try:
                    rows = parse_credential_report(text)
                except ValueError as error:
                    raise AwsError(
                        f"iam:GetCredentialReport returned an unreadable report: {error}"
                    ) from None
                log.debug("audit.credential_report", polls=polls, rows=len(rows), generated_time=generated)
                return CredentialReport(rows, generated, polls)
        if clock() - started + delay > timeout:
            raise AwsError(
                f"iam:GenerateCredentialReport: the credential report was not ready after {polls} "
                f"polls in {round(clock() - started)} s; try again later"
            )
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY_SECONDS)


def _generate(iam: Any) -> str:
    with aws_errors("iam:GenerateCredentialReport"):
        try:
            return str(iam.generate_credential_report().get("State", ""))
        except ClientError as error:
            if error_code(error) in NOT_READY:
                return "STARTED"
            raise


def _get(iam: Any) -> tuple[str, str] | None:
    """The report's CSV text and generation time; None when it is not ready."""
    with aws_errors("iam:GetCredentialReport"):
        try:
            response = iam.get_credential_report()
        except ClientError as error:
            if error_code(error) in NOT_READY:
                return None
            raise
    content = response.get("Content", b"")
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    generated = response.get("GeneratedTime")
    when = generated.astimezone(UTC).isoformat() if isinstance(generated, datetime) else str(generated or "")
    return text, when


def read_account_summary(iam: Any) -> dict[str, int]:
    """GetAccountSummary's SummaryMap (AccountMFAEnabled, AccountAccessKeysPresent, ...)."""
    with aws_errors("iam:GetAccountSummary"):
        summary: Mapping[str, Any] = iam.get_account_summary().get("SummaryMap", {})
    return {str(k): int(v) for k, v in summary.items()}


@dataclass(frozen=True)
class MfaAssignments:
    """Who a virtual MFA device is assigned to right now."""

    users: frozenset[str]
    root: bool


def read_virtual_mfa_assignments(iam: Any) -> MfaAssignments:
    """Users (and whether the root user) holding an assigned virtual MFA device, in pages of 1,000.

    The credential report can be hours old; this is current, so a user who just
    assigned a virtual device is not reported.
    """
    users: set[str] = set()
    root = False
    with aws_errors("iam:ListVirtualMFADevices"):
        paginator = iam.get_paginator("list_virtual_mfa_devices")
        for page in paginator.paginate(AssignmentStatus="Assigned", PaginationConfig={"PageSize": PAGE_SIZE}):
            for device in page.get("VirtualMFADevices", []):
                user = device.get("User") or {}
                if str(user.get("Arn", "")).endswith(":root"):
                    root = True
                elif user.get("UserName"):
                    users.add(str(user["UserName"]))
    return MfaAssignments(frozenset(users), root)


def list_access_keys(iam: Any, user: str) -> list[ListedKey]:
    """A user's access keys with status and creation time; [] when the user is gone."""
    keys: list[ListedKey] = []
    with aws_errors(f"iam:ListAccessKeys ({user})"):
        try:
            for page in iam.get_paginator("list_access_keys").paginate(UserName=user):
                for item in page.get("AccessKeyMetadata", []):
                    created = item.get("CreateDate")
                    keys.append(
                        ListedKey(
                            str(item["AccessKeyId"]),
                            str(item.get("Status", "")),
                            created.astimezone(UTC) if isinstance(created, datetime) else None,
                        )
                    )
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return []
            raise
    return keys
