"""The high-risk AWS-managed policies, by ARN, with what each grants (pure data).

Offline (``validate``) iamstate cannot read AWS-managed policies, so this table
stands in for the ones that matter to the analysis: those that let a principal
escalate, expose resources or credentials. Each entry's ``document`` is the part of
AWS's policy that the analysis weighs (its escalation and exposure grants, with
their conditions), not the whole policy; at plan time the real default version is
read instead (:mod:`iamstate.aws.managed`). ``source`` is AWS's reference page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from iamstate.model import Json

REFERENCE = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
AWS_MANAGED_PREFIX = ":iam::aws:policy/"


@dataclass(frozen=True)
class ManagedGrant:
    """One AWS-managed policy: where it lives, what it is for, and the grant it stands for."""

    name: str
    path: str
    summary: str
    document: Json

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"

    @property
    def source(self) -> str:
        return f"{REFERENCE}{self.name}.html"


def _doc(*statements: Json) -> Json:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions: str | list[str], resource: str | list[str] = "*", **extra: Json) -> Json:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def _pass_to(*services: str, resource: str | list[str] = "*", operator: str = "StringEquals") -> Json:
    value: Json = services[0] if len(services) == 1 else list(services)
    return _allow("iam:PassRole", resource, Condition={operator: {"iam:PassedToService": value}})


HIGH_RISK: tuple[ManagedGrant, ...] = (
    ManagedGrant("AdministratorAccess", "/", "every action on every resource", _doc(_allow("*"))),
    ManagedGrant("IAMFullAccess", "/", "every IAM action on every resource", _doc(_allow("iam:*"))),
    ManagedGrant(
        "PowerUserAccess",
        "/",
        "every action but IAM, Organizations and Account management",
        _doc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            _allow(["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles"]),
        ),
    ),
)
"""The table; see the module docstring."""

HIGH_RISK_ARNS: tuple[str, ...] = tuple(g.arn for g in HIGH_RISK)


def managed_key(arn: str) -> str:
    """How AWS-managed policy ARNs are compared: lower case, any partition."""
    _, sep, rest = arn.lower().partition(AWS_MANAGED_PREFIX)
    return f"aws{sep}{rest}" if sep else arn.lower()


def is_aws_managed(arn: str) -> bool:
    """True for ``arn:PARTITION:iam::aws:policy/...``."""
    return arn.startswith("arn:") and AWS_MANAGED_PREFIX in arn


def builtin_documents() -> Mapping[str, Json]:
    """The table's documents by ARN: the offline document provider."""
    return {g.arn: g.document for g in HIGH_RISK}


def builtin(arn: str) -> ManagedGrant | None:
    """The table's entry for an AWS-managed policy ARN, or None."""
    key = managed_key(arn)
    return next((g for g in HIGH_RISK if managed_key(g.arn) == key), None)
