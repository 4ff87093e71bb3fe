"""YAML loading: libyaml's composer and the pure-Python fallback agree; bounds hold on both."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamstate.config import load_config, yamlpos
from iamstate.config.limits import MAX_ALIAS_NODES, MAX_NESTING_DEPTH, MAX_NUMBER_CHARS
from iamstate.config.yamlpos import YamlFile, parse_yaml
from iamstate.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
CORPORA = [REPO / "examples", REPO / "tests" / "cases", REPO / "tests" / "config_errors"]
YAML_FILES = sorted(
    p for corpus in CORPORA for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
)

pytestmark = pytest.mark.skipif(not yamlpos.LIBYAML, reason="PyYAML was built without libyaml here")


def _positions(file: YamlFile) -> tuple[dict[object, str], dict[object, str]]:
    return (
        {path: str(file.at(path)) for path in file.values},
        {path: str(file.key_at(path)) for path in file.keys},
    )


def _both(text: str, name: str = "f.yaml") -> tuple[tuple[YamlFile | None, list[str]], ...]:
    out = []
    for libyaml in (True, False):
        parsed, problems = parse_yaml(text, name, libyaml=libyaml)
        out.append((parsed, [str(p) for p in problems]))
    return tuple(out)


def test_the_corpora_hold_enough_yaml() -> None:
    assert len(YAML_FILES) >= 60


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_libyaml_and_pure_python_give_the_same_data_and_positions(path: Path) -> None:
    (fast, fast_problems), (slow, slow_problems) = _both(path.read_text(encoding="utf-8"), str(path))
    assert fast_problems == slow_problems
    assert (fast is None) == (slow is None)
    if fast is None or slow is None:
        return
    assert fast.data == slow.data
    assert fast.scalars == slow.scalars
    assert _positions(fast) == _positions(slow)
    assert fast.values.keys() == slow.values.keys()


def test_the_fallback_runs_when_pyyaml_has_no_libyaml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_libyaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("libyaml's loader must not be used")

    monkeypatch.setattr(yamlpos, "LIBYAML", False)
    monkeypatch.setattr(yamlpos, "_CLoader", no_libyaml)
    (tmp_path / "main.yaml").write_text("users:\n  - name: alice\n    tags: {team: data}\n")
    config = load_config(tmp_path).config
    assert [r.name for r in config.state] == ["alice"]
    assert str(config.sources[next(iter(config.state))]) == f"{tmp_path / 'main.yaml'}:2:11"


def test_a_syntax_error_reads_as_the_pure_python_parser_says_it() -> None:
    (_, fast), (_, slow) = _both("users:\n  - name: [a\n  - name: b\n")
    assert fast == slow
    assert fast[0].startswith("f.yaml:3:9: error: invalid YAML: expected ',' or ']'")


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "a:\n" + "- " * 3_000 + "x\n",
        "a: " + "[" * (MAX_NESTING_DEPTH + 1) + "]" * (MAX_NESTING_DEPTH + 1) + "\n",
    ],
    ids=["flow-20000", "block-3000", "just-past-the-limit"],
)
def test_deep_nesting_is_a_located_error_on_both_parsers(text: str) -> None:
    (_, fast), (_, slow) = _both(text)
    assert fast == slow
    assert len(fast) == 1
    assert f"nested more than {MAX_NESTING_DEPTH} levels deep" in fast[0]
    assert fast[0].startswith("f.yaml:")


def test_nesting_at_the_limit_loads() -> None:
    depth = MAX_NESTING_DEPTH - 1
    (parsed, problems), _ = _both("a: " + "[" * depth + "]" * depth + "\n")
    assert problems == []
    assert parsed is not None


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    (_, fast), (_, slow) = _both("\n".join(lines) + "\n")
    assert fast == slow
    assert len(fast) == 1
    assert f"aliases would bring in more than {MAX_ALIAS_NODES:,} values" in fast[0]


def test_many_small_aliases_load() -> None:
    text = "shared: &t {Version: '2012-10-17', Statement: [{Effect: Allow, Action: x, Resource: y}]}\n"
    text += "roles:\n" + "".join(f"  - {{name: r{i}, trust: *t}}\n" for i in range(5_000))
    (parsed, problems), _ = _both(text)
    assert problems == []
    assert parsed is not None and parsed.get(("roles", 4_999, "trust", "Statement", 0, "Effect")) == "Allow"
    assert str(parsed.at(("roles", 4_999, "trust"))) == "f.yaml:1:9"


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [*a]\n", "f.yaml:1:4: error: recursive YAML alias"),
        ("a: &a {x: 1, <<: *a}\n", "f.yaml:1:4: error: recursive YAML alias"),
        ("d: " + "9" * 5_000 + "\n", f"at most {MAX_NUMBER_CHARS} are read"),
        ("d: .nan\n", "f.yaml:1:4: error: .nan is not a number IAM accepts (not finite)"),
        ("d: -.inf\n", "f.yaml:1:4: error: -.inf is not a number IAM accepts (not finite)"),
        ("d: !!binary aGVsbG8=\n", "f.yaml:1:4: error: binary values (!!binary) are not allowed"),
        ('d: "\\ud800"\n', "f.yaml:1:4: error: invalid YAML: the escape for U+D800"),
        ("d: a\x00b\n", "f.yaml:1:5: error: invalid YAML: the character U+0000 (NUL) is not allowed"),
        ("a: 1\nd: \x1b[31m\n", "f.yaml:2:4: error: invalid YAML: the character U+001B (ESC) is not allowed"),
    ],
    ids=[
        "recursive-alias",
        "recursive-merge",
        "long-number",
        "nan",
        "inf",
        "binary",
        "surrogate",
        "nul",
        "esc",
    ],
)
def test_hostile_scalars_are_located_errors(text: str, message: str) -> None:
    (fast_file, fast), (slow_file, slow) = _both(text)
    assert fast_file is None and slow_file is None
    assert fast == slow
    assert any(message in line for line in fast), fast


def test_a_chain_of_merges_deeper_than_the_limit_is_an_error() -> None:
    lines = ["a0: &a0 {x: 0}"] + [f"a{i}: &a{i} {{<<: *a{i - 1}, y{i}: {i}}}" for i in range(1, 80)]
    (_, fast), (_, slow) = _both("\n".join(lines) + "\n")
    assert fast == slow
    assert any(f"merge keys (<<) nested more than {MAX_NESTING_DEPTH} deep" in line for line in fast), fast


def test_a_chain_of_aliases_cannot_nest_past_the_limit() -> None:
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 80)]
    (_, fast), (_, slow) = _both("\n".join(lines) + "\n")
    assert fast == slow
    assert any(f"nested more than {MAX_NESTING_DEPTH} levels deep" in line for line in fast), fast


def test_load_config_reports_a_bound_as_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text("users:\n  - name: alice\n    tags: {team: " + "[" * 100 + "\n")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert str(raised.value.diagnostics[0]).startswith(f"{tmp_path / 'main.yaml'}:3:")


def test_a_file_of_too_many_values_is_refused_before_it_is_composed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlpos, "MAX_YAML_NODES", 1_000)

    def not_composed(*args: object) -> None:
        raise AssertionError("a file over the limit must not be composed")

    monkeypatch.setattr(yamlpos, "_load", not_composed)
    parsed, problems = parse_yaml("users: [" + "0," * 1_500 + "0]\n", "f.yaml")
    assert parsed is None
    assert [str(p) for p in problems] == [
        "f.yaml:1:2003: error: invalid YAML: the file holds more than 1,000 values "
        "(split the configuration into several files)"
    ]


def test_a_file_near_the_bound_of_values_is_composed_and_counted_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yamlpos, "MAX_YAML_NODES", 1_000)
    (parsed, problems), _ = _both("users: [" + "0," * 700 + "0]\n")
    assert problems == []
    assert parsed is not None and len(parsed.get(("users",))) == 701  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["a: !!int abc\n", "a: !!float abc\n", "a: !!bool maybe\n"])
def test_an_explicit_tag_on_text_of_another_type_is_a_located_error(text: str) -> None:
    (fast_file, fast), (_, slow) = _both(text)
    assert fast_file is None
    assert fast == slow
    assert fast[0].startswith("f.yaml:1:4: error: invalid YAML: ")
    assert "is not a valid !!" in fast[0]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=40), st.booleans())
def test_a_character_a_yaml_file_may_not_hold_is_found_where_the_search_finds_it(
    text: str, wide: bool
) -> None:
    written = f"roles: []\n# {text}\n" + ("\u00e9" if wide else "")
    found = yamlpos._non_printable(written)
    expected = yamlpos._NON_PRINTABLE.search(written)
    assert (found and found.start()) == (expected and expected.start())
    problems = parse_yaml(written, "x.yaml")[1]
    assert bool(problems and "is not allowed in a YAML file" in problems[0].message) == (expected is not None)
