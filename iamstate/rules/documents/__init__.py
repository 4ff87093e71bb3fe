"""Rules on policy documents: their grammar, their actions, and what they grant (pure).

``malformed-policy`` and ``unknown-action`` read every document as written, the
managed policies' and the roles' trust policies alike. The rules about what a
policy grants skip policies that are only ever used as permissions boundaries (a
boundary grants nothing by itself; it caps what other policies grant).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator

from iamstate.analysis.conditions import Reading, overall, read_conditions
from iamstate.analysis.lint import Problem
from iamstate.analysis.resources import every_resource, resource_patterns
from iamstate.rules.base import Document, Hit
from iamstate.rules.statements import Statement

ACCESS_ANALYZER = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
)
SECURITY_HUB_IAM = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"


def full_admin(statement: Statement, now: datetime.datetime) -> bool:
    """True when the statement allows every action on every resource (``*``, ``NotResource``,
    or an ARN pattern open in every segment) under conditions that can hold at ``now``."""
    if not statement.allow or "*" not in statement.actions:
        return False
    if not statement.has_not_resource and not any(every_resource(r) for r in resource_patterns(statement)):
        return False
    # "*" as the action: no action-specific knowledge of which keys a request carries.
    return overall(read_conditions(statement.conditions, "*", now)) is not Reading.NEVER_TRUE


def lint_hits(document: Document, check: Callable[[Statement], Iterable[Problem]]) -> Iterator[Hit]:
    """One finding per problem a check of :mod:`iamstate.analysis.lint` finds in the document's
    statements, with the problem's severity: ``statement 2 (Sid X): ...``."""
    part = "trust " if document.kind == "trust" else ""
    for statement in document.statements:
        for problem in check(statement):
            yield Hit(f"{part}{problem.statement}: {problem.message}", severity=problem.severity)
