"""``resource-type-mismatch``: resources of a type the statement's actions do not work on (pure).

The checks are :func:`iamstate.analysis.lint.resource_type_mismatches` (identity
policies only): an error when no action matches and the resources are of the
actions' own services (the statement grants nothing), a warning per action otherwise.
"""

from __future__ import annotations

from iamstate.analysis import lint
from iamstate.plan import Severity
from iamstate.rules.base import Document, DocumentRule, Found, RuleInput
from iamstate.rules.documents import lint_hits


class ResourceTypeMismatch(DocumentRule):
    id = lint.RESOURCE_TYPE_MISMATCH
    severity = Severity.ERROR
    waivable = True
    order = 290
    summary = (
        "no action of a statement works on its resources, so it grants nothing (`s3:GetObject` on a "
        "bucket ARN, `iam:PassRole` on a user); a warning for one action among others"
    )
    remedy = (
        "name resources of the type the action works on (s3:GetObject takes objects, "
        "arn:aws:s3:::BUCKET/*), or * for actions without resource types"
    )
    source = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"

    def check(self, document: Document, data: RuleInput) -> Found:
        if document.kind != "policy":
            return ()
        return lint_hits(document, lint.resource_type_mismatches)
