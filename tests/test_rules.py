"""One table per safety rule: cases that must fire and cases that must not (SPEC §6).

Each case is a configuration (and, for the rules that run at plan time, a live
account and planned changes). A case fires when the rule reports an unwaived
finding for it. Every rule of the catalogue has at least three of each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamstate.config import load_config
from iamstate.kinds.user import User
from iamstate.model import STACK_TAG, Address, Kind, LiveAccount, State
from iamstate.plan import Action, Change, Finding, Severity
from iamstate.rules import RULES, RuleInput, apply_waivers, run_rules

ACCOUNT = "123456789012"
OTHER = "999999999999"
V = "2012-10-17"
GITHUB = "token.actions.githubusercontent.com"
GITHUB_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"


@dataclass(frozen=True)
class Case:
    """A configuration (a mapping, or YAML text), with what plan time adds."""

    config: dict[str, Any] | str
    live: LiveAccount | None = None
    changes: tuple[Change, ...] = field(default=())


def run(tmp_path: Path, case: Case) -> list[Finding]:
    """Load the case's config and run the rules as validate (or, with live state, plan) does."""
    text = case.config if isinstance(case.config, str) else yaml.safe_dump(case.config, sort_keys=False)
    (tmp_path / "main.yaml").write_text(text)
    loaded = load_config(tmp_path / "main.yaml")
    config = loaded.config
    exceptions = {str(a): dict(e) for a, e in config.exceptions.items()}
    data = RuleInput(config, case.live, case.changes)
    return apply_waivers(loaded.findings, exceptions) + run_rules(data, live=case.live is not None)


def fired(tmp_path: Path, rule: str, case: Case) -> list[Finding]:
    return [f for f in run(tmp_path, case) if f.rule == rule and not f.waived]


# --- building configurations ------------------------------------------------------------


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def granted(*statements: dict[str, Any]) -> Case:
    """A policy with these statements, attached to a group (so it grants access)."""
    return Case(
        {
            "account": {"id": ACCOUNT},
            "policies": [{"name": "p", "document": {"Version": V, "Statement": list(statements)}}],
            "groups": [{"name": "g", "policies": ["p"]}],
        }
    )


def boundary_only(*statements: dict[str, Any]) -> Case:
    """A policy with these statements used only as a permissions boundary."""
    return Case(
        {
            "account": {"id": ACCOUNT},
            "policies": [{"name": "p", "document": {"Version": V, "Statement": list(statements)}}],
            "roles": [
                {"name": "r", "trusted": {"services": ["ec2.amazonaws.com"]}, "permissions_boundary": "p"}
            ],
        }
    )


def document(doc: dict[str, Any]) -> Case:
    """A policy with exactly this document, attached to a group."""
    return Case(
        {
            "account": {"id": ACCOUNT},
            "policies": [{"name": "p", "document": doc}],
            "groups": [{"name": "g", "policies": ["p"]}],
        }
    )


def trust(*statements: dict[str, Any], **role: Any) -> Case:
    """A role with a full trust document of these statements."""
    return Case(
        {
            "account": {"id": ACCOUNT},
            "roles": [{"name": "r", "trust": {"Version": V, "Statement": list(statements)}, **role}],
        }
    )


def trusted(**shorthand: Any) -> Case:
    """A role whose trust is generated from the ``trusted:`` shorthand."""
    return Case({"account": {"id": ACCOUNT}, "roles": [{"name": "r", "trusted": shorthand}]})


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


def web_identity(condition: dict[str, Any] | None = None, provider: str = GITHUB_PROVIDER) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


def entities(**sections: Any) -> Case:
    return Case({"account": {"id": ACCOUNT}, **sections})


def password_policy(**fields: Any) -> Case:
    return Case({"account": {"id": ACCOUNT}, "password_policy": fields})


