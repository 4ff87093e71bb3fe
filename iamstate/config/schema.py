"""Structural validation of one YAML file against ``iamstate.schema.json``.

A file is checked once, whole, by a compiled validator (``jsonschema_rs``, the same
Draft 2020-12); only a file it rejects is walked by ``jsonschema``, whose errors
this module turns into located diagnostics whose messages name the
entity and field in the user's words, with a hint (did you mean, quote it, allowed
values) where one helps. Without ``jsonschema_rs`` every file is walked.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamstate.config.where import describe_value, did_you_mean, entity_at, quoted_list, subject
from iamstate.config.yamlpos import YamlFile, YamlPath
from iamstate.errors import Diagnostic
from iamstate.model import Json
from iamstate.temporary import REASON_HINT

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}


UNWAIVABLE_KEY = "x-iamstate-unwaivable"
"""Where ``$defs.exceptions`` lists the rules it cannot waive (generated from the rule catalogue)."""


@functools.cache
def _schema() -> dict[str, Any]:
    # Package data next to the package's modules (importlib.resources would import zipfile
    # and tempfile at every start for a package that is never zipped).
    text = (Path(__file__).resolve().parent.parent / "schemas" / "iamstate.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _unwaivable() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = _schema()["$defs"]["exceptions"][UNWAIVABLE_KEY]
    return found


UNWAIVABLE_RULES = tuple(_unwaivable())
"""Rule ids that exist but that ``exceptions:`` cannot waive (mass-delete has its own flag)."""


def unwaivable_remedy(rule: str) -> str:
    """What to do about a finding of an unwaivable rule, as the rule catalogue says."""
    return _unwaivable()[rule]["remedy"]


def schema() -> dict[str, Any]:
    """The JSON Schema of a configuration file (a fresh copy the caller may change)."""
    return copy.deepcopy(_schema())


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema())


@functools.cache
def _compiled() -> Callable[[Json], bool] | None:
    """The compiled validator's yes/no check, or None where ``jsonschema_rs`` is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    is_valid: Callable[[Json], bool] = jsonschema_rs.Draft202012Validator(_schema()).is_valid
    return is_valid


def prepare() -> None:
    """Compile the validator now (a process forked after this finds it compiled)."""
    _compiled()


def is_valid(data: Json) -> bool:
    """Whether one file's data satisfies the schema, by the compiled validator (fast) if there is one."""
    check = _compiled()
    if check is not None:
        try:
            return check(data)
        except (ValueError, TypeError, OverflowError):
            pass  # a value it cannot take; the walk below decides
    return _validator().is_valid(data)


def section_keys() -> list[str]:
    """The top-level keys a configuration file may hold."""
    return list(_schema()["properties"])


def exception_rules() -> list[str]:
    """The rule ids that ``exceptions:`` may waive."""
    return list(_schema()["$defs"]["exceptions"]["properties"])


def validate(file: YamlFile) -> tuple[list[Diagnostic], set[YamlPath]]:
    """Check one file against the schema.

    Returns the diagnostics and the set of entity paths (``("roles", 2)``) or section
    paths (``("account",)``) that hold a problem, so that later checks skip them
    instead of piling consequential errors on top.
    """
    diagnostics: list[Diagnostic] = []
    broken: set[YamlPath] = set()
    if is_valid(file.data):
        return diagnostics, broken
    for error in _validator().iter_errors(file.data):
        path: YamlPath = tuple(error.absolute_path)
        entity = entity_at(path)
        broken.add(entity[1] if entity is not None else path[:1])
        diagnostics.extend(_diagnose(file, path, error))
    return diagnostics, broken


