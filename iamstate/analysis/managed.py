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

from iamstate.model import Json, Kind, State

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


HIGH_RISK: tuple[ManagedGrant, ...] = (
    ManagedGrant(
        "AdministratorAccess",
        "/",
        "every action on every resource",
        {"Version": "2012-10-17", "Statement": [{"Action": "*", "Effect": "Allow", "Resource": "*"}]},
    ),
    ManagedGrant(
        "IAMFullAccess",
        "/",
        "every IAM action on every resource",
        {"Version": "2012-10-17", "Statement": [{"Action": "iam:*", "Effect": "Allow", "Resource": "*"}]},
    ),
    ManagedGrant(
        "PowerUserAccess",
        "/",
        "every action but IAM, Organizations and Account management",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}
            ],
        },
    ),
    ManagedGrant(
        "AdministratorAccess-Amplify",
        "/",
        "IAM roles and policies, Lambda, CloudFormation and S3 policies for Amplify apps",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "cloudformation:CreateChangeSet",
                        "cloudformation:CreateStack",
                        "cloudformation:ExecuteChangeSet",
                        "cloudformation:UpdateStack",
                        "cloudformation:UpdateStackSet",
                    ],
                    "Effect": "Allow",
                    "Resource": ["arn:aws:cloudformation:*:*:stack/amplify-*"],
                },
                {
                    "Action": [
                        "iam:AttachRolePolicy",
                        "iam:CreatePolicy",
                        "iam:DeletePolicy",
                        "iam:DeleteRolePolicy",
                        "iam:DetachRolePolicy",
                        "iam:PutRolePolicy",
                        "iam:PassRole",
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicyVersion",
                        "iam:CreateRole",
                        "iam:PutRolePermissionsBoundary",
                        "iam:DeleteRolePermissionsBoundary",
                        "appsync:CreateApiKey",
                        "lambda:AddPermission",
                        "lambda:CreateFunction",
                        "lambda:InvokeFunction",
                        "lambda:RemovePermission",
                        "lambda:UpdateFunctionCode",
                        "lambda:UpdateFunctionConfiguration",
                        "lambda:AddLayerVersionPermission",
                        "lambda:CreateEventSourceMapping",
                        "lambda:RemoveLayerVersionPermission",
                        "s3:PutBucketAcl",
                        "s3:PutBucketPolicy",
                        "s3:PutObjectAcl",
                        "s3:PutBucketPublicAccessBlock",
                    ],
                    "Condition": {
                        "ForAnyValue:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
                    },
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": [
                        "sts:AssumeRole",
                        "lambda:CreateFunction",
                        "lambda:AddPermission",
                        "lambda:InvokeFunction",
                        "iam:PutRolePolicy",
                        "iam:CreatePolicy",
                        "iam:AttachRolePolicy",
                        "iam:CreateRole",
                        "iam:PassRole",
                        "iam:DeleteRolePolicy",
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicyVersion",
                        "iam:DetachRolePolicy",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
                    "Effect": "Allow",
                    "Resource": "arn:aws:ssm:*:*:parameter/amplify/*",
                },
                {
                    "Action": [
                        "s3:DeleteBucketPolicy",
                        "s3:GetObject",
                        "s3:PutBucketAcl",
                        "s3:PutBucketPolicy",
                        "s3:PutObjectAcl",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": [
                        "iam:AttachRolePolicy",
                        "iam:CreateRole",
                        "iam:PutRolePolicy",
                        "iam:PassRole",
                        "lambda:CreateFunction",
                        "lambda:EnableReplication",
                        "lambda:UpdateFunctionCode",
                        "lambda:UpdateFunctionConfiguration",
                        "s3:GetObject",
                        "s3:PutBucketPolicy",
                        "lambda:CreateEventSourceMapping",
                        "iam:UpdateAssumeRolePolicy",
                        "iam:DeleteRolePolicy",
                        "sqs:SetQueueAttributes",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
            ],
        },
    ),
    ManagedGrant(
        "AdministratorAccess-AWSElasticBeanstalk",
        "/",
        "Elastic Beanstalk environments: EC2, Auto Scaling, ECS, passing roles to EC2",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "ec2:CreateLaunchTemplate*",
                        "ec2:Describe*",
                        "ecs:Describe*",
                        "ecs:RegisterTaskDefinition",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": "autoscaling:*",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:autoscaling:*:*:launchConfiguration:*:launchConfigurationName/awseb-e-*",
                        "arn:aws:autoscaling:*:*:launchConfiguration:*:launchConfigurationName/eb-*",
                        "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/awseb-e-*",
                        "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/eb-*",
                    ],
                },
                {
                    "Action": ["cloudformation:CreateStack", "cloudformation:UpdateStack"],
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:cloudformation:*:*:stack/awseb-*",
                        "arn:aws:cloudformation:*:*:stack/eb-*",
                    ],
                },
                {
                    "Action": ["codebuild:CreateProject", "codebuild:StartBuild"],
                    "Effect": "Allow",
                    "Resource": "arn:aws:codebuild:*:*:project/Elastic-Beanstalk-*",
                },
                {
                    "Action": "ec2:RunInstances",
                    "Condition": {"ArnLike": {"ec2:LaunchTemplate": "arn:aws:ec2:*:*:launch-template/*"}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": "elasticloadbalancing:*",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:elasticloadbalancing:*:*:targetgroup/awseb-*",
                        "arn:aws:elasticloadbalancing:*:*:targetgroup/eb-*",
                        "arn:aws:elasticloadbalancing:*:*:loadbalancer/awseb-*",
                        "arn:aws:elasticloadbalancing:*:*:loadbalancer/eb-*",
                        "arn:aws:elasticloadbalancing:*:*:loadbalancer/*/awseb-*/*",
                        "arn:aws:elasticloadbalancing:*:*:loadbalancer/*/eb-*/*",
                        "arn:aws:elasticloadbalancing:*:*:listener/awseb-*",
                        "arn:aws:elasticloadbalancing:*:*:listener/eb-*",
                        "arn:aws:elasticloadbalancing:*:*:listener/*/awseb-*/*/*",
                        "arn:aws:elasticloadbalancing:*:*:listener/*/eb-*/*/*",
                        "arn:aws:elasticloadbalancing:*:*:listener-rule/app/awseb-*/*/*/*",
                        "arn:aws:elasticloadbalancing:*:*:listener-rule/app/eb-*/*/*/*",
                    ],
                },
                {
                    "Action": "iam:CreateRole",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:iam::*:role/aws-elasticbeanstalk*",
                        "arn:aws:iam::*:instance-profile/aws-elasticbeanstalk*",
                    ],
                },
                {
                    "Action": "iam:AttachRolePolicy",
                    "Condition": {
                        "ArnLike": {
                            "iam:PolicyArn": [
                                "arn:aws:iam::aws:policy/AWSElasticBeanstalk*",
                                "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalk*",
                            ]
                        }
                    },
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/aws-elasticbeanstalk*",
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {
                        "StringEquals": {
                            "iam:PassedToService": [
                                "elasticbeanstalk.amazonaws.com",
                                "ec2.amazonaws.com",
                                "ec2.amazonaws.com.cn",
                                "autoscaling.amazonaws.com",
                                "elasticloadbalancing.amazonaws.com",
                                "ecs.amazonaws.com",
                                "cloudformation.amazonaws.com",
                            ]
                        }
                    },
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/*",
                },
                {
                    "Action": "rds:AuthorizeDBSecurityGroupIngress",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:rds:*:*:db:*",
                        "arn:aws:rds:*:*:secgrp:awseb-e-*",
                        "arn:aws:rds:*:*:secgrp:eb-*",
                        "arn:aws:rds:*:*:snapshot:*",
                        "arn:aws:rds:*:*:subgrp:awseb-e-*",
                        "arn:aws:rds:*:*:subgrp:eb-*",
                    ],
                },
                {
                    "Action": ["s3:Delete*", "s3:Get*", "s3:Put*"],
                    "Effect": "Allow",
                    "Resource": "arn:aws:s3:::elasticbeanstalk-*/*",
                },
                {
                    "Action": [
                        "s3:PutBucketPolicy",
                        "s3:PutBucketPublicAccessBlock",
                        "s3:PutBucketOwnershipControls",
                    ],
                    "Effect": "Allow",
                    "Resource": "arn:aws:s3:::elasticbeanstalk-*",
                },
                {
                    "Action": "sns:SetTopicAttributes",
                    "Effect": "Allow",
                    "Resource": "arn:aws:sns:*:*:ElasticBeanstalkNotifications-*",
                },
                {
                    "Action": "sqs:*QueueAttributes",
                    "Effect": "Allow",
                    "Resource": ["arn:aws:sqs:*:*:awseb-e-*", "arn:aws:sqs:*:*:eb-*"],
                },
            ],
        },
    ),
    ManagedGrant(
        "AWSLambda_FullAccess",
        "/",
        "every Lambda action, and passing any role to Lambda",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "lambda:*", "Effect": "Allow", "Resource": "*"},
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
            ],
        },
    ),
    ManagedGrant(
        "AmazonEC2FullAccess",
        "/",
        "every EC2, Auto Scaling, Elastic Load Balancing and CloudWatch action",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "ec2:*", "Effect": "Allow", "Resource": "*"},
                {"Action": "elasticloadbalancing:*", "Effect": "Allow", "Resource": "*"},
                {"Action": "cloudwatch:*", "Effect": "Allow", "Resource": "*"},
                {"Action": "autoscaling:*", "Effect": "Allow", "Resource": "*"},
            ],
        },
    ),
    ManagedGrant(
        "AmazonSSMFullAccess",
        "/",
        "every Systems Manager action, including commands and sessions on instances",
        {
            "Version": "2012-10-17",
            "Statement": [{"Action": ["logs:*", "ssm:*"], "Effect": "Allow", "Resource": "*"}],
        },
    ),
    ManagedGrant(
        "AWSCloudFormationFullAccess",
        "/",
        "every CloudFormation action",
        {
            "Version": "2012-10-17",
            "Statement": [{"Action": "cloudformation:*", "Effect": "Allow", "Resource": "*"}],
        },
    ),
    ManagedGrant(
        "AWSCodeBuildAdminAccess",
        "/",
        "every CodeBuild action",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "codebuild:*", "Effect": "Allow", "Resource": "*"},
                {"Action": "ssm:StartSession", "Effect": "Allow", "Resource": "arn:aws:ecs:*:*:task/*/*"},
                {
                    "Action": "sns:SetTopicAttributes",
                    "Effect": "Allow",
                    "Resource": "arn:aws:sns:*:*:codestar-notifications*",
                },
            ],
        },
    ),
    ManagedGrant(
        "AWSCodeBuildDeveloperAccess",
        "/",
        "CodeBuild builds and projects, without deleting them",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": ["codebuild:StartBuild", "codebuild:StartBuildBatch"],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {"Action": "ssm:StartSession", "Effect": "Allow", "Resource": "arn:aws:ecs:*:*:task/*/*"},
            ],
        },
    ),
    ManagedGrant(
        "AmazonSageMakerFullAccess",
        "/",
        "every SageMaker action, and passing SageMaker roles",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "sagemaker:*",
                    "Effect": "Allow",
                    "NotResource": [
                        "arn:aws:sagemaker:*:*:domain/*",
                        "arn:aws:sagemaker:*:*:user-profile/*",
                        "arn:aws:sagemaker:*:*:app/*",
                        "arn:aws:sagemaker:*:*:space/*",
                        "arn:aws:sagemaker:*:*:partner-app/*",
                        "arn:aws:sagemaker:*:*:flow-definition/*",
                        "arn:aws:sagemaker:*:*:training-plan/*",
                        "arn:aws:sagemaker:*:*:reserved-capacity/*",
                    ],
                },
                {
                    "Action": "sagemaker:CreateTrainingJob",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:sagemaker:*:*:training-plan/*",
                        "arn:aws:sagemaker:*:*:reserved-capacity/*",
                    ],
                },
                {
                    "Action": "sagemaker:*",
                    "Condition": {
                        "StringEqualsIfExists": {"sagemaker:WorkteamType": ["private-crowd", "vendor-crowd"]}
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:sagemaker:*:*:flow-definition/*"],
                },
                {
                    "Action": [
                        "ec2:CreateNetworkInterfacePermission",
                        "ec2:DeleteNetworkInterfacePermission",
                        "ecr:GetAuthorizationToken",
                        "glue:CreateJob",
                        "glue:StartJobRun",
                        "glue:UpdateJob",
                        "logs:PutResourcePolicy",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": ["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"],
                    "Effect": "Allow",
                    "Resource": ["arn:aws:ecr:*:*:repository/*sagemaker*"],
                },
                {
                    "Action": "codebuild:StartBuild",
                    "Effect": "Allow",
                    "Resource": ["arn:aws:codebuild:*:*:project/sagemaker*", "arn:aws:codebuild:*:*:build/*"],
                },
                {
                    "Action": "secretsmanager:GetSecretValue",
                    "Effect": "Allow",
                    "Resource": ["arn:aws:secretsmanager:*:*:secret:AmazonSageMaker-*"],
                },
                {
                    "Action": "secretsmanager:GetSecretValue",
                    "Condition": {"StringEquals": {"secretsmanager:ResourceTag/SageMaker": "true"}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": "s3:GetObject",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:s3:::*SageMaker*",
                        "arn:aws:s3:::*Sagemaker*",
                        "arn:aws:s3:::*sagemaker*",
                        "arn:aws:s3:::*aws-glue*",
                    ],
                },
                {
                    "Action": "s3:GetObject",
                    "Condition": {"StringEqualsIgnoreCase": {"s3:ExistingObjectTag/SageMaker": "true"}},
                    "Effect": "Allow",
                    "Resource": ["arn:aws:s3:::*"],
                },
                {
                    "Action": "s3:GetObject",
                    "Condition": {
                        "StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:s3:::*"],
                },
                {
                    "Action": "s3:PutObjectAcl",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:s3:::*SageMaker*",
                        "arn:aws:s3:::*Sagemaker*",
                        "arn:aws:s3:::*sagemaker*",
                    ],
                },
                {
                    "Action": "lambda:InvokeFunction",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:lambda:*:*:function:*SageMaker*",
                        "arn:aws:lambda:*:*:function:*sagemaker*",
                        "arn:aws:lambda:*:*:function:*Sagemaker*",
                        "arn:aws:lambda:*:*:function:*LabelingFunction*",
                    ],
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {
                        "StringEquals": {
                            "iam:PassedToService": [
                                "glue.amazonaws.com",
                                "robomaker.amazonaws.com",
                                "states.amazonaws.com",
                            ]
                        }
                    },
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/*AmazonSageMaker*",
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/*",
                },
                {
                    "Action": "redshift:GetClusterCredentials",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:redshift:*:*:dbuser:*/sagemaker_access*",
                        "arn:aws:redshift:*:*:dbname:*",
                    ],
                },
            ],
        },
    ),
    ManagedGrant(
        "AWSGlueConsoleFullAccess",
        "/",
        "every Glue action, and passing Glue roles",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": ["glue:*", "ec2:DescribeInstances"], "Effect": "Allow", "Resource": ["*"]},
                {
                    "Action": "s3:GetObject",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:s3:::aws-glue-*/*",
                        "arn:aws:s3:::*/*aws-glue-*/*",
                        "arn:aws:s3:::aws-glue-*",
                    ],
                },
                {
                    "Action": "cloudformation:CreateStack",
                    "Effect": "Allow",
                    "Resource": "arn:aws:cloudformation:*:*:stack/aws-glue*/*",
                },
                {
                    "Action": "ec2:RunInstances",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:ec2:*:*:instance/*",
                        "arn:aws:ec2:*:*:key-pair/*",
                        "arn:aws:ec2:*:*:image/*",
                        "arn:aws:ec2:*:*:security-group/*",
                        "arn:aws:ec2:*:*:network-interface/*",
                        "arn:aws:ec2:*:*:subnet/*",
                        "arn:aws:ec2:*:*:volume/*",
                    ],
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringLike": {"iam:PassedToService": ["glue.amazonaws.com"]}},
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/AWSGlueServiceRole*",
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringLike": {"iam:PassedToService": ["ec2.amazonaws.com"]}},
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/AWSGlueServiceNotebookRole*",
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringLike": {"iam:PassedToService": ["glue.amazonaws.com"]}},
                    "Effect": "Allow",
                    "Resource": ["arn:aws:iam::*:role/service-role/AWSGlueServiceRole*"],
                },
            ],
        },
    ),
    ManagedGrant(
        "AmazonECS_FullAccess",
        "/",
        "every ECS action, and passing task roles",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "autoscaling:CreateAutoScalingGroup",
                        "autoscaling:CreateLaunchConfiguration",
                        "cloudformation:CreateStack",
                        "cloudformation:UpdateStack",
                        "ec2:Describe*",
                        "ec2:RunInstances",
                        "ecs:*",
                    ],
                    "Effect": "Allow",
                    "Resource": ["*"],
                },
                {
                    "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                    "Effect": "Allow",
                    "Resource": "arn:aws:ssm:*:*:parameter/aws/service/ecs*",
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": ["*"],
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRole"],
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {
                        "StringLike": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:iam::*:role/ecsInstanceRole*"],
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {
                        "StringLike": {
                            "iam:PassedToService": [
                                "application-autoscaling.amazonaws.com",
                                "application-autoscaling.amazonaws.com.cn",
                            ]
                        }
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:iam::*:role/ecsAutoscaleRole*"],
                },
            ],
        },
    ),
    ManagedGrant(
        "AWSAppRunnerFullAccess",
        "/",
        "every App Runner action, and passing any role to App Runner",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringLike": {"iam:PassedToService": "apprunner.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {"Action": "apprunner:*", "Effect": "Allow", "Resource": "*"},
            ],
        },
    ),
    ManagedGrant(
        "AmazonElasticMapReduceFullAccess",
        "/",
        "EMR clusters, with EC2 instances and CloudFormation stacks",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "cloudwatch:*",
                        "cloudformation:CreateStack",
                        "ec2:DescribeInstances",
                        "ec2:ModifyInstanceAttribute",
                        "ec2:RequestSpotInstances",
                        "ec2:RunInstances",
                        "elasticmapreduce:*",
                        "iam:PassRole",
                        "s3:*",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                }
            ],
        },
    ),
    ManagedGrant(
        "AmazonDynamoDBFullAccesswithDataPipeline",
        "/",
        "DynamoDB, Data Pipeline and Lambda, passing roles",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": ["dynamodb:*", "sns:SetTopicAttributes"], "Effect": "Allow", "Resource": "*"},
                {"Action": "lambda:*", "Effect": "Allow", "Resource": "*"},
                {"Action": "datapipeline:*", "Effect": "Allow", "Resource": "*"},
                {"Action": "iam:PassRole", "Effect": "Allow", "Resource": ["*"]},
                {
                    "Action": [
                        "ec2:DescribeInstances",
                        "ec2:RunInstances",
                        "ec2:StartInstances",
                        "ec2:StopInstances",
                        "elasticmapreduce:*",
                        "datapipeline:*",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {"Action": ["s3:Get*", "s3:Put*"], "Effect": "Allow", "Resource": ["*"]},
            ],
        },
    ),
    ManagedGrant(
        "DataScientist",
        "/job-function/",
        "SageMaker, Lambda, Glue and EMR for data science work (job function)",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "autoscaling:*",
                        "cloudwatch:*",
                        "dynamodb:*",
                        "ec2:Describe*",
                        "ec2:ModifyInstanceAttribute",
                        "ec2:RequestSpotInstances",
                        "elasticfilesystem:*",
                        "elasticmapreduce:*",
                        "lambda:Create*",
                        "lambda:Delete*",
                        "lambda:InvokeFunction",
                        "lambda:Update*",
                        "rds:*",
                        "redshift:*",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": "cloudformation:CreateStack",
                    "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {"Action": "s3:Get*", "Effect": "Allow", "Resource": ["*"]},
                {"Action": "ec2:RunInstances", "Effect": "Allow", "Resource": ["*"]},
                {
                    "Action": "iam:PassRole",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:iam::*:role/DataPipelineDefaultRole",
                        "arn:aws:iam::*:role/DataPipelineDefaultResourceRole",
                        "arn:aws:iam::*:role/EMR_EC2_DefaultRole",
                        "arn:aws:iam::*:role/EMR_DefaultRole",
                        "arn:aws:iam::*:role/kinesis-*",
                    ],
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": "sagemaker:*",
                    "Effect": "Allow",
                    "NotResource": [
                        "arn:aws:sagemaker:*:*:domain/*",
                        "arn:aws:sagemaker:*:*:user-profile/*",
                        "arn:aws:sagemaker:*:*:app/*",
                        "arn:aws:sagemaker:*:*:flow-definition/*",
                    ],
                },
            ],
        },
    ),
    ManagedGrant(
        "SystemAdministrator",
        "/job-function/",
        "EC2, Lambda, Systems Manager and more for system administration (job function)",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "autoscaling:*",
                        "cloudwatch:*",
                        "codepipeline:*",
                        "ds:*",
                        "ec2:Cancel*",
                        "ec2:CreateLaunchTemplateVersion",
                        "ec2:Describe*",
                        "ec2:GetPasswordData",
                        "ec2:Modify*",
                        "ec2:Request*",
                        "ec2:Reset*",
                        "elasticloadbalancing:*",
                        "events:*",
                        "lambda:Create*",
                        "lambda:Delete*",
                        "lambda:InvokeFunction",
                        "lambda:Update*",
                        "logs:*",
                        "ses:*",
                        "sns:*",
                        "sqs:*",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": ["ec2:RunInstances", "ec2:StartInstances", "ec2:StopInstances"],
                    "Effect": "Allow",
                    "Resource": ["*"],
                },
                {"Action": "s3:*", "Effect": "Allow", "Resource": ["*"]},
                {
                    "Action": "iam:PassRole",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:iam::*:role/rds-monitoring-role",
                        "arn:aws:iam::*:role/ec2-sysadmin-*",
                        "arn:aws:iam::*:role/ecr-sysadmin-*",
                        "arn:aws:iam::*:role/lambda-sysadmin-*",
                    ],
                },
            ],
        },
    ),
    ManagedGrant(
        "EC2InstanceConnect",
        "/",
        "sending SSH keys to any instance through EC2 Instance Connect",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": ["ec2:DescribeInstances", "ec2-instance-connect:SendSSHPublicKey"],
                    "Effect": "Allow",
                    "Resource": "*",
                }
            ],
        },
    ),
    ManagedGrant(
        "BedrockAgentCoreFullAccess",
        "/",
        "every Bedrock AgentCore action, including code interpreter sessions",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "bedrock-agentcore:*",
                    "Effect": "Allow",
                    "Resource": "arn:aws:bedrock-agentcore:*:*:*",
                },
                {
                    "Action": "iam:PassRole",
                    "Condition": {"StringEquals": {"iam:PassedToService": "bedrock-agentcore.amazonaws.com"}},
                    "Effect": "Allow",
                    "Resource": "arn:aws:iam::*:role/*BedrockAgentCore*",
                },
                {
                    "Action": "secretsmanager:GetSecretValue",
                    "Effect": "Allow",
                    "Resource": "arn:aws:secretsmanager:*:*:secret:bedrock-agentcore*",
                },
                {
                    "Action": "kms:CreateGrant",
                    "Condition": {
                        "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "GenerateDataKey"]},
                        "StringEquals": {"kms:GrantConstraintType": "EncryptionContextSubset"},
                        "StringLike": {
                            "kms:EncryptionContext:aws:bedrock-agentcore-gateway:arn": "arn:aws:bedrock-agentcore:*:*:gateway/*",
                            "kms:ViaService": ["bedrock-agentcore.*.amazonaws.com"],
                        },
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:kms:*:*:key/*"],
                },
                {
                    "Action": "kms:CreateGrant",
                    "Condition": {
                        "ForAllValues:StringEquals": {
                            "kms:GrantOperations": [
                                "Encrypt",
                                "Decrypt",
                                "GenerateDataKey",
                                "GenerateDataKeyWithoutPlaintext",
                                "ReEncryptFrom",
                                "ReEncryptTo",
                            ]
                        },
                        "StringEquals": {"kms:GrantConstraintType": "EncryptionContextSubset"},
                        "StringLike": {
                            "kms:EncryptionContext:aws:bedrock-agentcore-policy:policy-engine-arn": "arn:aws*:bedrock-agentcore:*:*:policy-engine/*",
                            "kms:ViaService": ["bedrock-agentcore.*.amazonaws.com"],
                        },
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:kms:*:*:key/*"],
                },
                {
                    "Action": "s3:GetObject",
                    "Condition": {
                        "StringEquals": {
                            "aws:CalledViaLast": "bedrock-agentcore.amazonaws.com",
                            "s3:ResourceAccount": "${aws:PrincipalAccount}",
                        }
                    },
                    "Effect": "Allow",
                    "Resource": ["arn:aws:s3:::bedrock-agentcore-gateway-*"],
                },
                {
                    "Action": "logs:PutResourcePolicy",
                    "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                    "Effect": "Allow",
                    "Resource": ["*"],
                },
                {
                    "Action": "s3:PutBucketPolicy",
                    "Condition": {"StringEquals": {"s3:ResourceAccount": "${aws:PrincipalAccount}"}},
                    "Effect": "Allow",
                    "Resource": ["arn:aws:s3:::bedrock-agentcore-runtime-*"],
                },
                {
                    "Action": "s3:GetObject",
                    "Condition": {"StringEquals": {"s3:ResourceAccount": "${aws:PrincipalAccount}"}},
                    "Effect": "Allow",
                    "Resource": "arn:aws:s3:::*",
                },
                {
                    "Action": "lambda:InvokeFunction",
                    "Effect": "Allow",
                    "Resource": "arn:aws:lambda:*:*:function:*",
                },
            ],
        },
    ),
    ManagedGrant(
        "SecretsManagerReadWrite",
        "/",
        "reading and writing every secret, and CloudFormation change sets",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": [
                        "secretsmanager:*",
                        "cloudformation:CreateChangeSet",
                        "cloudformation:ExecuteChangeSet",
                    ],
                    "Effect": "Allow",
                    "Resource": "*",
                },
                {
                    "Action": [
                        "lambda:AddPermission",
                        "lambda:CreateFunction",
                        "lambda:InvokeFunction",
                        "lambda:UpdateFunctionConfiguration",
                    ],
                    "Effect": "Allow",
                    "Resource": "arn:aws:lambda:*:*:function:SecretsManager*",
                },
                {
                    "Action": "s3:GetObject",
                    "Effect": "Allow",
                    "Resource": [
                        "arn:aws:s3:::awsserverlessrepo-changesets*",
                        "arn:aws:s3:::secrets-manager-rotation-apps-*/*",
                    ],
                },
            ],
        },
    ),
    ManagedGrant(
        "AWSCloud9Administrator",
        "/",
        "Cloud9 environments, with Systems Manager sessions on their instances",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "cloud9:*", "Effect": "Allow", "Resource": "*"},
                {
                    "Action": "ssm:StartSession",
                    "Condition": {
                        "StringEquals": {"aws:CalledViaFirst": "cloud9.amazonaws.com"},
                        "StringLike": {"ssm:resourceTag/aws:cloud9:environment": "*"},
                    },
                    "Effect": "Allow",
                    "Resource": "arn:aws:ec2:*:*:instance/*",
                },
                {"Action": "ssm:StartSession", "Effect": "Allow", "Resource": ["arn:aws:ssm:*:*:document/*"]},
            ],
        },
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


def attached_arns(state: State) -> list[str]:
    """Every distinct AWS-managed ARN the state's groups, users and roles attach or use as a
    permissions boundary, sorted: what :mod:`iamstate.aws.managed` reads at plan time."""
    found: set[str] = set()
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
        for resource in state.of_kind(kind):
            found.update(a for a in getattr(resource, "policies", ()) if is_aws_managed(a))
            boundary = getattr(resource, "permissions_boundary", None)
            if boundary and is_aws_managed(boundary):
                found.add(boundary)
    return sorted(found, key=str.lower)
