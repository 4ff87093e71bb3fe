"""Published privilege-escalation methods: the actions that, together, let a principal
grant itself more than it was given (pure data).

Rhino Security Labs' 21 methods ("AWS IAM Privilege Escalation – Methods and
Mitigation", 2018), and the methods published after them and collected by
Cloudsplaining and Prowler (Bishop Fox, DataDog's pathfinding.cloud): passing a
role to a new compute resource, or changing one that already runs with a role.
A method matches a policy when every one of its actions is granted without
constraint (see :mod:`iamstate.rules.statements`). Methods through services AWS has
retired (CodeStar) are left out: their actions no longer exist.
"""

from __future__ import annotations

from dataclasses import dataclass

RHINO = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"


@dataclass(frozen=True)
class Method:
    """One escalation method: a name and the actions it needs, all of them."""

    name: str
    actions: tuple[str, ...]


def _m(name: str, *actions: str) -> Method:
    return Method(name, actions)


METHODS: tuple[Method, ...] = (
    # Permissions on policies.
    _m("CreateNewPolicyVersion", "iam:CreatePolicyVersion"),
    _m("SetExistingDefaultPolicyVersion", "iam:SetDefaultPolicyVersion"),
    _m("AttachUserPolicy", "iam:AttachUserPolicy"),
    _m("AttachGroupPolicy", "iam:AttachGroupPolicy"),
    _m("AttachRolePolicy", "iam:AttachRolePolicy", "sts:AssumeRole"),
    _m("PutUserPolicy", "iam:PutUserPolicy"),
    _m("PutGroupPolicy", "iam:PutGroupPolicy"),
    _m("PutRolePolicy", "iam:PutRolePolicy", "sts:AssumeRole"),
    _m("AddUserToGroup", "iam:AddUserToGroup"),
    # Permissions on other users.
    _m("CreateAccessKey", "iam:CreateAccessKey"),
    _m("CreateLoginProfile", "iam:CreateLoginProfile"),
    _m("UpdateLoginProfile", "iam:UpdateLoginProfile"),
    # Updating an assume-role policy.
    _m("UpdateRolePolicyToAssumeIt", "iam:UpdateAssumeRolePolicy", "sts:AssumeRole"),
    # Passing a role to a new resource.
    _m("PassRoleToNewEC2Instance", "iam:PassRole", "ec2:RunInstances"),
    _m("PassRoleToNewSpotInstance", "iam:PassRole", "ec2:RequestSpotInstances"),
    _m("PassRoleToNewLambdaThenInvoke", "iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"),
    _m(
        "PassRoleToNewLambdaThenTriggerWithDynamo",
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
    ),
    _m(
        "PassRoleToNewLambdaThenAddPermission",
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:AddPermission",
    ),
    _m("PassRoleToNewGlueDevEndpoint", "iam:PassRole", "glue:CreateDevEndpoint"),
    _m("PassRoleToNewGlueJob", "iam:PassRole", "glue:CreateJob", "glue:StartJobRun"),
    _m("PassRoleToCloudFormation", "iam:PassRole", "cloudformation:CreateStack"),
    _m(
        "PassRoleToNewDataPipeline",
        "iam:PassRole",
        "datapipeline:CreatePipeline",
        "datapipeline:PutPipelineDefinition",
    ),
    _m("PassRoleToNewCodeBuildProject", "iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"),
    _m("PassRoleToNewSageMakerNotebook", "iam:PassRole", "sagemaker:CreateNotebookInstance"),
    _m("PassRoleToNewSageMakerTrainingJob", "iam:PassRole", "sagemaker:CreateTrainingJob"),
    _m("PassRoleToNewSageMakerProcessingJob", "iam:PassRole", "sagemaker:CreateProcessingJob"),
    _m("PassRoleToNewECSTask", "iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"),
    _m("PassRoleToNewECSService", "iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:CreateService"),
    _m(
        "PassRoleToNewAutoScalingGroup",
        "iam:PassRole",
        "autoscaling:CreateLaunchConfiguration",
        "autoscaling:CreateAutoScalingGroup",
    ),
    _m("PassRoleToNewAppRunnerService", "iam:PassRole", "apprunner:CreateService"),
    # Changing a resource that already runs with a role.
    _m("EditExistingLambdaFunctionCode", "lambda:UpdateFunctionCode"),
    _m("EditExistingLambdaFunctionConfiguration", "lambda:UpdateFunctionConfiguration"),
    _m("UpdateExistingGlueDevEndpoint", "glue:UpdateDevEndpoint"),
    _m("UpdateExistingCloudFormationStack", "cloudformation:UpdateStack"),
    _m("SageMakerPresignedNotebookUrl", "sagemaker:CreatePresignedNotebookInstanceUrl"),
    _m("SSMSendCommandToInstance", "ssm:SendCommand"),
    _m("SSMStartSessionOnInstance", "ssm:StartSession"),
    _m("ECSExecuteCommandInTask", "ecs:ExecuteCommand", "ecs:DescribeTasks"),
)