def _diagnose(file: YamlFile, path: YamlPath, error: ValidationError) -> Iterator[Diagnostic]:
    validator = str(error.validator)
    value: Any = error.instance
    rule: Any = error.validator_value
    what = subject(file, path)
    here = file.at(path)
    schema_: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}

    if validator == "additionalProperties":
        allowed = list(schema_.get("properties", {}))
        if path and path[-1] == "exceptions":
            yield from _unknown_rules(file, path, [key for key in value if key not in allowed], allowed)
            return
        for key in value:
            if key in allowed:
                continue
            where = "at the top level" if not path else f"in {what}"
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
            yield Diagnostic(f"unknown key '{key}' {where}", file.key_at((*path, key)), hint)
        return

    if validator == "required":
        for key in rule:
            if key not in value:
                yield Diagnostic(f"{what} is missing the required key '{key}'", here)
        return

    if validator == "dependentRequired":
        for key, needed in rule.items():
            for missing in [n for n in needed if key in value and n not in value]:
                hint = REASON_HINT if key == "expires_at" else ""
                yield Diagnostic(f"{what} has {key} but no {missing}", file.key_at((*path, key)), hint)
        return

    if validator in ("oneOf", "anyOf") and _all_required_branches(rule):
        options = [branch["required"][0] for branch in rule]
        given = [key for key in options if key in value]
        if validator == "anyOf":
            yield Diagnostic(f"{what} needs at least one of {quoted_list(options)}", here)
        elif given:
            yield Diagnostic(
                f"{what} has both {quoted_list(given).replace(' or ', ' and ')}; declare exactly one", here
            )
        else:
            yield Diagnostic(f"{what} needs one of {quoted_list(options)}", here)
        return

    if "propertyNames" in error.relative_schema_path:
        # jsonschema reports the mapping's path; the offending key is the instance.
        yield _key_name_problem(file, path, error)
        return

    if validator == "type":
        yield _type_problem(file, path, error)
        return

    if validator == "enum":
        options = [str(o) for o in rule]
        yield Diagnostic(
            f"{what} must be {quoted_list(options)}, got {describe_value(value)}",
            here,
            did_you_mean(str(value), options),
        )
        return

    if validator == "pattern":
        reason = schema_.get("patternErrorMessage", f"it must match {rule}")
        yield Diagnostic(f"{what} {value!r} is invalid: {reason}", here)
        return

    if validator in ("minimum", "maximum"):
        bound = "at least" if validator == "minimum" else "at most"
        low, high = schema_.get("minimum"), schema_.get("maximum")
        span = f"between {low} and {high}" if low is not None and high is not None else ""
        yield Diagnostic(f"{what} must be {span or f'{bound} {rule}'}, got {value}", here)
        return

    if validator in ("minLength", "minItems"):
        limit = rule
        unit = "characters" if validator == "minLength" else "items"
        text = "must not be empty" if limit == 1 else f"must have at least {limit} {unit}"
        yield Diagnostic(f"{what} {text}", here)
        return

    if validator in ("maxLength", "maxItems", "maxProperties"):
        unit = {"maxLength": "characters", "maxItems": "items", "maxProperties": "entries"}[validator]
        yield Diagnostic(f"{what} has {len(value)} {unit}; at most {rule} are allowed", here)
        return

    if validator == "uniqueItems":
        seen: set[str] = set()
        for index, item in enumerate(value):
            marker = json.dumps(item, sort_keys=True)
            if marker in seen:
                yield Diagnostic(f"{what} lists {item!r} twice", file.at((*path, index)))
                return
            seen.add(marker)
        return

    yield Diagnostic(f"{what}: {error.message}", here)


def _unknown_rules(
    file: YamlFile, path: YamlPath, keys: list[str], allowed: list[str]
) -> Iterator[Diagnostic]:
    what = subject(file, path[:-1])
    for key in keys:
        where = file.key_at((*path, key))
        if key in UNWAIVABLE_RULES:
            flag = _unwaivable()[key].get("waiver_flag", "")
            yield Diagnostic(
                f"{what} cannot waive rule '{key}': it is not waivable",
                where,
                f"pass {flag} to the command instead" if flag else "fix what the rule reports instead",
            )
        else:
            hint = did_you_mean(key, [*allowed, *UNWAIVABLE_RULES]) or f"waivable rules: {', '.join(allowed)}"
            yield Diagnostic(f"{what} exceptions: '{key}' is not a rule id", where, hint)


def _all_required_branches(branches: Any) -> bool:
    return isinstance(branches, list) and all(
        isinstance(b, dict) and list(b) == ["required"] and len(b["required"]) == 1 for b in branches
    )


def _type_problem(file: YamlFile, path: YamlPath, error: ValidationError) -> Diagnostic:
    expected: Any = error.validator_value
    expected_list = [expected] if isinstance(expected, str) else list(expected)
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected_list if t != "null")
    value: Any = error.instance
    hint = ""
    if "string" in expected_list and isinstance(value, (int, float, bool)):
        raw = file.written(path, str(value))
        key = path[-1] if path and isinstance(path[-1], str) else None
        hint = f'quote it: {key}: "{raw}"' if key else f'quote it: "{raw}"'
    elif "array" in expected_list and isinstance(value, str):
        hint = f"write a list: [{value}]"
    return Diagnostic(
        f"{subject(file, path)} must be {words}, got {describe_value(value)}", file.at(path), hint
    )


def _key_name_problem(file: YamlFile, path: YamlPath, error: ValidationError) -> Diagnostic:
    key = str(error.instance)
    where = file.key_at((*path, key))
    what = subject(file, path)
    schema_: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    validator = str(error.validator)
    if validator == "pattern":
        reason = schema_.get("patternErrorMessage", f"keys must match {error.validator_value}")
        return Diagnostic(f"{what} key '{key}' is not allowed: {reason}", where)
    if validator == "maxLength":
        return Diagnostic(
            f"{what} key '{key}' has {len(key)} characters; at most {error.validator_value} are allowed",
            where,
        )
    if validator == "minLength":
        return Diagnostic(f"{what} has an empty key", where)
    if validator == "enum":
        values: Any = error.validator_value
        allowed = quoted_list(str(v) for v in values).replace(" or ", " and ")
        return Diagnostic(
            f"{what} key '{key}' cannot go with absent: true",
            where,
            f"an entity declared absent holds only {allowed}",
        )
    return Diagnostic(f"{what} key '{key}': {error.message}", where)
