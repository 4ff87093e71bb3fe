"""SARIF 2.1.0 for code scanning: the findings of a plan or of validate, with their places. Pure.

Built from the JSON form of a plan (``Plan.to_json()``) or of ``validate --format
json``: both carry ``findings`` with ``rule``, ``severity``, ``message``,
``remedy``, ``waived`` and, where the entity is declared, ``location``
(``file:line:column``). Every finding becomes one result:

- ``level``: ``error`` and ``warning`` as the finding's severity; a waived finding
  is a ``note`` with an external suppression that carries the waiver's reason;
- ``message``: the finding's message and its remedy, escaped for SARIF
  (:func:`iamstate.render.escape.sarif`: one line, no embedded links or placeholders);
- a physical location whose ``artifactLocation.uri`` is relative to ``root`` (the
  working directory, normally the repository's root) with forward slashes, and a
  region with the line and column; a finding about the whole plan (a mass delete,
  the caller) is placed on line 1 of the configuration's first file, because code
  scanning needs a location for every result;
- the entity's address as a logical location, and a fingerprint of rule and
  address, so an alert keeps its identity when lines move.

``tool.driver.rules`` describes every rule that appears: its summary, its remedy,
its source as ``helpUri`` and its default level.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iamstate.model import Json
from iamstate.render import escape

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
VERSION = "2.1.0"
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0"}
"""GitHub's security severity per level: error is high, warning medium."""


@dataclass(frozen=True)
class RuleText:
    """What SARIF says about one rule."""

    id: str
    summary: str
    remedy: str
    source: str
    level: str


@dataclass(frozen=True)
class Region:
    """Where a finding is: a URI relative to the root and a 1-based line and column."""

    uri: str
    line: int
    column: int


def artifact_uri(file: str, root: str = "") -> str:
    """``file`` as a relative URI reference: relative to ``root`` when it lies inside it,
    forward slashes, percent-encoded (the one escaping of outside text in SARIF)."""
    path = file.replace("\\", "/")
    base = root.replace("\\", "/").rstrip("/")
    if base and path.startswith(base + "/"):
        path = path[len(base) + 1 :]
    while path.startswith("./"):
        path = path[2:]
    return urllib.parse.quote(path, safe="/")


def parse_location(location: str, root: str = "") -> Region | None:
    """``file:line:column`` (or ``file:line``) as a :class:`Region`; None when it is not one."""
    parts = location.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return Region(artifact_uri(parts[0], root), int(parts[1]), int(parts[2]))
    parts = location.rsplit(":", 1)
    if len(parts) == 2 and parts[1].isdigit():
        return Region(artifact_uri(parts[0], root), int(parts[1]), 1)
    return None


def help_uri(source: str) -> str:
    """The URL a rule's source starts with (sources may add a note after it), or ""."""
    first = source.split(" ", 1)[0] if source else ""
    return first if first.startswith(("https://", "http://")) else ""


def _rule_json(text: RuleText) -> dict[str, Json]:
    rule: dict[str, Json] = {
        "id": text.id,
        "shortDescription": {"text": text.summary or text.id},
        "fullDescription": {
            "text": f"{text.summary}. Remedy: {text.remedy}" if text.remedy else text.summary
        },
        "help": {"text": f"Remedy: {text.remedy}" if text.remedy else text.summary},
        "defaultConfiguration": {"level": text.level if text.level in ("error", "warning") else "warning"},
        "properties": {
            "tags": ["security", "iam"],
            "security-severity": SECURITY_SEVERITY.get(text.level, "5.0"),
        },
    }
    uri = help_uri(text.source)
    if uri:
        rule["helpUri"] = uri
    return rule


def _fingerprint(finding: Mapping[str, Json]) -> str:
    key = f"{finding.get('rule')}\0{finding.get('address')}\0{finding.get('message')}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(
    finding: Mapping[str, Json], rule_index: int, fallback: Region | None, root: str
) -> dict[str, Json]:
    waived = bool(finding.get("waived"))
    severity = str(finding.get("severity", "warning"))
    message = escape.sarif(finding.get("message", ""))
    remedy = escape.sarif(finding.get("remedy", ""))
    text = f"{message}. Remedy: {remedy}" if remedy else message
    region = parse_location(str(finding.get("location", "")), root) or fallback
    result: dict[str, Json] = {
        "ruleId": str(finding.get("rule", "")),
        "ruleIndex": rule_index,
        "level": "note" if waived else (severity if severity in ("error", "warning") else "warning"),
        "message": {"text": text},
    }
    location: dict[str, Json] = {}
    if region is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": region.uri},
            "region": {"startLine": region.line, "startColumn": region.column},
        }
    address = escape.text(finding.get("address", ""))
    if address:
        location["logicalLocations"] = [{"fullyQualifiedName": address, "kind": "resource"}]
    if location:
        result["locations"] = [location]
    result["partialFingerprints"] = {"iamstateFinding/v1": _fingerprint(finding)}
    if waived:
        result["suppressions"] = [
            {"kind": "external", "justification": escape.text(finding.get("waiver_reason", "")) or "waived"}
        ]
    result["properties"] = {"severity": severity, "address": address, "waived": waived}
    return result


def render_sarif(
    doc: Mapping[str, Json],
    rules: Mapping[str, RuleText],
    *,
    tool_version: str,
    root: str = "",
    files: Sequence[str] = (),
    information_uri: str = "",
) -> str:
    """A SARIF 2.1.0 log of the findings in ``doc`` (a plan's or validate's JSON form), pure.

    ``rules`` describes the rules by id (an unknown id is described by its id alone);
    ``files`` are the configuration's files, the first of which holds findings that
    have no place of their own.
    """
    findings = [f for f in doc.get("findings", []) if isinstance(f, Mapping)]
    files = list(files) or [str(f) for f in doc.get("files", []) or []]
    fallback = Region(artifact_uri(files[0], root), 1, 1) if files else None
    order: list[str] = []
    for finding in findings:
        rule_id = str(finding.get("rule", ""))
        if rule_id not in order:
            order.append(rule_id)
    described = [rules.get(rule_id) or RuleText(rule_id, rule_id, "", "", "warning") for rule_id in order]
    driver: dict[str, Json] = {"name": "iamstate", "version": tool_version}
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = [_rule_json(text) for text in described]
    run: dict[str, Json] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, order.index(str(f.get("rule", ""))), fallback, root) for f in findings],
    }
    log = {"$schema": SCHEMA, "version": VERSION, "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
