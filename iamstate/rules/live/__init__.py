"""Drift's live rules: credentials, the root user and the account, read live (pure).

They look at :class:`~iamstate.audit.AuditInput` (the credential report, the
account summary, the virtual MFA devices and the ``mfa:``/``credentials:``
settings) and report :class:`~iamstate.audit.LiveFinding` values with a level.
Every live user is audited, managed by this configuration or not.
"""

SECURITY_HUB_IAM = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"
