"""A large file parsed in two halves at once gives what parsing it whole gives: the same data,
the same place for every value and key, the same messages; and where the halves could differ,
the file is parsed whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamstate.commands.cores import available, on_second_core
from iamstate.config import load_config, yamlhalves, yamlpos
from iamstate.errors import ConfigError

pytestmark = pytest.mark.skipif(not yamlpos.LIBYAML, reason="the halves are parsed from libyaml's events")


def here_too(elsewhere: Callable[[], bytes], here: Callable[[], Any]) -> tuple[bytes, Any]:
    """A second core that is this one: the same halves, the same marshalled answer."""
    return elsewhere(), here()


def summary(file: yamlpos.YamlFile | None) -> Any:
    if file is None:
        return None
    return (
        file.data,
        {p: str(file.at(p)) for p in file.values},
        {p: str(file.key_at(p)) for p in file.keys},
        file.scalars,
    )


def whole(text: str) -> tuple[Any, list[str]]:
    file, problems = yamlpos.parse_yaml(text, "f.yaml")
    return summary(file), [str(p) for p in problems]


def config_text(roles: int, *, shared_trust: bool = True, tail: str = "") -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    body = {
        "account": {"id": "123456789012"},
        "policies": [{"name": f"p{i}", "document": {"Statement": [{"Action": "s3:*"}]}} for i in range(20)],
        "roles": [
            {
                "name": f"role-{i}",
                "trust": trust if shared_trust else dict(trust),
                "max_session_duration": 3600 + i,
                "policies": [f"p{i % 20}", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "tags": {"owner": "yes" if i % 2 else "~", "n": i},
            }
            for i in range(roles)
        ],
    }
    return yaml.safe_dump(body, sort_keys=False) + tail


def test_a_configuration_with_shared_anchors_is_parsed_in_halves_as_whole() -> None:
    text = config_text(200)
    assert "&id001" in text and text.count("*id001") == 199
    halves = yamlhalves.parse_halves(text, "f.yaml", here_too)
    assert halves is not None, "the halves were not taken"
    assert summary(halves) == whole(text)[0]


def test_the_rest_after_the_list_is_joined_in_order() -> None:
    text = config_text(100, tail="users:\n- name: alice\n  groups: [g]\ngroups:\n- name: g\n")
    halves = yamlhalves.parse_halves(text, "f.yaml", here_too)
    assert halves is not None
    assert list(halves.data) == ["account", "policies", "roles", "users", "groups"]
    assert summary(halves) == whole(text)[0]


@pytest.mark.parametrize(
    ("name", "tail"),
    [
        # a section in both halves: the whole parse reports the duplicate key
        ("section twice", "account:\n  id: '1'\n"),
        # an anchor named again in the second half: the whole parse reports it
        ("anchor twice", "users:\n- name: u\n  trust: &id001 {a: 1}\n"),
        # an alias to an anchor no item defines: the whole parse reports it
        ("unknown alias", "users:\n- name: u\n  x: *nowhere\n"),
        # a second document
        ("two documents", "---\nroles: []\n"),
    ],
)
def test_where_the_halves_could_differ_the_file_is_parsed_whole(name: str, tail: str) -> None:
    text = config_text(100, tail=tail)
    assert yamlhalves.parse_halves(text, "f.yaml", here_too) is None
    assert yamlpos.parse_yaml(text, "f.yaml", second_core=here_too) == yamlpos.parse_yaml(text, "f.yaml")


def test_a_cut_inside_a_quoted_value_falls_back_to_the_whole() -> None:
    items = "".join(f"- name: r{i}\n" for i in range(400))
    text = f'description: "starts here\n{items}ends here"\nroles:\n- name: x\n'
    assert yamlhalves.parse_halves(text, "f.yaml", here_too) is None
    assert whole(text)[0] is not None  # valid YAML: one long quoted value


def test_an_anchor_outside_a_list_item_is_parsed_whole() -> None:
    text = "account: &acct\n  id: '1'\n" + config_text(100).replace("account:", "other:", 1) + "last: *acct\n"
    assert yamlhalves.parse_halves(text, "f.yaml", here_too) is None


def test_other_line_breaks_are_parsed_whole() -> None:
    text = config_text(100).replace("\n", "\r\n")
    assert yamlhalves.cut(text) is None


def test_the_bounds_hold_for_both_halves_together(monkeypatch: pytest.MonkeyPatch) -> None:
    text = config_text(100)
    values = whole(text)[0]
    monkeypatch.setattr(yamlhalves, "MAX_YAML_NODES", len(values[1]) - 1)
    assert yamlhalves.parse_halves(text, "f.yaml", here_too) is None


items = st.fixed_dictionaries(
    {"name": st.text("abc-", min_size=1, max_size=5)},
    optional={
        "n": st.integers(-5, 5) | st.sampled_from(["yes", "~", "2012-10-17", "0x1F", "1e3"]),
        "tags": st.dictionaries(st.text("xyz", min_size=1, max_size=3), st.text(max_size=6), max_size=3),
        "list": st.lists(st.text("ab:*&", max_size=4), max_size=3),
        "quoted": st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=10),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(items, min_size=4, max_size=30),
    st.lists(items, max_size=4),
    st.booleans(),
    st.sampled_from(["", "# a comment\n", "\n"]),
)
def test_any_list_parsed_in_halves_is_the_whole(
    roles: list[dict[str, Any]], users: list[dict[str, Any]], share: bool, between: str
) -> None:
    shared = {"Version": "2012-10-17"}
    for role in roles if share else []:
        role["trust"] = shared
    text = yaml.safe_dump({"roles": roles}, sort_keys=False, allow_unicode=True)
    if users:
        text += between + yaml.safe_dump({"users": users}, sort_keys=False)
    halves = yamlhalves.parse_halves(text, "f.yaml", here_too)
    expected, problems = whole(text)
    assert not problems
    if halves is not None:
        assert summary(halves) == expected


@pytest.mark.skipif(not available(), reason="needs fork and a second core")
def test_a_large_file_on_a_second_core_parses_as_whole(tmp_path: Any) -> None:
    text = config_text(3500)
    assert len(text) >= yamlpos.SPLIT_CHARS
    assert yamlhalves.parse_halves(text, "f.yaml", on_second_core) is not None
    assert summary(yamlpos.parse_yaml(text, "f.yaml", second_core=on_second_core)[0]) == whole(text)[0]
    # an error in the second half reads the same as without the second core
    broken = text.replace("role-3499", "role-3499\n  bad: [", 1)
    assert yamlpos.parse_yaml(broken, "f.yaml", second_core=on_second_core)[1]
    assert [str(d) for d in yamlpos.parse_yaml(broken, "f.yaml", second_core=on_second_core)[1]] == whole(
        broken
    )[1]


@pytest.mark.skipif(not available(), reason="needs fork and a second core")
def test_a_configuration_loads_the_same_with_a_second_core(tmp_path: Any) -> None:
    valid = re.sub(r"owner: [^\n]*", "owner: team", config_text(3500))
    valid = re.sub(r"\n    n: (\d+)", r"\n    n: '\1'", valid)
    valid = valid.replace(
        "Action: sts:AssumeRole", "Action: sts:AssumeRole\n    Principal: {Service: ec2.amazonaws.com}"
    )
    # a credential in the last role, which the second half holds: refused either way
    valid = valid.replace("- name: role-3499\n", "- name: role-3499\n  secret_access_key: abc\n", 1)
    (tmp_path / "iamstate.yaml").write_text(valid)
    alone = load_config(tmp_path)
    both = load_config(tmp_path, second_core=on_second_core)
    assert len(both.config.state.resources) > 3500
    assert both.config.state == alone.config.state
    assert both.config.sources == alone.config.sources
    assert [f.rule for f in both.findings] == ["credentials-in-config"]
    assert both.findings == alone.findings
    # an invalid configuration is refused with the same messages
    (tmp_path / "iamstate.yaml").write_text(config_text(3500))
    with pytest.raises(ConfigError) as without:
        load_config(tmp_path)
    with pytest.raises(ConfigError) as with_second:
        load_config(tmp_path, second_core=on_second_core)
    assert str(with_second.value) == str(without.value)
    assert "tags.n must be a string" in str(without.value)
