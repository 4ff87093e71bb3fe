"""Privilege escalation over the whole account, as a graph of principals (pure).

**Methods.** :data:`METHODS` lists the published ways a principal grants itself more
than it was given, each citing where it was published: Rhino Security Labs' list,
DataDog's pathfinding.cloud catalogue (ids such as ``iam-009``), the edge checks of
NCC Group's principalmapper and the scenarios of Bishop Fox's iam-vulnerable. A
method whose actions include all of another listed method's (``iam-003``
CreateAccessKey + DeleteAccessKey, ``lambda-004``) is left out: the smaller one
always fires first.

**When a principal escalates.** For every user, role and group (a group standing for
any of its members) of the state:

(a) **directly**, when its effective permissions (:mod:`iamstate.analysis.effective`),
    across all its policies and its groups', grant every action of a method that
    applies to its kind, each on every resource of the action's type or, for the IAM
    actions that change their target's permissions, on itself
    (:mod:`iamstate.analysis.resources`), without a narrowing condition
    (:mod:`iamstate.analysis.conditions`). ``iam:PassRole`` must also be passable to
    the method's service: ``iam:PassedToService`` narrows a pass to the services it
    admits and nothing else;
(b) **by assuming a role** that escalates, when the role's trust admits it: a trust
    naming the principal's own ARN admits it outright (IAM needs no identity
    permission then), a trust naming the account root or ``*`` admits it when its
    own ``sts:AssumeRole`` permission reaches the role; trust conditions that can
    never hold, or that name other principals (``aws:PrincipalArn``, principal
    tags), keep it out, while those the caller can meet (MFA, ExternalId, source IP)
    do not;
(c) **by passing a role** that escalates to a service: its ``iam:PassRole`` reaches
    the role (not narrowed away from the service by ``iam:PassedToService``), the
    role trusts the service, and it holds the method's other actions as in (a).

A full administrator (``*`` on every resource, uncut by denies and boundaries) has
nothing to escalate to and gets no path of its own, but paths end at one: (b) and (c)
find the principals that can become an administrator (method ``administrator``). At most :data:`MAX_HOP_PATHS` paths through other roles are kept per
principal.

The result is data (:class:`EscalationPath`); :func:`format_path` writes it the way
findings show it::

    user.dave → group.ops (policy ops-deploy: iam:PassRole) + user.dave (policy lambda-admin: lambda:CreateFunction, lambda:InvokeFunction)
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from iamstate.analysis.conditions import Reading, admits_service, overall, read_conditions
from iamstate.analysis.effective import Grant, Permissions
from iamstate.analysis.resources import Principal, Scope, arn_matches, parse_arn, self_target_type
from iamstate.kinds.role import Role
from iamstate.model import Address, Json, Kind, State
from iamstate.rules.statements import Statement, labelled

RHINO = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
PATHFINDING = "https://pathfinding.cloud/paths/"
PMAPPER = "https://github.com/nccgroup/PMapper/blob/master/principalmapper/"
IAM_VULNERABLE = "https://github.com/BishopFox/iam-vulnerable/blob/main/modules/free-resources/privesc-paths/"

MAX_HOP_PATHS = 3
"""Paths through other roles kept per principal (the graph may hold thousands)."""

USERS = frozenset({"user", "group"})
ROLES = frozenset({"role"})
EVERYONE = frozenset({"user", "group", "role"})


@dataclass(frozen=True)
class Method:
    """One published escalation method: every action it needs, who it works for, and where
    it was published. ``pass_to`` names the services an ``iam:PassRole`` of the method
    passes a role to (as ``iam:PassedToService`` sees them); ``trusted_by`` the service
    principals the passed role must trust."""

    id: str
    name: str
    actions: tuple[str, ...]
    source: str
    principals: frozenset[str] = EVERYONE
    pass_to: tuple[str, ...] = ()
    trusted_by: tuple[str, ...] = ()

    @property
    def passes_role(self) -> bool:
        return "iam:passrole" in self.needs

    @functools.cached_property
    def needs(self) -> frozenset[str]:
        """The method's actions, lower case."""
        return frozenset(a.lower() for a in self.actions)


