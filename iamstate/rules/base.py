"""Rule units, the targets they look at, and the engine that walks them (pure).

A rule is a class whose attributes are its catalogue entry (``id``, ``severity``,
``waivable`` or ``waiver_flag``, ``summary``, ``remedy``, ``source``, ``order``)
and whose base class is its *target*: what the engine walks and hands to the
rule's ``check``, one item at a time. ``check`` says only what is wrong, in words
that follow the item's name; the engine builds the address, the message prefix
(``policy 'x' statement 2 (Sid Foo)``), the ``file:line:column`` location and
the :class:`~iamstate.plan.Finding`. ``check`` yields text, or a :class:`Hit`
when one finding needs another severity (or, for live rules, another level).

Targets (base classes), and what ``check`` receives:

- :class:`LoaderRule`: nothing; the configuration loader makes these findings
  while it reads the YAML (refused keys).
- :class:`DocumentRule`: every managed policy's document and every role's trust
  policy, as written (a :class:`Document`).
- :class:`GrantingPolicyRule` / :class:`GrantingStatementRule`: the managed
  policies that grant access (all but those used only as permissions
  boundaries), whole or one statement at a time.
- :class:`TrustPolicyRule` / :class:`TrustStatementRule`: each role's trust
  policy, whole or one statement at a time.
- :class:`EntityRule`: each declared entity of the rule's ``kinds``.
- :class:`TemporaryGrantRule`: each temporary grant the configuration declares
  (``expires_at``), expired ones included.
- :class:`PrincipalRule`: each declared user, group and role, with what the
  whole-account analysis (:mod:`iamstate.analysis`) says of it: its effective
  permissions across all its policies, its escalation paths, its exposures.
- :class:`CallerRule`, :class:`PlanRule`, :class:`ChangeRule`: at plan time, the
  caller's ARN, the planned changes as a whole, or one change at a time.
- :class:`RootRule`, :class:`UserRule`, :class:`SamlProviderRule`,
  :class:`AccountRule`, :class:`UnmanagedEntityRule`, :class:`LiveGrantRule`: drift's live
  audit (:class:`~iamstate.audit.AuditInput`): the root user, each live user's report row,
  each SAML provider, the account, each entity in scope the plan leaves alone, or each
  temporary grant of the configuration.

Every target but the live ones takes a :class:`RuleInput`.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

from iamstate.kinds.policy import ManagedPolicy
from iamstate.kinds.role import Role
from iamstate.kinds.saml_provider import SAML_PROVIDER, SamlProvider
from iamstate.model import (
    PASSWORD_POLICY_ADDRESS,
    Address,
    DesiredConfig,
    Json,
    Kind,
    LiveAccount,
    Resource,
)
from iamstate.plan import Action, Change, Finding, Severity, Unmanaged
from iamstate.rules.statements import Statement, labelled
from iamstate.temporary import Grant

if TYPE_CHECKING:
    # Imported where used: iamstate.analysis reads statements with iamstate.rules.statements,
    # so importing it here would make each package's import depend on the other's.
    from iamstate.analysis.account import AccountAnalysis
    from iamstate.analysis.effective import AccountContext, DocumentCache, Permissions

    # Drift's audit: only the live rules' targets read it, and only drift runs them, so
    # validate and plan never load it (the live family is discovered on its own).
    from iamstate.audit import AuditInput, CredentialRow, Level, LiveFinding

MASS_DELETE_FLAG = "--allow-mass-delete"
"""The command-line flag that lets a mass delete through."""
ROOT_ADDRESS = "account.root"
"""The address of live findings about the root user."""
ACCOUNT_ADDRESS = "account"
"""The address of live findings about the account as a whole."""

_T = TypeVar("_T")

UNKNOWN_TIME = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
"""The evaluation time when a caller passes none: no date in a condition counts as past."""


@dataclass(frozen=True)
class RuleInput:
    """What rules see: the config, at plan time the live account and the changes, and the
    findings the loader made while reading the YAML.

    ``now`` is when conditions on time are judged (the shell passes the clock; the core
    never reads it). ``analysis`` is the whole-account analysis when the caller has
    already made it (:func:`analyse_input`), ``live_analysis`` that of the live account
    as it is (:func:`analyse_live`); otherwise the first rule that needs one makes it.
    """

    config: DesiredConfig
    live: LiveAccount | None = None
    changes: tuple[Change, ...] = ()
    loaded: tuple[Finding, ...] = ()
    now: datetime.datetime | None = None
    analysis: AccountAnalysis | None = field(default=None, compare=False)
    live_analysis: AccountAnalysis | None = field(default=None, compare=False)


def analysis_context(data: RuleInput) -> AccountContext:
    """The account the analysed ARNs live in: the configuration's, else the live one's."""
    from iamstate.analysis.effective import AccountContext

    live = data.live
    account = data.config.account_id or (live.account_id if live is not None else "")
    return AccountContext(account, live.partition if live is not None else "aws")


def analyse_live(data: RuleInput, cache: DocumentCache | None = None) -> AccountAnalysis | None:
    """The analysis of the live account as it is, before the plan (pure); None offline.

    Pass the ``cache`` :func:`analyse_input` used, so that a document both sides hold is
    the same compiled document on both (the plan's access section compares them so)."""
    from iamstate.analysis.account import analyse, managed_documents

    live = data.live
    if live is None:
        return None
    managed = managed_documents(live.managed_documents)
    now = data.now or UNKNOWN_TIME
    return analyse(live.state, managed=managed, now=now, context=analysis_context(data), cache=cache)


def analyse_input(data: RuleInput, cache: DocumentCache | None = None) -> AccountAnalysis:
    """The whole-account analysis the rules read (pure).

    Offline (no live account): the desired state, with the built-in table of high-risk
    AWS-managed policies. At plan time: the account as apply will leave it (the live
    account less what the plan deletes, every declared entity as declared), with the
    AWS-managed documents read for it over the built-in table.
    """
    from iamstate.analysis.account import analyse, managed_documents, projected_state

    live = data.live
    if live is None:
        state, managed = data.config.state, managed_documents()
    else:
        deleted = [c.address for c in data.changes if c.action is Action.DELETE]
        state = projected_state(data.config.state, live.state, deleted)
        managed = managed_documents(live.managed_documents)
    now = data.now or UNKNOWN_TIME
    return analyse(state, managed=managed, now=now, context=analysis_context(data), cache=cache)


@dataclass(frozen=True)
class Hit:
    """One thing a check found, when it needs more than its text."""

    message: str
    severity: Severity | None = None
    """Overrides the rule's severity for this finding."""
    level: Level | None = None
    """Overrides a live rule's level for this finding."""


Found = Iterable[str | Hit]
"""What a check yields: one text (or :class:`Hit`) per finding."""


@dataclass(frozen=True)
class Subject:
    """Where a finding points: its address, how its message names it, and where it was declared."""

    address: str
    name: str = ""
    location: str = ""
    words: Mapping[str, str] = field(default_factory=dict)
    """More names a rule's ``template`` may use (``{document}``)."""
    managed: bool | None = None
    """For live findings about a user: whether this configuration manages it."""


@functools.lru_cache(maxsize=65_536)
def named(address: Address | str) -> str:
    """How messages name an entity, in the loader's words: ``policy 'reports-read'``."""
    if isinstance(address, str):
        address = Address.parse(address)
    return address.label


@dataclass(frozen=True)
class Document:
    """A managed policy's document or a role's trust policy, as the rules read it."""

    address: Address
    kind: str
    """``policy`` (identity-based) or ``trust``."""
    written: Json
    """The document as written (before normalization), for the rules about its grammar."""
    normalized: Json

    @functools.cached_property
    def statements(self) -> tuple[Statement, ...]:
        """The statements, normalized, labelled in the order they were written."""
        return tuple(labelled(self.written if self.written is not None else self.normalized))

    @functools.cached_property
    def text(self) -> str:
        """The document as written, as one string (its ``repr``: key order and value types kept):
        two documents of the same text read the same to every rule that reads only the document."""
        return repr(self.written if self.written is not None else self.normalized)

    @property
    def noun(self) -> str:
        """What messages call the document: ``document`` or ``trust policy``."""
        return "trust policy" if self.kind == "trust" else "document"

    def grants(self, data: RuleInput) -> Permissions:
        """What the document grants by itself, read as the analysis reads every policy (its
        wildcards, NotAction, resources, conditions at ``data.now``, same-document denies)."""
        from iamstate.analysis.effective import DocumentCache, document_permissions

        return document_permissions(self.address, self.normalized, DocumentCache(data.now or UNKNOWN_TIME))


class Walk:
    """The targets of one run, each built once, and the names and places of their subjects."""

    def __init__(self, data: RuleInput):
        self.data = data
        self.config = data.config
        self._locations: dict[Address, str] = {}
        """Each entity's location, formatted once per run (every rule's subjects ask for it)."""
        self._distinct: dict[int, tuple[tuple[Document, ...], list[tuple[Document, list[int]]]]] = {}
        """Each document tuple grouped by text (:meth:`distinct`): 5,000 roles that share one
        trust policy are checked once by each document rule."""

    @functools.cached_property
    def analysis(self) -> AccountAnalysis:
        """The whole-account analysis (:func:`analyse_input`), made once per run."""
        return self.data.analysis if self.data.analysis is not None else analyse_input(self.data)

    @functools.cached_property
    def live_analysis(self) -> AccountAnalysis | None:
        """The analysis of the live account before the plan (:func:`analyse_live`); None offline."""
        if self.data.live_analysis is not None:
            return self.data.live_analysis
        return analyse_live(self.data)

    def location(self, address: Address) -> str:
        """Where the entity at ``address`` was declared (``file:line:column``), or ``""``."""
        found = self._locations.get(address)
        if found is None:
            where = self.config.sources.get(address)
            found = self._locations[address] = str(where) if where is not None else ""
        return found

    def subject(self, address: Address, name: str = "", **words: str) -> Subject:
        """The subject for an entity of the config, named ``name`` (its own name by default)."""
        return Subject(str(address), name or named(address), self.location(address), words)

    def statement_subject(self, address: Address, part: str, label: str) -> Subject:
        """The subject for one statement of an entity's document: ``policy 'p' statement 2``."""
        return self.subject(address, " ".join(filter(None, (named(address), part, label))))

    def _documents(self, kind: Kind) -> tuple[Document, ...]:
        """The document of each declared entity of ``kind``: a policy's, or a role's trust policy."""
        out = []
        for address, resource in self.config.state.items_of_kind(kind):
            assert isinstance(resource, (ManagedPolicy, Role))
            normalized = resource.document if isinstance(resource, ManagedPolicy) else resource.trust
            written = self.config.documents_raw.get(address, normalized)
            out.append(Document(address, "policy" if kind is Kind.POLICY else "trust", written, normalized))
        return tuple(out)

    @functools.cached_property
    def documents(self) -> tuple[Document, ...]:
        """Every policy document, then every trust policy."""
        return (*self.policies, *self.trusts)

    def distinct(self, documents: tuple[Document, ...]) -> list[tuple[Document, list[int]]]:
        """The first document of each distinct text (kind and text) in ``documents``, with the
        positions of every one that has it (grouped once per tuple)."""
        found = self._distinct.get(id(documents))
        if found is None or found[0] is not documents:
            groups: dict[tuple[str, str], tuple[Document, list[int]]] = {}
            for index, document in enumerate(documents):
                entry = groups.get((document.kind, document.text))
                if entry is None:
                    groups[document.kind, document.text] = (document, [index])
                else:
                    entry[1].append(index)
            found = self._distinct[id(documents)] = (documents, list(groups.values()))
        return found[1]

    @functools.cached_property
    def principals(self) -> tuple[Principal, ...]:
        """Every declared user, group and role, in the order principal rules report them."""
        from iamstate.analysis.account import PRINCIPAL_KINDS

        return tuple(
            Principal(address, self)
            for kind in PRINCIPAL_KINDS
            for address, _ in self.config.state.items_of_kind(kind)
        )

    @functools.cached_property
    def policies(self) -> tuple[Document, ...]:
        """Every managed policy the config declares (the force-MFA policy it generates too)."""
        return self._documents(Kind.POLICY)

    @functools.cached_property
    def trusts(self) -> tuple[Document, ...]:
        """Every role's trust policy."""
        return self._documents(Kind.ROLE)

    @functools.cached_property
    def granting(self) -> tuple[Document, ...]:
        """The managed policies that grant access: all but those used only as permissions boundaries."""
        attached: set[str] = set()
        boundaries: set[str] = set()
        for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
            for resource in self.config.state.of_kind(kind):
                attached |= {a.lower() for a in getattr(resource, "policies", ())}
                boundary = getattr(resource, "permissions_boundary", None)
                if boundary:
                    boundaries.add(boundary.lower())
        out = []
        for document in self.policies:
            resource = self.config.state.resources[document.address]
            assert isinstance(resource, ManagedPolicy)
            # A policy built without an ARN (a partial config) is matched by its path and name.
            key = (resource.arn or f":policy{resource.path}{resource.name}").lower()
            as_boundary = any(arn.endswith(key) for arn in boundaries)
            if not as_boundary or any(arn.endswith(key) for arn in attached):
                out.append(document)
        return tuple(out)


# --- rules -----------------------------------------------------------------------------


class Rule(ABC):
    """What every rule declares: its id, what it is about, what to do, and where it is listed."""

    id: ClassVar[str]
    summary: ClassVar[str]
    """One line for the README's table: when the rule fires."""
    remedy: ClassVar[str]
    source: ClassVar[str]
    """Where the rule comes from (a benchmark, AWS's documentation)."""
    order: ClassVar[int]
    """Its place in the catalogue (README table, the order of findings): family hundreds, then tens."""


class ConfigRule(Rule):
    """A rule of ``validate``, ``plan`` and ``apply``: its findings appear in plans."""

    severity: ClassVar[Severity]
    waivable: ClassVar[bool] = False
    waiver_flag: ClassVar[str] = ""
    """The command-line flag that lets the rule's findings through (instead of ``exceptions:``)."""
    needs_live: ClassVar[bool] = False
    """True for rules that look at the caller or the changes: plan and apply only."""
    template: ClassVar[str] = "{subject} {message}"
    """How a finding's message is built from the subject's name and what ``check`` said."""

    @property
    def waivable_text(self) -> str:
        """How the README's rule table says whether and how the rule can be waived."""
        if self.waiver_flag:
            return f"`{self.waiver_flag}`"
        return "yes" if self.waivable else "no"

    @abstractmethod
    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        """Each subject of the target (made only when the check found something on it: most
        subjects of most rules find nothing), with what the check found on it."""

    def findings(self, walk: Walk) -> Iterator[Finding]:
        """The rule's findings in one run, waivers not yet applied."""
        for make_subject, found in self.subjects(walk):
            hits = iter(found)
            first = next(hits, None)
            if first is None:
                continue
            subject = make_subject()
            for hit in itertools.chain((first,), hits):
                yield self.finding(subject, hit if isinstance(hit, Hit) else Hit(hit))

    def finding(self, subject: Subject, hit: Hit) -> Finding:
        """The finding of this rule about ``subject``."""
        message = self.template.format(subject=subject.name, message=hit.message, **subject.words)
        return Finding(
            self.id,
            hit.severity or self.severity,
            subject.address,
            message,
            self.remedy,
            location=subject.location,
        )


class LoaderRule(ConfigRule):
    """Target: nothing to walk; the configuration loader finds these while reading the YAML."""

    severity = Severity.ERROR

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        return iter(())


class _DocumentsRule(ConfigRule):
    """Targets made of policy documents."""

    reads_holder: ClassVar[bool] = False
    """True when ``check`` reads which entity holds the document (its address), not only the
    document and the run's data. Otherwise a run checks each distinct document text once and
    gives every entity holding that text the same answer."""

    def found_in(
        self, walk: Walk, check: Callable[[Document, RuleInput], Iterable[_T]]
    ) -> Iterator[tuple[Document, tuple[_T, ...]]]:
        """Each document of the target, in order, with what ``check`` found in it, for those where
        it found something. Unless the rule reads the holder, each distinct text is checked
        once, and only the documents of a text it found something in are visited."""
        documents = self.documents(walk)
        if self.reads_holder:
            for document in documents:
                found = tuple(check(document, walk.data))
                if found:
                    yield document, found
            return
        hits: list[tuple[int, tuple[_T, ...]]] = []
        for first, sharing in walk.distinct(documents):
            found = tuple(check(first, walk.data))
            if found:
                hits.extend((index, found) for index in sharing)
        hits.sort(key=operator.itemgetter(0))
        for index, found in hits:
            yield documents[index], found

    @abstractmethod
    def documents(self, walk: Walk) -> tuple[Document, ...]:
        """The documents of the target (one of the walk's tuples, which it groups once)."""


class _WholeDocumentRule(_DocumentsRule):
    """Targets that hand ``check`` one document at a time. Subject: ``policy 'p'``, ``role 'r'``;
    the template may say ``{document}`` (``document`` or ``trust policy``)."""

    @abstractmethod
    def check(self, document: Document, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        for document, found in self.found_in(walk, self.check):
            if found:  # nothing to report (most documents): no subject to offer
                yield functools.partial(walk.subject, document.address, document=document.noun), found


class _StatementRule(_DocumentsRule):
    """Targets that hand ``check`` one statement at a time. Subject: ``policy 'p' statement 2
    (Sid Foo)``, ``role 'r' trust statement 1``."""

    part: ClassVar[str] = ""
    """What comes between the entity and the statement in the subject (``trust``)."""

    @abstractmethod
    def check(self, statement: Statement, data: RuleInput) -> Found: ...

    def _each_statement(
        self, document: Document, data: RuleInput
    ) -> Iterator[tuple[str, tuple[str | Hit, ...]]]:
        """The label (from the text: its place and Sid) of each statement the check found
        something in, with what it found."""
        for statement in document.statements:
            found = tuple(self.check(statement, data))
            if found:
                yield statement.label, found

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        for document, answers in self.found_in(walk, self._each_statement):
            for label, found in answers:
                if not found:
                    continue
                yield (
                    functools.partial(walk.statement_subject, document.address, self.part, label),
                    found,
                )


class DocumentRule(_WholeDocumentRule):
    """Target: every policy document and trust policy, as written."""

    def documents(self, walk: Walk) -> tuple[Document, ...]:
        return walk.documents


class GrantingPolicyRule(_WholeDocumentRule):
    """Target: each managed policy that grants access, whole."""

    def documents(self, walk: Walk) -> tuple[Document, ...]:
        return walk.granting


class GrantingStatementRule(_StatementRule):
    """Target: each statement of a managed policy that grants access."""

    def documents(self, walk: Walk) -> tuple[Document, ...]:
        return walk.granting


class TrustPolicyRule(_WholeDocumentRule):
    """Target: each role's trust policy, whole."""

    def documents(self, walk: Walk) -> tuple[Document, ...]:
        return walk.trusts


class TrustStatementRule(_StatementRule):
    """Target: each statement of each role's trust policy."""

    part = "trust"

    def documents(self, walk: Walk) -> tuple[Document, ...]:
        return walk.trusts


class EntityRule(ConfigRule):
    """Target: each declared entity of ``kinds``. Subject: ``group 'g'`` (the password policy:
    ``the password policy``)."""

    kinds: ClassVar[tuple[Kind, ...]]

    @abstractmethod
    def check(self, entity: Resource, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        for kind in self.kinds:
            for address, resource in walk.config.state.items_of_kind(kind):
                password_policy = kind is Kind.PASSWORD_POLICY and address == PASSWORD_POLICY_ADDRESS
                name = "the password policy" if password_policy else ""
                yield functools.partial(walk.subject, address, name), self.check(resource, walk.data)


class TemporaryGrantRule(ConfigRule):
    """Target: each temporary grant the configuration declares, expired ones included. Subject:
    ``user 'alice' membership of group 'x'``, at the grant's ``expires_at``."""

    @abstractmethod
    def check(self, grant: Grant, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        for grant in walk.config.temporary:
            yield functools.partial(_grant_subject, walk, grant), self.check(grant, walk.data)


def _grant_subject(walk: Walk, grant: Grant) -> Subject:
    """The subject of a temporary grant: at its ``expires_at``, else where its entity is declared."""
    location = str(grant.location) if grant.location else walk.location(grant.address)
    return Subject(str(grant.address), grant.subject, location)


class Principal:
    """One declared user, group or role, and what the whole-account analysis says of it."""

    def __init__(self, address: Address, walk: Walk) -> None:
        self.address = address
        self._walk = walk

    @property
    def analysis(self) -> AccountAnalysis:
        """The account as the rules judge it: as apply will leave it (offline: as declared)."""
        return self._walk.analysis

    @property
    def live(self) -> AccountAnalysis | None:
        """The live account before the plan (made on first use); None offline."""
        return self._walk.live_analysis


class PrincipalRule(ConfigRule):
    """Target: each declared user, group and role, with the whole-account analysis (its effective
    permissions, escalation paths, exposures). Subject: ``user 'u'``, ``role 'r'``."""

    @abstractmethod
    def check(self, principal: Principal, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        subject = walk.subject
        data = walk.data
        for principal in walk.principals:
            # check() is a generator: the analysis is made when the first principal is looked at.
            yield functools.partial(subject, principal.address), self.check(principal, data)


class CallerRule(ConfigRule):
    """Target, at plan time: the caller's ARN. Subject: ``the caller ARN``, address ``account``."""

    needs_live = True

    @abstractmethod
    def check(self, caller_arn: str, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        live = walk.data.live
        if live is not None:
            subject = Subject("account", f"the caller {live.caller_arn}")
            yield lambda: subject, self.check(live.caller_arn, walk.data)


class PlanRule(ConfigRule):
    """Target, at plan time: the planned changes as a whole. Subject: ``the plan``, address ``plan``."""

    needs_live = True

    @abstractmethod
    def check(self, changes: Sequence[Change], live: LiveAccount, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        live = walk.data.live
        if live is not None:
            yield (
                functools.partial(Subject, "plan", "the plan"),
                self.check(walk.data.changes, live, walk.data),
            )


class ChangeRule(ConfigRule):
    """Target, at plan time: each planned change. Subject: ``the plan``, at the changed entity."""

    needs_live = True

    @abstractmethod
    def check(self, change: Change, live: LiveAccount, data: RuleInput) -> Found: ...

    def subjects(self, walk: Walk) -> Iterator[tuple[Callable[[], Subject], Found]]:
        live = walk.data.live
        if live is None:
            return
        for change in walk.data.changes:
            yield (
                functools.partial(walk.subject, change.address, "the plan"),
                self.check(change, live, walk.data),
            )


# --- live rules (drift) -----------------------------------------------------------------


class LiveRule(Rule):
    """A rule of drift's live audit: credentials, the root user, the account."""

    level: ClassVar[Level]

    @property
    def fires_when(self) -> str:
        """When the rule fires (the drift table's column)."""
        return self.summary

    @abstractmethod
    def subjects(self, inp: AuditInput) -> Iterator[tuple[Subject, Found]]:
        """Each subject of the target, with what the check found on it."""

    def findings(self, inp: AuditInput) -> Iterator[LiveFinding]:
        """The rule's live findings."""
        from iamstate.audit import LiveFinding

        for subject, found in self.subjects(inp):
            for hit in found:
                hit = hit if isinstance(hit, Hit) else Hit(hit)
                yield LiveFinding(
                    self.id,
                    hit.level or self.level,
                    subject.address,
                    hit.message,
                    self.remedy,
                    subject.managed,
                )


class AccountRule(LiveRule):
    """Target: the account as a whole; findings at ``account``. Account-wide findings come
    only from a configuration that manages the account (``AuditInput.audits_account``)."""

    address: ClassVar[str] = ACCOUNT_ADDRESS

    @abstractmethod
    def check(self, inp: AuditInput) -> Found: ...

    def subjects(self, inp: AuditInput) -> Iterator[tuple[Subject, Found]]:
        if inp.audits_account:
            yield Subject(self.address), self.check(inp)


class UnmanagedEntityRule(LiveRule):
    """Target: each live entity in scope that the plan leaves alone (``AuditInput.unmanaged``)."""

    @abstractmethod
    def check(self, entry: Unmanaged, inp: AuditInput) -> Found: ...

    def subjects(self, inp: AuditInput) -> Iterator[tuple[Subject, Found]]:
        for entry in inp.unmanaged:
            yield Subject(str(entry.address)), self.check(entry, inp)


class RootRule(AccountRule):
    """Target: the root user (the summary, the report's root row, its virtual MFA); findings at
    ``account.root``."""

    address = ROOT_ADDRESS


class SamlProviderRule(LiveRule):
    """Target: each SAML identity provider of the account, as read live."""

    @abstractmethod
    def check(self, provider: SamlProvider, inp: AuditInput) -> Found: ...

    def subjects(self, inp: AuditInput) -> Iterator[tuple[Subject, Found]]:
        for provider in inp.saml_providers:
            yield Subject(str(Address(SAML_PROVIDER, provider.name))), self.check(provider, inp)


class LiveGrantRule(LiveRule):
    """Target: each temporary grant the configuration declares, with the live account that may
    still hold it; findings at the entity that holds it."""

    @abstractmethod
    def check(self, grant: Grant, inp: AuditInput) -> Found: ...

    def subjects(self, inp: AuditInput) -> Iterator[tuple[Subject, Found]]:
        for grant in inp.temporary:
            yield Subject(str(grant.address)), self.check(grant, inp)


class UserRule(LiveRule):
    """Target: the report row of each user that exists live, managed by this configuration or not."""

    @abstractmethod
    def check(self, row: CredentialRow, inp: AuditInput) -> Found: ...

    def subjects(self, inp: AuditInput) -> Iterator[tuple[Subject, Found]]:
        from iamstate.audit import user_rows

        for row, managed in user_rows(inp):
            yield Subject(str(Address(Kind.USER, row.user)), managed=managed), self.check(row, inp)


# --- the engine --------------------------------------------------------------------------


def apply_waivers(
    findings: Iterable[Finding],
    exceptions: Mapping[str, Mapping[str, str]],
    rules: Mapping[str, ConfigRule],
    flags: Iterable[str] = (),
) -> list[Finding]:
    """Mark findings waived: where the entity's ``exceptions`` name a waivable rule, or where a
    command-line flag in ``flags`` is the rule's waiver flag (pure)."""
    passed = set(flags)
    out = []
    for f in findings:
        rule = rules.get(f.rule)
        reason = exceptions.get(f.address, {}).get(f.rule)
        if reason and rule is not None and rule.waivable:
            f = replace(f, waived=True, waiver_reason=reason)
        elif rule is not None and rule.waiver_flag and rule.waiver_flag in passed:
            f = replace(f, waived=True, waiver_reason=f"allowed by {rule.waiver_flag}")
        out.append(f)
    return out


FoundBy = dict[str, list[Finding]]
"""Each rule's findings, by rule id."""

Apart = Callable[
    [Callable[[], FoundBy], Callable[[], tuple[RuleInput, FoundBy]]],
    tuple[FoundBy, tuple[RuleInput, FoundBy]],
]
"""Runs its first argument elsewhere (on another core) while running its second here, and
returns both answers; the shell provides one (:mod:`iamstate.commands.cores`)."""


def run(
    rules: Iterable[ConfigRule],
    data: RuleInput,
    *,
    live: bool,
    flags: Iterable[str] = (),
) -> list[Finding]:
    """The loader's findings and those of every rule that can run, waivers applied once (pure)."""
    catalogue = {rule.id: rule for rule in rules}
    runnable = [rule for rule in catalogue.values() if live or not rule.needs_live]
    return _assembled(runnable, data, _found(runnable, Walk(data)), catalogue, flags)


def run_apart(
    rules: Callable[[], Iterable[ConfigRule]],
    here: Callable[[], RuleInput],
    elsewhere: Callable[[], RuleInput],
    apart: Apart,
) -> tuple[RuleInput, list[Finding]]:
    """:func:`run` of the offline rules ``rules()`` gives, on two inputs of one configuration:
    the rules on principals (the whole-account analysis is most of their work) on the one
    ``elsewhere()`` makes, on the other side of ``apart``; the others on the one ``here()``
    makes. Each side finds the rules itself (discovery imports their modules). The findings
    are those :func:`run` gives, in the same order, with the input made here."""

    def runnable() -> list[ConfigRule]:
        return [rule for rule in rules() if not rule.needs_live]

    def theirs() -> FoundBy:
        return _found([r for r in runnable() if isinstance(r, PrincipalRule)], Walk(elsewhere()))

    def mine() -> tuple[RuleInput, FoundBy]:
        data = here()
        return data, _found([r for r in runnable() if not isinstance(r, PrincipalRule)], Walk(data))

    found, (data, own) = apart(theirs, mine)
    catalogue = {rule.id: rule for rule in rules()}
    return data, _assembled(runnable(), data, {**found, **own}, catalogue, ())


def _found(rules: Iterable[ConfigRule], walk: Walk) -> FoundBy:
    return {rule.id: list(rule.findings(walk)) for rule in rules}


def _assembled(
    runnable: Sequence[ConfigRule],
    data: RuleInput,
    found: FoundBy,
    catalogue: Mapping[str, ConfigRule],
    flags: Iterable[str],
) -> list[Finding]:
    """The loader's findings, then each rule's in order, waivers applied."""
    findings = list(data.loaded)
    for rule in runnable:
        findings.extend(found[rule.id])
    exceptions = {str(a): dict(e) for a, e in data.config.exceptions.items()}
    return apply_waivers(findings, exceptions, catalogue, flags)


def run_live(rules: Iterable[LiveRule], inp: AuditInput) -> tuple[LiveFinding, ...]:
    """Every live finding, most severe first, then by address and rule (pure)."""
    findings = [f for rule in rules for f in rule.findings(inp)]
    return tuple(sorted(findings, key=lambda f: (-f.level.rank, f.address, f.rule, f.message)))
