"""Rules on policy documents: their grammar, their actions, and what they grant (pure).

``malformed-policy`` and ``unknown-action`` read every document as written, the
managed policies' and the roles' trust policies alike. The rules about what a
policy grants skip policies that are only ever used as permissions boundaries (a
boundary grants nothing by itself; it caps what other policies grant).
"""

ACCESS_ANALYZER = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
)
SECURITY_HUB_IAM = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"
