"""The plan as data: actions, changes, API calls and findings, and its JSON form.

Pure: no boto3, typer or file I/O. Renderers (text, markdown, json) all work from
:meth:`Plan.to_json`, so human and machine output never disagree. Display-only
fields (``reason``, ``fields``) never drive apply; ``api_calls`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from iamstate.model import Address, Json

FORMAT_VERSION = "1"


class Action(StrEnum):
    """What a change does to one entity; stable string values (part of the JSON form)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    IMPORT = "import"
    """Adopt a declared live entity that is not yet tagged for this stack, changing nothing else."""

    def __str__(self) -> str:
        return self.value

    @property
    def symbol(self) -> str:
        """Terraform's symbol for the action (``<=`` for an import)."""
        return {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "import": "<="}[self.value]


class Phase(IntEnum):
    """Apply's phases, in the order SPEC §5 fixes."""

    CREATE_POLICIES = 1
    CREATE = 2
    UPDATE = 3
    ATTACH = 4
    DETACH = 5
    DELETE = 6

    @property
    def label(self) -> str:
        """Lower-case name used in JSON."""
        return self.name.lower()


@dataclass(frozen=True)
class ApiCall:
    """One IAM API call apply will make. ``note`` explains calls that depend on live facts
    read at apply time (for example "for each access key ListAccessKeys returns")."""

    operation: str
    params: Mapping[str, Json]
    phase: Phase
    note: str = ""
    order: int = 0
    """Position inside the phase; deletes of one kind run before the next kind."""

    @classmethod
    def from_json(cls, doc: Mapping[str, Json]) -> ApiCall:
        """The inverse of :meth:`to_json`."""
        return cls(
            str(doc["operation"]),
            dict(doc["params"]),
            Phase[str(doc["phase"]).upper()],
            str(doc.get("note", "")),
            int(doc.get("order", 0)),
        )

    def to_json(self) -> dict[str, Json]:
        """The call's JSON form."""
        out: dict[str, Json] = {
            "operation": self.operation,
            "params": dict(self.params),
            "phase": self.phase.label,
            "order": self.order,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class FieldDiff:
    """One field-level difference inside a change (``path`` like ``tags.team``)."""

    path: str
    before: Json
    after: Json

    @property
    def action(self) -> str:
        """``add``, ``remove`` or ``change``."""
        if self.before is None:
            return "add"
        if self.after is None:
            return "remove"
        return "change"

    def to_json(self) -> dict[str, Json]:
        """The field diff's JSON form."""
        return {"path": self.path, "action": self.action, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Change:
    """A planned change to one entity: essences before and after, and its API calls."""

    address: Address
    action: Action
    before: Json | None
    after: Json | None
    reason: str = ""
    fields: tuple[FieldDiff, ...] = ()
    api_calls: tuple[ApiCall, ...] = ()
    importing: bool = False
    """The live entity is declared but not yet this stack's: apply adopts it (tags it)."""
    normalized: Mapping[str, Json] = field(default_factory=dict)
    """The documents of ``before`` and ``after`` in their normalized form (``{"before": {"document":
    ...}, "after": {...}}``), for machines that compare by meaning; ``before`` and ``after`` hold
    them as their authors wrote them (the config, IAM)."""

    @classmethod
    def from_json(cls, doc: Mapping[str, Json]) -> Change:
        """The inverse of :meth:`to_json`."""
        return cls(
            Address.parse(str(doc["address"])),
            Action(doc["action"]),
            doc.get("before"),
            doc.get("after"),
            str(doc.get("reason", "")),
            tuple(FieldDiff(str(f["path"]), f.get("before"), f.get("after")) for f in doc.get("fields", [])),
            tuple(ApiCall.from_json(c) for c in doc.get("api_calls", [])),
            bool(doc.get("importing", False)),
            dict(doc.get("normalized") or {}),
        )

    def to_json(self) -> dict[str, Json]:
        """The change's JSON form (SPEC §7)."""
        out: dict[str, Json] = {
            "address": str(self.address),
            "kind": self.address.kind.value,
            "name": self.address.name,
            "action": self.action.value,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
            "fields": [f.to_json() for f in self.fields],
            "api_calls": [c.to_json() for c in self.api_calls],
        }
        if self.importing:
            out["importing"] = True
        if self.normalized:
            out["normalized"] = dict(self.normalized)
        return out


@dataclass(frozen=True)
class Unmanaged:
    """A live entity in scope that the plan leaves alone: why, and what to do about it."""

    address: Address
    standing: str
    """``unmanaged``, ``cloudformation`` or ``protected``."""
    reason: str
    remedy: str

    @classmethod
    def from_json(cls, doc: Mapping[str, Json]) -> Unmanaged:
        """The inverse of :meth:`to_json`."""
        return cls(
            Address.parse(str(doc["address"])), str(doc["standing"]), str(doc["reason"]), str(doc["remedy"])
        )

    def to_json(self) -> dict[str, Json]:
        """The entry's JSON form."""
        return {
            "address": str(self.address),
            "standing": self.standing,
            "reason": self.reason,
            "remedy": self.remedy,
        }


class Severity(StrEnum):
    """Finding severity: ``error`` refuses (exit 3), ``warning`` is shown."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Finding:
    """A safety-rule result about one entity (or the whole config/account)."""

    rule: str
    severity: Severity
    address: str
    message: str
    remedy: str
    waived: bool = False
    location: str = ""
    waiver_reason: str = ""

    @property
    def blocking(self) -> bool:
        """True when this finding refuses the command (an unwaived error)."""
        return self.severity is Severity.ERROR and not self.waived

    @classmethod
    def from_json(cls, doc: Mapping[str, Json]) -> Finding:
        """The inverse of :meth:`to_json`."""
        return cls(
            str(doc["rule"]),
            Severity(doc["severity"]),
            str(doc["address"]),
            str(doc["message"]),
            str(doc["remedy"]),
            bool(doc.get("waived", False)),
            str(doc.get("location", "")),
            str(doc.get("waiver_reason", "")),
        )

    def to_json(self) -> dict[str, Json]:
        """The finding's JSON form (SPEC §7)."""
        out: dict[str, Json] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "address": self.address,
            "message": self.message,
            "remedy": self.remedy,
            "waived": self.waived,
        }
        if self.location:
            out["location"] = self.location
        if self.waiver_reason:
            out["waiver_reason"] = self.waiver_reason
        return out


@dataclass(frozen=True)
class Summary:
    """Counts as Terraform reports them: a replace counts as one add and one destroy; an
    adoption counts as an import (and as a change too when it also changes the entity)."""

    add: int
    change: int
    destroy: int
    import_: int = 0

    @property
    def empty(self) -> bool:
        """True when nothing would change."""
        return self.add == self.change == self.destroy == self.import_ == 0

    def line(self) -> str:
        """Exactly one summary line (SPEC §7), Terraform's, imports first when there are any."""
        if self.empty:
            return "No changes. Live IAM matches the configuration."
        imports = f"{self.import_} to import, " if self.import_ else ""
        return f"Plan: {imports}{self.add} to add, {self.change} to change, {self.destroy} to destroy."


@dataclass(frozen=True)
class Plan:
    """Everything apply needs and reviewers read, as plain values."""

    account_id: str
    stack: str
    changes: tuple[Change, ...] = ()
    findings: tuple[Finding, ...] = ()
    metadata: Mapping[str, Json] = field(default_factory=dict)
    unmanaged: tuple[Unmanaged, ...] = ()
    """Live entities in scope that the plan leaves alone (unmanaged, CloudFormation's, protected)."""

    @property
    def summary(self) -> Summary:
        """Counts of imports, adds, changes and destroys."""
        add = change = destroy = imports = 0
        for c in self.changes:
            if c.action is Action.CREATE:
                add += 1
            elif c.action is Action.UPDATE:
                change += 1
                imports += c.importing
            elif c.action is Action.IMPORT:
                imports += 1
            elif c.action is Action.DELETE:
                destroy += 1
            else:
                add += 1
                destroy += 1
        return Summary(add, change, destroy, imports)

    @property
    def blocking_findings(self) -> list[Finding]:
        """Unwaived error findings: any one refuses the command with exit 3."""
        return [f for f in self.findings if f.blocking]

    def ordered_calls(self) -> list[tuple[Change, ApiCall]]:
        """Every API call of the plan in apply's order: by phase, then order; otherwise as listed."""
        calls = [(c, call) for c in self.changes for call in c.api_calls]
        calls.sort(key=lambda pair: (pair[1].phase, pair[1].order))
        return calls

    @classmethod
    def from_json(cls, doc: Mapping[str, Json]) -> Plan:
        """The inverse of :meth:`to_json` (for saved plans); ValueError on another format version."""
        if doc.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported plan format_version {doc.get('format_version')!r}")
        return cls(
            str(doc["account_id"]),
            str(doc["stack"]),
            tuple(Change.from_json(c) for c in doc.get("changes", [])),
            tuple(Finding.from_json(f) for f in doc.get("findings", [])),
            dict(doc.get("metadata", {})),
            tuple(Unmanaged.from_json(u) for u in doc.get("unmanaged", [])),
        )

    def to_json(self) -> dict[str, Json]:
        """The plan's JSON form, described by ``schemas/plan.schema.json``."""
        s = self.summary
        summary: dict[str, Json] = {"add": s.add, "change": s.change, "destroy": s.destroy}
        if s.import_:
            summary = {"import": s.import_, **summary}
        out: dict[str, Json] = {
            "format_version": FORMAT_VERSION,
            "account_id": self.account_id,
            "stack": self.stack,
            "changes": [c.to_json() for c in self.changes],
            "findings": [f.to_json() for f in self.findings],
            "summary": summary,
            "summary_line": s.line(),
            "metadata": dict(self.metadata),
        }
        if self.unmanaged:
            out["unmanaged"] = [u.to_json() for u in self.unmanaged]
        return out
