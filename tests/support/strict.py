"""A strict IAM/STS endpoint on 127.0.0.1: moto's server behind a layer that acts like AWS.

    with StrictIam() as strict:
        strict.throttle_rate = 0.3
        iam = strict.client("iam")
        subprocess.run(["iamstate", "apply"], env=strict.env(os.environ))
        assert not strict.refused()

moto answers most IAM calls as AWS does but lets an apply get its order wrong
without complaint. In front of it this layer

- refuses, as AWS does, with ``409 DeleteConflict``: DeletePolicy while the policy
  is attached, is a permissions boundary or has non-default versions; DeleteGroup
  with members or policies; DeleteUser with a login profile, access keys, signing
  certificates, SSH public keys, service-specific credentials, MFA devices,
  policies or group memberships (a permissions boundary does not block it);
  DeleteRole in an instance profile or with policies; DeleteInstanceProfile while
  it holds a role; DeleteVirtualMFADevice while the device is assigned. And with
  ``409 LimitExceeded``: CreatePolicyVersion on a policy with 5 versions;
- runs writes one at a time (moto can answer 500 with an HTML page under parallel
  writes), each prerequisite check together with its write;
- injects throttling, 503s, latency and chosen errors (``fail_next``);
- records every call (:meth:`StrictIam.calls`);
- can present the caller as the account's root user, with or without root MFA and
  root access keys.

moto has no service-specific credentials at all (every such call is a 500), so the
layer keeps them itself: Create/List/Update/Reset/DeleteServiceSpecificCredential
are answered here (outcome ``"emulated"``) and DeleteUser consults them.

Prerequisites are read from moto directly, not through this layer. Policy
attachments and boundary use come from GetAccountAuthorizationDetails, because
moto's ListEntitiesForPolicy sees only the first 100 roles and moto never counts
``PermissionsBoundaryUsageCount``.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import random
import re
import secrets
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from xml.sax.saxutils import escape

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.moto_server import ACCESS_KEY_ID, HOST, REGION, SECRET_ACCESS_KEY, LocalIam

Outcome = Literal["forwarded", "refused", "injected", "emulated"]
"""What the layer did with a call.

``forwarded``: moto answered. ``refused``: the layer answered an AWS rule moto lacks
(DeleteConflict, LimitExceeded). ``injected``: a fault (throttling, 503,
``fail_next``). ``emulated``: the layer answered in moto's place (root caller
identity, service-specific credentials).
"""

WRITE_PREFIXES = (
    "Add",
    "Attach",
    "Change",
    "Create",
    "Deactivate",
    "Delete",
    "Detach",
    "Disable",
    "Enable",
    "Generate",
    "Put",
    "Remove",
    "Reset",
    "Resync",
    "Set",
    "Tag",
    "Untag",
    "Update",
    "Upload",
)
"""Operation name prefixes that change IAM; everything else is a read."""

_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_STS_VERSION = "2011-06-15"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
# Hop-by-hop headers (RFC 9110 §7.6.1) and the length, which is recomputed.
_NOT_COPIED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_SERVICE_CREDENTIAL_OPERATIONS = frozenset(
    {
        "CreateServiceSpecificCredential",
        "ListServiceSpecificCredentials",
        "UpdateServiceSpecificCredential",
        "ResetServiceSpecificCredential",
        "DeleteServiceSpecificCredential",
    }
)
"""Answered by the layer: moto implements none of them."""
_SERVICE_CREDENTIALS_PER_SERVICE = 2
"""AWS's quota of service-specific credentials per user and service."""


def is_write(operation: str) -> bool:
    """True for an operation that changes IAM (by AWS's naming)."""
    return operation.startswith(WRITE_PREFIXES)


LOCK_PATH = "/iamstate-lock/"
"""Where iamstate keeps its apply lock (iamstate.lock.LOCK_PATH)."""


def is_lock_call(call: Call) -> bool:
    """True for a call on iamstate's apply lock: the marker policy under ``/iamstate-lock/``."""
    return call.params.get("Path") == LOCK_PATH or f":policy{LOCK_PATH}" in call.params.get("PolicyArn", "")