def _self(id_: str, name: str, action: str, principals: frozenset[str], source: str = "") -> Method:
    return Method(id_, name, (action,), source or PATHFINDING + id_, principals)


def _access(id_: str, name: str, *actions: str, source: str = "") -> Method:
    return Method(id_, name, actions, source or PATHFINDING + id_)


def _new(
    id_: str, name: str, service: str, *actions: str, source: str = "", trusted: tuple[str, ...] = ()
) -> Method:
    services = (service, *trusted) if trusted else (service,)
    return Method(
        id_,
        name,
        ("iam:PassRole", *actions),
        source or PATHFINDING + id_,
        EVERYONE,
        services,
        trusted or (service,),
    )


def _existing(id_: str, name: str, *actions: str, source: str = "") -> Method:
    return Method(id_, name, actions, source or PATHFINDING + id_)


METHODS: tuple[Method, ...] = (
    # The principal changes its own permissions (pathfinding.cloud "self-escalation").
    _self("iam-001", "CreateNewPolicyVersion", "iam:CreatePolicyVersion", EVERYONE),
    _self("rhino-2", "SetExistingDefaultPolicyVersion", "iam:SetDefaultPolicyVersion", EVERYONE, RHINO),
    _self("iam-005", "PutRolePolicy", "iam:PutRolePolicy", ROLES),
    _self("iam-007", "PutUserPolicy", "iam:PutUserPolicy", USERS),
    _self("iam-008", "AttachUserPolicy", "iam:AttachUserPolicy", USERS),
    _self("iam-009", "AttachRolePolicy", "iam:AttachRolePolicy", ROLES),
    _self("iam-010", "AttachGroupPolicy", "iam:AttachGroupPolicy", USERS),
    _self("iam-011", "PutGroupPolicy", "iam:PutGroupPolicy", USERS),
    _self("iam-013", "AddUserToGroup", "iam:AddUserToGroup", USERS),
    # The principal takes over another principal ("principal-access").
    _access("iam-002", "CreateAccessKey", "iam:CreateAccessKey"),
    _access("iam-004", "CreateLoginProfile", "iam:CreateLoginProfile"),
    _access("iam-006", "UpdateLoginProfile", "iam:UpdateLoginProfile"),
    _access("iam-012", "UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy"),
    _access("iam-014", "AttachRolePolicyThenAssumeRole", "iam:AttachRolePolicy", "sts:AssumeRole"),
    _access("iam-015", "AttachUserPolicyThenCreateAccessKey", "iam:AttachUserPolicy", "iam:CreateAccessKey"),
    _access("iam-017", "PutRolePolicyThenAssumeRole", "iam:PutRolePolicy", "sts:AssumeRole"),
    _access("iam-018", "PutUserPolicyThenCreateAccessKey", "iam:PutUserPolicy", "iam:CreateAccessKey"),
    _access(
        "pmapper-create-role-attach",
        "CreateRoleThenAttachRolePolicy",
        "iam:CreateRole",
        "iam:AttachRolePolicy",
        source=PMAPPER + "graphing/gathering.py",
    ),
    _access(
        "pmapper-create-role-put",
        "CreateRoleThenPutRolePolicy",
        "iam:CreateRole",
        "iam:PutRolePolicy",
        source=PMAPPER + "graphing/gathering.py",
    ),
    # Passing a role to a new resource ("new-passrole").
    _new("ec2-001", "PassRoleToNewEC2Instance", "ec2.amazonaws.com", "ec2:RunInstances"),
    _new("ec2-003", "PassRoleToNewSpotInstance", "ec2.amazonaws.com", "ec2:RequestSpotInstances"),
    _new(
        "pmapper-autoscaling",
        "PassRoleToNewAutoScalingGroup",
        "ec2.amazonaws.com",
        "autoscaling:CreateLaunchConfiguration",
        "autoscaling:CreateAutoScalingGroup",
        source=PMAPPER + "graphing/autoscaling_edges.py",
    ),
    _new(
        "lambda-001",
        "PassRoleToNewLambdaThenInvoke",
        "lambda.amazonaws.com",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
    ),
    _new(
        "lambda-002",
        "PassRoleToNewLambdaThenEventSourceMapping",
        "lambda.amazonaws.com",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
    ),
    _new(
        "lambda-006",
        "PassRoleToNewLambdaThenAddPermission",
        "lambda.amazonaws.com",
        "lambda:CreateFunction",
        "lambda:AddPermission",
    ),
    _new(
        "pmapper-lambda-configuration",
        "PassRoleToExistingLambdaConfiguration",
        "lambda.amazonaws.com",
        "lambda:UpdateFunctionConfiguration",
        source=PMAPPER + "graphing/lambda_edges.py",
    ),
    _new("glue-001", "PassRoleToNewGlueDevEndpoint", "glue.amazonaws.com", "glue:CreateDevEndpoint"),
    _new(
        "glue-003", "PassRoleToNewGlueJobThenRun", "glue.amazonaws.com", "glue:CreateJob", "glue:StartJobRun"
    ),
    _new(
        "glue-004",
        "PassRoleToNewGlueJobViaTrigger",
        "glue.amazonaws.com",
        "glue:CreateJob",
        "glue:CreateTrigger",
    ),
    _new(
        "glue-005",
        "PassRoleToUpdatedGlueJobThenRun",
        "glue.amazonaws.com",
        "glue:UpdateJob",
        "glue:StartJobRun",
    ),
    _new(
        "glue-006",
        "PassRoleToUpdatedGlueJobViaTrigger",
        "glue.amazonaws.com",
        "glue:UpdateJob",
        "glue:CreateTrigger",
    ),
    _new(
        "cloudformation-001",
        "PassRoleToNewStack",
        "cloudformation.amazonaws.com",
        "cloudformation:CreateStack",
    ),
    _new(
        "cloudformation-003",
        "PassRoleToNewStackSet",
        "cloudformation.amazonaws.com",
        "cloudformation:CreateStackSet",
        "cloudformation:CreateStackInstances",
    ),
    _new(
        "cloudformation-004",
        "PassRoleToUpdatedStackSet",
        "cloudformation.amazonaws.com",
        "cloudformation:UpdateStackSet",
    ),
    _new(
        "datapipeline-001",
        "PassRoleToNewDataPipeline",
        "datapipeline.amazonaws.com",
        "datapipeline:CreatePipeline",
        "datapipeline:PutPipelineDefinition",
        "datapipeline:ActivatePipeline",
        trusted=("elasticmapreduce.amazonaws.com",),
    ),
    _new(
        "codebuild-001",
        "PassRoleToNewCodeBuildProjectThenBuild",
        "codebuild.amazonaws.com",
        "codebuild:CreateProject",
        "codebuild:StartBuild",
    ),
    _new(
        "codebuild-004",
        "PassRoleToNewCodeBuildProjectThenBuildBatch",
        "codebuild.amazonaws.com",
        "codebuild:CreateProject",
        "codebuild:StartBuildBatch",
    ),
    _new(
        "pmapper-codebuild-update",
        "PassRoleToUpdatedCodeBuildProjectThenBuild",
        "codebuild.amazonaws.com",
        "codebuild:UpdateProject",
        "codebuild:StartBuild",
        source=PMAPPER + "graphing/codebuild_edges.py",
    ),
    _new(
        "sagemaker-001",
        "PassRoleToNewNotebookInstance",
        "sagemaker.amazonaws.com",
        "sagemaker:CreateNotebookInstance",
    ),
    _new(
        "sagemaker-002", "PassRoleToNewTrainingJob", "sagemaker.amazonaws.com", "sagemaker:CreateTrainingJob"
    ),
    _new(
        "sagemaker-003",
        "PassRoleToNewProcessingJob",
        "sagemaker.amazonaws.com",
        "sagemaker:CreateProcessingJob",
    ),
    _new(
        "ecs-003",
        "PassRoleToNewECSService",
        "ecs-tasks.amazonaws.com",
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
    ),
    _new(
        "ecs-004",
        "PassRoleToNewECSTaskViaRunTask",
        "ecs-tasks.amazonaws.com",
        "ecs:RegisterTaskDefinition",
        "ecs:RunTask",
    ),
    _new(
        "ecs-005",
        "PassRoleToNewECSTaskViaStartTask",
        "ecs-tasks.amazonaws.com",
        "ecs:RegisterTaskDefinition",
        "ecs:StartTask",
    ),
    _new(
        "apprunner-001",
        "PassRoleToNewAppRunnerService",
        "apprunner.amazonaws.com",
        "apprunner:CreateService",
        trusted=("tasks.apprunner.amazonaws.com", "build.apprunner.amazonaws.com"),
    ),
    _new(
        "bedrock-001",
        "PassRoleToNewCodeInterpreter",
        "bedrock-agentcore.amazonaws.com",
        "bedrock-agentcore:CreateCodeInterpreter",
        "bedrock-agentcore:StartCodeInterpreterSession",
        "bedrock-agentcore:InvokeCodeInterpreter",
    ),
    # Changing a resource that already runs with a role ("existing-passrole").
    _existing("lambda-003", "UpdateExistingLambdaFunctionCode", "lambda:UpdateFunctionCode"),
    _existing("glue-002", "UpdateExistingGlueDevEndpoint", "glue:UpdateDevEndpoint"),
    _existing("cloudformation-002", "UpdateExistingStack", "cloudformation:UpdateStack"),
    _existing(
        "cloudformation-005",
        "ExecuteChangeSetOnExistingStack",
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
    ),
    _existing("codebuild-002", "StartBuildOnExistingProject", "codebuild:StartBuild"),
    _existing("codebuild-003", "StartBuildBatchOnExistingProject", "codebuild:StartBuildBatch"),
    _existing(
        "ec2instanceconnect-003",
        "SendSSHPublicKeyToInstance",
        "ec2-instance-connect:SendSSHPublicKey",
        "ec2:DescribeInstances",
    ),
    _existing(
        "ec2-002",
        "ModifyInstanceUserDataThenRestart",
        "ec2:ModifyInstanceAttribute",
        "ec2:StopInstances",
        "ec2:StartInstances",
    ),
    _existing(
        "ec2-004",
        "ModifyExistingLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:ModifyLaunchTemplate",
    ),
    _existing(
        "ecs-006",
        "ExecuteCommandInRunningTask",
        "ecs:ExecuteCommand",
        "ecs:DescribeTasks",
    ),
    _existing(
        "sagemaker-004", "PresignedNotebookInstanceUrl", "sagemaker:CreatePresignedNotebookInstanceUrl"
    ),
    _existing(
        "sagemaker-005",
        "NotebookLifecycleConfigThenRestart",
        "sagemaker:CreateNotebookInstanceLifecycleConfig",
        "sagemaker:StopNotebookInstance",
        "sagemaker:UpdateNotebookInstance",
        "sagemaker:StartNotebookInstance",
    ),
    _existing("ssm-001", "StartSessionOnInstance", "ssm:StartSession"),
    _existing("ssm-002", "SendCommandToInstance", "ssm:SendCommand"),
    _existing("apprunner-002", "UpdateExistingAppRunnerService", "apprunner:UpdateService"),
    _existing(
        "bedrock-002",
        "ExistingCodeInterpreterSession",
        "bedrock-agentcore:StartCodeInterpreterSession",
        "bedrock-agentcore:InvokeCodeInterpreter",
    ),
)

