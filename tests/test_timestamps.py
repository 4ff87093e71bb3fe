"""Response timestamps: iamstate's sessions read them as botocore does, without dateutil."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.utils import parse_timestamp as botocore_parse_timestamp
from hypothesis import given
from hypothesis import strategies as st

from iamstate.aws.session import iam_client, make_session, parse_timestamp
from tests.support.moto_server import LocalIam

instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
)


@given(
    instants,
    st.sampled_from(["", ".1", ".123", ".123456"]),
    st.sampled_from(["Z", "+00:00", "+02:00", "-05:30", ""]),
)
def test_timestamps_read_as_botocore_reads_them(when: datetime, fraction: str, zone: str) -> None:
    text = when.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone
    ours, theirs = parse_timestamp(text), botocore_parse_timestamp(text)
    assert ours == theirs
    assert ours.isoformat() == theirs.isoformat()
    assert ours.utcoffset() == theirs.utcoffset()


def test_epoch_seconds_and_other_forms_go_to_botocore() -> None:
    for value in (1_700_000_000, "1700000000", "Wed, 01 Dec 2026 14:38:22 GMT", "2026-12-01"):
        assert parse_timestamp(value) == botocore_parse_timestamp(value)


def test_a_session_reads_response_timestamps_as_utc(iam_endpoint: LocalIam) -> None:
    iam = iam_client(make_session(None), iam_endpoint.endpoint)
    iam.create_user(UserName="dates")
    created = iam.get_user(UserName="dates")["User"]["CreateDate"]
    assert created.tzinfo is UTC  # the fast parser's, not dateutil's tzutc
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
