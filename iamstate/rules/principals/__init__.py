"""Rules on principals: what each user, group and role can do across all its policies (pure).

They read the whole-account analysis (:mod:`iamstate.analysis`): a user's own policies
and its groups', the roles it can assume or pass, its permissions boundary. A user
whose finding is wholly granted by one of its groups is not reported again: the
group's finding, or the group's waiver, speaks for every member.
"""

from __future__ import annotations

from collections.abc import Sequence

from iamstate.analysis.escalation import Step

SHOWN_ACTIONS = 4
"""Actions named per exposure class in a message; the rest are counted."""


def granted_by(steps: Sequence[Step]) -> str:
    """``s3:GetObject (group.data: policy reports-read), ...``: each action with what grants it."""
    shown = [
        f"{s.action} ({s.holder}: {'inline policy' if s.policy_kind == 'inline' else 'policy'} {s.policy})"
        for s in steps[:SHOWN_ACTIONS]
    ]
    more = f" and {len(steps) - SHOWN_ACTIONS} more" if len(steps) > SHOWN_ACTIONS else ""
    return ", ".join(shown) + more