ADMINISTRATOR = Method(
    "administrator",
    "FullAdministrator",
    ("*",),
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html#jf_administrator",
)
"""Not a method but where paths end: a principal allowed every action on every resource."""

_ADMIN_PROBES = (
    "iam:attachrolepolicy",
    "iam:putuserpolicy",
    "iam:createpolicyversion",
    "iam:passrole",
    "sts:assumerole",
)

ACTIONS: frozenset[str] = frozenset(a.lower() for m in METHODS for a in m.actions) | {
    "sts:assumerole",
    "iam:passrole",
}
"""Every action the escalation analysis asks about (for the effective-permissions index)."""


@dataclass(frozen=True)
class Step:
    """One action of a path, and the policy that grants it."""

    action: str
    holder: Address
    """Who holds the granting policy: the principal itself, or one of its groups."""
    policy: str
    policy_kind: str = "customer"
    statement: str = ""

    @classmethod
    def of(cls, grant: Grant) -> Step:
        source = grant.source
        return cls(grant.action, source.holder, source.name, source.kind, grant.statement)


@dataclass(frozen=True)
class Hop:
    """How a path reaches another role: by assuming it, or by passing it to a service."""

    how: str
    """``assume`` or ``pass``."""
    role: Address
    steps: tuple[Step, ...] = ()
    """The grants used for the hop (``sts:AssumeRole``; iam:PassRole and the service's actions)."""
    method: Method | None = None
    """For a pass: the method used to pass the role."""
    service: str = ""
    trusted_by_name: bool = False
    """For an assume: the role's trust names the principal, so no identity permission is needed."""


