"""``malformed-arn``: a resource that is neither ``*`` nor a well-formed ARN (pure).

The checks are :func:`iamstate.analysis.lint.malformed_arns`: IAM rejects such a
resource or it never matches (an error); an empty resource part, which one of AWS's
own policies has, is a warning.
"""

from __future__ import annotations

from iamstate.analysis import lint
from iamstate.plan import Severity
from iamstate.rules.base import Document, DocumentRule, Found, RuleInput
from iamstate.rules.documents import lint_hits


class MalformedArn(DocumentRule):
    id = lint.MALFORMED_ARN
    severity = Severity.ERROR
    waivable = True
    order = 295
    summary = (
        "a resource is neither `*` nor an ARN of six parts with a known partition and a 12-digit "
        "account (a warning for an empty resource part)"
    )
    remedy = "write arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, with ${partition} and ${account_id}"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"

    def check(self, document: Document, data: RuleInput) -> Found:
        return lint_hits(document, lint.malformed_arns)
