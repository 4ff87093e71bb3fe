"""Fill gaps in moto's IAM where a test needs behaviour that AWS has.

moto 5 ignores ``PermissionsBoundary`` on CreateUser, has no
PutUserPermissionsBoundary / DeleteUserPermissionsBoundary, and so never returns
a user's boundary from GetUser or GetAccountAuthorizationDetails (``UserDetail``
has a ``PermissionsBoundary`` member on AWS). :func:`install` adds that to the
in-process server, keeping AWS's shapes: ``{"PermissionsBoundaryType":
"PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}``.

moto's UpdateGroup changes a group's path only when it renames the group too;
on AWS ``NewPath`` alone moves it. The patched backend moves it.

moto has no AddClientIDToOpenIDConnectProvider or
RemoveClientIDFromOpenIDConnectProvider (it answers HTTP 500); on AWS both are
idempotent (adding a registered client id or removing an absent one succeeds),
answer NoSuchEntity for an unknown provider, and cap a provider at 100 client ids
of at most 255 characters. moto's SAML providers take no tags at all (Tags on
CreateSAMLProvider are dropped; TagSAMLProvider, UntagSAMLProvider and
ListSAMLProviderTags answer 500) and always expire in 2032; on AWS GetSAMLProvider
returns the tags, and ValidUntil comes from the metadata's ``validUntil``. The
patched server does the same.

moto keeps a user's tags under the user's ARN, which holds its path, so UpdateUser's
NewPath loses them; on AWS tags stay with the user. The patched backend moves them.

moto has no ListInstanceProfileTags either; AWS answers it with the profile's tags
(NoSuchEntity for an unknown profile).

moto also builds its ~1,600 AWS-managed policies, parsing the same JSON each
time, for every partition's IAM backend of an account on every reset (about a
second per reset). Tests run in the ``aws`` partition, so the patched backend
builds them only there, from JSON parsed once.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
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


MAX_CLIENT_IDS = 100
MAX_CLIENT_ID_CHARS = 255
_VALID_UNTIL = re.compile(r"<(?:\w+:)?EntityDescriptor\b[^>]*\bvalidUntil=\"([^\"]+)\"")


def _client_id(self: Any) -> tuple[Any, str]:
    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    if not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise IAMException("InvalidInput", f"ClientID must be 1 to {MAX_CLIENT_ID_CHARS} characters long.")
    return provider, client_id


def add_client_id_to_open_id_connect_provider(self: Any) -> ActionResult:
    provider, client_id = _client_id(self)
    if client_id not in provider.client_id_list:
        if len(provider.client_id_list) >= MAX_CLIENT_IDS:
            raise IAMException(
                "LimitExceeded",
                f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}",
            )
        provider.client_id_list.append(client_id)
    return EmptyResult()


def remove_client_id_from_open_id_connect_provider(self: Any) -> ActionResult:
    provider, client_id = _client_id(self)
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)
    return EmptyResult()


def _saml_tags(provider: Any) -> dict[str, str]:
    tags: dict[str, str] | None = getattr(provider, "_tags", None)
    if tags is None:
        tags = {}
        provider._tags = tags
    return tags


def _saml_tag_list(provider: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(_saml_tags(provider).items())]


def _saml_valid_until(provider: Any) -> datetime:
    found = _VALID_UNTIL.search(provider.saml_metadata_document or "")
    if found is not None:
        try:
            return datetime.fromisoformat(found.group(1).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime(2032, 5, 9, 16, 27, 11, tzinfo=UTC)


def _tags_param(self: Any) -> list[dict[str, str]]:
    return list(self._get_param("Tags", []) or [])


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

    original_create_saml_provider = IamResponse.create_saml_provider

    def create_saml_provider(self: Any) -> ActionResult:
        result = original_create_saml_provider(self)
        provider = self.backend.saml_providers[self._get_param("Name")]
        _saml_tags(provider).update({t["Key"]: t.get("Value", "") for t in _tags_param(self)})
        return result

    def get_saml_provider(self: Any) -> ActionResult:
        provider = self.backend.get_saml_provider(self._get_param("SAMLProviderArn"))
        return ActionResult(
            {
                "SAMLMetadataDocument": provider.saml_metadata_document,
                "CreateDate": provider.create_date,
                "ValidUntil": _saml_valid_until(provider),
                "Tags": _saml_tag_list(provider),
            }
        )

    def list_saml_providers(self: Any) -> ActionResult:
        listed = [
            {"Arn": p.arn, "ValidUntil": _saml_valid_until(p), "CreateDate": p.create_date}
            for p in self.backend.list_saml_providers()
        ]
        return ActionResult({"SAMLProviderList": listed})

    def tag_saml_provider(self: Any) -> ActionResult:
        provider = self.backend.get_saml_provider(self._get_param("SAMLProviderArn"))
        _saml_tags(provider).update({t["Key"]: t.get("Value", "") for t in _tags_param(self)})
        return EmptyResult()

    def untag_saml_provider(self: Any) -> ActionResult:
        provider = self.backend.get_saml_provider(self._get_param("SAMLProviderArn"))
        for key in self._get_param("TagKeys", []) or []:
            _saml_tags(provider).pop(key, None)
        return EmptyResult()

    def list_saml_provider_tags(self: Any) -> ActionResult:
        provider = self.backend.get_saml_provider(self._get_param("SAMLProviderArn"))
        return ActionResult({"Tags": _saml_tag_list(provider), "IsTruncated": False})

    def list_instance_profile_tags(self: Any) -> ActionResult:
        profile = self.backend.get_instance_profile(profile_name=self._get_param("InstanceProfileName"))
        return ActionResult({"Tags": list(profile.tags or []), "IsTruncated": False})

    IamResponse.list_instance_profile_tags = list_instance_profile_tags  # type: ignore[attr-defined]
    IamResponse.create_saml_provider = create_saml_provider  # type: ignore[method-assign]
    IamResponse.get_saml_provider = get_saml_provider  # type: ignore[method-assign]
    IamResponse.list_saml_providers = list_saml_providers  # type: ignore[method-assign]
    IamResponse.tag_saml_provider = tag_saml_provider  # type: ignore[attr-defined]
    IamResponse.untag_saml_provider = untag_saml_provider  # type: ignore[attr-defined]
    IamResponse.list_saml_provider_tags = list_saml_provider_tags  # type: ignore[attr-defined]
    IamResponse.add_client_id_to_open_id_connect_provider = add_client_id_to_open_id_connect_provider  # type: ignore[attr-defined]
    IamResponse.remove_client_id_from_open_id_connect_provider = (
        remove_client_id_from_open_id_connect_provider  # type: ignore[attr-defined]
    )
    original_update_user = IAMBackend.update_user

    def update_user(
        self: Any, user_name: str, new_path: str | None = None, new_user_name: str | None = None
    ) -> None:
        old_arn = self.get_user(user_name).arn
        kept = self.tagger.list_tags_for_resource(old_arn)["Tags"]
        original_update_user(self, user_name, new_path, new_user_name)
        user = self.get_user(new_user_name or user_name)
        if user.arn != old_arn:
            self.tagger.delete_all_tags_for_resource(old_arn)
            self.tagger.tag_resource(user.arn, kept)

    IAMBackend.update_user = update_user  # type: ignore[method-assign]
    IAMBackend.update_group = update_group  # type: ignore[method-assign]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]
    User.permissions_boundary = property(_user_boundary)  # type: ignore[attr-defined]
    IamResponse.create_user = create_user  # type: ignore[method-assign]
    IamResponse.put_user_permissions_boundary = put_user_permissions_boundary  # type: ignore[attr-defined]
    IamResponse.delete_user_permissions_boundary = delete_user_permissions_boundary  # type: ignore[attr-defined]
    _INSTALLED = True