@dataclass(frozen=True)
class EscalationPath:
    """One way a principal escalates: the hops to the role that exercises ``method``, and the
    grants of the method's actions."""

    principal: Address
    method: Method
    steps: tuple[Step, ...]
    hops: tuple[Hop, ...] = ()
    target: str = "*"
    """What the method's first action reaches: ``*`` (every resource of its type) or ``self``."""

    @property
    def exercised_by(self) -> Address:
        """The principal that exercises the method: the last role reached, or the principal itself."""
        return self.hops[-1].role if self.hops else self.principal

    @property
    def methods(self) -> tuple[Method, ...]:
        """Every method the path uses: passes first, then the final one."""
        return (*tuple(h.method for h in self.hops if h.method is not None), self.method)


def _groups(steps: Sequence[Step]) -> str:
    grouped: dict[tuple[Address, str, str], list[str]] = {}
    for step in steps:
        actions = grouped.setdefault((step.holder, step.policy, step.policy_kind), [])
        if step.action not in actions:
            actions.append(step.action)
    return " + ".join(
        f"{holder} ({'inline policy' if kind == 'inline' else 'policy'} {policy}: {', '.join(actions)})"
        for (holder, policy, kind), actions in grouped.items()
    )


def format_path(path: EscalationPath) -> str:
    """The path as findings show it: the principal, then who grants each action, hop by hop.

    ``user.dave → group.ops (policy ops-deploy: iam:PassRole) + user.dave (policy lambda-admin:
    lambda:CreateFunction, lambda:InvokeFunction)``; a hop adds ``→ role.admin`` (with
    ``(trust names user.dave)`` or ``(passed to lambda.amazonaws.com)``) before the role's
    own grants.
    """
    segments = [str(path.principal)]
    current = path.principal
    for hop in path.hops:
        if hop.steps:
            segments.append(_groups(hop.steps))
        if hop.how == "pass":
            segments.append(f"{hop.role} (passed to {hop.service})")
        elif hop.trusted_by_name:
            segments.append(f"{hop.role} (trust names {current})")
        else:
            segments.append(str(hop.role))
        current = hop.role
    segments.append(_groups(path.steps))
    return " → ".join(segments)


