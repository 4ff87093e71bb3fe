"""One call that analyses a whole state: permissions, escalations, exposures (pure).

A rule, the plan's access section and ``explain`` each read the same
:class:`AccountAnalysis`, so that every one of them sees the account alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from iamstate.analysis import escalation, exposure
from iamstate.analysis.effective import AccountContext, DocumentCache, Permissions, effective_permissions
from iamstate.analysis.escalation import EscalationPath, find_escalations
from iamstate.analysis.exposure import Exposure
from iamstate.model import Address, Json, State


@dataclass
class AccountAnalysis:
    """What every principal of a state can do, how it escalates, and what it exposes."""

    permissions: Mapping[Address, Permissions]
    escalations: Mapping[Address, tuple[EscalationPath, ...]]
    documents: int
    """How many distinct policy documents were compiled."""
    _exposures: dict[Address, tuple[Exposure, ...]] = field(default_factory=dict, repr=False)

    def exposures(self, address: Address) -> tuple[Exposure, ...]:
        """The exposure classes of one principal (computed on first request)."""
        found = self._exposures.get(address)
        if found is None:
            perms = self.permissions.get(address)
            found = tuple(exposure.exposures(perms)) if perms is not None else ()
            self._exposures[address] = found
        return found

    @property
    def unread(self) -> tuple[str, ...]:
        """Every policy ARN some principal holds whose document was not available, sorted."""
        return tuple(sorted({arn for p in self.permissions.values() for arn in p.unread}, key=str.lower))


def analyse(
    state: State,
    *,
    managed: Mapping[str, Json],
    now: datetime.datetime,
    context: AccountContext | None = None,
) -> AccountAnalysis:
    """Analyse every user, role and group of ``state`` (desired or live) at time ``now``.

    ``managed`` maps AWS-managed policy ARNs to documents
    (:func:`iamstate.analysis.managed.builtin_documents` offline).
    """
    cache = DocumentCache(now, escalation.ACTIONS | exposure.all_actions())
    permissions = effective_permissions(state, managed=managed, now=now, context=context, cache=cache)
    escalations = find_escalations(state, permissions, now=now)
    return AccountAnalysis(permissions, escalations, len(cache))
