"""One call that analyses a whole state: permissions, escalations, exposures (pure).

A rule, the plan's access section and ``explain`` each read the same
:class:`AccountAnalysis`, so that every one of them sees the account alike.

Which state is analysed:

- offline (``validate``, ``explain --offline``): the configuration's desired state,
  with the built-in table of high-risk AWS-managed policies
  (:func:`managed_documents` with nothing read);
- at plan time: the account as apply will leave it (:func:`projected_state`): the
  live account without what the plan deletes, every declared entity as declared,
  and the AWS-managed documents read for it, over the built-in table;
- the live account as it is (``explain``, and the "before" side of the plan's
  access section).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iamstate.analysis import escalation, exposure
from iamstate.analysis.effective import AccountContext, DocumentCache, Permissions, effective_permissions
from iamstate.analysis.escalation import EscalationPath, Step, find_escalations
from iamstate.analysis.exposure import Exposure
from iamstate.analysis.managed import builtin_documents
from iamstate.model import Address, Json, Kind, Resource, State

PRINCIPAL_KINDS = (Kind.USER, Kind.GROUP, Kind.ROLE)
"""The kinds that hold identity policies, in the order findings and summaries list them."""


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

    def own_paths(self, address: Address) -> tuple[EscalationPath, ...]:
        """The escalation paths of ``address`` that are its own to report: for a user, those
        not wholly granted by one of its groups that escalates too (that group's finding,
        or its waiver, speaks for every member)."""
        out = []
        for path in self.escalations.get(address, ()):
            group = self._inherited(address, own_steps(path))
            if group is None or group not in self.escalations:
                out.append(path)
        return tuple(out)

    def own_exposures(self, address: Address) -> tuple[Exposure, ...]:
        """The exposures of ``address`` that are its own to report: for a user, those not wholly
        granted by one of its groups that has the same exposure class."""
        out = []
        for found in self.exposures(address):
            group = self._inherited(address, found.steps)
            if group is None or not any(e.exposure is found.exposure for e in self.exposures(group)):
                out.append(found)
        return tuple(out)

    def _inherited(self, address: Address, steps: Iterable[Step | None]) -> Address | None:
        """The one group of user ``address`` that holds every one of ``steps``, or None (also for
        anything but a user)."""
        if address.kind is not Kind.USER:
            return None
        holders = {s.holder if s is not None else address for s in steps}
        if len(holders) != 1:
            return None
        (holder,) = holders
        return holder if holder.kind is Kind.GROUP and holder in self.permissions else None


def own_steps(path: EscalationPath) -> tuple[Step | None, ...]:
    """The grants of ``path`` that its principal holds itself: the method's when it exercises it
    directly, else those of its first hop (``None`` for a hop its trust grants by name)."""
    if not path.hops:
        return path.steps
    first = path.hops[0]
    if first.trusted_by_name or not first.steps:
        return (None,)
    return first.steps


def analyse(
    state: State,
    *,
    managed: Mapping[str, Json],
    now: datetime.datetime,
    context: AccountContext | None = None,
    cache: DocumentCache | None = None,
) -> AccountAnalysis:
    """Analyse every user, role and group of ``state`` (desired or live) at time ``now``.

    ``managed`` maps AWS-managed policy ARNs to documents (:func:`managed_documents`).
    Pass a ``cache`` made by :func:`document_cache` to share compiled documents with
    another analysis of the same time (the plan's before and after).
    """
    cache = cache if cache is not None else document_cache(now)
    permissions = effective_permissions(state, managed=managed, now=now, context=context, cache=cache)
    escalations = find_escalations(state, permissions, now=now)
    return AccountAnalysis(permissions, escalations, len(cache))


def document_cache(now: datetime.datetime) -> DocumentCache:
    """A cache of compiled documents that indexes the escalation and exposure actions."""
    return DocumentCache(now, escalation.ACTIONS | exposure.all_actions())


def managed_documents(read: Mapping[str, Json] | None = None) -> dict[str, Json]:
    """The AWS-managed documents to analyse with: the built-in table, overlaid by the default
    versions read from IAM (``read``, at plan time)."""
    return {**builtin_documents(), **(read or {})}


def projected_state(desired: State, live: State, deleted: Iterable[Address] = ()) -> State:
    """The account as apply will leave it: the live entities, less ``deleted``, with every declared
    entity as declared (matched by kind and name, case-insensitively, as IAM does)."""
    gone = {a.key for a in deleted} | {a.key for a in desired.resources}
    resources: dict[Address, Resource] = {a: r for a, r in live.resources.items() if a.key not in gone}
    resources.update(desired.resources)
    return State(resources)