def describe(path: EscalationPath) -> str:
    """``METHOD (SOURCE): PATH`` for messages that need the method and its source too."""
    names = " then ".join(f"{m.name} ({m.source})" for m in path.methods)
    return f"{names}: {format_path(path)}"


# --- (a) methods a principal's own permissions satisfy -------------------------------------


def _open_grant(perms: Permissions, action: str, method: Method) -> tuple[Grant, Scope] | None:
    """A grant of ``action`` that counts for ``method``: not narrowed, on every resource, or on
    the principal itself for the IAM actions that change their target."""
    resource_type = self_target_type(action)
    passing = action.lower() == "iam:passrole"
    for grant in perms.grants(action):
        if grant.narrowed:
            continue
        if passing and not admits_service(grant.entries, method.pass_to):
            continue
        found = grant.scope(perms.principal, resource_type)
        if found is Scope.UNSCOPED or (found is Scope.SELF and resource_type):
            return grant, found
    return None


def administrator_grant(perms: Permissions) -> Grant | None:
    """The grant that makes ``perms`` a full administrator, or None: ``*`` on every resource
    without a narrowing condition, not cut by a Deny or the boundary for any IAM or STS
    action an escalation would need."""
    found = None
    for action in _ADMIN_PROBES:
        if not perms.may_reach(action):
            return None  # no Allow statement covers it (most principals: a look in the index)
        grants = [
            g for g in perms.grants(action) if g.through in ("*", "*:*") and g.unscoped and not g.narrowed
        ]
        if not grants:
            return None
        found = found or grants[0]
    return found


