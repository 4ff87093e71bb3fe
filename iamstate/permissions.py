"""The least IAM policy iamstate itself needs to run plan, apply or drift on a configuration. Pure.

:data:`OPERATIONS` is the one table of every AWS API operation iamstate's readers,
planner and executor can make: the IAM actions each one needs, on which resource
type, and which commands make it. :func:`least_policy` turns the table and a
configuration into a policy document:

- actions without a resource type (GetAccountAuthorizationDetails, the credential
  report, the account password policy) are granted on ``*``, as IAM requires;
- everything else is granted on the ARNs under ``scope.paths`` only; ``iam:PassRole``, which
  AddRoleToInstanceProfile needs, only on the declared roles that an instance
  profile holds; ``iam:GetPolicy`` and ``iam:GetPolicyVersion``, which read the
  documents of the AWS-managed policies for the analysis (and whether AWS has those
  the configuration names), on ``arn:${partition}:iam::aws:policy/*``;
- apply's lock (:mod:`iamstate.lock`) is granted on its one ARN, apply only;
- writes on what iamstate tags (policies, roles, users, instance profiles) carry
  the stack tag as a condition, where the action catalogue says IAM evaluates it
  for that action: creates require ``aws:RequestTag/iamstate:stack`` to be this
  stack (iamstate always sends it); changes and deletes use
  ``StringEqualsIfExists`` on ``aws:ResourceTag/iamstate:stack``, so entities of
  another stack are out of reach while untagged ones, which iamstate adopts or
  deletes when told to, stay reachable. IAM groups take no tags, so group
  actions are bounded by path alone.

Documents use iamstate's ``${partition}`` and ``${account_id}`` so that they can be
declared in the configuration itself (``document_file:``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import yaml

from iamstate import catalog
from iamstate.audit import deactivates
from iamstate.kinds import specs
from iamstate.kinds.account_alias import ACCOUNT_ALIAS
from iamstate.lock import LOCK_PATH, lock_name
from iamstate.model import STACK_TAG, DesiredConfig, Json, Kind

COMMANDS = ("plan", "apply", "drift")
"""The commands that talk to AWS, whose permissions can be printed."""

ALWAYS = "always"
STALE_KEYS = "stale-keys"
"""Made only with ``credentials.stale_access_keys: deactivate`` (and a limit set)."""
PASSWORD_POLICY = "password-policy"
"""Made only when the configuration declares ``password_policy``."""
ACCOUNT_ALIAS_DECLARED = "account-alias"
"""Made only when the configuration declares ``account.alias``."""

MFA = "mfa"
TAGGED_TYPES = frozenset(str(s.arn_type) for s in specs() if s.tags is not None and s.arn_type)
"""The resource types iamstate writes its stack tag on (IAM's names, as in ARNs)."""
UNPATHED_TYPES = frozenset({"oidc-provider", "saml-provider"})
"""Resource types without an IAM path: granted on every one, bounded by the stack tag."""
TYPE_ORDER = (
    "",
    "policy",
    "group",
    "role",
    "instance-profile",
    "user",
    "oidc-provider",
    "saml-provider",
    MFA,
)
PLURALS = {
    "": "Account",
    "policy": "Policies",
    "group": "Groups",
    "role": "Roles",
    "instance-profile": "InstanceProfiles",
    "user": "Users",
    "oidc-provider": "OidcProviders",
    "saml-provider": "SamlProviders",
    MFA: "MfaDevices",
}
READ_LEVELS = frozenset({"List", "Read"})


@dataclass(frozen=True)
class Grant:
    """One IAM action an operation needs, on one resource type ("" when the action has none)."""

    action: str
    resource: str = ""
    param: str = ""
    """The request parameter that names the resource (``RoleName``, ``PolicyArn``)."""
    tagged_request: bool = False
    """The request itself carries the stack tag (creates of taggable entities)."""
    declared_roles: bool = False
    """Granted only on the declared roles held by instance profiles (``iam:PassRole``)."""
    apply_lock: bool = False
    """Granted only on this stack's apply lock (:mod:`iamstate.lock`), and only to apply."""
    aws_managed: bool = False
    """Granted on AWS's managed policies (``arn:${partition}:iam::aws:policy/*``) instead."""


@dataclass(frozen=True)
class Operation:
    """An AWS API operation iamstate can make, what it needs, and which commands make it when."""

    grants: tuple[Grant, ...]
    used_by: Mapping[str, str] = field(default_factory=dict)
    """Command -> ``ALWAYS``, ``STALE_KEYS`` or ``PASSWORD_POLICY``."""


EVERY_COMMAND = {"plan": ALWAYS, "apply": ALWAYS, "drift": ALWAYS}
APPLY = {"apply": ALWAYS}
_NAME_PARAMS = {
    "policy": "PolicyArn",
    "group": "GroupName",
    "role": "RoleName",
    "instance-profile": "InstanceProfileName",
    "user": "UserName",
    "oidc-provider": "OpenIDConnectProviderArn",
    "saml-provider": "SAMLProviderArn",
    MFA: "SerialNumber",
}


def _on(resource: str, *actions: str, used_by: Mapping[str, str] = APPLY) -> dict[str, Operation]:
    """Operations named like their single IAM action, each on ``resource``."""
    param = _NAME_PARAMS.get(resource, "")
    return {a: Operation((Grant(f"iam:{a}", resource, param),), used_by) for a in actions}


def _create(operation: str, resource: str, name_param: str, tag_action: str) -> dict[str, Operation]:
    """A create that sends the stack tag: the create action and the tag action it implies."""
    grants = (
        Grant(f"iam:{operation}", resource, name_param, tagged_request=True),
        Grant(f"iam:{tag_action}", resource, name_param),
    )
    return {operation: Operation(grants, APPLY)}


def _with_apply_lock(operations: Mapping[str, Operation]) -> dict[str, Operation]:
    """The policy operations, each also granted on the apply lock (iamstate.aws.lock takes it
    with CreatePolicy and its tags, renews it with TagPolicy, reads it with ListPolicyTags and
    releases it with DeletePolicy)."""
    out = dict(operations)
    for name in ("CreatePolicy", "TagPolicy", "ListPolicyTags", "DeletePolicy"):
        op = out[name]
        lock = tuple(Grant(g.action, "policy", g.param, apply_lock=True) for g in op.grants)
        out[name] = Operation(op.grants + lock, {**op.used_by, "apply": ALWAYS})
    return out


OPERATIONS: dict[str, Operation] = _with_apply_lock(
    {
        # Reading live IAM (every command) — iamstate.aws.read.
        "GetCallerIdentity": Operation((Grant("sts:GetCallerIdentity"),), EVERY_COMMAND),
        **_on(
            "", "GetAccountAuthorizationDetails", "ListRoles", "ListInstanceProfiles", used_by=EVERY_COMMAND
        ),
        **_on("", "GetAccountPasswordPolicy", used_by=EVERY_COMMAND),
        **_on("policy", "ListPolicyTags", used_by=EVERY_COMMAND),
        **_on(
            "", "ListAccountAliases", "ListOpenIDConnectProviders", "ListSAMLProviders", used_by=EVERY_COMMAND
        ),
        **_on("oidc-provider", "GetOpenIDConnectProvider", used_by=EVERY_COMMAND),
        **_on("instance-profile", "ListInstanceProfileTags", used_by=EVERY_COMMAND),
        **_on("saml-provider", "GetSAMLProvider", used_by=EVERY_COMMAND),
        # The documents of the AWS-managed policies attached, for the analysis — iamstate.aws.managed;
        # and whether AWS has those the configuration names — iamstate.references.
        **{
            operation: Operation(
                (Grant(f"iam:{operation}", "policy", "PolicyArn", aws_managed=True),), EVERY_COMMAND
            )
            for operation in ("GetPolicy", "GetPolicyVersion")
        },
        # The live audit (drift), and the credential report for stale-key deactivation — iamstate.aws.audit.
        **_on("", "GetAccountSummary", used_by={"drift": ALWAYS}),
        **_on(
            "",
            "GenerateCredentialReport",
            "GetCredentialReport",
            # plan and apply read it when they delete a user (is it in use?) or deactivate stale keys.
            used_by=EVERY_COMMAND,
        ),
        **_on("", "ListVirtualMFADevices", used_by={"drift": ALWAYS, "apply": ALWAYS}),
        **_on("user", "ListAccessKeys", used_by={"apply": ALWAYS, "plan": STALE_KEYS, "drift": STALE_KEYS}),
        # What apply lists or checks while it runs — iamstate.aws.write.
        **_on("user", "ListSigningCertificates", "ListSSHPublicKeys", "ListServiceSpecificCredentials"),
        **_on("user", "ListMFADevices"),
        **_on("instance-profile", "GetInstanceProfile"),
        # Writes — iamstate.calls (and iamstate.audit for stale keys).
        **_create("CreatePolicy", "policy", "PolicyName", "TagPolicy"),
        **_create("CreateRole", "role", "RoleName", "TagRole"),
        **_create("CreateUser", "user", "UserName", "TagUser"),
        **_create("CreateInstanceProfile", "instance-profile", "InstanceProfileName", "TagInstanceProfile"),
        **_on(
            "policy", "CreatePolicyVersion", "DeletePolicyVersion", "DeletePolicy", "TagPolicy", "UntagPolicy"
        ),
        **_on(
            "group",
            "CreateGroup",
            "UpdateGroup",
            "DeleteGroup",
            "AddUserToGroup",
            "RemoveUserFromGroup",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
            "DeleteGroupPolicy",
        ),
        **_on(
            "role",
            "UpdateRole",
            "UpdateAssumeRolePolicy",
            "DeleteRole",
            "TagRole",
            "UntagRole",
            "PutRolePermissionsBoundary",
            "DeleteRolePermissionsBoundary",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "DeleteRolePolicy",
        ),
        "AddRoleToInstanceProfile": Operation(
            (
                Grant("iam:AddRoleToInstanceProfile", "instance-profile", "InstanceProfileName"),
                # "The caller of this operation must be granted the PassRole permission on the IAM role."
                Grant("iam:PassRole", "role", "RoleName", declared_roles=True),
            ),
            APPLY,
        ),
        **_on(
            "instance-profile",
            "RemoveRoleFromInstanceProfile",
            "DeleteInstanceProfile",
            "TagInstanceProfile",
            "UntagInstanceProfile",
        ),
        **_on(
            "user",
            "UpdateUser",
            "DeleteUser",
            "TagUser",
            "UntagUser",
            "PutUserPermissionsBoundary",
            "DeleteUserPermissionsBoundary",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "DeleteUserPolicy",
            "DeleteLoginProfile",
            "DeleteAccessKey",
            "DeleteSigningCertificate",
            "DeleteSSHPublicKey",
            "DeleteServiceSpecificCredential",
            "DeactivateMFADevice",
        ),
        **_on(MFA, "DeleteVirtualMFADevice"),
        **_create("CreateOpenIDConnectProvider", "oidc-provider", "Url", "TagOpenIDConnectProvider"),
        **_on(
            "oidc-provider",
            "AddClientIDToOpenIDConnectProvider",
            "RemoveClientIDFromOpenIDConnectProvider",
            "UpdateOpenIDConnectProviderThumbprint",
            "TagOpenIDConnectProvider",
            "UntagOpenIDConnectProvider",
            "DeleteOpenIDConnectProvider",
        ),
        **_create("CreateSAMLProvider", "saml-provider", "Name", "TagSAMLProvider"),
        **_on(
            "saml-provider",
            "UpdateSAMLProvider",
            "TagSAMLProvider",
            "UntagSAMLProvider",
            "DeleteSAMLProvider",
        ),
        **_on("", "CreateAccountAlias", "DeleteAccountAlias", used_by={"apply": ACCOUNT_ALIAS_DECLARED}),
        **_on("user", "UpdateAccessKey", used_by={"apply": STALE_KEYS}),
        **_on("", "UpdateAccountPasswordPolicy", used_by={"apply": PASSWORD_POLICY}),
    }
)


def operations_for(command: str, config: DesiredConfig) -> list[str]:
    """The operations ``command`` can make on ``config``, sorted (pure)."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}; expected one of: {', '.join(COMMANDS)}")
    met = {
        ALWAYS: True,
        STALE_KEYS: deactivates(config.credentials),
        PASSWORD_POLICY: config.manages_password_policy,
        ACCOUNT_ALIAS_DECLARED: ACCOUNT_ALIAS in config.managed_kinds,
    }
    return sorted(name for name, op in OPERATIONS.items() if met.get(op.used_by.get(command, ""), False))


def is_read(action: str) -> bool:
    """True when the catalogue classes the action as List or Read."""
    return catalog.access_level(action) in READ_LEVELS


def stack_condition(grant: Grant, stack: str) -> dict[str, Json] | None:
    """The stack-tag condition for a write grant, where IAM evaluates one for the action (pure)."""
    if grant.resource not in TAGGED_TYPES or is_read(grant.action):
        return None
    keys = catalog.condition_keys(grant.action, grant.resource)
    if grant.tagged_request and "aws:RequestTag/${TagKey}" in keys:
        return {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": stack}}
    if "aws:ResourceTag/${TagKey}" in keys:
        return {"StringEqualsIfExists": {f"aws:ResourceTag/{STACK_TAG}": stack}}
    return None


def path_prefixes(paths: Iterable[str]) -> list[str]:
    """The scope's path prefixes without those a shorter one already covers, sorted."""
    out: list[str] = []
    for prefix in sorted(set(paths), key=lambda p: (len(p), p)):
        if not any(prefix.startswith(kept) for kept in out):
            out.append(prefix)
    return sorted(out)


def _arn(resource_type: str, rest: str) -> str:
    return f"arn:${{partition}}:iam::${{account_id}}:{resource_type}{rest}"


def resources(grant: Grant, config: DesiredConfig) -> list[str]:
    """The ARNs a grant applies to on this configuration (pure)."""
    if not grant.resource:
        return ["*"]
    if grant.resource == MFA:
        return [_arn(MFA, "/*")]
    if grant.apply_lock:
        return [_arn("policy", f"{LOCK_PATH}{lock_name(config.stack)}")]
    if grant.aws_managed:
        return ["arn:${partition}:iam::aws:policy/*"]
    if grant.resource in UNPATHED_TYPES:
        return [_arn(grant.resource, "/*")]
    if grant.declared_roles:
        held = {
            r.lower() for p in config.state.of_kind(Kind.INSTANCE_PROFILE) for r in getattr(p, "roles", ())
        }
        return sorted(
            _arn("role", f"{role.path}{role.name}")
            for role in config.state.of_kind(Kind.ROLE)
            if role.name.lower() in held
        )
    return [_arn(grant.resource, f"{prefix}*") for prefix in path_prefixes(config.scope.paths)]


def _sid(
    resource_type: str, *, read: bool, condition: Mapping[str, Json] | None, passes: bool, lock: bool
) -> str:
    plural = PLURALS[resource_type]
    if passes:
        return "PassRolesToInstanceProfiles"
    if lock:
        return "ReadApplyLock" if read else "TakeApplyLock"
    if read:
        return f"Read{plural}"
    if condition is not None and "StringEquals" in condition:
        return f"Create{plural}WithStackTag"
    if not resource_type:
        return "ManageAccountSettings"
    return f"Manage{plural}"


def least_policy(config: DesiredConfig, command: str) -> dict[str, Json]:
    """The policy document that lets ``command`` run on ``config`` and grants nothing more (pure).

    Statements are grouped by resource type and condition, reads first; actions are
    sorted, so the document is stable for review and for comparison with a file.
    """
    groups: dict[
        tuple[bool, int, str, bool, bool, bool], tuple[list[str], dict[str, Json] | None, list[str]]
    ] = {}
    for name in operations_for(command, config):
        for grant in OPERATIONS[name].grants:
            if grant.apply_lock and command != "apply":
                continue
            arns = resources(grant, config)
            if not arns:
                continue
            read = is_read(grant.action)
            condition = None if grant.apply_lock else stack_condition(grant, config.stack)
            key = (
                not read,
                TYPE_ORDER.index(grant.resource),
                json.dumps(condition, sort_keys=True),
                grant.declared_roles,
                grant.apply_lock,
                grant.aws_managed,
            )
            actions, _, _ = groups.setdefault(key, ([], condition, arns))
            if grant.action not in actions:
                actions.append(grant.action)
    statements: list[Json] = []
    for key in sorted(groups):
        write, type_index, _, passes, lock, aws_managed = key
        actions, condition, arns = groups[key]
        sid = _sid(TYPE_ORDER[type_index], read=not write, condition=condition, passes=passes, lock=lock)
        statement: dict[str, Json] = {
            "Sid": "ReadAwsManagedPolicies" if aws_managed else sid,
            "Effect": "Allow",
            "Action": sorted(actions, key=str.lower),
            "Resource": arns[0] if len(arns) == 1 else arns,
        }
        if condition is not None:
            statement["Condition"] = condition
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def as_json(document: Mapping[str, Json]) -> str:
    """The document as pretty JSON, ready for ``document_file:`` or the AWS console."""
    return json.dumps(document, indent=2) + "\n"


def as_yaml(document: Mapping[str, Json], command: str) -> str:
    """The document as an iamstate ``policies:`` entry, ready to paste into the configuration."""
    entry = {
        "policies": [
            {
                "name": f"iamstate-{command}",
                "description": f"What iamstate needs to run {command} on this configuration",
                "document": dict(document),
            }
        ]
    }
    return yaml.safe_dump(entry, sort_keys=False, width=100)
