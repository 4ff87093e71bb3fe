"""``condition-type-mismatch``: a condition value or operator of the wrong type (pure).

The checks are :func:`iamstate.analysis.lint.condition_type_mismatches`: a value the
operator cannot read is an error (the condition never holds; a warning under a
negated operator, where it always holds); an operator of another family than the
key's type, or a set operator on the wrong kind of key, is a warning.
"""

from __future__ import annotations

from iamstate.analysis import lint
from iamstate.plan import Severity
from iamstate.rules.base import Document, DocumentRule, Found, RuleInput
from iamstate.rules.documents import lint_hits


class ConditionTypeMismatch(DocumentRule):
    id = lint.CONDITION_TYPE_MISMATCH
    severity = Severity.ERROR
    waivable = True
    order = 285
    summary = (
        'a condition value the operator cannot read (`DateGreaterThan "tomorrow"`, `Bool "yes"`, '
        '`IpAddress "not-an-ip"`); a warning for an operator of another type than its key\'s, or a '
        "set operator on the wrong kind of key"
    )
    remedy = (
        "write the value in the operator's type (dates as 2030-01-31T00:00:00Z, Bool true or false, "
        "CIDR ranges), or use the operator family of the key's type"
    )
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"

    def check(self, document: Document, data: RuleInput) -> Found:
        return lint_hits(document, lint.condition_type_mismatches)