@functools.cache
def _methods_by_action() -> dict[str, tuple[int, ...]]:
    """Each action some method needs (lower case), with the positions in METHODS of those that do."""
    found: dict[str, list[int]] = {}
    for index, method in enumerate(METHODS):
        for action in method.needs:
            found.setdefault(action, []).append(index)
    return {action: tuple(indices) for action, indices in found.items()}


def direct_paths(perms: Permissions, methods: Iterable[Method] = METHODS) -> list[EscalationPath]:
    """The methods ``perms`` satisfies by itself (reading (a) of the module docstring)."""
    kind = perms.principal.kind
    out = []
    if perms.interest:
        reached = perms.indexed_actions()
        if methods is METHODS:  # through the index: most principals reach few of the actions
            by_action = _methods_by_action()
            methods = [METHODS[i] for i in sorted({i for a in reached for i in by_action.get(a, ())})]
        else:
            methods = [m for m in methods if m.needs & reached]
    for method in methods:
        if kind not in method.principals:
            continue
        if not perms.may_reach_all(method.needs):
            continue
        steps = []
        target = "*"
        for index, action in enumerate(method.actions):
            found = _open_grant(perms, action, method)
            if found is None:
                break
            grant, scope = found
            if index == 0 and scope is Scope.SELF:
                target = "self"
            steps.append(Step.of(grant))
        else:
            out.append(EscalationPath(perms.address, method, tuple(steps), (), target))
    return out


# --- (b) and (c): roles reached by assuming or passing ---------------------------------------

_PRINCIPAL_KEYS = ("aws:principalarn", "aws:principaltag/", "aws:username", "aws:principalaccount")


@dataclass
class _RoleNode:
    address: Address
    arn: str
    trust: tuple[Statement, ...]


def _principal_values(entry_key: str, principal: Principal, account: str) -> list[str] | None:
    variables = principal.variables or {}
    if entry_key == "aws:principalarn":
        return [principal.arn]
    if entry_key == "aws:principalaccount":
        return [account]
    if entry_key == "aws:username":
        value = variables.get("aws:username")
        return [value] if value else []
    if entry_key.startswith("aws:principaltag/"):
        value = variables.get(entry_key)
        return [value] if value is not None else []
    return None


def _identity_conditions_admit(statement: Statement, principal: Principal, account: str) -> bool:
    """False when a trust condition on who the caller is names someone else."""
    for entry in statement.conditions:
        if not any(entry.key == k or (k.endswith("/") and entry.key.startswith(k)) for k in _PRINCIPAL_KEYS):
            continue
        values = _principal_values(entry.key, principal, account)
        if values is None:
            continue
        base = entry.operator.rsplit(":", 1)[-1]
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        if not values:
            if if_exists or "Not" in base:
                continue
            return False
        hit = any(arn_matches(pattern, value) for pattern in entry.values for value in values)
        if base in ("StringEquals", "ArnEquals", "StringEqualsIgnoreCase"):
            hit = any(pattern.lower() == value.lower() for pattern in entry.values for value in values)
        negated = "Not" in base
        if hit == negated:
            return False
    return True


@dataclass
class _Trust:
    """What a role's trust policy admits, indexed for the graph."""

    role: _RoleNode
    named: tuple[tuple[str, Statement], ...]
    """(principal ARN, statement) for every AWS principal named by ARN."""
    open: tuple[Statement, ...]
    """Statements that admit the account root or ``*``: callers with their own permission."""
    services: Mapping[str, Statement]
    """Service principal -> the statement that trusts it."""


