"""Render the owned part of a live account as configuration files (``iamstate import``). Pure.

Live and desired state have the same type, so importing is rendering live state:
:func:`render_import` takes a :class:`~iamstate.model.LiveAccount` and returns the
YAML text of one file per kind (``account.yaml``, ``policies.yaml``,
``groups.yaml``, ``users.yaml``, ``roles.yaml``). Nothing here reads files or
calls AWS; :mod:`iamstate.commands.import_` is the shell that reads IAM, checks the
result against the safety rules and the planner, and writes the files.

How live state becomes configuration:

- Only what the scope and stack own is written (:func:`iamstate.ownership.split_live`).
- Entities come sorted by name; IAM's defaults are left out (path ``/``, empty
  description, ``max_session_duration: 3600``, no tags, policies or groups,
  ``instance_profile: false``).
- Policy references name the declared policy when it is one; other policies keep
  their ARN, with ``${partition}``/``${account_id}`` put back where the ARN holds
  this account's id (AWS-managed ARNs stay as they are).
- Documents are written readably and mean exactly what live IAM holds: ``Version``
  first, statement keys in IAM's usual order, action names and well-known
  condition keys in AWS's spelling, one-element lists as a single value.
- A role's trust policy becomes the ``trusted:`` shorthand when the shorthand
  generates the same policy, otherwise a full ``trust:`` document.
- Inline policies (which the configuration refuses) become managed policies named
  ``<entity>-<inline name>``, attached in their place; the plan then creates and
  attaches them before it deletes the inline ones, so no permission lapses.
- Instance profiles other than "one profile of the role's own name and path" cannot
  be declared; they are left out with a warning and, where the name allows, added
  to ``scope.ignore`` so that apply leaves them alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from iamstate.config.schema import section_keys
from iamstate.kinds import Ownership, spec, specs
from iamstate.kinds.base import ImportContext
from iamstate.kinds.policy import FORCE_MFA_POLICY
from iamstate.model import (
    DEFAULT_STACK,
    STACK_TAG,
    Address,
    Json,
    Kind,
    LiveAccount,
    Scope,
    State,
)
from iamstate.ownership import split_live
from iamstate.plan import Action, Change, Finding
from iamstate.readable import readable_document
from iamstate.rules import RULES

ACCOUNT_FILE = "account.yaml"
MAX_POLICY_NAME = 128


def import_files() -> tuple[str, ...]:
    """Every YAML file import may write, in the order it writes them: the order of the sections."""
    order = section_keys()
    written = sorted(
        (k for k in specs() if k.import_file and k.section),
        key=lambda k: order.index(k.section[0]) if k.section and k.section[0] in order else len(order),
    )
    return tuple(dict.fromkeys([ACCOUNT_FILE, *(str(k.import_file) for k in written)]))


@dataclass(frozen=True)
class InlineConversion:
    """One live inline policy, imported as a managed policy attached in its place."""

    kind: Kind
    entity: str
    inline_name: str
    policy_name: str

    @property
    def description(self) -> str:
        """The description the imported managed policy carries."""
        return f"Imported from the inline policy {self.inline_name} of {self.kind.value} {self.entity}"


@dataclass(frozen=True)
class ImportedFiles:
    """What :func:`render_import` produced: file name -> YAML text, and what it could not express."""

    texts: Mapping[str, str]
    warnings: tuple[str, ...] = ()
    conversions: tuple[InlineConversion, ...] = ()
    ignored: tuple[str, ...] = ()
    """Names added to ``scope.ignore`` for instance profiles the configuration cannot declare."""


def render_import(
    live: LiveAccount,
    *,
    scope: Scope | None = None,
    stack: str = DEFAULT_STACK,
    exceptions: Mapping[str, Mapping[str, str]] | None = None,
) -> ImportedFiles:
    """The configuration files that declare the owned part of ``live`` (pure).

    ``exceptions`` maps addresses (``user.alice``) to waivers to write on those
    entities (see :func:`waivers_for`). The result plans as no changes against
    ``live``, except for the inline policies it converts to managed policies.
    """
    scope = scope or Scope()
    waivers = {k: dict(v) for k, v in (exceptions or {}).items()}
    account_kinds = [k.kind for k in specs() if k.ownership is Ownership.DECLARED]
    owned = split_live(live.state, scope, stack, managed_kinds=account_kinds, adopt_untagged=True).owned
    ctx = ImportContext(live, owned)
    for kind in specs():
        kind.prepare_import(owned.of_kind(kind.kind), ctx)

    conversions = _conversions(live.state, owned)
    for c in conversions:
        ctx.extra_policies.setdefault((c.kind.value, c.entity), []).append(c.policy_name)

    entries: dict[Kind, list[tuple[str, Json]]] = {}
    for kind in specs():
        items = entries.setdefault(kind.kind, [])
        for resource in owned.of_kind(kind.kind):
            entry = kind.to_config(resource, ctx)
            if entry is not None:
                items.append((resource.name, entry))
    for c in conversions:
        entity = owned.get(Address(c.kind, c.entity))
        assert entity is not None
        document = entity.inline_policies[c.inline_name]  # type: ignore[attr-defined]
        item: dict[str, Json] = {"name": c.policy_name, "description": c.description}
        item["document"] = readable_document(document, live.account_id, live.partition)
        entries[Kind.POLICY].append((c.policy_name, item))

    declared = {name.lower() for items in entries.values() for name, _ in items}
    ignored: list[str] = []
    for kind in specs():
        ignored += kind.finish_import(owned.of_kind(kind.kind), ctx, declared)

    texts: dict[str, str] = {
        ACCOUNT_FILE: _account_file(ctx, scope, stack, sorted(ignored), entries, waivers)
    }
    documents: dict[str, dict[str, Json]] = {}
    for kind in specs():
        items = entries.get(kind.kind) or []
        if not items or kind.import_file is None or kind.section is None:
            continue
        written = []
        for name, item in sorted(items, key=lambda pair: pair[0].lower()):
            waived = waivers.get(str(Address(kind.kind, name)))
            if waived and isinstance(item, dict):
                item["exceptions"] = dict(sorted(waived.items()))
            written.append(item)
        _put(documents.setdefault(kind.import_file, {}), kind.section, written)
    for name in import_files():
        if name in documents:
            texts[name] = _header(live) + dump_yaml(documents[name], spaced=True)
    texts.update(ctx.files)
    return ImportedFiles(texts, tuple(ctx.warnings), tuple(conversions), tuple(sorted(ignored)))


def _put(doc: dict[str, Json], path: Sequence[str], value: Json) -> None:
    """Set ``value`` at a nested key path of ``doc``."""
    for step in path[:-1]:
        doc = doc.setdefault(step, {})
    doc[path[-1]] = value


def _conversions(live: State, owned: State) -> list[InlineConversion]:
    """A managed policy for every inline policy of an owned group, user or role, with unique names."""
    taken = {r.name.lower() for r in live.of_kind(Kind.POLICY)} | {FORCE_MFA_POLICY}
    out = []
    for kind in (Kind.GROUP, Kind.USER, Kind.ROLE):
        for entity in owned.of_kind(kind):
            inline: Mapping[str, Json] = getattr(entity, "inline_policies", {})
            for inline_name in sorted(inline):
                name = _unique_name(f"{entity.name}-{inline_name}", taken)
                taken.add(name.lower())
                out.append(InlineConversion(kind, entity.name, inline_name, name))
    return out


def _unique_name(wanted: str, taken: set[str]) -> str:
    name = wanted[:MAX_POLICY_NAME]
    counter = 2
    while name.lower() in taken:
        suffix = f"-{counter}"
        name = wanted[: MAX_POLICY_NAME - len(suffix)] + suffix
        counter += 1
    return name


# --- account ---------------------------------------------------------------------------


def _account_file(
    ctx: ImportContext,
    scope: Scope,
    stack: str,
    ignored: Sequence[str],
    entries: Mapping[Kind, list[tuple[str, Json]]],
    waivers: Mapping[str, Mapping[str, str]],
) -> str:
    doc: dict[str, Json] = {"account": {"id": ctx.live.account_id}}
    if stack != DEFAULT_STACK:
        doc["account"]["stack"] = stack
    scope_doc: dict[str, Json] = {"paths": list(scope.paths)}
    ignore = list(dict.fromkeys([*scope.ignore, *ignored]))
    if ignore:
        scope_doc["ignore"] = ignore
    doc["scope"] = scope_doc
    # Account-wide settings (the alias, the password policy) go where their section is, here.
    for kind in specs():
        items = entries.get(kind.kind) or []
        if kind.import_file is not None or kind.section is None or not items:
            continue
        name, value = items[0]
        waived = waivers.get(str(Address(kind.kind, name)))
        if waived and isinstance(value, dict):
            value["exceptions"] = dict(sorted(waived.items()))
        _put(doc, kind.section, value)
    notes = "".join(f"#   - {warning}\n" for warning in ctx.warnings)
    if notes:
        notes = "#\n# Not imported as live IAM has it:\n" + notes
    return _header(ctx.live) + notes + dump_yaml(doc, blank_between_sections=True)


def _header(live: LiveAccount) -> str:
    return f"# Imported from account {live.account_id} by `iamstate import`. Review before merge.\n"


# --- safety rules ------------------------------------------------------------------------


def waivers_for(findings: Iterable[Finding], on: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Waivers for the blocking findings that can be waived, and warnings for those that cannot (pure).

    ``on`` is the import's date (``2024-05-01``), written into each reason so that a
    reviewer sees the waiver came from an import and was not yet reviewed.
    """
    waivers: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for f in findings:
        if not f.blocking:
            continue
        rule = RULES.get(f.rule)
        try:
            address = Address.parse(f.address)
        except ValueError:
            address = None
        writable = address is not None and spec(address.kind).section is not None
        if rule is not None and rule.waivable and writable:
            reason = f"Imported as found on {on}; review before merge"
            if f.rule == "user-direct-policy":
                reason = f"Imported as found on {on}; move these policies to a group (review before merge)"
            waivers.setdefault(f.address, {})[f.rule] = reason
            warnings.append(f"{f.address}: {f.rule} waived as imported: {f.message}")
        else:
            warnings.append(f"{f.address}: {f.rule} cannot be waived: {f.message} ({f.remedy})")
    return waivers, warnings


