"""IAM action patterns (``iam:Pass*``, ``s3:Get?bject``) against actions, case-insensitively."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from iamstate.rules.statements import matches

PIECES = st.sampled_from(["iam", "s3", ":", "Pass", "role", "get", "*", "?", "İ", "K", "."])


def by_regex(pattern: str, action: str) -> bool:
    """``*`` is any run of characters, ``?`` one character, everything else itself, ignoring case."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch("".join(parts), action.lower(), re.DOTALL) is not None


@settings(max_examples=400, deadline=None)
@given(
    pattern=st.lists(PIECES, max_size=6).map("".join),
    action=st.lists(PIECES, max_size=6).map("".join),
    before=st.lists(PIECES, max_size=2).map("".join),
)
def test_a_pattern_matches_as_the_glob_means(pattern: str, action: str, before: str) -> None:
    assert matches(pattern, action) == by_regex(pattern, action)
    # The action written around the pattern's own letters, so that near misses come up too.
    around = before + pattern.replace("*", "x").replace("?", "y") + action
    assert matches(pattern, around) == by_regex(pattern, around)


def test_literal_prefix_and_general_patterns() -> None:
    assert matches("iam:PassRole", "IAM:passrole")
    assert not matches("iam:PassRole", "iam:PassRoles")
    assert matches("iam:Pass*", "iam:PassRole") and not matches("iam:Pass*", "iam:GetRole")
    assert not matches("Pass*", "iam:PassRole")  # a prefix, not a part
    assert matches("*", "s3:GetObject") and matches("s3:*Object", "s3:GetObject")
    assert matches("s3:Get?bject", "s3:GetObject") and not matches("s3:Get?bject", "s3:GetOObject")
