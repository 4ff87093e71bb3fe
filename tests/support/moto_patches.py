"""Fill gaps in moto's IAM where a test needs behaviour that AWS has.

moto 5 ignores ``PermissionsBoundary`` on CreateUser, has no
PutUserPermissionsBoundary / DeleteUserPermissionsBoundary, and so never returns
a user's boundary from GetUser or GetAccountAuthorizationDetails (``UserDetail``
has a ``PermissionsBoundary`` member on AWS). :func:`install` adds that to the
in-process server, keeping AWS's shapes: ``{"PermissionsBoundaryType":
"PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}``.

moto's UpdateGroup changes a group's path only when it renames the group too;
on AWS ``NewPath`` alone moves it. The patched backend moves it.

moto also builds its ~1,600 AWS-managed policies, parsing the same JSON each
time, for every partition's IAM backend of an account on every reset (about a
second per reset). Tests run in the ``aws`` partition, so the patched backend
builds them only there, from JSON parsed once.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import IAMException, NoSuchEntity
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy, User
from moto.iam.responses import IamResponse
from moto.settings import load_iam_aws_managed_policies

_INSTALLED = False


def _user_boundary(user: Any) -> dict[str, str] | None:
    # moto's serializer looks attributes up by the snake_case of the AWS member name.
    arn = getattr(user, "permissions_boundary_arn", None)
    if not arn:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def _check_boundary(backend: Any, arn: str) -> None:
    if not backend.policy_arn_regex.match(arn):
        raise IAMException(
            "InvalidParameterValue", f"Value ({arn}) for parameter PermissionsBoundary is invalid."
        )
    if arn not in backend.managed_policies:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")


def _set_user_boundary(backend: Any, user_name: str, arn: str | None) -> None:
    user = backend.get_user(user_name)  # NoSuchEntity first, as AWS answers
    if arn:
        _check_boundary(backend, arn)
    user.permissions_boundary_arn = arn


@functools.cache
def _aws_managed_policy_data() -> dict[str, Any]:
    return dict(json.loads(aws_managed_policies_data))


def _init_aws_policies(self: Any) -> list[ManagedPolicy]:
    # IAM backends are keyed by partition: region_name is "aws", "aws-cn", ...
    if not load_iam_aws_managed_policies() or self.region_name != "aws":
        return []
    return [
        AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
        for name, data in _aws_managed_policy_data().items()
    ]


def install() -> None:
    """Patch moto's IAM in this process (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    original_create_user = IamResponse.create_user

    def create_user(self: Any) -> ActionResult:
        boundary = self._get_param("PermissionsBoundary")
        if boundary:
            _check_boundary(self.backend, boundary)
        result = original_create_user(self)
        if boundary:
            _set_user_boundary(self.backend, self._get_param("UserName"), boundary)
        return result

    def put_user_permissions_boundary(self: Any) -> ActionResult:
        _set_user_boundary(self.backend, self._get_param("UserName"), self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_user_permissions_boundary(self: Any) -> ActionResult:
        _set_user_boundary(self.backend, self._get_param("UserName"), None)
        return EmptyResult()

    original_update_group = IAMBackend.update_group

    def update_group(self: Any, group_name: str, new_group_name: str | None, new_path: str | None) -> None:
        original_update_group(self, group_name, new_group_name, new_path)
        if new_path and not new_group_name:
            self.get_group(group_name).path = new_path

    IAMBackend.update_group = update_group  # type: ignore[method-assign]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]
    User.permissions_boundary = property(_user_boundary)  # type: ignore[attr-defined]
    IamResponse.create_user = create_user  # type: ignore[method-assign]
    IamResponse.put_user_permissions_boundary = put_user_permissions_boundary  # type: ignore[attr-defined]
    IamResponse.delete_user_permissions_boundary = delete_user_permissions_boundary  # type: ignore[attr-defined]
    _INSTALLED = True