def live(caller: str = f"arn:aws:iam::{ACCOUNT}:user/ci", owned: int = 0, foreign: int = 0) -> LiveAccount:
    resources: dict[Address, Any] = {}
    for i in range(owned):
        resources[Address(Kind.USER, f"u{i}")] = User(f"u{i}")
    for i in range(foreign):
        resources[Address(Kind.USER, f"f{i}")] = User(f"f{i}", tags={STACK_TAG: "other"})
    return LiveAccount(State(resources), ACCOUNT, caller_arn=caller)


def deletes(count: int, action: Action = Action.DELETE) -> tuple[Change, ...]:
    return tuple(Change(Address(Kind.USER, f"u{i}"), action, {}, None) for i in range(count))


def at_plan(caller: str, *changes: Change, owned: int = 10) -> Case:
    return Case({"account": {"id": ACCOUNT}}, live(caller, owned=owned), changes)


def change(kind: Kind, name: str, action: Action) -> Change:
    return Change(Address(kind, name), action, {} if action is not Action.CREATE else None, {})


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app/lambda-app"
MANY_RESOURCES = [f"arn:aws:s3:::a-rather-long-bucket-name-{i:04d}/*" for i in range(200)]
MANY_PRINCIPALS = [f"arn:aws:iam::{ACCOUNT}:role/some-rather-long-role-name-{i:03d}" for i in range(60)]
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/ci"
ASSUMED = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/session-1"

# --- the tables: rule id -> (cases that fire, cases that do not) ------------------------------

