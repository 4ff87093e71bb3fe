"""Policy documents that iamstate writes itself: trust shorthand and force-MFA.

Pure: plain functions from declared values to policy documents (before
``${partition}``/``${account_id}`` substitution, which the loader applies to every
document alike).
"""

from __future__ import annotations

from collections.abc import Mapping

from iamstate.model import Json

VERSION = "2012-10-17"

FORCE_MFA_POLICY = "iamstate-force-mfa"
"""The iamstate-owned managed policy that ``groups[].require_mfa`` attaches."""

_OWN_USER = "arn:${partition}:iam::*:user/${aws:username}"

_SELF_SERVICE_WITHOUT_MFA = [
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
]


def force_mfa_document() -> dict[str, Json]:
    """AWS's documented "manage own credentials, MFA required" policy.

    Users may manage their own password, access keys, signing certificates, SSH keys,
    service credentials and MFA device; everything else, except setting up MFA and
    changing their password, is denied until they sign in with MFA. Source:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_my-sec-creds-self-manage.html
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AllowViewAccountInfo",
                "Effect": "Allow",
                "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
                "Resource": "*",
            },
            {
                "Sid": "AllowManageOwnPasswords",
                "Effect": "Allow",
                "Action": ["iam:ChangePassword", "iam:GetUser"],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnAccessKeys",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateAccessKey",
                    "iam:DeleteAccessKey",
                    "iam:ListAccessKeys",
                    "iam:UpdateAccessKey",
                    "iam:GetAccessKeyLastUsed",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnSigningCertificates",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteSigningCertificate",
                    "iam:ListSigningCertificates",
                    "iam:UpdateSigningCertificate",
                    "iam:UploadSigningCertificate",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnSSHPublicKeys",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteSSHPublicKey",
                    "iam:GetSSHPublicKey",
                    "iam:ListSSHPublicKeys",
                    "iam:UpdateSSHPublicKey",
                    "iam:UploadSSHPublicKey",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnGitCredentials",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceSpecificCredential",
                    "iam:DeleteServiceSpecificCredential",
                    "iam:ListServiceSpecificCredentials",
                    "iam:ResetServiceSpecificCredential",
                    "iam:UpdateServiceSpecificCredential",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "AllowManageOwnVirtualMFADevice",
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice"],
                "Resource": "arn:${partition}:iam::*:mfa/*",
            },
            {
                "Sid": "AllowManageOwnUserMFA",
                "Effect": "Allow",
                "Action": [
                    "iam:DeactivateMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice",
                ],
                "Resource": _OWN_USER,
            },
            {
                "Sid": "DenyAllExceptListedIfNoMFA",
                "Effect": "Deny",
                "NotAction": list(_SELF_SERVICE_WITHOUT_MFA),
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            },
        ],
    }


def trust_from_shorthand(trusted: Mapping[str, Json]) -> dict[str, Json]:
    """The assume-role policy that a role's ``trusted:`` shorthand stands for.

    One statement per kind of principal, in this order: services (``sts:AssumeRole``),
    accounts and principal ARNs together (``sts:AssumeRole``, with the ``require_mfa``
    and ``external_id`` conditions), OIDC (``sts:AssumeRoleWithWebIdentity``, scoped
    by audience and subjects). A single value is written as a string, several as a list.
    """
    statements: list[dict[str, Json]] = []
    services = list(trusted.get("services") or [])
    if services:
        statements.append(_statement({"Service": _one_or_many(services)}, "sts:AssumeRole"))
    aws = [f"arn:${{partition}}:iam::{account}:root" for account in trusted.get("accounts") or []]
    aws += list(trusted.get("principals") or [])
    if aws:
        condition: dict[str, Json] = {}
        if trusted.get("require_mfa"):
            condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
        if trusted.get("external_id"):
            condition["StringEquals"] = {"sts:ExternalId": trusted["external_id"]}
        statements.append(_statement({"AWS": _one_or_many(aws)}, "sts:AssumeRole", condition))
    oidc = trusted.get("oidc")
    if isinstance(oidc, Mapping):
        provider = str(oidc["provider"])
        condition = {}
        if oidc.get("audience") is not None:
            condition["StringEquals"] = {f"{provider}:aud": oidc["audience"]}
        if oidc.get("subjects") is not None:
            condition["StringLike"] = {f"{provider}:sub": oidc["subjects"]}
        federated = f"arn:${{partition}}:iam::${{account_id}}:oidc-provider/{provider}"
        statements.append(_statement({"Federated": federated}, "sts:AssumeRoleWithWebIdentity", condition))
    return {"Version": VERSION, "Statement": statements}


def _statement(principal: dict[str, Json], action: str, condition: Json = None) -> dict[str, Json]:
    out: dict[str, Json] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        out["Condition"] = condition
    return out


def _one_or_many(values: list[Json]) -> Json:
    return values[0] if len(values) == 1 else values
