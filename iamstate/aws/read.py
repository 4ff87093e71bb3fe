"""Read the whole live IAM state of an account into the model.

The cost grows with pages, not entities (SPEC §4): one GetCallerIdentity,
GetAccountAuthorizationDetails pages, ListRoles pages (GAAD has no role description
or maximum session duration), ListInstanceProfiles pages (GAAD shows profiles only
through their roles), one GetAccountPasswordPolicy, and one ListPolicyTags per
customer policy that the caller owns (GAAD returns no policy tags). No per-role or
per-user calls.

Instance-profile tags are not read: ListInstanceProfiles does not return them on
AWS ("this operation does not return tags", IAM API reference), and a
GetInstanceProfile per profile would be a per-entity read. Live instance profiles
therefore always have empty ``tags``.

The ``*_from_*`` functions and :func:`state_from_responses` turn API response
dicts into model objects; they are pure, so they are tested without an endpoint.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import structlog
from botocore.exceptions import ClientError

from iamstate.aws.session import CallCounter, aws_errors, error_code
from iamstate.errors import AwsError
from iamstate.model import (
    PASSWORD_POLICY_ADDRESS,
    Address,
    Group,
    InstanceProfile,
    Json,
    LiveAccount,
    ManagedPolicy,
    PasswordPolicy,
    PolicyVersion,
    Resource,
    Role,
    State,
    User,
    address_of,
)
from iamstate.policy import normalize

log = structlog.get_logger()

Response = Mapping[str, Any]
OwnsPolicy = Callable[[str, str], bool]

AUTHORIZATION_DETAILS_FILTER = ("User", "Role", "Group", "LocalManagedPolicy")
"""Everything but AWS-managed policies, which are never owned and number over a thousand."""

PAGE_SIZE = 1000
"""IAM's largest MaxItems; the default of 100 would multiply the page count by ten."""

DETAIL_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")

DEFAULT_MAX_SESSION_DURATION = 3600


def read_account(
    iam: Any,
    sts: Any,
    *,
    owns_policy: OwnsPolicy = lambda path, name: True,
    tag_concurrency: int = 8,
    check_identity: Callable[[str, str], None] | None = None,
) -> LiveAccount:
    """Read every user, group, role, customer policy, instance profile and the password policy.

    ``owns_policy(path, name)`` selects the customer policies whose tags are read
    (one ListPolicyTags each, at most ``tag_concurrency`` at a time); other
    policies are returned with empty tags. The independent list calls run in the
    same bounded pool while GetAccountAuthorizationDetails pages in this thread.
    ``check_identity(account_id, caller_arn)`` runs right after GetCallerIdentity and
    may raise to stop before anything else is read (wrong account, root caller).
    Raises :class:`AwsError` with a one-line message when a call fails.
    """
    if tag_concurrency < 1:
        raise ValueError("tag_concurrency must be at least 1")
    counter = CallCounter()
    counter.attach(iam, sts)
    started = time.monotonic()
    try:
        with aws_errors("sts:GetCallerIdentity"):
            identity = sts.get_caller_identity()
        caller_arn = str(identity["Arn"])
        account_id = str(identity["Account"])
        partition = partition_of(caller_arn)
        log.debug("read.identity", account_id=account_id, caller_arn=caller_arn)
        if check_identity is not None:
            check_identity(account_id, caller_arn)

        with ThreadPoolExecutor(max_workers=tag_concurrency, thread_name_prefix="iamstate-read") as pool:
            try:
                roles_future = pool.submit(_list_all, iam, "ListRoles", "Roles")
                profiles_future = pool.submit(_list_all, iam, "ListInstanceProfiles", "InstanceProfiles")
                password_future = pool.submit(_read_password_policy, iam)
                details = _read_authorization_details(iam)
                owned_arns = [
                    str(p["Arn"])
                    for p in details["Policies"]
                    if owns_policy(str(p.get("Path", "/")), policy_name_of(p))
                ]
                tag_futures = {arn: pool.submit(_read_policy_tags, iam, arn) for arn in owned_arns}
                policy_tags = {arn: future.result() for arn, future in tag_futures.items()}
                listed_roles = roles_future.result()
                listed_profiles = profiles_future.result()
                password_policy = password_future.result()
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        counter.detach(iam, sts)

    state = state_from_responses(details, listed_roles, listed_profiles, password_policy, policy_tags)
    api_calls = counter.snapshot()
    log.debug(
        "read.done",
        api_calls=api_calls,
        total_calls=sum(api_calls.values()),
        entities=len(state),
        owned_policies=len(owned_arns),
        seconds=round(time.monotonic() - started, 3),
    )
    return LiveAccount(
        state=state,
        account_id=account_id,
        partition=partition,
        caller_arn=caller_arn,
        api_calls=api_calls,
    )


