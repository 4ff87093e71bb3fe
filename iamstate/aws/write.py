"""The boto3 executor: performs one planned IAM call, treating "already so" as done.

:class:`Boto3Executor` maps a planned call's operation to the IAM client method,
sends JSON documents as strings, and expands the calls whose targets are only
known at apply time (a user's access keys, MFA devices, ...): it lists them and
makes one call for each.

"Already so" rules, per operation:

- A kind's create operation (``CreateRole``, ``CreateOpenIDConnectProvider``, ...;
  :func:`iamstate.kinds.create_operations`) answered ``EntityAlreadyExists``: done. The existing entity may
  differ from what was asked (created out of band since the plan was read, or by
  an earlier, interrupted apply); the next plan shows any difference and the
  apply after it converges.
- ``Delete*``/``Detach*``/``Remove*``/``Untag*``/``Deactivate*`` answered
  ``NoSuchEntity``: done, the thing is gone (or was never attached).
- ``AddRoleToInstanceProfile`` answered ``LimitExceeded`` because the profile
  already holds this very role: done. Holding another role is an error.
- ``Attach*``, ``Add*`` (but the above), ``Tag*``, ``Put*``, ``Update*`` succeed on
  IAM when already so, so they need no rule.

Every other AWS error goes through :func:`iamstate.apply.classify`; connection
failures and timeouts that outlive botocore's retries are retryable.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from iamstate.apply import CallError, CreatedPrincipals, PermanentError, RetryableError, classify
from iamstate.aws.session import error_code
from iamstate.kinds import create_operations
from iamstate.model import Json
from iamstate.plan import ApiCall

log = structlog.get_logger()

DOCUMENT_PARAMS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument"})
REMOVALS = ("Delete", "Detach", "Remove", "Untag", "Deactivate")
TRANSIENT_TRANSPORT_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)
MAX_LOGGED_CHARS = 120


def already_so(operation: str, code: str) -> bool:
    """True when ``code`` answering ``operation`` means what the call wanted is already true."""
    if code == "EntityAlreadyExists":
        return operation in create_operations()
    if code == "NoSuchEntity":
        # A key deactivated because it is stale and deleted since is as good as inactive.
        return operation.startswith(REMOVALS) or operation == "UpdateAccessKey"
    return False


@dataclass(frozen=True)
class ForEach:
    """A per-user cleanup call planned without its target: list the targets, then call for each."""

    list_operation: str
    result_key: str
    id_param: str
    """The target's id: a member of each listed item and a parameter of the call."""


FOR_EACH = {
    "DeleteAccessKey": ForEach("ListAccessKeys", "AccessKeyMetadata", "AccessKeyId"),
    "DeleteSigningCertificate": ForEach("ListSigningCertificates", "Certificates", "CertificateId"),
    "DeleteSSHPublicKey": ForEach("ListSSHPublicKeys", "SSHPublicKeys", "SSHPublicKeyId"),
    "DeleteServiceSpecificCredential": ForEach(
        "ListServiceSpecificCredentials", "ServiceSpecificCredentials", "ServiceSpecificCredentialId"
    ),
    "DeactivateMFADevice": ForEach("ListMFADevices", "MFADevices", "SerialNumber"),
}


def is_virtual_mfa(serial_number: str) -> bool:
    """Virtual MFA devices have an ARN serial (``arn:aws:iam::ID:mfa/NAME``); hardware ones do not."""
    return serial_number.startswith("arn:") and ":mfa/" in serial_number


def request_params(params: Mapping[str, Json]) -> dict[str, Any]:
    """The planned parameters as boto3 takes them: policy documents as JSON text."""
    return {
        key: json.dumps(value) if key in DOCUMENT_PARAMS and isinstance(value, (dict, list)) else value
        for key, value in params.items()
    }