class _Graph:
    def __init__(self, state: State, perms: Mapping[Address, Permissions], now: datetime.datetime) -> None:
        self.now = now
        self.trusts: dict[Address, _Trust] = {}
        # Thousands of roles share a handful of trust policies: read each distinct one once.
        indexed: dict[tuple[str, str], _Trust] = {}
        # Equal normalized documents are mostly one object: looked up by identity first.
        by_identity: dict[tuple[int, str], tuple[Json, _Trust]] = {}
        for address, p in perms.items():
            if address.kind is not Kind.ROLE:
                continue
            role = state.get(address)
            document = role.trust if isinstance(role, Role) else {}
            account = _account_of(p.arn)
            seen = by_identity.get((id(document), account))
            if seen is not None and seen[0] is document:
                shared = seen[1]
            else:
                key = (repr(document), account)  # documents as written: equal ones share
                found = indexed.get(key)
                if found is None:
                    found = indexed[key] = self._index(_RoleNode(address, p.arn, tuple(labelled(document))))
                shared = found
                by_identity[id(document), account] = (document, shared)
            node = _RoleNode(address, p.arn, shared.role.trust)
            self.trusts[address] = _Trust(node, shared.named, shared.open, shared.services)

    def _index(self, role: _RoleNode) -> _Trust:
        named: list[tuple[str, Statement]] = []
        opened: list[Statement] = []
        services: dict[str, Statement] = {}
        account = _account_of(role.arn)
        for s in role.trust:
            if not s.allow or not s.covers("sts:AssumeRole"):
                continue
            if overall(read_conditions(s.conditions, "sts:assumerole", self.now)) is Reading.NEVER_TRUE:
                continue
            for name in s.principals("AWS"):
                lowered = name.lower()
                if lowered == "*" or lowered.endswith(":root") or lowered == account:
                    if not any(o is s for o in opened):
                        opened.append(s)
                else:
                    named.append((lowered, s))
            for service in s.principals("Service"):
                services.setdefault(service.lower(), s)
        return _Trust(role, tuple(named), tuple(opened), services)

    def admits(self, trust: _Trust, principal: Principal, *, by_name: bool) -> bool:
        """Whether the trust lets ``principal`` assume the role: by naming it, or (with its own
        permission) through the account root or ``*``."""
        account = _account_of(principal.arn)
        if by_name:
            candidates = [s for arn, s in trust.named if arn == principal.arn.lower()]
        else:
            own_root = f":iam::{account}:root"
            candidates = [
                s
                for s in trust.open
                if any(p == "*" or p.lower().endswith(own_root) or p == account for p in s.principals("AWS"))
            ]
        return any(_identity_conditions_admit(s, principal, account) for s in candidates)


def _account_of(arn: str) -> str:
    parsed = parse_arn(arn)
    return parsed.account if parsed else ""


def _assume_grant(perms: Permissions, role_arn: str) -> Grant | None:
    variables = perms.principal.variables or {}
    for grant in perms.grants("sts:AssumeRole"):
        if not grant.narrowed and (grant.unscoped or grant.reaches(role_arn, variables)):
            return grant
    return None


def _pass_grant(perms: Permissions, role_arn: str, method: Method) -> Grant | None:
    variables = perms.principal.variables or {}
    for grant in perms.grants("iam:PassRole"):
        if grant.narrowed or not admits_service(grant.entries, method.pass_to):
            continue
        if grant.reaches(role_arn, variables):
            return grant
    return None


def _service_steps(perms: Permissions, method: Method) -> list[Step] | None:
    steps = []
    for action in method.actions:
        if action.lower() == "iam:passrole":
            continue
        found = _open_grant(perms, action, method)
        if found is None:
            return None
        steps.append(Step.of(found[0]))
    return steps


