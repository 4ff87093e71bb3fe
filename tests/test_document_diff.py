"""Policy document diffs in the plan: in the authors' spelling, statement by statement, by meaning."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from iamstate.render.document import DocLine, document_diff, pretty
from tests.test_policy import PROPERTY_SETTINGS, documents, mutate, rewrite

CI_DEPLOY = json.loads(
    (Path(__file__).resolve().parent.parent / "examples/policies/ci-deploy.json").read_text()
)


def signed(lines: list[DocLine]) -> list[tuple[str, str]]:
    return [(line.sign, line.text.strip()) for line in lines if line.sign in "+-"]


def test_one_changed_action_is_one_changed_line_spelt_as_written() -> None:
    after = copy.deepcopy(CI_DEPLOY)
    after["Statement"][0]["Action"][2] = "s3:ListBucketVersions"
    lines = document_diff(CI_DEPLOY, after)
    assert signed(lines) == [("-", '"s3:ListBucket"'), ("+", '"s3:ListBucketVersions"')]
    assert lines[0] == DocLine("@@", "statement 1 (Sid DeployArtifacts)")
    assert lines[-1] == DocLine("#", "2 unchanged statements not shown")


def test_one_added_action_is_one_added_line() -> None:
    after = copy.deepcopy(CI_DEPLOY)
    after["Statement"][1]["Action"].append("lambda:PublishVersion")
    assert signed(document_diff(CI_DEPLOY, after)) == [("+", '"lambda:PublishVersion"')]


def test_what_means_the_same_is_shown_as_the_configuration_spells_it() -> None:
    # IAM holds another spelling: lower-case actions, another order, a string for a one-element
    # list, statements in another order, condition values as booleans.
    live = {
        "Statement": [
            {
                "Resource": "arn:aws:lambda:*:123456789012:function:app-*",
                "Action": ["lambda:getfunction", "lambda:updatefunctioncode"],
                "Effect": "Allow",
                "Sid": "UpdateFunctions",
            },
            {
                "Sid": "DeployArtifacts",
                "Effect": "Allow",
                "Action": ["s3:listbucket", "s3:getobject", "s3:putobject"],
                "Resource": [
                    "arn:aws:s3:::deploy-artifacts-123456789012/*",
                    "arn:aws:s3:::deploy-artifacts-123456789012",
                ],
                "Condition": {"Bool": {"AWS:SecureTransport": True}},
            },
        ],
        "Version": "2012-10-17",
    }
    written = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeployArtifacts",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
                "Resource": [
                    "arn:aws:s3:::deploy-artifacts-123456789012",
                    "arn:aws:s3:::deploy-artifacts-123456789012/*",
                ],
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            {
                "Sid": "UpdateFunctions",
                "Effect": "Allow",
                "Action": [
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:GetFunction",
                ],
                "Resource": "arn:aws:lambda:*:123456789012:function:app-*",
            },
        ],
    }
    lines = document_diff(live, written)
    assert signed(lines) == [("+", '"lambda:UpdateFunctionConfiguration",')]
    assert lines[0] == DocLine("@@", "statement 2 (Sid UpdateFunctions)")
    text = "\n".join(line.text for line in lines)
    assert '"lambda:UpdateFunctionCode",' in text and "updatefunctioncode" not in text
    assert document_diff(live, {**written, "Statement": written["Statement"][:1]}) != []


def test_a_statement_without_a_sid_is_matched_by_likeness() -> None:
    live = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
    }
    written = copy.deepcopy(live)
    written["Statement"][0]["Action"] = ["s3:GetObject", "s3:PutObject"]
    assert signed(document_diff(live, written)) == [("-", '"s3:ListBucket"'), ("+", '"s3:PutObject"')]


def test_a_renamed_sid_is_one_changed_line() -> None:
    written = copy.deepcopy(CI_DEPLOY)
    written["Statement"][2]["Sid"] = "PassTheAppRole"
    assert signed(document_diff(CI_DEPLOY, written)) == [
        ("-", '"Sid": "PassOnlyTheAppRole",'),
        ("+", '"Sid": "PassTheAppRole",'),
    ]


def test_added_and_removed_statements_are_shown_whole() -> None:
    written = copy.deepcopy(CI_DEPLOY)
    removed = written["Statement"].pop(2)
    added = {"Sid": "ReadLogs", "Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}
    written["Statement"].append(added)
    lines = document_diff(CI_DEPLOY, written)
    headers = [line.text for line in lines if line.sign == "@@"]
    assert headers == [
        "removed: live statement 3 (Sid PassOnlyTheAppRole)",
        "statement 3 (Sid ReadLogs), added",
    ]
    assert [line.text for line in lines if line.sign == "-"] == pretty(removed)
    assert [line.text for line in lines if line.sign == "+"] == pretty(added)


def test_a_created_or_deleted_document_is_shown_whole_as_written() -> None:
    assert [(line.sign, line.text) for line in document_diff(None, CI_DEPLOY)] == [
        ("+", line) for line in pretty(CI_DEPLOY)
    ]
    assert [line.sign for line in document_diff(CI_DEPLOY, None)] == ["-"] * len(pretty(CI_DEPLOY))
    assert '"Action": "iam:PassRole",' in [line.text.strip() for line in document_diff(CI_DEPLOY, None)]


def test_equivalent_documents_have_no_diff() -> None:
    assert document_diff(CI_DEPLOY, json.dumps(CI_DEPLOY)) == []


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True))
def test_an_equivalent_spelling_never_diffs(document: dict[str, Any], rng: random.Random) -> None:
    assert document_diff(rewrite(rng, document), document) == []


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True), st.data())
def test_a_real_change_diffs_and_every_added_line_is_the_configurations(
    document: dict[str, Any], rng: random.Random, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(["effect", "sid", "action"]), label="change")
    changed = mutate(rng, document, kind)
    live = rewrite(rng, document)
    lines = document_diff(live, changed)
    assert any(line.sign == "+" for line in lines)
    written = {line.strip() for statement in changed["Statement"] for line in pretty(statement)}
    written |= {line.strip() for line in pretty(changed)}
    assert {line.text.strip() for line in lines if line.sign == "+"} <= written


@PROPERTY_SETTINGS
@given(documents(), st.randoms(use_true_random=True))
def test_one_replaced_action_against_its_own_spelling_is_one_line_each_way(
    document: dict[str, Any], rng: random.Random
) -> None:
    changed = mutate(rng, document, "action")
    lines = [line for line in document_diff(document, changed) if line.sign in "+-"]
    assert [line.sign for line in lines] == ["-", "+"]