# --- checking the plan -------------------------------------------------------------------


def unexpected_changes(changes: Iterable[Change], conversions: Sequence[InlineConversion]) -> list[str]:
    """Changes a plan of the imported files shows beyond the inline-policy conversions (pure).

    Expected: creating each converted policy, and on the entities that held the
    inline policies, attaching it and deleting the inline one.
    """
    created = {c.policy_name.lower() for c in conversions}
    entities = {(c.kind, c.entity.lower()) for c in conversions}
    out = []
    for change in changes:
        address = change.address
        if change.action is Action.IMPORT:
            continue  # adopting what was imported: apply tags it for the stack
        if change.action is Action.CREATE and address.kind is Kind.POLICY and address.name.lower() in created:
            continue
        if (
            change.action is Action.UPDATE
            and (address.kind, address.name.lower()) in entities
            and all(
                f.path == "policies" or f.path.startswith("inline_policies.") or f.path == f"tags.{STACK_TAG}"
                for f in change.fields
            )
        ):
            continue
        fields = ", ".join(f.path for f in change.fields)
        detail = f" ({fields})" if fields else ""
        out.append(f"the imported files plan a change: {change.action.value} {address}{detail}")
    return out


# --- YAML --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, no anchors, unambiguous scalars."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def choose_scalar_style(self) -> str:
        # One quoting style throughout: double quotes wherever YAML needs quotes.
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    # Digits are numbers to YAML 1.2 readers even with a leading zero (account ids).
    if value.isdigit():
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Json, *, spaced: bool = False, blank_between_sections: bool = False) -> str:
    """YAML text in iamstate's style (pure): block style, insertion order, 2-space indents.

    ``spaced`` puts a blank line between the items of a top-level list;
    ``blank_between_sections`` between top-level keys.
    """
    text = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096
    )
    lines = text.splitlines()
    out: list[str] = []
    for index, line in enumerate(lines):
        if index and spaced and line.startswith("  - ") and out[-1].startswith(" "):
            out.append("")
        if index and blank_between_sections and line[:1] not in (" ", "-", "") and not line.startswith("#"):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"
