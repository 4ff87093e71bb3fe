"""Exposure classes, as Cloudsplaining names them: what a principal can leak or open up (pure).

The lists come from Salesforce's Cloudsplaining (``cloudsplaining/shared/constants.py``
and ``cloudsplaining/scan/statement_detail.py``, :data:`SOURCE`):

- **data exfiltration**: the read actions that return stored data or secrets
  (``READ_ONLY_DATA_EXFILTRATION_ACTIONS``: ``s3:GetObject``, ``ssm:GetParameter*``,
  ``secretsmanager:GetSecretValue``);
- **resource exposure**: every action at AWS's *Permissions management* access level
  (Cloudsplaining's ``permissions_management_actions_without_constraints``): they
  change resource-based policies, grants and ACLs (``s3:PutBucketPolicy``,
  ``kms:PutKeyPolicy``, ``kms:CreateGrant``, ``lambda:AddPermission``, ...); but for
  the few the reference files there that only read (``billing:GetResourcePolicy``,
  names starting Get, List, Describe, Search or View), which AWS's read-only policies
  grant and which change nothing;
- **credentials exposure**: the actions whose responses carry credentials
  (``ACTIONS_THAT_RETURN_CREDENTIALS``: ``ecr:GetAuthorizationToken``,
  ``redshift:GetClusterCredentials``, ``sts:GetFederationToken``, ...), keeping those
  the action catalogue knows (Cloudsplaining's list carries two misspelt prefixes).

A principal is exposed when one of these actions is granted on every resource of its
type without a narrowing condition (the readings of :mod:`iamstate.analysis.resources`
and :mod:`iamstate.analysis.conditions`), as Cloudsplaining flags statements without
resource constraints or conditions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from iamstate import catalog
from iamstate.analysis.effective import Permissions
from iamstate.analysis.escalation import Step
from iamstate.model import Address

SOURCE = "https://github.com/salesforce/cloudsplaining/blob/master/cloudsplaining/shared/constants.py"


class ExposureClass(StrEnum):
    """Cloudsplaining's risk names."""

    DATA_EXFILTRATION = "data-exfiltration"
    RESOURCE_EXPOSURE = "resource-exposure"
    CREDENTIALS_EXPOSURE = "credentials-exposure"

    def __str__(self) -> str:
        return self.value


DATA_EXFILTRATION_ACTIONS = (
    "s3:GetObject",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue",
)

CREDENTIALS_EXPOSURE_ACTIONS = (
    "airflow:CreateCliToken",
    "airflow:CreateWebLoginToken",
    "appsync:CreateApiKey",
    "chime:CreateApiKey",
    "cloud9:CreateEnvironmentToken",
    "codeartifact:GetAuthorizationToken",
    "codepipeline:PollForJobs",
    "cognito-identity:GetOpenIdToken",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-idp:GetSigningCertificate",
    "connect:GetFederationToken",
    "connect:GetFederationTokens",
    "ec2:GetPasswordData",
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "emr-containers:GetManagedEndpointSessionCredentials",
    "finspace-api:GetProgrammaticAccessCredentials",
    "gamelift:RequestUploadCredentials",
    "gamelift:GetInstanceAccess",
    "gamelift:GetComputeAccess",
    "gamelift:GetComputeAuthToken",
    "grafana:CreateWorkspaceApiKey",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "license-manager:GetAccessToken",
    "lightsail:GetInstanceAccessDetails",
    "lightsail:DownloadDefaultKeyPair",
    "lightsail:CreateBucketAccessKey",
    "lightsail:GetRelationalDatabaseMasterUserPassword",
    "mediapackage:RotateChannelCredentials",
    "mediapackage:RotateIngestEndpointCredentials",
    "rds-db:connect",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "redshift-serverless:GetCredentials",
    "sso:GetRoleCredentials",
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
)
"""Cloudsplaining's list (where it writes ``gamelist:``, the service is ``gamelift``)."""


READING_VERBS = ("Get", "List", "Describe", "Search", "View")
"""How the names of actions that only read begin."""


@functools.cache
def actions_of(exposure: ExposureClass) -> tuple[str, ...]:
    """The catalogued actions of one class, as AWS spells them."""
    if exposure is ExposureClass.RESOURCE_EXPOSURE:
        return tuple(
            a
            for a in catalog.service_actions_at_level("Permissions management")
            if not a.split(":", 1)[1].startswith(READING_VERBS)
        )
    listed = (
        DATA_EXFILTRATION_ACTIONS
        if exposure is ExposureClass.DATA_EXFILTRATION
        else CREDENTIALS_EXPOSURE_ACTIONS
    )
    return tuple(dict.fromkeys(found for a in listed if (found := catalog.lookup(a))))


@functools.cache
def _lower_case(exposure: ExposureClass) -> dict[str, str]:
    return {a.lower(): a for a in actions_of(exposure)}


def all_actions() -> frozenset[str]:
    """Every action of every class, lower case (for the effective-permissions index)."""
    return frozenset(a.lower() for c in ExposureClass for a in actions_of(c))


@dataclass(frozen=True)
class Exposure:
    """One class of exposure of one principal: the actions, each with the policy that grants it."""

    principal: Address
    exposure: ExposureClass
    steps: tuple[Step, ...]

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.action for s in self.steps))


def exposures(perms: Permissions, classes: Iterable[ExposureClass] = tuple(ExposureClass)) -> list[Exposure]:
    """The exposure classes ``perms`` falls in, each with the grants that put it there."""
    out = []
    indexed = bool(perms.interest)
    reached = perms.indexed_actions()
    for exposure in classes:
        steps = []
        spelled = _lower_case(exposure)
        hits = reached & spelled.keys() if indexed else spelled.keys()
        for action in (spelled[a] for a in spelled if a in hits) if hits else ():
            # Spelled as AWS spells it (from actions_of); asked once per principal (the
            # exposures are kept), so the grants themselves are not.
            grants = perms.open_grants(action, catalogued=True, keep=False)
            if grants:
                steps.append(Step.of(grants[0]))
        if steps:
            out.append(Exposure(perms.address, exposure, tuple(steps)))
    return out
