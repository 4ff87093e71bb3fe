"""Policy documents are compared by meaning: equivalent rewrites never diff, real changes always do."""

from __future__ import annotations

import copy
import json
import random
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamstate.policy import (
    equivalent,
    normalize,
    normalize_statement,
    pretty,
    statements_in_order,
    substitute,
    unified_diff,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


READ = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::reports/*"]}


# --- equivalences (SPEC §4) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            {"Version": "2012-10-17", "Statement": READ},
            doc(READ),
            id="single-statement-object-vs-list",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}),
            doc(READ),
            id="string-vs-one-element-list",
        ),
        pytest.param(
            doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::x"}),
            doc({"Effect": "Allow", "NotAction": ["iam:*"], "NotResource": ["arn:aws:s3:::x"]}),
            id="string-vs-list-in-notaction-notresource",
        ),
        pytest.param(
            doc({**READ, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
            doc({**READ, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-abc"]}}}),
            id="string-vs-list-in-condition-values",
        ),
        pytest.param(
            doc(READ, {"Effect": "Deny", "Action": ["iam:*"], "Resource": ["*"]}),
            doc({"Effect": "Deny", "Action": ["iam:*"], "Resource": ["*"]}, READ),
            id="statement-order",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["b", "a"]}),
            doc({"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": ["a", "b"]}),
            id="list-item-order",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObject"], "Resource": "*"}),
            doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            id="duplicate-list-items",
        ),
        pytest.param(
            {
                "Statement": [{"Resource": "*", "Action": "s3:GetObject", "Effect": "Allow"}],
                "Version": "2012-10-17",
            },
            doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            id="key-order",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": ["S3:GETOBJECT", "Ec2:describeInstances"], "Resource": "*"}),
            doc({"Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances"], "Resource": "*"}),
            id="action-letter-case",
        ),
        pytest.param(
            doc({**READ, "Condition": {"Bool": {"aws:SecureTransport": True}}}),
            doc({**READ, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
            id="condition-bool-vs-string",
        ),
        pytest.param(
            doc({**READ, "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}}),
            doc({**READ, "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": ["3600"]}}}),
            id="condition-number-vs-string",
        ),
        pytest.param(
            doc({**READ, "Condition": {"Bool": {"AWS:MultiFactorAuthPresent": "true"}}}),
            doc({**READ, "Condition": {"Bool": {"aws:multifactorauthpresent": "true"}}}),
            id="condition-key-letter-case",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}),
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
                    "Action": "sts:AssumeRole",
                }
            ),
            id="account-id-vs-root-arn",
        ),
        pytest.param(
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ),
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
                    "Action": ["sts:AssumeRole"],
                }
            ),
            id="principal-list-order",
        ),
        pytest.param(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
            '"Resource":"arn:aws:s3:::reports/*"}]}',
            doc(READ),
            id="json-text-without-whitespace",
        ),
        pytest.param(
            "\n  " + json.dumps(doc(READ), indent=7) + "\n",
            doc(READ),
            id="json-text-with-whitespace",
        ),
        pytest.param(
            urllib.parse.quote(json.dumps(doc(READ))),
            doc(READ),
            id="url-encoded-json-text",
        ),
        pytest.param(
            doc({"Sid": "", **READ}),
            doc(READ),
            id="empty-sid-vs-no-sid",
        ),
    ],
)
def test_equivalent_documents_normalize_equal(a: Any, b: Any) -> None:
    assert normalize(a) == normalize(b)
    assert equivalent(a, b)
    assert unified_diff(a, b) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
            doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
            id="principal-star-vs-aws-star",
        ),
        pytest.param(doc({"Sid": "Read", **READ}), doc({"Sid": "Other", **READ}), id="sid"),
        pytest.param(doc({"Sid": "Read", **READ}), doc(READ), id="sid-vs-no-sid"),
        pytest.param(doc({"Sid": "read", **READ}), doc({"Sid": "Read", **READ}), id="sid-letter-case"),
        pytest.param(doc(READ), doc({**READ, "Effect": "Deny"}), id="effect"),
        pytest.param(doc(READ, version="2012-10-17"), doc(READ, version="2008-10-17"), id="version"),
        pytest.param(doc(READ), {"Statement": [READ]}, id="version-vs-missing-version"),
        pytest.param(
            doc(READ),
            doc({**READ, "Resource": ["arn:aws:s3:::REPORTS/*"]}),
            id="resource-letter-case",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            doc({"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"}),
            id="action-vs-notaction",
        ),
        pytest.param(
            doc({**READ, "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}),
            doc({**READ, "Condition": {"StringEquals": {"sts:ExternalId": "ABC"}}}),
            id="condition-value-letter-case",
        ),
        pytest.param(
            doc({**READ, "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}),
            doc({**READ, "Condition": {"StringLike": {"sts:ExternalId": "abc"}}}),
            id="condition-operator",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}),
            doc({"Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "sts:AssumeRole"}),
            id="principal-account",
        ),
        pytest.param(doc(READ), doc(READ, READ), id="duplicate-statement-is-kept"),
    ],
)
def test_different_documents_normalize_different(a: Any, b: Any) -> None:
    assert normalize(a) != normalize(b)
    assert not equivalent(a, b)
    assert unified_diff(a, b) != []


# --- the canonical form -------------------------------------------------------------


def test_canonical_form_is_a_sorted_lowercased_list_form() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "AssumeFromCi",
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT, "Service": "ec2.amazonaws.com"},
            "Action": ["STS:AssumeRole", "sts:TagSession"],
            "Condition": {
                "Bool": {"aws:MultiFactorAuthPresent": True},
                "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
            },
        },
    }
    assert normalize(document) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeFromCi",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"], "Service": ["ec2.amazonaws.com"]},
                "Action": ["sts:assumerole", "sts:tagsession"],
                "Condition": {
                    "Bool": {"aws:multifactorauthpresent": ["true"]},
                    "NumericLessThan": {"aws:multifactorauthage": ["3600"]},
                },
            }
        ],
    }


def test_principal_star_stays_a_string() -> None:
    document = doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    assert normalize(document)["Statement"][0]["Principal"] == "*"


def test_unknown_fields_are_kept() -> None:
    document = {"Version": "2012-10-17", "Id": "x", "Statement": [{**READ, "Extra": {"b": 1, "a": [2, 1]}}]}
    normalized = normalize(document)
    assert normalized["Id"] == "x"
    assert normalized["Statement"][0]["Extra"] == {"a": [2, 1], "b": 1}


def test_condition_keys_differing_only_in_case_are_not_merged() -> None:
    document = doc(
        {**READ, "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1", "AWS:SOURCEVPC": "vpc-2"}}}
    )
    condition = normalize(document)["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {"AWS:SOURCEVPC": ["vpc-2"], "aws:SourceVpc": ["vpc-1"]}
    assert normalize(normalize(document)) == normalize(document)


def test_yaml_date_version_becomes_text() -> None:
    import datetime

    assert normalize({"Version": datetime.date(2012, 10, 17), "Statement": [READ]}) == normalize(doc(READ))


@pytest.mark.parametrize(
    "document",
    [
        None,
        "",
        "not json",
        "%7Bbroken",
        42,
        [],
        {},
        {"Version": "2012-10-17"},
        {"Version": "2012-10-17", "Statement": "nonsense"},
        {"Version": "2012-10-17", "Statement": [None, 3, "x", {"Effect": "Allow", "Action": 5}]},
        {"Statement": [{"Action": [1, "a", None, {"x": 1}], "Resource": {"b": 2}, "Condition": "c"}]},
        {
            "Statement": [
                {"Principal": {"AWS": [1, ACCOUNT]}, "Condition": {"Bool": ["x"], "Null": {"k": None}}}
            ]
        },
        {1: "numeric key", "Statement": {"Sid": None}},
    ],
)
def test_malformed_documents_do_not_crash_and_normalize_idempotently(document: Any) -> None:
    once = normalize(document)
    assert normalize(once) == once
    pretty(once)
    unified_diff(document, document)


def test_malformed_json_text_is_returned_as_given() -> None:
    assert normalize("not json") == "not json"


def test_normalize_does_not_modify_its_input() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "S3:GetObject", "Resource": "*"},
    }
    before = copy.deepcopy(document)
    normalize(document)
    assert document == before


# --- pretty and unified_diff --------------------------------------------------------


def test_pretty_is_indented_with_version_first() -> None:
    text = pretty(normalize({"Statement": [READ], "Version": "2012-10-17"}))
    assert text.splitlines()[:3] == ["{", '  "Version": "2012-10-17",', '  "Statement": [']
    assert text.index('"Effect"') < text.index('"Action"') < text.index('"Resource"')
    assert json.loads(text) == normalize(doc(READ))


def test_unified_diff_shows_the_changed_action() -> None:
    after = doc({**READ, "Action": ["s3:PutObject"]})
    lines = unified_diff(doc(READ), after, label="policy.reports-read")
    assert lines[:2] == ["--- before/policy.reports-read", "+++ after/policy.reports-read"]
    assert '-        "s3:getobject"' in lines
    assert '+        "s3:putobject"' in lines
    assert not any(line.endswith("\n") for line in lines)
    changed = [line for line in lines[2:] if line[:1] in "+-"]
    assert len(changed) == 2


def test_unified_diff_against_nothing_adds_every_line() -> None:
    lines = unified_diff(None, doc(READ))
    body = lines[3:]  # headers and the hunk header
    assert body and all(line.startswith("+") for line in body)
    assert len(body) == len(pretty(normalize(doc(READ))).splitlines())
    assert unified_diff(None, None) == []


# --- substitute ---------------------------------------------------------------------


def test_substitute_replaces_known_variables_everywhere() -> None:
    value = {
        "Resource": ["arn:${partition}:s3:::reports-${account_id}/*"],
        "Condition": {"StringEquals": {"aws:ResourceAccount": "${account_id}", "n": 3, "b": True}},
        "${account_id}": None,
    }
    assert substitute(value, {"account_id": ACCOUNT, "partition": "aws"}) == {
        "Resource": [f"arn:aws:s3:::reports-{ACCOUNT}/*"],
        "Condition": {"StringEquals": {"aws:ResourceAccount": ACCOUNT, "n": 3, "b": True}},
        ACCOUNT: None,
    }


def test_substitute_leaves_iam_policy_variables_alone() -> None:
    text = "arn:${partition}:iam::${account_id}:user/${aws:username}-${unknown}"
    assert substitute(text, {"account_id": ACCOUNT, "partition": "aws-cn"}) == (
        f"arn:aws-cn:iam::{ACCOUNT}:user/${{aws:username}}-${{unknown}}"
    )


def test_substitute_does_not_modify_its_input() -> None:
    value = {"a": ["${account_id}"]}
    substitute(value, {"account_id": ACCOUNT})
    assert value == {"a": ["${account_id}"]}


# --- properties ---------------------------------------------------------------------

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:*",
    "ec2:DescribeInstances",
    "iam:PassRole",
    "sts:AssumeRole",
    "kms:Decrypt",
    "*",
]
RESOURCES = [
    "*",
    "arn:aws:s3:::reports",
    "arn:aws:s3:::reports/*",
    f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
    "arn:aws:kms:eu-west-1:123456789012:key/abc",
]
SERVICES = ["ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]
AWS_PRINCIPALS = [ACCOUNT, OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer", "*"]
SIDS = ["Read", "Write", "AssumeFromCi", "DenyInsecure"]
STRING_KEYS = ["aws:PrincipalOrgID", "sts:ExternalId", "aws:RequestedRegion"]
STRING_VALUES = ["o-abc123", "eu-west-1", "us-east-1", "secret-id"]
BOOL_KEYS = ["aws:MultiFactorAuthPresent", "aws:SecureTransport"]
NUMBER_KEYS = ["aws:MultiFactorAuthAge", "s3:max-keys"]


def _subset(items: list[str], min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), min_size=min_size, max_size=max_size, unique=True)


conditions = st.fixed_dictionaries(
    {},
    optional={
        "StringEquals": st.dictionaries(st.sampled_from(STRING_KEYS), _subset(STRING_VALUES), min_size=1),
        "Bool": st.dictionaries(
            st.sampled_from(BOOL_KEYS),
            st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
            min_size=1,
        ),
        "NumericLessThan": st.dictionaries(
            st.sampled_from(NUMBER_KEYS),
            st.lists(st.integers(0, 100_000), min_size=1, max_size=2, unique=True),
            min_size=1,
        ),
    },
)

principals = st.one_of(
    st.just("*"),
    st.fixed_dictionaries({"AWS": _subset(AWS_PRINCIPALS)}, optional={"Service": _subset(SERVICES)}),
    st.fixed_dictionaries({"Service": _subset(SERVICES)}),
)


@st.composite
def statements(draw: st.DrawFn, trust: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    if draw(st.booleans()):
        statement["Sid"] = draw(st.sampled_from(SIDS))
    statement[draw(st.sampled_from(["Action", "NotAction"]))] = draw(_subset(ACTIONS))
    if trust:
        statement["Principal"] = draw(principals)
    else:
        statement[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(_subset(RESOURCES))
    condition = draw(conditions)
    if condition:
        statement["Condition"] = condition
    return statement


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    trust = draw(st.booleans())
    return {
        "Version": draw(st.sampled_from(["2012-10-17", "2008-10-17"])),
        "Statement": draw(st.lists(statements(trust), min_size=1, max_size=4)),
    }


def _shuffled_dict(rng: random.Random, mapping: dict[str, Any]) -> dict[str, Any]:
    keys = list(mapping)
    rng.shuffle(keys)
    return {k: mapping[k] for k in keys}


def _recase(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _list_form(rng: random.Random, items: list[Any]) -> Any:
    items = list(items)
    rng.shuffle(items)
    if items and rng.random() < 0.3:
        items.append(rng.choice(items))  # a duplicate means nothing
    if len(items) == 1 and rng.random() < 0.5:
        return items[0]
    return items


def _condition_value_form(rng: random.Random, value: Any) -> Any:
    if isinstance(value, bool):
        return rng.choice([value, "true" if value else "false"])
    if isinstance(value, int):
        return rng.choice([value, str(value)])
    return value


def _aws_principal_form(rng: random.Random, principal: str) -> str:
    if principal in (ACCOUNT, OTHER_ACCOUNT) and rng.random() < 0.5:
        return f"arn:aws:iam::{principal}:root"
    return principal


def rewrite(rng: random.Random, document: dict[str, Any]) -> Any:
    """An equivalent spelling of ``document``: every rewrite here keeps its meaning."""
    out_statements = []
    for statement in document["Statement"]:
        out: dict[str, Any] = {}
        for key, value in statement.items():
            if key in ("Action", "NotAction"):
                out[key] = _list_form(rng, [_recase(rng, a) for a in value])
            elif key in ("Resource", "NotResource"):
                out[key] = _list_form(rng, value)
            elif key == "Principal" and isinstance(value, dict):
                out[key] = _shuffled_dict(
                    rng,
                    {
                        kind: _list_form(
                            rng, [_aws_principal_form(rng, p) if kind == "AWS" else p for p in items]
                        )
                        for kind, items in value.items()
                    },
                )
            elif key == "Condition":
                out[key] = _shuffled_dict(
                    rng,
                    {
                        operator: _shuffled_dict(
                            rng,
                            {
                                _recase(rng, k): _list_form(
                                    rng, [_condition_value_form(rng, v) for v in values]
                                )
                                for k, values in block.items()
                            },
                        )
                        for operator, block in value.items()
                    },
                )
            else:
                out[key] = value
        if "Sid" not in out and rng.random() < 0.2:
            out["Sid"] = ""
        out_statements.append(_shuffled_dict(rng, out))
    rng.shuffle(out_statements)
    result: dict[str, Any] = {"Version": document["Version"]}
    result["Statement"] = (
        out_statements[0] if len(out_statements) == 1 and rng.random() < 0.5 else out_statements
    )
    result = _shuffled_dict(rng, result)
    form = rng.random()
    if form < 0.3:
        indent = rng.choice([None, 0, 1, 2, 4, "\t"])
        separators = rng.choice([(",", ":"), (", ", ": "), (" ,  ", " :\n ")])
        return " \n" + json.dumps(result, indent=indent, separators=separators) + "\n\t"
    if form < 0.4:
        return urllib.parse.quote(json.dumps(result))
    return result


def mutations(document: dict[str, Any]) -> list[str]:
    """The real changes that apply to ``document``."""
    found = ["effect", "sid", "action"]
    for statement in document["Statement"]:
        if "Resource" in statement or "NotResource" in statement:
            found.append("resource")
        if isinstance(statement.get("Principal"), dict):
            found.append("principal")
        if statement.get("Condition"):
            found.append("condition")
    return sorted(set(found))


def mutate(rng: random.Random, document: dict[str, Any], kind: str) -> dict[str, Any]:
    """A copy of ``document`` with one change in meaning of the given kind."""
    document = copy.deepcopy(document)
    candidates = [s for s in document["Statement"] if _applies(kind, s)]
    statement = rng.choice(candidates)
    if kind == "effect":
        statement["Effect"] = "Deny" if statement["Effect"] == "Allow" else "Allow"
    elif kind == "sid":
        statement["Sid"] = statement.get("Sid", "") + "Changed"
    elif kind == "action":
        key = "Action" if "Action" in statement else "NotAction"
        actions = statement[key]
        index = rng.randrange(len(actions))
        others = [a for a in ACTIONS if a.lower() not in {x.lower() for x in actions}] + ["s3:DeleteObject"]
        actions[index] = rng.choice(others)
    elif kind == "resource":
        key = "Resource" if "Resource" in statement else "NotResource"
        resources = statement[key]
        resources[rng.randrange(len(resources))] = "arn:aws:s3:::another-bucket/*"
    elif kind == "principal":
        principal = statement["Principal"]
        kind_key = rng.choice(sorted(principal))
        values = principal[kind_key]
        values[rng.randrange(len(values))] = "arn:aws:iam::999999999999:root"
    elif kind == "condition":
        block = statement["Condition"][rng.choice(sorted(statement["Condition"]))]
        values = block[rng.choice(sorted(block))]
        index = rng.randrange(len(values))
        value = values[index]
        if isinstance(value, bool):
            # Flipping one boolean may collide with the other one in the list:
            # replace the whole list so the set of values surely changes.
            block_key = next(k for k, v in block.items() if v is values)
            block[block_key] = [not v for v in values] if len(values) == 1 else [value]
        elif isinstance(value, int):
            values[index] = max(values) + 1
        else:
            values[index] = value + "-changed"
    return document


def _applies(kind: str, statement: dict[str, Any]) -> bool:
    if kind == "resource":
        return "Resource" in statement or "NotResource" in statement
    if kind == "principal":
        return isinstance(statement.get("Principal"), dict)
    if kind == "condition":
        return bool(statement.get("Condition"))
    return True


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True))
def test_equivalent_rewrites_never_diff(document: dict[str, Any], rng: random.Random) -> None:
    rewritten = rewrite(rng, document)
    assert normalize(rewritten) == normalize(document)
    assert unified_diff(document, rewritten) == []


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True), st.data())
def test_a_real_change_always_diffs(
    document: dict[str, Any], rng: random.Random, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(mutations(document)), label="change")
    changed = mutate(rng, document, kind)
    assert normalize(changed) != normalize(document)
    # ... however the changed document is spelled.
    assert normalize(rewrite(rng, changed)) != normalize(rewrite(rng, document))
    assert unified_diff(document, changed) != []


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True))
def test_normalize_is_idempotent_and_stays_valid_json(document: dict[str, Any], rng: random.Random) -> None:
    once = normalize(rewrite(rng, document))
    assert normalize(once) == once
    assert json.loads(json.dumps(once)) == once
    assert isinstance(once["Statement"], list)
    assert pretty(once) == pretty(normalize(document))


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True))
def test_statements_in_order_are_each_statement_normalized_as_written(
    document: dict[str, Any], rng: random.Random
) -> None:
    written = rewrite(rng, document)
    if not isinstance(written, dict):  # a rewrite to JSON text: what IAM returns, never a rule's input
        written = copy.deepcopy(document)
    statements = written["Statement"] if isinstance(written["Statement"], list) else [written["Statement"]]
    expected = [normalize_statement(s) for s in statements]
    # Before the document is normalized, after (a lookup), and for its canonical form.
    assert statements_in_order(copy.deepcopy(written)) == expected
    canonical = normalize(written)
    assert statements_in_order(written) == expected
    assert sorted(map(json.dumps, statements_in_order(written))) == sorted(
        map(json.dumps, canonical["Statement"])
    )
    assert statements_in_order(canonical) == canonical["Statement"]
    assert statements_in_order(copy.deepcopy(canonical)) == canonical["Statement"]


def test_statements_in_order_keep_the_written_order_that_normalize_sorts() -> None:
    later = {"Effect": "Deny", "Action": "S3:PutObject", "Resource": "*"}
    first = {"Sid": "", "Effect": "Allow", "Action": ["s3:GetObject", "S3:GetObject"], "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [later, first]}
    in_order = statements_in_order(document)
    assert in_order == [
        {"Effect": "Deny", "Action": ["s3:putobject"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": ["s3:getobject"], "Resource": ["*"]},
    ]
    assert normalize(document)["Statement"] == [in_order[1], in_order[0]]
    single = {"Version": "2012-10-17", "Statement": later}
    assert statements_in_order(single) == [in_order[0]]
    assert statements_in_order({"Version": "2012-10-17"}) == []
