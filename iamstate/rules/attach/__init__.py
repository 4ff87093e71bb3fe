"""Rules on attachments: which policies are attached to what (pure)."""

SECURITY_HUB_IAM = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"