def find_escalations(
    state: State,
    permissions: Mapping[Address, Permissions],
    *,
    now: datetime.datetime,
    methods: Sequence[Method] = METHODS,
) -> dict[Address, tuple[EscalationPath, ...]]:
    """Every principal of ``state`` that escalates, with its paths (pure; see the module docstring).

    ``permissions`` is :func:`iamstate.analysis.effective.effective_permissions` of the
    same state; ``now`` the evaluation time for conditions on time in trust policies.
    Principals that do not escalate are left out, and so are full administrators
    (:func:`administrator_grant`): they have nothing to escalate to, and the rules on
    administrator policies report them. Paths may end at one (method ``administrator``).
    """
    paths: dict[Address, list[EscalationPath]] = {}
    targets: dict[Address, EscalationPath] = {}
    for address, perms in permissions.items():
        admin = administrator_grant(perms)
        if admin is not None:
            step = replace(Step.of(admin), action="*")
            targets[address] = EscalationPath(address, ADMINISTRATOR, (step,))
            continue
        found = direct_paths(perms, methods)
        if found:
            paths[address] = found
            targets[address] = found[0]
    graph = _Graph(state, permissions, now)
    pass_methods = [m for m in methods if m.passes_role]
    hop_counts: dict[Address, int] = {}
    checked: set[Address] = set()
    while True:
        new_roles = [graph.trusts[a] for a in sorted(targets) if a.kind is Kind.ROLE and a not in checked]
        if not new_roles:
            break
        checked.update(t.role.address for t in new_roles)
        by_name: dict[str, list[_Trust]] = {}
        for trust in new_roles:
            for arn, _ in trust.named:
                by_name.setdefault(arn, []).append(trust)
        opened = [t for t in new_roles if t.open]
        for address, perms in permissions.items():
            administrator = address in targets and targets[address].method is ADMINISTRATOR
            if administrator or hop_counts.get(address, 0) >= MAX_HOP_PATHS:
                continue
            for path in _hop_paths(graph, perms, by_name, opened, new_roles, targets, pass_methods):
                known = paths.setdefault(address, [])
                targets.setdefault(address, path)
                if any(p.hops and p.hops[0].role == path.hops[0].role for p in known):
                    continue
                known.append(path)
                hop_counts[address] = hop_counts.get(address, 0) + 1
                if hop_counts[address] >= MAX_HOP_PATHS:
                    break
    return {address: tuple(found) for address, found in sorted(paths.items())}


def _hop_paths(
    graph: _Graph,
    perms: Permissions,
    by_name: Mapping[str, Sequence[_Trust]],
    opened: Sequence[_Trust],
    roles: Sequence[_Trust],
    targets: Mapping[Address, EscalationPath],
    pass_methods: Sequence[Method],
) -> Iterator[EscalationPath]:
    """Paths from ``perms`` through one of the newly escalating roles (readings (b) and (c))."""
    principal = perms.principal

    def through(trust: _Trust, hop: Hop) -> EscalationPath | None:
        if trust.role.address == perms.address:
            return None
        target = targets[trust.role.address]
        if any(h.role == perms.address for h in target.hops):
            return None
        return EscalationPath(perms.address, target.method, target.steps, (hop, *target.hops), target.target)

    if principal.kind != "group":
        for trust in by_name.get(principal.arn.lower(), ()):
            if graph.admits(trust, principal, by_name=True):
                path = through(trust, Hop("assume", trust.role.address, trusted_by_name=True))
                if path is not None:
                    yield path
    if opened and perms.may_reach("sts:AssumeRole"):
        for trust in opened:
            grant = _assume_grant(perms, trust.role.arn)
            if grant is not None and graph.admits(trust, principal, by_name=False):
                path = through(trust, Hop("assume", trust.role.address, (Step.of(grant),)))
                if path is not None:
                    yield path
    if not perms.may_reach("iam:PassRole"):
        return
    for method in pass_methods:
        if not perms.may_reach_all(method.needs):
            continue
        steps = None
        for trust in roles:
            service = next((s for s in method.trusted_by if s in trust.services or "*" in trust.services), "")
            if not service:
                continue
            grant = _pass_grant(perms, trust.role.arn, method)
            if grant is None:
                continue
            steps = steps if steps is not None else _service_steps(perms, method)
            if steps is None:
                break
            path = through(trust, Hop("pass", trust.role.address, (Step.of(grant), *steps), method, service))
            if path is not None:
                yield path