@dataclass(frozen=True)
class Call:
    """One request the layer answered."""

    operation: str
    params: dict[str, str]
    """The Query parameters as sent (``Tags.member.1.Key`` ...), without Action and Version."""
    status: int
    outcome: Outcome
    at: float
    """``time.monotonic()`` when the answer was decided."""
    service: str = "iam"


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    service: str
    operation: str
    params: dict[str, str]


@dataclass
class _Failure:
    code: str
    status: int
    message: str
    remaining: int
    passes: int = 0
    """Calls of the operation to let through before failing."""


@dataclass
class _ServiceCredential:
    user_name: str
    service_name: str
    credential_id: str
    service_user_name: str
    password: str
    status: str
    created: datetime.datetime


class _Refusal(Exception):
    """An AWS rule forbids the call now."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _request_id() -> str:
    return str(uuid.uuid4())


def _error_reply(service: str, code: str, message: str, status: int) -> _Reply:
    # The shape moto (and AWS) use for the Query protocol; botocore reads Error/Code.
    fault = "Sender" if status < 500 else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{_NAMESPACES.get(service, _NAMESPACES["iam"])}">'
        f"<Error><Type>{fault}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{_request_id()}</RequestId></ErrorResponse>"
    )
    return _xml_reply(status, body)


def _result_reply(service: str, operation: str, result_xml: str) -> _Reply:
    body = (
        f'<{operation}Response xmlns="{_NAMESPACES[service]}">'
        f"<{operation}Result>{result_xml}</{operation}Result>"
        f"<ResponseMetadata><RequestId>{_request_id()}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return _xml_reply(200, body)


def _empty_reply(service: str, operation: str) -> _Reply:
    body = (
        f'<{operation}Response xmlns="{_NAMESPACES[service]}">'
        f"<ResponseMetadata><RequestId>{_request_id()}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return _xml_reply(200, body)


def _xml_reply(status: int, body: str) -> _Reply:
    data = body.encode()
    return _Reply(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", _request_id())], data)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _exists(read: Callable[[], object]) -> bool:
    """False when ``read`` answers NoSuchEntity (then moto answers the call itself)."""
    try:
        read()
    except ClientError as error:
        if _error_code(error) == "NoSuchEntity":
            return False
        raise
    return True


class StrictIam:
    """An HTTP endpoint on 127.0.0.1 that enforces AWS's IAM rules in front of moto.

    Without ``moto`` it starts (and stops) a :class:`LocalIam` of its own. ``seed``
    makes injected faults reproducible.
    """

    def __init__(self, moto: LocalIam | None = None, *, seed: int = 0) -> None:
        self._owns_moto = moto is None
        self._moto = moto if moto is not None else LocalIam()
        self._seed = seed
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._endpoint = ""
        self._direct: Any = None  # IAM client on moto itself, for prerequisite checks
        self._session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=REGION
        )
        self._session_lock = threading.Lock()
        # Held around every write with its prerequisite check, and around reset.
        self._write_lock = threading.Lock()
        # Guards settings, the fault generator, records and emulated state.
        self._state_lock = threading.Lock()
        self._random = random.Random(seed)
        self._throttle_rate = 0.0
        self._unavailable_rate = 0.0
        self._latency = 0.0
        self._fault_operations: frozenset[str] | None = None
        self._caller_is_root = False
        self._root_mfa = False
        self._root_access_keys = False
        self._failures: dict[str, list[_Failure]] = {}
        self._records: list[Call] = []
        self._service_credentials: dict[str, _ServiceCredential] = {}

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> StrictIam:
        """Start serving (and moto, if this layer owns it); returns self."""
        if self._server is not None:
            return self
        self._moto.start()
        self._direct = self._moto.client("iam")
        server = _Server((HOST, 0), _Handler, self)
        host, port = server.server_address[:2]
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="strict-iam", daemon=True)
        thread.start()
        self._server = server
        self._thread = thread
        self._endpoint = f"http://{host!s}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); stops moto too if this layer started it."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
            self._thread = None
            self._endpoint = ""
        if self._owns_moto:
            self._moto.stop()

    def reset(self) -> None:
        """A clean account and default settings: no faults, no latency, not root, no records."""
        with self._write_lock:
            self._moto.reset()
            with self._state_lock:
                self._random = random.Random(self._seed)
                self._throttle_rate = 0.0
                self._unavailable_rate = 0.0
                self._latency = 0.0
                self._fault_operations = None
                self._caller_is_root = False
                self._root_mfa = False
                self._root_access_keys = False
                self._failures.clear()
                self._records.clear()
                self._service_credentials.clear()

    def __enter__(self) -> StrictIam:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- reaching it -------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` of the layer."""
        if not self._endpoint:
            raise RuntimeError("StrictIam is not started")
        return self._endpoint

    @property
    def moto(self) -> LocalIam:
        """The moto server behind the layer (calls to it bypass every rule here)."""
        return self._moto

    @property
    def account_id(self) -> str:
        """The account every call lands in."""
        return self._moto.account_id

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Like :meth:`LocalIam.env`, with ``AWS_ENDPOINT_URL`` pointing at this layer."""
        return self._moto.env(base) | {"AWS_ENDPOINT_URL": self.endpoint}

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for ``service`` through this layer, with fake credentials.

        ``config`` goes to botocore's Config; retries default to ``standard`` with
        10 attempts.
        """
        settings: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 10}} | config
        with self._session_lock:
            session: Any = self._session
            return session.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                config=Config(**settings),
            )

    # --- settings (each safe to change while calls are in flight) ----------------

    @property
    def throttle_rate(self) -> float:
        """Share of calls answered ``400 Throttling`` ("Rate exceeded") without reaching moto."""
        with self._state_lock:
            return self._throttle_rate

    @throttle_rate.setter
    def throttle_rate(self, rate: float) -> None:
        with self._state_lock:
            self._throttle_rate = _rate(rate)

    @property
    def unavailable_rate(self) -> float:
        """Share of calls answered ``503 ServiceUnavailable`` without reaching moto."""
        with self._state_lock:
            return self._unavailable_rate

    @unavailable_rate.setter
    def unavailable_rate(self, rate: float) -> None:
        with self._state_lock:
            self._unavailable_rate = _rate(rate)

    @property
    def latency(self) -> float:
        """Seconds each call waits before it is answered."""
        with self._state_lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, got {seconds}")
        with self._state_lock:
            self._latency = seconds

    @property
    def fault_operations(self) -> frozenset[str] | None:
        """Operations that throttling, 503s and latency apply to; None means all."""
        with self._state_lock:
            return self._fault_operations

    @fault_operations.setter
    def fault_operations(self, operations: Iterable[str] | None) -> None:
        with self._state_lock:
            self._fault_operations = None if operations is None else frozenset(operations)

    @property
    def caller_is_root(self) -> bool:
        """When set, STS GetCallerIdentity answers the account's root user."""
        with self._state_lock:
            return self._caller_is_root

    @caller_is_root.setter
    def caller_is_root(self, value: bool) -> None:
        with self._state_lock:
            self._caller_is_root = value

    @property
    def root_mfa(self) -> bool:
        """GetAccountSummary's ``AccountMFAEnabled``."""
        with self._state_lock:
            return self._root_mfa

    @root_mfa.setter
    def root_mfa(self, value: bool) -> None:
        with self._state_lock:
            self._root_mfa = value

    @property
    def root_access_keys(self) -> bool:
        """GetAccountSummary's ``AccountAccessKeysPresent``."""
        with self._state_lock:
            return self._root_access_keys

    @root_access_keys.setter
    def root_access_keys(self, value: bool) -> None:
        with self._state_lock:
            self._root_access_keys = value

    def configure(
        self,
        *,
        throttle_rate: float | None = None,
        unavailable_rate: float | None = None,
        latency: float | None = None,
        operations: Collection[str] | None = None,
        seed: int | None = None,
    ) -> None:
        """Set several fault settings at once; settings left None keep their value.

        ``operations`` is always set: the operations throttling, 503s and latency
        apply to, None meaning all.
        """
        with self._state_lock:
            if throttle_rate is not None:
                self._throttle_rate = _rate(throttle_rate)
            if unavailable_rate is not None:
                self._unavailable_rate = _rate(unavailable_rate)
            if latency is not None:
                if latency < 0:
                    raise ValueError(f"latency must be >= 0, got {latency}")
                self._latency = latency
            self._fault_operations = None if operations is None else frozenset(operations)
            if seed is not None:
                self._random = random.Random(seed)

    def fail_next(
        self,
        operation: str,
        code: str,
        status: int,
        count: int = 1,
        message: str | None = None,
        *,
        after: int = 0,
    ) -> None:
        """Answer the next ``count`` calls of ``operation`` with error ``code``, without reaching moto.

        E.g. ``fail_next("DeleteUser", "AccessDenied", 403)`` for a permanent
        error, ``fail_next("AttachRolePolicy", "NoSuchEntity", 404)`` for IAM's
        eventual consistency, ``fail_next("PutRolePolicy", "ConcurrentModification", 409)``.
        Failures queued for one operation are used in order. ``after`` lets that many calls
        of the operation through first.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        text = message if message is not None else f"Injected {code} for {operation}."
        with self._state_lock:
            self._failures.setdefault(operation, []).append(_Failure(code, status, text, count, after))

    # --- records -----------------------------------------------------------------

    def calls(self, operation: str | None = None, outcome: Outcome | None = None) -> list[Call]:
        """Every call answered so far, in the order answered (writes: the order moto saw them)."""
        with self._state_lock:
            records = list(self._records)
        return [
            c
            for c in records
            if (operation is None or c.operation == operation) and (outcome is None or c.outcome == outcome)
        ]

    def operations(self, outcome: Outcome | None = None) -> list[str]:
        """The operation names of :meth:`calls`, in order."""
        return [c.operation for c in self.calls(outcome=outcome)]

    def writes(self, outcome: Outcome | None = None, *, lock: bool = False) -> list[Call]:
        """The calls that change IAM (whatever their outcome, unless ``outcome`` is given).

        The apply lock's own calls (:func:`is_lock_call`) are left out unless ``lock``:
        most tests look at what apply changed, not at how it serialised itself.
        """
        return [
            c for c in self.calls(outcome=outcome) if is_write(c.operation) and (lock or not is_lock_call(c))
        ]

    def refused(self) -> list[Call]:
        """The calls the layer refused for an AWS rule (DeleteConflict, LimitExceeded)."""
        return self.calls(outcome="refused")

    def clear(self) -> None:
        """Forget the calls recorded so far."""
        with self._state_lock:
            self._records.clear()

    # --- serving -----------------------------------------------------------------

    def handle(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> _Reply:
        """Answer one HTTP request (called by the server's handler threads)."""
        request = _parse(method, path, headers, body)
        if request is None:  # not an IAM/STS action (e.g. moto's own API): pass it on
            return self._forward(method, path, headers, body)
        with self._state_lock:
            in_scope = self._fault_operations is None or request.operation in self._fault_operations
            latency = self._latency if in_scope else 0.0
        if latency:
            time.sleep(latency)  # outside the write lock: latency must not serialise anything
        injected = self._injected(request, in_scope)
        if injected is not None:
            return self._record(request, injected, "injected")
        if is_write(request.operation):
            with self._write_lock:
                return self._answer(request)
        return self._answer(request)

    def _injected(self, request: _Request, in_scope: bool) -> _Reply | None:
        with self._state_lock:
            queued = self._failures.get(request.operation)
            if queued and queued[0].passes:
                queued[0].passes -= 1
                queued = None
            if queued:
                failure = queued[0]
                failure.remaining -= 1
                if failure.remaining == 0:
                    queued.pop(0)
                return _error_reply(request.service, failure.code, failure.message, failure.status)
            if not in_scope:
                return None
            if self._throttle_rate and self._random.random() < self._throttle_rate:
                return _error_reply(request.service, "Throttling", "Rate exceeded", 400)
            if self._unavailable_rate and self._random.random() < self._unavailable_rate:
                return _error_reply(
                    request.service, "ServiceUnavailable", "Service is unavailable. Try again later.", 503
                )
        return None

    def _answer(self, request: _Request) -> _Reply:
        """Check, emulate or forward; for a write, the caller holds the write lock."""
        try:
            self._check(request)
        except _Refusal as refusal:
            return self._record(
                request, _error_reply(request.service, refusal.code, refusal.message, 409), "refused"
            )
        emulated = self._emulate(request)
        if emulated is not None:
            return self._record(request, emulated, "emulated")
        reply = self._forward(request.method, request.path, request.headers, request.body)
        if reply.status == 200 and request.service == "iam":
            reply = self._after(request, reply)
        # Recorded before the write lock is released, so records keep moto's order.
        return self._record(request, reply, "forwarded")

    def _record(self, request: _Request, reply: _Reply, outcome: Outcome) -> _Reply:
        call = Call(
            request.operation, request.params, reply.status, outcome, time.monotonic(), request.service
        )
        with self._state_lock:
            self._records.append(call)
        return reply

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> _Reply:
        target = urllib.parse.urlsplit(self._moto.endpoint)
        connection = http.client.HTTPConnection(target.hostname or HOST, target.port, timeout=60)
        try:
            sent = {name: value for name, value in headers if name.lower() not in _NOT_COPIED}
            sent["Content-Length"] = str(len(body))
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            kept = [(n, v) for n, v in response.getheaders() if n.lower() not in _NOT_COPIED]
            return _Reply(response.status, kept, data)
        finally:
            connection.close()

    # --- AWS's rules ---------------------------------------------------------------

    def _check(self, request: _Request) -> None:
        if request.service != "iam":
            return
        check = _CHECKS.get(request.operation)
        if check is not None:
            check(self, request.params)

    def _delete_policy(self, params: dict[str, str]) -> None:
        arn = params.get("PolicyArn", "")
        iam = self._direct
        if not _exists(lambda: iam.get_policy(PolicyArn=arn)):
            return
        attached: list[str] = []
        boundary_of: list[str] = []
        for page in iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["User", "Group", "Role"]
        ):
            for kind, key, name in (
                ("user", "UserDetailList", "UserName"),
                ("group", "GroupDetailList", "GroupName"),
                ("role", "RoleDetailList", "RoleName"),
            ):
                for entity in page.get(key, []):
                    label = f"{kind}/{entity[name]}"
                    if any(p["PolicyArn"] == arn for p in entity.get("AttachedManagedPolicies", [])):
                        attached.append(label)
                    if entity.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == arn:
                        boundary_of.append(label)
        if attached:
            raise _Refusal(
                "DeleteConflict", f"Cannot delete a policy attached to entities ({', '.join(attached)})."
            )
        if boundary_of:
            raise _Refusal(
                "DeleteConflict",
                "Cannot delete a policy attached to entities as a permissions boundary "
                f"({', '.join(boundary_of)}).",
            )
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        if any(not v["IsDefaultVersion"] for v in versions):
            raise _Refusal(
                "DeleteConflict",
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy.",
            )

    def _create_policy_version(self, params: dict[str, str]) -> None:
        arn = params.get("PolicyArn", "")
        iam = self._direct
        if not _exists(lambda: iam.get_policy(PolicyArn=arn)):
            return
        if len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) >= 5:
            raise _Refusal(
                "LimitExceeded",
                "A managed policy can have up to 5 versions. Before you create a new version, "
                "you must delete an existing version.",
            )

    def _delete_group(self, params: dict[str, str]) -> None:
        name = params.get("GroupName", "")
        iam = self._direct
        try:
            members = iam.get_group(GroupName=name)["Users"]
        except ClientError as error:
            if _error_code(error) == "NoSuchEntity":
                return
            raise
        if members:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must remove users from group first.")
        if iam.list_group_policies(GroupName=name)["PolicyNames"]:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must delete policies first.")
        if iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must detach all policies first.")

    def _delete_user(self, params: dict[str, str]) -> None:
        name = params.get("UserName", "")
        iam = self._direct
        if not _exists(lambda: iam.get_user(UserName=name)):
            return
        if _exists(lambda: iam.get_login_profile(UserName=name)):
            raise _Refusal("DeleteConflict", "Cannot delete entity, must delete login profile first.")
        blockers: list[tuple[Callable[[], object], str]] = [
            (lambda: iam.list_access_keys(UserName=name)["AccessKeyMetadata"], "access keys"),
            (lambda: iam.list_signing_certificates(UserName=name)["Certificates"], "signing certificates"),
            (lambda: iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"], "SSH public keys"),
            (lambda: self._service_credentials_of(name), "service-specific credentials"),
            (lambda: iam.list_mfa_devices(UserName=name)["MFADevices"], "MFA devices"),
            (lambda: iam.list_user_policies(UserName=name)["PolicyNames"], "policies"),
        ]
        for listed, what in blockers:
            if listed():
                raise _Refusal("DeleteConflict", f"Cannot delete entity, must delete {what} first.")
        if iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must detach all policies first.")
        if iam.list_groups_for_user(UserName=name)["Groups"]:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must remove user from all groups first.")

    def _delete_role(self, params: dict[str, str]) -> None:
        name = params.get("RoleName", "")
        iam = self._direct
        if not _exists(lambda: iam.get_role(RoleName=name)):
            return
        if iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
            raise _Refusal(
                "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first."
            )
        if iam.list_role_policies(RoleName=name)["PolicyNames"]:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must delete policies first.")
        if iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            raise _Refusal("DeleteConflict", "Cannot delete entity, must detach all policies first.")

    def _delete_instance_profile(self, params: dict[str, str]) -> None:
        name = params.get("InstanceProfileName", "")
        try:
            profile = self._direct.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        except ClientError as error:
            if _error_code(error) == "NoSuchEntity":
                return
            raise
        if profile["Roles"]:
            raise _Refusal(
                "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first."
            )

    def _delete_virtual_mfa_device(self, params: dict[str, str]) -> None:
        serial = params.get("SerialNumber", "")
        assigned = self._direct.get_paginator("list_virtual_mfa_devices").paginate(
            AssignmentStatus="Assigned"
        )
        for page in assigned:
            if any(d["SerialNumber"] == serial for d in page["VirtualMFADevices"]):
                raise _Refusal("DeleteConflict", "MFA device is in use; deactivate it first.")

    # --- what moto lacks or reports differently ----------------------------------------

    def _emulate(self, request: _Request) -> _Reply | None:
        if request.service == "sts" and request.operation == "GetCallerIdentity":
            with self._state_lock:
                as_root = self._caller_is_root
            if as_root:
                account = self.account_id
                return _result_reply(
                    "sts",
                    "GetCallerIdentity",
                    f"<Arn>arn:aws:iam::{account}:root</Arn><UserId>{account}</UserId>"
                    f"<Account>{account}</Account>",
                )
            return None
        if request.service == "iam" and request.operation in _SERVICE_CREDENTIAL_OPERATIONS:
            return self._service_specific_credential(request)
        return None

    def _after(self, request: _Request, reply: _Reply) -> _Reply:
        if request.operation == "GetAccountSummary":
            with self._state_lock:
                flags = {
                    "AccountMFAEnabled": self._root_mfa,
                    "AccountAccessKeysPresent": self._root_access_keys,
                }
            text = reply.body.decode()
            for key, value in flags.items():
                text = re.sub(
                    rf"(<key>\s*{key}\s*</key>\s*<value>)\s*\d+\s*(</value>)",
                    rf"\g<1>{int(value)}\g<2>",
                    text,
                )
            return _Reply(reply.status, reply.headers, text.encode())
        if request.operation == "UpdateUser" and request.params.get("NewUserName"):
            old, new = request.params.get("UserName", ""), request.params["NewUserName"]
            with self._state_lock:
                for credential in self._service_credentials.values():
                    if credential.user_name == old:
                        credential.user_name = new
        return reply

    def _service_credentials_of(self, user_name: str) -> list[_ServiceCredential]:
        with self._state_lock:
            return [c for c in self._service_credentials.values() if c.user_name == user_name]

    def _service_specific_credential(self, request: _Request) -> _Reply:
        operation, params = request.operation, request.params
        user_name = params.get("UserName", "")
        if user_name and not _exists(lambda: self._direct.get_user(UserName=user_name)):
            return _error_reply(
                "iam", "NoSuchEntity", f"The user with name {user_name} cannot be found.", 404
            )
        if operation == "ListServiceSpecificCredentials":
            service = params.get("ServiceName")
            listed = [
                c
                for c in self._service_credentials_of(user_name)
                if service is None or c.service_name == service
            ]
            members = "".join(f"<member>{_credential_xml(c, with_password=False)}</member>" for c in listed)
            return _result_reply(
                "iam",
                operation,
                f"<ServiceSpecificCredentials>{members}</ServiceSpecificCredentials><IsTruncated>false</IsTruncated>",
            )
        if operation == "CreateServiceSpecificCredential":
            service = params.get("ServiceName", "")
            same = [c for c in self._service_credentials_of(user_name) if c.service_name == service]
            if len(same) >= _SERVICE_CREDENTIALS_PER_SERVICE:
                return _error_reply(
                    "iam",
                    "LimitExceeded",
                    f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
                    f"{_SERVICE_CREDENTIALS_PER_SERVICE}",
                    409,
                )
            credential = _ServiceCredential(
                user_name=user_name,
                service_name=service,
                credential_id="ACCA" + secrets.token_hex(8).upper(),
                service_user_name=f"{user_name}-at-{self.account_id}",
                password=secrets.token_urlsafe(30),
                status="Active",
                created=datetime.datetime.now(datetime.UTC),
            )
            with self._state_lock:
                self._service_credentials[credential.credential_id] = credential
            return _result_reply(
                "iam",
                operation,
                f"<ServiceSpecificCredential>{_credential_xml(credential, with_password=True)}"
                "</ServiceSpecificCredential>",
            )
        credential_id = params.get("ServiceSpecificCredentialId", "")
        with self._state_lock:
            found = self._service_credentials.get(credential_id)
            if found is None or (user_name and found.user_name != user_name):
                found = None
            elif operation == "DeleteServiceSpecificCredential":
                del self._service_credentials[credential_id]
            elif operation == "UpdateServiceSpecificCredential":
                found.status = params.get("Status", found.status)
            elif operation == "ResetServiceSpecificCredential":
                found.password = secrets.token_urlsafe(30)
        if found is None:
            return _error_reply(
                "iam", "NoSuchEntity", f"No such credential {credential_id} for user {user_name}.", 404
            )
        if operation == "ResetServiceSpecificCredential":
            return _result_reply(
                "iam",
                operation,
                f"<ServiceSpecificCredential>{_credential_xml(found, with_password=True)}"
                "</ServiceSpecificCredential>",
            )
        return _empty_reply("iam", operation)


_CHECKS: dict[str, Callable[[StrictIam, dict[str, str]], None]] = {
    "DeletePolicy": StrictIam._delete_policy,
    "CreatePolicyVersion": StrictIam._create_policy_version,
    "DeleteGroup": StrictIam._delete_group,
    "DeleteUser": StrictIam._delete_user,
    "DeleteRole": StrictIam._delete_role,
    "DeleteInstanceProfile": StrictIam._delete_instance_profile,
    "DeleteVirtualMFADevice": StrictIam._delete_virtual_mfa_device,
}


def _credential_xml(credential: _ServiceCredential, *, with_password: bool) -> str:
    password = f"<ServicePassword>{escape(credential.password)}</ServicePassword>" if with_password else ""
    created = credential.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<UserName>{escape(credential.user_name)}</UserName>"
        f"<Status>{credential.status}</Status>"
        f"<ServiceUserName>{escape(credential.service_user_name)}</ServiceUserName>"
        f"{password}"
        f"<CreateDate>{created}</CreateDate>"
        f"<ServiceSpecificCredentialId>{credential.credential_id}</ServiceSpecificCredentialId>"
        f"<ServiceName>{escape(credential.service_name)}</ServiceName>"
    )