# --- calls -------------------------------------------------------------------------


def _read_authorization_details(iam: Any) -> dict[str, list[Response]]:
    """All GetAccountAuthorizationDetails pages, their lists concatenated."""
    details: dict[str, list[Response]] = {key: [] for key in DETAIL_LISTS}
    pages = 0
    with aws_errors("iam:GetAccountAuthorizationDetails"):
        paginator = iam.get_paginator("get_account_authorization_details")
        for page in paginator.paginate(
            Filter=list(AUTHORIZATION_DETAILS_FILTER), PaginationConfig={"PageSize": PAGE_SIZE}
        ):
            pages += 1
            for key in DETAIL_LISTS:
                details[key].extend(page.get(key, []))
    log.debug("read.authorization_details", pages=pages, **{k: len(v) for k, v in details.items()})
    return details


def _list_all(iam: Any, operation: str, result_key: str) -> list[Response]:
    """Every item of a paginated IAM list operation, in pages of :data:`PAGE_SIZE`."""
    items: list[Response] = []
    with aws_errors(f"iam:{operation}"):
        paginator = iam.get_paginator(_snake(operation))
        for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
            items.extend(page.get(result_key, []))
    return items


def _read_password_policy(iam: Any) -> Response | None:
    """The account password policy, or None when the account has none."""
    with aws_errors("iam:GetAccountPasswordPolicy"):
        try:
            return dict(iam.get_account_password_policy()["PasswordPolicy"])
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return None
            raise


def _read_policy_tags(iam: Any, arn: str) -> dict[str, str] | None:
    """The tags of one customer policy; None when it was deleted since GAAD listed it."""
    pairs: list[Response] = []
    with aws_errors(f"iam:ListPolicyTags ({arn})"):
        try:
            for page in iam.get_paginator("list_policy_tags").paginate(PolicyArn=arn):
                pairs.extend(page.get("Tags", []))
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                log.debug("read.policy_vanished", arn=arn)
                return None
            raise
    return tags_from(pairs)


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


# --- pure converters ---------------------------------------------------------------


def partition_of(arn: str) -> str:
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``); pure."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1]:
        raise AwsError(f"sts:GetCallerIdentity returned an ARN that is not one: {arn!r}")
    return parts[1]


def policy_name_of(detail: Response) -> str:
    """The name of a policy in a ``ManagedPolicyDetail``; pure.

    AWS always sends PolicyName; some IAM emulators send only the ARN, whose last
    segment is the name (``arn:aws:iam::ID:policy/path/name``).
    """
    name = detail.get("PolicyName")
    return str(name) if name else str(detail["Arn"]).rsplit("/", 1)[-1]


def decode_document(value: Json) -> Json:
    """A policy document as JSON values, whether IAM's URL-encoded text or already decoded; pure.

    IAM returns documents URL-encoded (RFC 3986); botocore usually decodes them,
    but leaves the text as it was when decoding fails, and other tools hand over
    plain JSON text.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return json.loads(urllib.parse.unquote(value))
    except ValueError as error:
        raise AwsError(f"IAM returned a policy document that is not JSON: {value[:80]!r}") from error


def canonical_document(value: Json) -> Json:
    """A policy document from a response, decoded and normalized; pure."""
    return normalize(decode_document(value))


def tags_from(pairs: Iterable[Response] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` as ``{k: v}``; pure."""
    return {str(p["Key"]): str(p.get("Value", "")) for p in pairs or ()}


