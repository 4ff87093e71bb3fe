"""Rules on roles' trust policies: who may assume a role, and on what conditions (pure).

A trust statement is read as the analysis reads every statement
(:mod:`iamstate.analysis`): one whose conditions can never hold admits nobody, so no
trust rule judges it; a condition value that reaches a whole type (an ARN with
wildcards in any segment, ``arn:aws:lambda:*:*:function:*``) does not narrow.
"""

from __future__ import annotations

import datetime

from iamstate.analysis.conditions import Reading, overall, read_conditions
from iamstate.analysis.resources import unscoped
from iamstate.rules.statements import ConditionEntry, Statement

ROLES_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")


def admits_nobody(statement: Statement, now: datetime.datetime) -> bool:
    """True when the statement's conditions can never hold, at ``now`` or later, for any of the
    assume actions it covers."""
    if not statement.conditions:
        return False
    actions = [a for a in ASSUME_ACTIONS if statement.covers(a)] or [ASSUME_ACTIONS[0]]
    return all(
        overall(read_conditions(statement.conditions, a.lower(), now)) is Reading.NEVER_TRUE for a in actions
    )


def narrows(entry: ConditionEntry, *keys: str) -> bool:
    """A positive entry on one of ``keys`` whose values do not admit everything (wildcards only,
    or an ARN pattern that reaches a whole type)."""
    return (
        entry.positive
        and entry.is_key(*keys)
        and not entry.wildcard_only
        and not any(unscoped(v) for v in entry.values)
    )
