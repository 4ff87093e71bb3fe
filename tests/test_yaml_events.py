"""Parsing from libyaml's events (no node tree) gives what the composer's path gives: the same
data, the same place for every value and key, the same messages."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamstate.config import yamlpos

pytestmark = pytest.mark.skipif(not yamlpos.LIBYAML, reason="the event path is libyaml's")


def composed(text: str) -> tuple[Any, list[str]]:
    """The composer's path: node tree, then conversion."""
    try:
        return summary(*yamlpos._load(yamlpos._CLoader(text), "f.yaml"))
    except yaml.YAMLError as error:
        return ("error", str(error)), []


def parsed(text: str) -> tuple[Any, list[str]]:
    """What parse_yaml gives (the event path, or the composer's when the file is unusual)."""
    return summary(*yamlpos.parse_yaml(text, "f.yaml", libyaml=True))


def summary(file: yamlpos.YamlFile | None, problems: list[Any]) -> tuple[Any, list[str]]:
    if file is None:
        return None, [str(p) for p in problems]
    places = {
        "values": {p: file.at(p) for p in file.values},
        "keys": {p: file.key_at(p) for p in file.keys},
        "scalars": dict(file.scalars),
    }
    return (file.data, places), [str(p) for p in problems]


def events_only(text: str) -> Any:
    return summary(*yamlpos._load_events(yamlpos._CLoader(text), "f.yaml"))


scalars = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8),
    st.sampled_from(
        [
            "",
            "yes",
            "no",
            "true",
            "null",
            "~",
            "0x1F",
            "1e3",
            ".inf",
            "2026-12-01",
            "*:*",
            "True",
            "Off",
            "+12",
            ".5",
            "-",
            "~x",
        ]
    ),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=6)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, values, st.booleans(), st.booleans())
def test_event_path_equals_composer_path(shared: Any, other: Any, flow: bool, share: bool) -> None:
    # Dumping the same object twice writes an anchor and an alias.
    doc = {"a": shared, "b": shared if share else other, "c": [shared, other]}
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    expected = composed(text)
    assert events_only(text) == expected
    assert parsed(text) == expected


UNUSUAL = {
    "merge key": "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",
    "merge list": "a: &a {x: 1}\nb: &b {z: 2}\nc: {<<: [*a, *b], x: 0}\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "explicit tag": "a: !!str 3\nb: !!int '4'\n",
    "bad explicit tag": "a: !!int abc\n",
    "binary": "a: !!binary aGVsbG8=\n",
    "second document": "a: 1\n---\nb: 2\n",
    "empty": "",
    "comment only": "# nothing\n",
    "surrogate escape": 'a: "\\ud800"\n',
    "surrogate key": '"\\udc00": 1\n',
    "recursive alias": "a: &a [*a]\n",
    "undefined alias": "a: *nowhere\n",
    "duplicate anchor": "a: &x 1\nb: &x 2\n",
    "non-finite": "a: .nan\nb: .inf\n",
    "long number": "a: " + "9" * 150 + "\n",
    "list key": "? [a, b]\n: 1\n",
    "alias as key": "a: &k key\n*k : 2\n",
    "deep": "a: " + "[" * 70 + "]" * 70 + "\n",
    "value tag": "a: =\n",
    "syntax error": "a: [1, 2\nb: 3\n",
}


@pytest.mark.parametrize("text", list(UNUSUAL.values()), ids=list(UNUSUAL))
def test_unusual_files_parse_as_the_composer_path_parses_them(text: str) -> None:
    expected = composed(text)
    got = parsed(text)
    composer_failed = isinstance(expected[0], tuple) and expected[0][0] == "error"
    if composer_failed:
        assert got[0] is None and got[1]  # the parser's error, as a located message
    else:
        assert got == expected


def test_aliases_are_placed_where_the_anchor_was_written() -> None:
    text = "trust: &t\n  Version: '2012-10-17'\n  n: 5\nother: *t\n"
    file, problems = yamlpos.parse_yaml(text, "f.yaml")
    assert not problems and file is not None
    assert file.data == {
        "trust": {"Version": "2012-10-17", "n": 5},
        "other": {"Version": "2012-10-17", "n": 5},
    }
    assert file.data["trust"] is not file.data["other"]
    assert str(file.at(("other", "n"))) == "f.yaml:3:6"
    assert file.scalars[("other", "n")] == "5"
