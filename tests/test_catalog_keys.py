"""Condition keys the reference writes with placeholders (``aws:RequestTag/${TagKey}``)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from iamstate import catalog

PIECES = st.text(alphabet="ab:/-_${}<>", max_size=6)


def by_regex(template: str, key: str) -> bool:
    """Each placeholder is one or more characters, case-insensitive: the reference's meaning."""
    parts = catalog._KEY_PLACEHOLDER.split(template)
    pattern = ".+".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, key, re.IGNORECASE | re.DOTALL) is not None


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(PIECES, min_size=1, max_size=4),
    holes=st.lists(st.sampled_from(["${TagKey}", "<key>", "${X}"]), min_size=0, max_size=3),
    key=st.text(alphabet="aAbB:/-_${}<>", max_size=14),
)
def test_a_key_fits_a_template_as_the_reference_means(pieces: list[str], holes: list[str], key: str) -> None:
    template = pieces[0] + "".join(h + p for h, p in zip(holes, pieces[1:], strict=False))
    assert catalog._key_fits(template, key) == by_regex(template, key)


def test_placeholder_keys_are_found_case_insensitively() -> None:
    assert catalog.global_condition_key("aws:RequestTag/team") == "String"
    assert catalog.global_condition_key("AWS:requesttag/Team") == "String"
    assert catalog.global_condition_key("aws:RequestTag/") is None  # a tag key is at least one character
    assert catalog.action_has_condition_key("s3:PutObject", "s3:RequestObjectTag/team")
    assert not catalog.action_has_condition_key("s3:PutObject", "s3:RequestObjectTag")