def _rate(rate: float) -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"a rate is between 0 and 1, got {rate}")
    return rate


def _parse(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> _Request | None:
    """The Query-protocol action of a request, or None for anything else."""
    header = {name.lower(): value for name, value in headers}
    query = urllib.parse.urlsplit(path).query
    fields = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if body and header.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        fields += urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    params = dict(fields)
    operation = params.pop("Action", "")
    if not operation:
        return None
    version = params.pop("Version", "")
    scope = _CREDENTIAL_SCOPE.search(header.get("authorization", ""))
    # The signature's credential scope names the service; unsigned, the API version does.
    by_version = "sts" if version == _STS_VERSION else "iam"
    service = scope.group(1) if scope is not None else by_version
    return _Request(method, path, headers, body, service, operation, params)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], strict: StrictIam
    ) -> None:
        super().__init__(address, handler)
        self.strict = strict
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End keep-alive connections, whose handler threads would otherwise serve on."""
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects of AWS
    # Headers and body go out in separate writes; with Nagle's algorithm and delayed
    # ACKs each keep-alive response would wait ~40 ms.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        assert isinstance(server, _Server)
        try:
            reply = server.strict.handle(self.command, self.path, list(self.headers.items()), body)
        except Exception as error:  # a bug here must reach the test as a failure, not a hang
            reply = _error_reply("iam", "StrictLayerError", f"{type(error).__name__}: {error}", 500)
        self.send_response_only(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per request would drown test output."""