def inline_policies_from(entries: Iterable[Response] | None) -> dict[str, Json]:
    """``[{"PolicyName", "PolicyDocument"}, ...]`` as ``{name: canonical document}``; pure."""
    return {str(e["PolicyName"]): canonical_document(e["PolicyDocument"]) for e in entries or ()}


def attached_from(entries: Iterable[Response] | None) -> frozenset[str]:
    """The ARNs of ``AttachedManagedPolicies``, as IAM wrote them; pure."""
    return frozenset(str(e["PolicyArn"]) for e in entries or ())


def boundary_from(detail: Response) -> str | None:
    """The permissions-boundary policy ARN of a user or role detail, or None; pure."""
    boundary = detail.get("PermissionsBoundary") or {}
    arn = boundary.get("PermissionsBoundaryArn")
    return str(arn) if arn else None


def user_from_detail(detail: Response) -> User:
    """A User from a GetAccountAuthorizationDetails ``UserDetail``; pure."""
    return User(
        name=str(detail["UserName"]),
        path=str(detail.get("Path", "/")),
        groups=frozenset(str(g) for g in detail.get("GroupList") or ()),
        policies=attached_from(detail.get("AttachedManagedPolicies")),
        permissions_boundary=boundary_from(detail),
        tags=tags_from(detail.get("Tags")),
        inline_policies=inline_policies_from(detail.get("UserPolicyList")),
        arn=str(detail.get("Arn", "")),
    )


def group_from_detail(detail: Response) -> Group:
    """A Group from a GetAccountAuthorizationDetails ``GroupDetail``; pure."""
    return Group(
        name=str(detail["GroupName"]),
        path=str(detail.get("Path", "/")),
        policies=attached_from(detail.get("AttachedManagedPolicies")),
        inline_policies=inline_policies_from(detail.get("GroupPolicyList")),
        arn=str(detail.get("Arn", "")),
    )


def role_from_detail(detail: Response, listed: Response | None) -> Role:
    """A Role from a GAAD ``RoleDetail`` and its ListRoles entry (None if ListRoles missed it); pure.

    GAAD's RoleDetail has no Description or MaxSessionDuration; ListRoles has both
    but no tags or permissions boundary, so a role needs the two together.
    """
    listed = listed or {}
    return Role(
        name=str(detail["RoleName"]),
        path=str(detail.get("Path", "/")),
        description=str(listed.get("Description") or ""),
        trust=canonical_document(detail.get("AssumeRolePolicyDocument") or {}),
        policies=attached_from(detail.get("AttachedManagedPolicies")),
        max_session_duration=int(listed.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_DURATION),
        permissions_boundary=boundary_from(detail),
        tags=tags_from(detail.get("Tags")),
        inline_policies=inline_policies_from(detail.get("RolePolicyList")),
        arn=str(detail.get("Arn", "")),
        instance_profiles=frozenset(
            str(p["InstanceProfileName"]) for p in detail.get("InstanceProfileList") or ()
        ),
    )


def instance_profile_from(entry: Response) -> InstanceProfile:
    """An InstanceProfile from an ``InstanceProfile`` structure; pure.

    Tags are ignored even when present: AWS does not return them from the calls
    iamstate makes, and a state that depended on the endpoint would diff.
    """
    return InstanceProfile(
        name=str(entry["InstanceProfileName"]),
        path=str(entry.get("Path", "/")),
        roles=frozenset(str(r["RoleName"]) for r in entry.get("Roles") or ()),
        arn=str(entry.get("Arn", "")),
    )


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 0