TABLES: dict[str, tuple[dict[str, Case], dict[str, Case]]] = {
    "inline-policy": (
        {
            "user-inline_policies": entities(users=[{"name": "u", "inline_policies": {"x": {}}}]),
            "role-inlinePolicies": Case(
                {
                    "roles": [
                        {"name": "r", "trusted": {"services": ["ec2.amazonaws.com"]}, "inlinePolicies": []}
                    ]
                }
            ),
            "group-policy_document": entities(groups=[{"name": "g", "policy_document": {}}]),
        },
        {
            "managed-policy": granted(allow("s3:GetObject", "arn:aws:s3:::b/*")),
            "tag-named-inline": entities(users=[{"name": "u", "tags": {"inline_policies": "none"}}]),
            "group-policies": entities(
                groups=[{"name": "g", "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}]
            ),
        },
    ),
    "credentials-in-config": (
        {
            "user-password": entities(users=[{"name": "u", "password": "hunter2"}]),
            "user-access-keys": entities(users=[{"name": "u", "access_keys": ["AKIA..."]}]),
            "root-password": Case({"account": {"id": ACCOUNT, "root_password": "x"}}),
        },
        {
            "password-policy": password_policy(minimum_length=14, reuse_prevention=24),
            "credentials-settings": Case({"credentials": {"max_access_key_age_days": 90}}),
            "mfa-root": Case({"mfa": {"root": "required"}}),
        },
    ),
    "malformed-policy": (
        {
            "no-version": document({"Statement": [allow("s3:GetObject")]}),
            "bad-version": document({"Version": "2012-10-18", "Statement": [allow("s3:GetObject")]}),
            "effect-lower-case": document(
                {"Version": V, "Statement": [{**allow("s3:GetObject"), "Effect": "allow"}]}
            ),
            "no-statement": document({"Version": V}),
            "duplicate-sid": granted(
                {**allow("s3:GetObject"), "Sid": "A"}, {**allow("s3:PutObject"), "Sid": "A"}
            ),
            "unknown-operator": granted(
                allow("s3:GetObject", Condition={"StringEqual": {"aws:SourceAccount": "1"}})
            ),
            "action-and-notaction": granted({**allow("s3:GetObject"), "NotAction": "s3:PutObject"}),
            "over-6144": granted(allow("s3:GetObject", MANY_RESOURCES)),
            "trust-with-resource": trust({**assume({"Service": "ec2.amazonaws.com"}), "Resource": "*"}),
            "trust-over-2048": trust(assume({"AWS": MANY_PRINCIPALS})),
            "trust-principal-not-a-mapping": trust(assume(["arn:aws:iam::123456789012:root"])),
        },
        {
            "valid": granted(allow("s3:GetObject", "arn:aws:s3:::b/*")),
            "version-as-yaml-date": Case(
                "policies:\n  - name: p\n    document:\n      Version: 2012-10-17\n"
                "      Statement: {Effect: Allow, Action: s3:GetObject, Resource: '*'}\n"
            ),
            "single-statement-and-set-operator": document(
                {
                    "Version": V,
                    "Statement": allow(
                        "s3:GetObject", Condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "a*"}}
                    ),
                }
            ),
            "force-mfa-policy": entities(groups=[{"name": "g", "require_mfa": True}]),
            "generated-trust": trusted(accounts=[OTHER], external_id="acme-1", require_mfa=True),
        },
    ),
    "unknown-action": (
        {
            "misspelt": granted(allow("s3:GetObjekt", "arn:aws:s3:::b/*")),
            "wildcard-matching-nothing": granted(allow("iam:Gett*")),
            "in-notaction": granted(
                {"Effect": "Deny", "NotAction": ["ec2:DescribeInstancez"], "Resource": "*"}
            ),
            "in-trust": trust({**assume({"Service": "ec2.amazonaws.com"}), "Action": "sts:AssumeRol"}),
        },
        {
            "any-case": granted(allow("S3:GETOBJECT", "arn:aws:s3:::b/*")),
            "wildcard": granted(allow("iam:Get*")),
            "star": granted(deny("*")),
            "new-service-is-a-warning": granted(allow("brandnewservice:DoThing")),
            "force-mfa-policy": entities(groups=[{"name": "g", "require_mfa": True}]),
        },
    ),
    "policy-admin-star": (
        {
            "star-on-star": granted(allow("*")),
            "with-condition": granted(allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
            "star-among-others": granted(allow(["s3:GetObject", "*"])),
            "not-resource": granted({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"}),
        },
        {
            "deny": granted(deny("*")),
            "scoped-resource": granted(allow("*", "arn:aws:s3:::b/*")),
            "service-star": granted(allow("iam:*")),
            "boundary-only": boundary_only(allow("*")),
        },
    ),
    "passrole-star": (
        {
            "passrole": granted(allow("iam:PassRole")),
            "iam-star": granted(allow("iam:*")),
            "pass-star": granted(allow("iam:Pass*")),
            "not-action": granted({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
            "passed-to-service-does-not-narrow": granted(
                allow(
                    "iam:PassRole",
                    Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                )
            ),
            "every-role-arn": granted(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*")),
            "if-exists-does-not-narrow": granted(
                allow("iam:PassRole", Condition={"StringEqualsIfExists": {"aws:ResourceTag/team": "web"}})
            ),
        },
        {
            "scoped": granted(allow("iam:PassRole", ROLE_ARN)),
            "tag-condition": granted(
                allow("iam:PassRole", Condition={"StringEquals": {"aws:ResourceTag/team": "web"}})
            ),
            "deny": granted(deny("iam:PassRole")),
            "denied-in-same-document": granted(allow("iam:*"), deny("iam:PassRole")),
            "full-admin-is-another-rule": granted(allow("*")),
            "boundary-only": boundary_only(allow("iam:PassRole")),
        },
    ),
    "privilege-escalation": (
        {
            "create-policy-version": granted(allow("iam:CreatePolicyVersion")),
            "iam-star": granted(allow("iam:*")),
            "passrole-and-run-instances": granted(
                allow("iam:PassRole"), allow(["ec2:RunInstances", "ec2:Describe*"])
            ),
            "lambda-star": granted(allow("lambda:*")),
            "not-action": granted({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}),
            "mfa-does-not-constrain": granted(allow("iam:CreatePolicyVersion", Condition=MFA)),
        },
        {
            "passrole-alone": granted(allow("iam:PassRole")),
            "scoped-resource": granted(
                allow("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/app-*")
            ),
            "attach-role-policy-without-assume": granted(allow("iam:AttachRolePolicy")),
            "tag-condition": granted(
                allow("iam:CreatePolicyVersion", Condition={"StringEquals": {"aws:ResourceTag/owner": "me"}})
            ),
            "read-only-iam": granted(allow(["iam:Get*", "iam:List*"])),
            "force-mfa-policy": entities(groups=[{"name": "g", "require_mfa": True}]),
            "denied-in-same-document": granted(allow("iam:*"), deny("iam:*")),
        },
    ),
    "allow-notaction": (
        {
            "not-action": granted({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
            "not-resource": granted(
                {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"}
            ),
            "both": granted({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::x/*"}),
        },
        {
            "deny-not-action": granted({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}),
            "action": granted(allow("s3:GetObject")),
            "boundary-only": boundary_only({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
            "force-mfa-policy": entities(groups=[{"name": "g", "require_mfa": True}]),
        },
    ),
    "service-wildcard": (
        {
            "on-star": granted(allow("s3:*")),
            "on-a-bucket": granted(allow("s3:*", "arn:aws:s3:::b/*")),
            "every-service-on-a-bucket": granted(allow("*", "arn:aws:s3:::b/*")),
        },
        {
            "prefix-wildcard": granted(allow("s3:Get*")),
            "deny": granted(deny("s3:*")),
            "full-admin-is-another-rule": granted(allow("*")),
            "boundary-only": boundary_only(allow("s3:*")),
        },
    ),
    "attach-admin-managed": (
        {
            "group": entities(
                groups=[{"name": "g", "policies": ["arn:aws:iam::aws:policy/AdministratorAccess"]}]
            ),
            "user": entities(
                users=[{"name": "u", "policies": ["arn:aws:iam::aws:policy/AdministratorAccess"]}]
            ),
            "role": entities(
                roles=[
                    {
                        "name": "r",
                        "trusted": {"services": ["ec2.amazonaws.com"]},
                        "policies": ["arn:${partition}:iam::aws:policy/AdministratorAccess"],
                    }
                ]
            ),
        },
        {
            "power-user": entities(
                groups=[{"name": "g", "policies": ["arn:aws:iam::aws:policy/PowerUserAccess"]}]
            ),
            "amplify": entities(
                groups=[{"name": "g", "policies": ["arn:aws:iam::aws:policy/AdministratorAccess-Amplify"]}]
            ),
            "as-boundary": entities(
                roles=[
                    {
                        "name": "r",
                        "trusted": {"services": ["ec2.amazonaws.com"]},
                        "permissions_boundary": "arn:aws:iam::aws:policy/AdministratorAccess",
                    }
                ]
            ),
            "own-policy-of-that-name": Case(
                {
                    "account": {"id": ACCOUNT},
                    "policies": [
                        {
                            "name": "AdministratorAccess",
                            "document": {"Version": V, "Statement": [allow("s3:GetObject")]},
                        }
                    ],
                    "groups": [{"name": "g", "policies": ["AdministratorAccess"]}],
                }
            ),
        },
    ),
    "user-direct-policy": (
        {
            "declared-policy": Case(
                {
                    "policies": [
                        {"name": "p", "document": {"Version": V, "Statement": [allow("s3:GetObject")]}}
                    ],
                    "users": [{"name": "u", "policies": ["p"]}],
                }
            ),
            "aws-managed": entities(
                users=[{"name": "u", "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}]
            ),
            "two": entities(
                users=[
                    {
                        "name": "u",
                        "policies": [
                            "arn:aws:iam::aws:policy/ReadOnlyAccess",
                            "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
                        ],
                    }
                ]
            ),
        },
        {
            "through-group": entities(
                groups=[{"name": "g", "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}],
                users=[{"name": "u", "groups": ["g"]}],
            ),
            "role-policy": entities(
                roles=[
                    {
                        "name": "r",
                        "trusted": {"services": ["ec2.amazonaws.com"]},
                        "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                    }
                ]
            ),
            "boundary-only": entities(
                users=[{"name": "u", "permissions_boundary": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
            ),
        },
    ),
    "trust-any-principal": (
        {
            "star": trust(assume("*")),
            "aws-star": trust(assume({"AWS": "*"})),
            "wildcard-org-condition": trust(
                assume("*", Condition={"StringLike": {"aws:PrincipalOrgID": "*"}})
            ),
            "transport-condition": trust(assume("*", Condition={"Bool": {"aws:SecureTransport": "true"}})),
            "if-exists-org-condition": trust(
                assume("*", Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}})
            ),
        },
        {
            "org-condition": trust(
                assume("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})
            ),
            "named-account": trusted(accounts=[ACCOUNT]),
            "service": trusted(services=["lambda.amazonaws.com"]),
            "deny-star": trust(assume({"Service": "ec2.amazonaws.com"}), {**assume("*"), "Effect": "Deny"}),
        },
    ),
    "trust-notprincipal": (
        {
            "aws": trust({"Effect": "Allow", "NotPrincipal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}),
            "service": trust(
                {
                    "Effect": "Allow",
                    "NotPrincipal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
            "with-condition": trust(
                {
                    "Effect": "Allow",
                    "NotPrincipal": {"AWS": OTHER},
                    "Action": "sts:AssumeRole",
                    "Condition": MFA,
                }
            ),
        },
        {
            "deny": trust(
                assume({"Service": "ec2.amazonaws.com"}),
                {"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
            ),
            "principal": trust(assume({"AWS": ACCOUNT})),
            "shorthand": trusted(services=["ec2.amazonaws.com"]),
        },
    ),
    "trust-oidc-unscoped": (
        {
            "no-condition": trust(web_identity()),
            "audience-only": trust(web_identity({"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}})),
            "subject-star": trust(
                web_identity(
                    {
                        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                        "StringLike": {f"{GITHUB}:sub": "*"},
                    }
                )
            ),
            "any-repo": trust(
                web_identity(
                    {
                        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                        "StringLike": {f"{GITHUB}:sub": "repo:*"},
                    }
                )
            ),
            "negated-subject": trust(
                web_identity(
                    {
                        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                        "StringNotLike": {f"{GITHUB}:sub": "repo:evil/*"},
                    }
                )
            ),
            "shorthand-without-subjects": trusted(oidc={"provider": GITHUB, "audience": "sts.amazonaws.com"}),
            "cognito-without-amr": trust(
                web_identity(
                    {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}},
                    provider="cognito-identity.amazonaws.com",
                )
            ),
        },
        {
            "shorthand": trusted(
                oidc={"provider": GITHUB, "audience": "sts.amazonaws.com", "subjects": ["repo:acme/infra:*"]}
            ),
            "org-wide": trust(
                web_identity(
                    {
                        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                        "StringLike": {f"{GITHUB}:sub": "repo:acme/*"},
                    }
                )
            ),
            "cognito": trust(
                web_identity(
                    {
                        "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"},
                        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
                    },
                    provider="cognito-identity.amazonaws.com",
                )
            ),
            "saml": trust(
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"},
                    "Action": "sts:AssumeRoleWithSAML",
                    "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                }
            ),
        },
    ),
    "trust-cross-account-unguarded": (
        {
            "account": trusted(accounts=[OTHER]),
            "role-of-another-account": trusted(principals=[f"arn:aws:iam::{OTHER}:role/deployer"]),
            "mfa-if-exists": trust(
                assume({"AWS": OTHER}, Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})
            ),
            "wildcard-external-id": trust(
                assume({"AWS": OTHER}, Condition={"StringLike": {"sts:ExternalId": "*"}})
            ),
        },
        {
            "own-account": trusted(accounts=[ACCOUNT]),
            "external-id": trusted(accounts=[OTHER], external_id="acme-audit-2024"),
            "mfa": trusted(accounts=[OTHER], require_mfa=True),
            "org": trust(
                assume({"AWS": OTHER}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})
            ),
        },
    ),
    "trust-mfa-missing": (
        {
            "no-condition": trust(assume({"AWS": OTHER}), require_mfa=True),
            "if-exists": trust(
                assume({"AWS": OTHER}, Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}),
                require_mfa=True,
            ),
            "false": trust(
                assume({"AWS": OTHER}, Condition={"Bool": {"aws:MultiFactorAuthPresent": False}}),
                require_mfa=True,
            ),
            "one-of-two": trust(
                assume({"AWS": OTHER}, Condition=MFA),
                assume({"AWS": f"arn:aws:iam::{OTHER}:role/x"}),
                require_mfa=True,
            ),
        },
        {
            "mfa": trust(
                assume({"AWS": OTHER}, Condition={"Bool": {"aws:MultiFactorAuthPresent": True}}),
                require_mfa=True,
            ),
            "mfa-age": trust(
                assume({"AWS": OTHER}, Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}),
                require_mfa=True,
            ),
            "not-required": trust(
                assume({"AWS": OTHER}, Condition={"StringEquals": {"sts:ExternalId": "x1"}})
            ),
            "services-only": trust(assume({"Service": "ec2.amazonaws.com"}), require_mfa=True),
            "shorthand": trusted(accounts=[OTHER], require_mfa=True),
        },
    ),
    "password-policy-weak": (
        {
            "short": password_policy(minimum_length=8, reuse_prevention=24),
            "little-reuse-prevention": password_policy(minimum_length=14, reuse_prevention=5),
            "no-reuse-prevention": password_policy(minimum_length=14),
        },
        {
            "cis": password_policy(minimum_length=14, reuse_prevention=24),
            "stronger": password_policy(minimum_length=32, reuse_prevention=24, require_symbols=True),
            "not-managed": entities(),
        },
    ),
    "root-credentials-in-use": (
        {
            "root": at_plan(f"arn:aws:iam::{ACCOUNT}:root"),
            "root-in-china": at_plan(f"arn:aws-cn:iam::{ACCOUNT}:root"),
            "root-in-govcloud": at_plan(f"arn:aws-us-gov:iam::{ACCOUNT}:root"),
        },
        {
            "user": at_plan(USER_ARN),
            "role-session": at_plan(ASSUMED),
            "user-named-root": at_plan(f"arn:aws:iam::{ACCOUNT}:user/root"),
        },
    ),
    "mass-delete": (
        {
            "over-twenty": Case({"account": {"id": ACCOUNT}}, live(owned=100), deletes(21)),
            "four-of-six": Case({"account": {"id": ACCOUNT}}, live(owned=6), deletes(4)),
            "eleven-of-twenty": Case({"account": {"id": ACCOUNT}}, live(owned=20), deletes(11)),
            "foreign-entities-are-not-owned": Case(
                {"account": {"id": ACCOUNT}}, live(owned=6, foreign=50), deletes(4)
            ),
        },
        {
            "three-of-three": Case({"account": {"id": ACCOUNT}}, live(owned=3), deletes(3)),
            "twenty-of-a-hundred": Case({"account": {"id": ACCOUNT}}, live(owned=100), deletes(20)),
            "exactly-half": Case({"account": {"id": ACCOUNT}}, live(owned=8), deletes(4)),
            "replaces-do-not-count": Case(
                {"account": {"id": ACCOUNT}}, live(owned=30), deletes(25, Action.REPLACE)
            ),
        },
    ),
    "self-lockout": (
        {
            "caller-user-deleted": at_plan(USER_ARN, change(Kind.USER, "ci", Action.DELETE)),
            "user-with-path": at_plan(
                f"arn:aws:iam::{ACCOUNT}:user/ops/ci", change(Kind.USER, "CI", Action.DELETE)
            ),
            "caller-role-deleted": at_plan(ASSUMED, change(Kind.ROLE, "deployer", Action.DELETE)),
            "caller-role-replaced": at_plan(ASSUMED, change(Kind.ROLE, "deployer", Action.REPLACE)),
        },
        {
            "another-user": at_plan(USER_ARN, change(Kind.USER, "alice", Action.DELETE)),
            "caller-role-updated": at_plan(ASSUMED, change(Kind.ROLE, "deployer", Action.UPDATE)),
            "role-named-like-the-user": at_plan(USER_ARN, change(Kind.ROLE, "ci", Action.DELETE)),
            "root-caller": at_plan(f"arn:aws:iam::{ACCOUNT}:root", change(Kind.USER, "ci", Action.DELETE)),
        },
    ),
}

FIRING = [
    pytest.param(rule, case, id=f"{rule}/{name}")
    for rule, (fire, _) in TABLES.items()
    for name, case in fire.items()
]
QUIET = [
    pytest.param(rule, case, id=f"{rule}/{name}")
    for rule, (_, quiet) in TABLES.items()
    for name, case in quiet.items()
]


def test_every_rule_has_a_table_of_at_least_three_each() -> None:
    assert set(TABLES) == set(RULES)
    for rule, (fire, quiet) in TABLES.items():
        assert len(fire) >= 3 and len(quiet) >= 3, rule


@pytest.mark.parametrize(("rule", "case"), FIRING)
def test_rule_fires(tmp_path: Path, rule: str, case: Case) -> None:
    found = fired(tmp_path, rule, case)
    assert found, f"{rule} did not fire"
    for f in found:
        assert f.message and f.remedy == RULES[rule].remedy
        assert f.severity is RULES[rule].severity


@pytest.mark.parametrize(("rule", "case"), QUIET)
def test_rule_stays_quiet(tmp_path: Path, rule: str, case: Case) -> None:
    found = [f for f in fired(tmp_path, rule, case) if f.severity is Severity.ERROR or rule in _WARNINGS]
    assert not found, [f.message for f in found]


_WARNINGS = {r.id for r in RULES.values() if r.severity is Severity.WARNING}


# --- messages: the entity, the statement or action, where, and how to fix it ---------------


def test_a_finding_names_the_entity_the_statement_and_where(tmp_path: Path) -> None:
    case = granted(allow("s3:GetObject", "arn:aws:s3:::b/*"), {**allow("*"), "Sid": "BreakGlass"})
    (finding,) = fired(tmp_path, "policy-admin-star", case)
    assert finding.address == "policy.p"
    assert "policy 'p' statement 2 (Sid BreakGlass)" in finding.message
    assert finding.location == f"{tmp_path / 'main.yaml'}:4:9"


def test_unknown_action_suggests_the_nearest_real_action(tmp_path: Path) -> None:
    (finding,) = fired(tmp_path, "unknown-action", granted(allow("s3:GetObjekt", "arn:aws:s3:::b/*")))
    assert "s3:GetObjekt" in finding.message
    assert "did you mean s3:GetObject?" in finding.message


def test_an_unknown_service_is_only_a_warning(tmp_path: Path) -> None:
    (finding,) = fired(tmp_path, "unknown-action", granted(allow("brandnewservice:DoThing")))
    assert finding.severity is Severity.WARNING
    assert "brandnewservice" in finding.message


def test_escalation_names_the_methods_and_the_statements(tmp_path: Path) -> None:
    case = granted({**allow("iam:PassRole"), "Sid": "Pass"}, {**allow("ec2:RunInstances"), "Sid": "Run"})
    (finding,) = fired(tmp_path, "privilege-escalation", case)
    assert "PassRoleToNewEC2Instance (iam:PassRole + ec2:RunInstances)" in finding.message
    assert "statement 1 (Sid Pass), statement 2 (Sid Run)" in finding.message


def test_mfa_finding_names_the_statements_without_mfa(tmp_path: Path) -> None:
    case = trust(assume({"AWS": OTHER}, Condition=MFA), assume({"AWS": ACCOUNT}), require_mfa=True)
    (finding,) = fired(tmp_path, "trust-mfa-missing", case)
    assert "statement 2" in finding.message and "statement 1" not in finding.message


def test_require_mfa_next_to_trusted_is_a_config_error(tmp_path: Path) -> None:
    from iamstate.errors import ConfigError

    case = Case({"roles": [{"name": "r", "trusted": {"accounts": [OTHER]}, "require_mfa": True}]})
    with pytest.raises(ConfigError, match="applies to a full trust: document"):
        run(tmp_path, case)


# --- waivers ------------------------------------------------------------------------------


def test_a_waived_finding_stays_visible_and_marked(tmp_path: Path) -> None:
    case = granted(allow("*"))
    assert isinstance(case.config, dict)
    case.config["policies"][0]["exceptions"] = {"policy-admin-star": "Break-glass policy, approved in SEC-42"}
    (finding,) = [f for f in run(tmp_path, case) if f.rule == "policy-admin-star"]
    assert finding.waived and not finding.blocking
    assert finding.waiver_reason == "Break-glass policy, approved in SEC-42"


def test_an_exception_waives_only_its_own_entity_and_rule(tmp_path: Path) -> None:
    case = Case(
        {
            "policies": [
                {
                    "name": "a",
                    "document": {"Version": V, "Statement": [allow("*")]},
                    "exceptions": {"service-wildcard": "Covered by SEC-1 review"},
                },
                {
                    "name": "b",
                    "document": {"Version": V, "Statement": [allow("*")]},
                    "exceptions": {"policy-admin-star": "Break-glass, SEC-42"},
                },
            ],
            "groups": [{"name": "g", "policies": ["a", "b"]}],
        }
    )
    admin = {f.address: f.waived for f in run(tmp_path, case) if f.rule == "policy-admin-star"}
    assert admin == {"policy.a": False, "policy.b": True}


def test_mass_delete_is_waived_by_the_flag_only(tmp_path: Path) -> None:
    case = Case({"account": {"id": ACCOUNT}}, live(owned=6), deletes(5))
    (tmp_path / "main.yaml").write_text(yaml.safe_dump(case.config))
    config = load_config(tmp_path / "main.yaml").config
    data = RuleInput(config, case.live, case.changes)
    (blocking,) = [f for f in run_rules(data, live=True) if f.rule == "mass-delete"]
    assert blocking.blocking and "deletes 5 of 6 owned live entities" in blocking.message
    (allowed,) = [f for f in run_rules(data, live=True, allow_mass_delete=True) if f.rule == "mass-delete"]
    assert allowed.waived and allowed.waiver_reason == "allowed by --allow-mass-delete"


def test_validate_does_not_run_the_plan_time_rules(tmp_path: Path) -> None:
    case = at_plan(f"arn:aws:iam::{ACCOUNT}:root", *deletes(30), owned=30)
    (tmp_path / "main.yaml").write_text(yaml.safe_dump(case.config))
    config = load_config(tmp_path / "main.yaml").config
    assert run_rules(RuleInput(config, case.live, case.changes), live=False) == []
    plan_time = {f.rule for f in run_rules(RuleInput(config, case.live, case.changes), live=True)}
    assert plan_time == {"root-credentials-in-use", "mass-delete"}


def test_findings_are_json_values(tmp_path: Path) -> None:
    for f in run(tmp_path, granted(allow("*"), allow("s3:*"))):
        json.dumps(f.to_json())
