"""Whether a Resource pattern can name something of an ARN format (resource-type-mismatch)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iamstate.analysis import lint

FORMATS = [
    "arn:${Partition}:s3:::${BucketName}",
    "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
    "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
    "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}",
    "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}",
]
PATTERN_PIECES = st.sampled_from(
    [
        "arn:",
        "aws:",
        "s3",
        ":::",
        "iam",
        "::",
        "role/",
        "table/",
        "bucket-1",
        "B",
        "3",
        "x",
        "/",
        ":",
        "*",
        "?",
        "${aws:username}",
        "${",
        "}",
        "\u0130",
        "\u212a",
    ]
)
FORMAT_PIECES = st.sampled_from(["arn:", "s3", ":", "/", "ab", "b-", "${X}", "${BucketName}", "x"])


def answered_directly(resource: str, arn_format: str) -> bool:
    """The question asked of the pattern's own characters, with no sharing between patterns."""
    return lint._intersects(lint._pattern_tokens(resource), lint._format_tokens(arn_format))


@settings(max_examples=400, deadline=None)
@given(
    resource=st.lists(PATTERN_PIECES, max_size=8).map("".join),
    arn_format=st.one_of(st.sampled_from(FORMATS), st.lists(FORMAT_PIECES, max_size=6).map("".join)),
)
def test_shared_answers_are_each_patterns_own(resource: str, arn_format: str) -> None:
    assert lint.resource_matches_format(resource, arn_format) == answered_directly(resource, arn_format)


def test_patterns_differing_only_in_names_get_their_own_answers() -> None:
    objects = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    buckets = "arn:${Partition}:s3:::${BucketName}"
    for n in range(40):
        assert lint.resource_matches_format(f"arn:aws:s3:::bucket-{n}/*", objects)
        assert not lint.resource_matches_format(f"arn:aws:s3:::bucket-{n}/key", buckets)
        assert lint.resource_matches_format(f"arn:aws:s3:::bucket-{n}", buckets)
        assert not lint.resource_matches_format(f"arn:aws:iam::1:role/r-{n}", objects)
