"""The apply lock's calls: take it with CreatePolicy, keep it alive with TagPolicy, drop it with DeletePolicy.

See :mod:`iamstate.lock` for what the lock is. :class:`ApplyLock` takes the lock
(waiting up to ``timeout`` seconds while another run holds it), pushes its expiry
forward every :data:`iamstate.lock.HEARTBEAT` from a background thread while held,
and releases it only while it is still this run's (an ``unlock --force`` and a new
holder since are left alone). A lock whose expiry has passed belongs to a run that
stopped renewing it (killed, or cut off from IAM for longer than
:data:`iamstate.lock.TTL`): it is deleted and taken over.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from iamstate.aws.session import aws_errors, error_code
from iamstate.errors import IamstateError
from iamstate.kinds.base import tags_from
from iamstate.lock import (
    HEARTBEAT,
    LOCK_PATH,
    LockHolder,
    lock_arn,
    lock_document,
    lock_name,
    new_holder,
    renewed,
)

log = structlog.get_logger()

FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 10.0
_VANISHED_RETRIES = 5
"""Times a lock may vanish between a refused create and the read of its holder before
the create is reported as failing."""


class LockHeld(IamstateError):
    """Another run holds the apply lock (and waiting for it, if asked, did not help)."""

    def __init__(self, message: str, holder: LockHolder | None) -> None:
        self.holder = holder
        super().__init__(message)


def utc_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


def read_lock(iam: Any, arn: str) -> LockHolder | None:
    """The holder of the lock at ``arn``, or None when no lock is held."""
    with aws_errors(f"iam:ListPolicyTags ({arn})"):
        try:
            response = iam.list_policy_tags(PolicyArn=arn)
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return None
            raise
    return LockHolder.from_tags(tags_from(response.get("Tags")))


def delete_lock(iam: Any, arn: str) -> bool:
    """Delete the lock at ``arn``; False when there was none."""
    with aws_errors(f"iam:DeletePolicy ({arn})"):
        try:
            iam.delete_policy(PolicyArn=arn)
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return False
            raise
    return True


class ApplyLock:
    """The apply lock of one account and stack, as a context manager that takes and releases it."""

    def __init__(
        self,
        iam: Any,
        *,
        partition: str,
        account_id: str,
        stack: str,
        caller_arn: str,
        timeout: float = 0.0,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._iam = iam
        self.stack = stack
        self.account_id = account_id
        self.arn = lock_arn(partition, account_id, stack)
        self._document = json.dumps(lock_document(partition, account_id))
        self._timeout = timeout
        self._now = now
        self._sleep = sleep
        self._clock = clock
        self.holder = new_holder(caller_arn, uuid.uuid4().hex[:16], socket.gethostname(), now())
        self._held = False
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    # --- taking it -------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; LockHeld when another run keeps it."""
        deadline = self._clock() + self._timeout
        delay = FIRST_POLL_SECONDS
        vanished = 0
        waiting_logged = False
        while True:
            self.holder = new_holder(self.holder.holder, self.holder.run_id, self.holder.host, self._now())
            if self._create():
                self._held = True
                log.info("apply.lock", lock=self.arn, run_id=self.holder.run_id)
                self._start_heartbeat()
                return
            other = read_lock(self._iam, self.arn)
            if other is None:
                vanished += 1
                if vanished <= _VANISHED_RETRIES:
                    continue  # released between the create and the read: try again at once
            elif other.expired(self._now()) and self._take_over(other):
                continue
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise LockHeld(self._held_message(other), other)
            if not waiting_logged:
                log.warning(
                    "apply.lock_wait",
                    lock=self.arn,
                    holder=other.describe(self._now()) if other else "unknown",
                    seconds=round(remaining, 1),
                )
                waiting_logged = True
            self._sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_SECONDS)

    def _create(self) -> bool:
        """CreatePolicy for the lock: True when this run got it, False when it exists."""
        with aws_errors(f"iam:CreatePolicy ({LOCK_PATH}{lock_name(self.stack)}, the apply lock)"):
            try:
                self._iam.create_policy(
                    PolicyName=lock_name(self.stack),
                    Path=LOCK_PATH,
                    PolicyDocument=self._document,
                    Description=f"iamstate apply lock of stack {self.stack}; grants nothing",
                    Tags=self.holder.tags(),
                )
            except ClientError as error:
                if error_code(error) == "EntityAlreadyExists":
                    return False
                raise
        return True

    def _take_over(self, expired: LockHolder) -> bool:
        """Delete a lock whose holder stopped renewing it (killed, or cut off) long enough for it
        to expire, if it is still that holder's; True when it is gone."""
        current = read_lock(self._iam, self.arn)
        if current is not None and current.run_id != expired.run_id:
            return False  # someone took it meanwhile
        log.warning(
            "apply.lock_expired", lock=self.arn, holder=expired.describe(self._now()), message="taking over"
        )
        delete_lock(self._iam, self.arn)
        return True

    def _held_message(self, other: LockHolder | None) -> str:
        who = other.describe(self._now()) if other is not None else "locked by another run"
        waited = f" after waiting {self._timeout:g}s" if self._timeout > 0 else ""
        hint = (
            "wait for that apply to finish, or pass --lock-timeout SECONDS to wait for it; "
            "if no apply is running (it was killed), `iamstate unlock` clears the lock, "
            "and it expires by itself at the time above"
        )
        return (
            f"the apply lock of stack '{self.stack}' in account {self.account_id} is held{waited}: "
            f"{who}. Nothing was written; {hint}."
        )

    # --- keeping it alive ---------------------------------------------------------

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="iamstate-lock-heartbeat", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT.total_seconds()):
            self.holder = renewed(self.holder, self._now())
            try:
                self._iam.tag_policy(PolicyArn=self.arn, Tags=self.holder.tags()[-1:])
            except (ClientError, BotoCoreError) as error:
                log.warning("apply.lock_heartbeat_failed", lock=self.arn, error=str(error))

    # --- releasing it -------------------------------------------------------------

    def release(self) -> None:
        """Delete the lock if this run still holds it; problems are logged, never raised."""
        if not self._held:
            return
        self._held = False
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        try:
            current = read_lock(self._iam, self.arn)
            if current is None:
                log.warning(
                    "apply.lock_gone", lock=self.arn, message="the apply lock was removed by someone else"
                )
                return
            if current.run_id != self.holder.run_id:
                log.warning("apply.lock_taken", lock=self.arn, holder=current.describe())
                return
            delete_lock(self._iam, self.arn)
            log.info("apply.unlock", lock=self.arn, run_id=self.holder.run_id)
        except IamstateError as error:
            log.error(
                "apply.unlock_failed",
                lock=self.arn,
                error=str(error),
                message="the apply lock could not be released; run `iamstate unlock` once this apply is over",
            )

    def __enter__(self) -> ApplyLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
