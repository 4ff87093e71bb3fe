"""The rule catalogue (pure). Each rule: id, severity, waivable, summary, remedy, source."""

from __future__ import annotations

from collections.abc import Iterator

from iamstate.plan import Finding, Severity
from iamstate.rules import Rule, RuleInput, register

CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
IAM_BP = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"

register(
    Rule(
        "inline-policy",
        Severity.ERROR,
        waivable=False,
        summary="config declares an inline policy",
        remedy="declare the document under policies: and attach it by name",
        source="https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-24",
    )
)
register(
    Rule(
        "credentials-in-config",
        Severity.ERROR,
        waivable=False,
        summary="config declares passwords, access keys or root credentials",
        remedy="remove the credential; iamstate never manages credentials (use your identity provider or a secret store)",
        source=IAM_BP,
    )
)


def _root_caller(data: RuleInput) -> Iterator[Finding]:
    if data.live is not None and data.live.caller_arn.endswith(":root"):
        yield RULES_ROOT.finding("account", f"the caller {data.live.caller_arn} is the root user")


RULES_ROOT = register(
    Rule(
        "root-credentials-in-use",
        Severity.ERROR,
        waivable=False,
        summary="the caller is the root user",
        remedy="run iamstate with a role or an IAM user's credentials, never the root user's",
        source=CIS + " (1.7: eliminate use of the root user)",
        check=_root_caller,
        needs_live=True,
    )
)