def policy_from_detail(detail: Response, tags: Mapping[str, str] | None = None) -> ManagedPolicy:
    """A ManagedPolicy from a GAAD ``ManagedPolicyDetail`` (document: the default version); pure.

    ``versions`` is ordered oldest first (by creation date, then version number),
    so that the oldest non-default version is the first non-default one.
    """
    raw_versions = list(detail.get("PolicyVersionList") or ())
    default_id = detail.get("DefaultVersionId")
    default = next((v for v in raw_versions if v.get("IsDefaultVersion")), None)
    if default is None:
        default = next((v for v in raw_versions if v.get("VersionId") == default_id), None)
    versions = sorted(
        (
            PolicyVersion(
                version_id=str(v["VersionId"]),
                is_default=v is default,
                create_date=_iso(v.get("CreateDate")),
            )
            for v in raw_versions
        ),
        key=lambda pv: (pv.create_date, _version_number(pv.version_id)),
    )
    return ManagedPolicy(
        name=policy_name_of(detail),
        path=str(detail.get("Path", "/")),
        description=str(detail.get("Description") or ""),
        document=canonical_document(default.get("Document") or {}) if default else {},
        tags=dict(tags or {}),
        arn=str(detail.get("Arn", "")),
        versions=tuple(versions),
    )


def password_policy_from(policy: Response) -> PasswordPolicy:
    """A PasswordPolicy from GetAccountPasswordPolicy's ``PasswordPolicy``; pure.

    IAM omits MaxPasswordAge or sends 0 when passwords never expire, and omits
    PasswordReusePrevention when reuse is allowed; both become None.
    """
    max_age = policy.get("MaxPasswordAge")
    reuse = policy.get("PasswordReusePrevention")
    return PasswordPolicy(
        minimum_length=int(policy.get("MinimumPasswordLength", PasswordPolicy.minimum_length)),
        require_uppercase=bool(policy.get("RequireUppercaseCharacters", False)),
        require_lowercase=bool(policy.get("RequireLowercaseCharacters", False)),
        require_numbers=bool(policy.get("RequireNumbers", False)),
        require_symbols=bool(policy.get("RequireSymbols", False)),
        allow_users_to_change=bool(policy.get("AllowUsersToChangePassword", False)),
        max_age_days=int(max_age) if max_age else None,
        reuse_prevention=int(reuse) if reuse else None,
        hard_expiry=bool(policy.get("HardExpiry", False)),
    )


def state_from_responses(
    details: Mapping[str, Sequence[Response]],
    listed_roles: Sequence[Response],
    listed_instance_profiles: Sequence[Response],
    password_policy: Response | None,
    policy_tags: Mapping[str, Mapping[str, str] | None],
) -> State:
    """Assemble the live State from the read calls' responses; pure.

    ``details`` holds GAAD's concatenated lists; ``policy_tags`` maps policy ARNs
    to their tags (policies absent from it get no tags; None marks a policy that
    vanished during the read, which is left out). ListInstanceProfiles is the
    authority for profiles; those seen only through GAAD roles are kept too.
    """
    resources: dict[Address, Resource] = {}

    def add(resource: Resource) -> None:
        resources[address_of(resource)] = resource

    for detail in details.get("Policies", ()):
        arn = str(detail.get("Arn", ""))
        if arn in policy_tags and policy_tags[arn] is None:
            continue
        add(policy_from_detail(detail, policy_tags.get(arn)))
    for detail in details.get("GroupDetailList", ()):
        add(group_from_detail(detail))
    for detail in details.get("UserDetailList", ()):
        add(user_from_detail(detail))

    listed_by_name = {str(r["RoleName"]): r for r in listed_roles}
    for detail in details.get("RoleDetailList", ()):
        add(role_from_detail(detail, listed_by_name.get(str(detail["RoleName"]))))
        for profile in detail.get("InstanceProfileList") or ():
            add(instance_profile_from(profile))
    for profile in listed_instance_profiles:
        add(instance_profile_from(profile))

    if password_policy is not None:
        resources[PASSWORD_POLICY_ADDRESS] = password_policy_from(password_policy)
    return State(resources)


def count_by_kind(state: State) -> dict[str, int]:
    """How many entities of each kind a state holds, for logs and reports; pure."""
    counts: dict[str, int] = {}
    for address in state.resources:
        counts[address.kind.value] = counts.get(address.kind.value, 0) + 1
    return dict(sorted(counts.items()))
