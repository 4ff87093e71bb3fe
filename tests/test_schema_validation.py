"""The compiled schema check and jsonschema's walk agree on every file of the corpora."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from iamstate.config.yamlpos import YamlFile, parse_yaml

# The package exports a schema() function under the module's name.
config_schema = importlib.import_module("iamstate.config.schema")

REPO = Path(__file__).resolve().parent.parent
CORPORA = [
    REPO / "examples",
    REPO / "tests" / "cases",
    REPO / "tests" / "config_errors",
    REPO / "tests" / "hostile",
]


def _files() -> list[YamlFile]:
    out = []
    for corpus in CORPORA:
        for path in sorted(corpus.rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file() and not path.is_symlink():
                parsed, _ = parse_yaml(path.read_text(encoding="utf-8", errors="replace"), str(path))
                if parsed is not None and isinstance(parsed.data, dict):
                    out.append(parsed)
    return out


FILES = _files()


def test_the_compiled_validator_is_installed() -> None:
    assert config_schema._compiled() is not None


def test_the_corpora_hold_valid_and_invalid_files() -> None:
    verdicts = {config_schema.is_valid(f.data) for f in FILES}
    assert verdicts == {True, False}
    assert len(FILES) >= 50


@pytest.mark.parametrize("file", FILES, ids=lambda f: str(Path(f.name).relative_to(REPO)))
def test_compiled_verdict_matches_jsonschema(file: YamlFile) -> None:
    walked = list(config_schema._validator().iter_errors(file.data))
    assert config_schema.is_valid(file.data) == (not walked)


def test_messages_are_the_same_without_the_compiled_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    with_fast = [config_schema.validate(f) for f in FILES]
    monkeypatch.setattr(config_schema, "_compiled", lambda: None)
    assert [config_schema.validate(f) for f in FILES] == with_fast
