"""``unknown-condition-key``: a condition key no action of the statement knows (pure).

The checks are :func:`iamstate.analysis.lint.unknown_condition_keys`: a misspelt key
(close to a global key or to one of its service's) under an operator that needs the
key present is an error, because requests never carry it; any other unknown key is a
warning, because the catalogue may lag behind AWS.
"""

from __future__ import annotations

from iamstate.analysis import lint
from iamstate.plan import Severity
from iamstate.rules.base import Document, DocumentRule, Found, RuleInput
from iamstate.rules.documents import lint_hits


class UnknownConditionKey(DocumentRule):
    id = lint.UNKNOWN_CONDITION_KEY
    severity = Severity.ERROR
    waivable = True
    order = 280
    summary = (
        "a condition key is neither global nor defined for any action of the statement (an error "
        "for a misspelt key the condition needs present, a warning otherwise)"
    )
    remedy = (
        "use a key the statement's actions support (the Service Authorization Reference lists them); "
        "a key newer than the catalogue can be waived with a reason"
    )
    source = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"

    def check(self, document: Document, data: RuleInput) -> Found:
        return lint_hits(document, lint.unknown_condition_keys)