def _short(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in DOCUMENT_PARAMS:
            out[key] = "<policy document>"
        elif isinstance(value, str) and len(value) > MAX_LOGGED_CHARS:
            out[key] = value[: MAX_LOGGED_CHARS - 1] + "…"
        else:
            out[key] = value
    return out


class Boto3Executor:
    """Performs planned calls with one IAM client (boto3 clients are thread-safe).

    Give the client a connection pool at least as large as apply's parallelism
    (``iamstate.aws.session.iam_client(..., max_pool=N)``).
    """

    def __init__(self, iam: Any, created: CreatedPrincipals | None = None) -> None:
        self._iam = iam
        self._created = created
        """The principals this apply creates: "Invalid principal" is retried for these only."""
        self._methods = {api: method for method, api in iam.meta.method_to_api_mapping.items()}
        self._lock = threading.Lock()
        self._deactivated: dict[str, set[str]] = {}
        """Virtual MFA serial numbers deactivated per user, for DeleteVirtualMFADevice."""

    def execute(self, call: ApiCall) -> None:
        """Make ``call`` so; raise :class:`RetryableError` or :class:`PermanentError`."""
        params = dict(call.params)
        for_each = FOR_EACH.get(call.operation)
        if for_each is not None and for_each.id_param not in params:
            self._for_each(call, for_each, str(params["UserName"]))
        elif call.operation == "DeleteVirtualMFADevice" and "SerialNumber" not in params:
            self._delete_virtual_mfa_devices(call, str(params["UserName"]))
        elif call.operation == "AddRoleToInstanceProfile":
            self._add_role_to_instance_profile(call, params)
        else:
            self._send(call, call.operation, params)

    # --- expansions ----------------------------------------------------------------

    def _for_each(self, call: ApiCall, spec: ForEach, user: str) -> None:
        mfa = call.operation == "DeactivateMFADevice"
        if mfa:
            with self._lock:
                self._deactivated.setdefault(user, set())
        for item in self._list(call, spec.list_operation, spec.result_key, UserName=user):
            target = str(item[spec.id_param])
            self._send(call, call.operation, {"UserName": user, spec.id_param: target})
            if mfa and is_virtual_mfa(target):
                # Recorded at once, so a retry of this call (which lists only what is
                # still assigned) cannot lose a device it already deactivated.
                with self._lock:
                    self._deactivated[user].add(target)

    def _delete_virtual_mfa_devices(self, call: ApiCall, user: str) -> None:
        with self._lock:
            handled = user in self._deactivated
            serials = set(self._deactivated.get(user, ()))
        if not handled:
            # No DeactivateMFADevice for this user ran here (a hand-made plan, say): only
            # devices still assigned to the user can be told apart; deactivate them first.
            for device in self._list(
                call, "ListVirtualMFADevices", "VirtualMFADevices", AssignmentStatus="Assigned"
            ):
                if device.get("User", {}).get("UserName") == user:
                    serial = str(device["SerialNumber"])
                    self._send(call, "DeactivateMFADevice", {"UserName": user, "SerialNumber": serial})
                    serials.add(serial)
                    with self._lock:
                        self._deactivated.setdefault(user, set()).add(serial)
        for serial in sorted(serials):
            self._send(call, "DeleteVirtualMFADevice", {"SerialNumber": serial})
            # Forgotten only once deleted, so that a retry of this call still knows it.
            with self._lock:
                self._deactivated.get(user, set()).discard(serial)

    def _add_role_to_instance_profile(self, call: ApiCall, params: dict[str, Any]) -> None:
        try:
            self._send(call, call.operation, params)
        except PermanentError as error:
            if error.code == "LimitExceeded" and self._profile_holds(call, params):
                log.debug("aws.already", operation=call.operation, params=_short(params))
                return
            raise

    def _profile_holds(self, call: ApiCall, params: Mapping[str, Any]) -> bool:
        name = params["InstanceProfileName"]
        profile = self._send(call, "GetInstanceProfile", {"InstanceProfileName": name})
        roles = (profile or {}).get("InstanceProfile", {}).get("Roles", [])
        wanted = str(params["RoleName"]).lower()
        return any(str(role.get("RoleName", "")).lower() == wanted for role in roles)

    def _list(self, call: ApiCall, operation: str, result_key: str, **params: Any) -> Iterator[Any]:
        """Every item a list operation returns; none when the user is already gone."""
        method = self._methods[operation]
        items: list[Any] = []
        try:
            started = time.monotonic()
            if self._iam.can_paginate(method):
                for page in self._iam.get_paginator(method).paginate(**params):
                    items.extend(page.get(result_key, []))
            else:
                items.extend(getattr(self._iam, method)(**params).get(result_key, []))
            log.debug(
                "aws.call",
                operation=operation,
                params=_short(params),
                seconds=_since(started),
                listed=len(items),
            )
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return iter(())
            raise _call_error(call, operation, error, self._created) from error
        except BotoCoreError as error:
            raise _transport_error(call, operation, error) from error
        return iter(items)

    # --- one request ---------------------------------------------------------------

    def _send(self, call: ApiCall, operation: str, params: Mapping[str, Json]) -> dict[str, Any] | None:
        """One request for ``call``; None when IAM answered that it is already so."""
        method = self._methods.get(operation)
        if method is None:
            raise PermanentError(call, "UnknownOperation", f"IAM has no operation {operation}")
        sent = request_params(params)
        started = time.monotonic()
        try:
            response: dict[str, Any] = getattr(self._iam, method)(**sent)
        except ClientError as error:
            code = error_code(error)
            log.debug(
                "aws.call", operation=operation, params=_short(sent), seconds=_since(started), error=code
            )
            if already_so(operation, code):
                log.debug("aws.already", operation=operation, params=_short(sent), code=code)
                return None
            raise _call_error(call, operation, error, self._created) from error
        except BotoCoreError as error:
            log.debug(
                "aws.call",
                operation=operation,
                params=_short(sent),
                seconds=_since(started),
                error=type(error).__name__,
            )
            raise _transport_error(call, operation, error) from error
        log.debug("aws.call", operation=operation, params=_short(sent), seconds=_since(started))
        return response


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _during(call: ApiCall, operation: str, message: str) -> str:
    return message if operation == call.operation else f"{message} (in {operation})"


def _call_error(
    call: ApiCall, operation: str, error: ClientError, created: CreatedPrincipals | None = None
) -> CallError:
    code = error_code(error) or "Error"
    body = error.response.get("Error", {})
    message = " ".join(str(body.get("Message") or error).split())
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    kind = classify(code, message, status if isinstance(status, int) else None, call=call, created=created)
    if kind is PermanentError and created is not None and "invalid principal" in message.lower():
        _, principal = created.waiting_for(call, message)
        message += (
            f" ({principal or 'the principal'} is not one this apply creates, so waiting will not make IAM "
            "accept it: check its account id and name)"
        )
    return kind(call, code, _during(call, operation, message))


def _transport_error(call: ApiCall, operation: str, error: BotoCoreError) -> CallError:
    kind = RetryableError if isinstance(error, TRANSIENT_TRANSPORT_ERRORS) else PermanentError
    message = " ".join(str(error).split())
    return kind(call, type(error).__name__, _during(call, operation, message))
