"""The live audit's pure core: credential report parsing, each live rule, stale keys,
the deactivation changes and the drift report's JSON and rendering."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from iamstate.audit import (
    AuditInput,
    CredentialRow,
    DriftReport,
    KeySlot,
    Level,
    ListedKey,
    LiveFinding,
    StaleKey,
    deactivates,
    deactivation_candidates,
    has_stale_key,
    match_slots,
    parse_credential_report,
    stale_keys,
    stale_reason,
    summary_line,
    with_deactivations,
)
from iamstate.model import Address, CredentialSettings, Kind, MfaSettings
from iamstate.plan import Action, ApiCall, Change, FieldDiff, Phase, Plan
from iamstate.render.report import render_report
from iamstate.rules import LIVE_RULES
from iamstate.rules import live_findings as audit

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# A report as AWS writes it: every column, the root row first, dates with +00:00.
AWS_REPORT = """\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2014-09-01T22:28:48+00:00,not_supported,2026-05-30T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2025-01-10T08:00:00+00:00,true,2026-05-31T09:00:00+00:00,2025-01-10T08:05:00+00:00,2026-04-10T08:05:00+00:00,true,true,2026-03-01T00:00:00+00:00,2026-05-31T10:00:00+00:00,us-east-1,s3,false,2025-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
bot,arn:aws:iam::123456789012:user/svc/bot,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,true,2025-12-01T00:00:00+00:00,2026-05-01T00:00:00+00:00,eu-west-1,sts,false,N/A,false,N/A
"""

# moto's report: no root row, no_information for a password never used.
MOTO_REPORT = """\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
bob,arn:aws:iam::123456789012:user/bob,2026-11-22T05:05:49+00:00,true,no_information,2026-11-22T05:05:49+00:00,not_supported,false,true,2026-11-22T05:05:49+00:00,N/A,not_supported,not_supported,true,2026-11-22T05:05:49+00:00,N/A,not_supported,not_supported,false,N/A,false,N/A
"""


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def key(slot: int = 1, *, active: bool = True, age: float = 1, used: float | None = None) -> KeySlot:
    return KeySlot(slot, active, at(age), None if used is None else at(used))


def row(
    user: str = "alice",
    *,
    password: bool = False,
    password_used: float | None = None,
    password_set: float | None = 1,
    mfa: bool = False,
    keys: tuple[KeySlot, ...] = (),
) -> CredentialRow:
    return CredentialRow(
        user=user,
        arn=f"arn:aws:iam::123456789012:user/{user}",
        created=at(400),
        password_enabled=password,
        password_last_used=None if password_used is None else at(password_used),
        password_last_changed=None if password_set is None else at(password_set),
        mfa_active=mfa,
        keys=keys,
    )


ROOT_OK = CredentialRow(
    user="<root_account>", mfa_active=True, keys=(key(1, active=False), key(2, active=False))
)
CLEAN_SUMMARY = {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}


def inp(*rows: CredentialRow, **overrides: object) -> AuditInput:
    users = {r.user: True for r in rows if not r.is_root}
    settings: dict[str, object] = {
        "rows": (ROOT_OK, *rows),
        "summary": CLEAN_SUMMARY,
        "now": NOW,
        "users": users,
    }
    settings.update(overrides)
    return AuditInput(**settings)  # type: ignore[arg-type]


def rules_of(findings: tuple[LiveFinding, ...]) -> list[tuple[str, str, str]]:
    return [(f.rule, f.level.value, f.address) for f in findings]


# --- parsing -------------------------------------------------------------------------


def test_parses_an_aws_report_with_its_root_row() -> None:
    root, alice, bot = parse_credential_report(AWS_REPORT)
    assert root.is_root and root.mfa_active and not root.active_keys
    assert not root.password_enabled  # not_supported on the root row
    assert alice.user == "alice" and not alice.is_root
    assert alice.password_enabled and alice.mfa_active
    assert alice.password_last_used == datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
    assert alice.password_last_changed == datetime(2025, 1, 10, 8, 5, tzinfo=UTC)
    assert alice.created == datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
    assert alice.keys == (
        KeySlot(1, True, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 31, 10, 0, tzinfo=UTC)),
        KeySlot(2, False, datetime(2025, 2, 1, tzinfo=UTC), None),
    )
    assert [k.slot for k in bot.active_keys] == [1, 2]
    assert bot.arn.endswith("user/svc/bot")


def test_parses_motos_report_where_never_used_reads_as_unknown() -> None:
    (bob,) = parse_credential_report(MOTO_REPORT)
    assert bob.password_enabled and bob.password_last_used is None
    assert bob.keys[0].last_used is None and bob.keys[0].last_rotated is not None


def test_parsing_tolerates_a_byte_order_mark_crlf_and_dates_without_offset() -> None:
    text = "\ufeff" + MOTO_REPORT.replace("\n", "\r\n").replace("+00:00", "")
    (bob,) = parse_credential_report(text)
    assert bob.created == datetime(2026, 11, 22, 5, 5, 49, tzinfo=UTC)


def test_a_header_only_report_has_no_rows() -> None:
    assert parse_credential_report(MOTO_REPORT.splitlines()[0] + "\n") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("user,arn\nalice,arn:aws:iam::1:user/alice\n", "lacks the column(s) user_creation_time"),
        (MOTO_REPORT.replace("2026-11-22T05:05:49+00:00,true", "yesterday,true", 1), "line 2: not a date"),
        (
            MOTO_REPORT.replace(",true,no_information", ",maybe,no_information"),
            "line 2: expected true or false",
        ),
    ],
)
def test_unreadable_reports_are_errors_that_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_credential_report(text)


# --- each rule: fires / does not fire ------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "root", "fires"),
    [
        ({"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1}, ROOT_OK, True),
        (CLEAN_SUMMARY, CredentialRow(user="<root_account>", mfa_active=True, keys=(key(2),)), True),
        (CLEAN_SUMMARY, ROOT_OK, False),
        (CLEAN_SUMMARY, None, False),
    ],
)
def test_root_access_keys(summary: dict[str, int], root: CredentialRow | None, fires: bool) -> None:
    rows = () if root is None else (root,)
    findings = audit(AuditInput(rows=rows, summary=summary, now=NOW))
    expected = [("root-access-keys", "critical", "account.root")] if fires else []
    assert [r for r in rules_of(findings) if r[0] == "root-access-keys"] == expected


@pytest.mark.parametrize(
    ("summary_mfa", "row_mfa", "virtual", "required", "expected"),
    [
        (0, False, False, "required", "critical"),
        (0, False, False, None, "high"),
        (0, False, False, "optional", "high"),
        (1, False, False, "required", None),
        (0, True, False, "required", None),
        (0, False, True, "required", None),
    ],
)
def test_root_no_mfa(
    summary_mfa: int, row_mfa: bool, virtual: bool, required: str | None, expected: str | None
) -> None:
    root = CredentialRow(user="<root_account>", mfa_active=row_mfa)
    findings = audit(
        AuditInput(
            rows=(root,),
            summary={"AccountMFAEnabled": summary_mfa},
            now=NOW,
            mfa=MfaSettings(root=required),
            root_virtual_mfa=virtual,
        )
    )
    got = [f.level.value for f in findings if f.rule == "root-no-mfa"]
    assert got == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("user", "required", "virtual_now", "fires"),
    [
        (row(password=True, mfa=False), "required", False, True),
        (row(password=True, mfa=True), "required", False, False),
        (row(password=False, mfa=False, keys=(key(),)), "required", False, False),
        (row(password=True, mfa=False), "optional", False, False),
        (row(password=True, mfa=False), None, False, False),
        # The report is hours old; the device assigned since counts.
        (row(password=True, mfa=False), "required", True, False),
    ],
)
def test_console_user_no_mfa(
    user: CredentialRow, required: str | None, virtual_now: bool, fires: bool
) -> None:
    mfa_users = frozenset({user.user}) if virtual_now else frozenset()
    findings = audit(inp(user, mfa=MfaSettings(console_users=required), mfa_users=mfa_users))
    expected = [("console-user-no-mfa", "high", "user.alice")] if fires else []
    assert [r for r in rules_of(findings) if r[0] == "console-user-no-mfa"] == expected


@pytest.mark.parametrize(
    ("keys", "limit", "slots"),
    [
        ((key(1, age=91),), 90, [1]),
        ((key(1, age=90),), 90, []),
        ((key(1, age=89), key(2, age=200)), 90, [2]),
        ((key(1, age=500, active=False),), 90, []),
        ((key(1, age=500),), None, []),
    ],
)
def test_access_key_too_old(keys: tuple[KeySlot, ...], limit: int | None, slots: list[int]) -> None:
    findings = audit(inp(row(keys=keys), credentials=CredentialSettings(max_access_key_age_days=limit)))
    old = [f for f in findings if f.rule == "access-key-too-old"]
    assert [f.level for f in old] == [Level.MEDIUM] * len(slots)
    assert [int(re.search(r"access key (\d)", f.message).group(1)) for f in old] == slots  # type: ignore[union-attr]
    for f in old:
        assert f.address == "user.alice" and "max_access_key_age_days: 90" in f.message


@pytest.mark.parametrize(
    ("user", "what"),
    [
        # passwords: last use, else when it was set, else the user's creation
        (row(password=True, password_used=46), ["console password"]),
        (row(password=True, password_used=44, password_set=300), []),
        (row(password=True, password_used=None, password_set=46), ["console password"]),
        (row(password=True, password_used=None, password_set=10), []),
        (row(password=True, password_used=None, password_set=None), ["console password"]),
        (row(password=False, password_used=100), []),
        # keys: last use, else creation; inactive keys are not credentials in use
        (row(keys=(key(1, age=300, used=46),)), ["access key 1"]),
        (row(keys=(key(1, age=300, used=2),)), []),
        (row(keys=(key(1, age=46),)), ["access key 1"]),
        (row(keys=(key(1, age=10),)), []),
        (row(keys=(key(1, age=300, active=False),)), []),
        (
            row(password=True, password_used=50, keys=(key(1, age=5), key(2, age=60))),
            ["access key 2", "console password"],
        ),
    ],
)
def test_credential_unused(user: CredentialRow, what: list[str]) -> None:
    findings = audit(inp(user, credentials=CredentialSettings(max_unused_days=45)))
    unused = [f for f in findings if f.rule == "credential-unused"]
    assert [
        next(w for w in ("console password", "access key 1", "access key 2") if w in f.message)
        for f in unused
    ] == what
    assert all(f.level is Level.MEDIUM and "max_unused_days: 45" in f.message for f in unused)


def test_credential_unused_needs_a_limit() -> None:
    assert not [f for f in audit(inp(row(password=True, password_used=999))) if f.rule == "credential-unused"]


@pytest.mark.parametrize(
    ("keys", "fires"),
    [
        ((key(1), key(2)), True),
        ((key(1), key(2, active=False)), False),
        ((key(1),), False),
        ((), False),
    ],
)
def test_multiple_active_keys(keys: tuple[KeySlot, ...], fires: bool) -> None:
    findings = audit(inp(row(keys=keys)))
    expected = [("multiple-active-keys", "low", "user.alice")] if fires else []
    assert rules_of(findings) == expected


@pytest.mark.parametrize(("has_policy", "fires"), [(False, True), (True, False)])
def test_no_password_policy(has_policy: bool, fires: bool) -> None:
    findings = audit(inp(has_password_policy=has_policy))
    assert rules_of(findings) == ([("no-password-policy", "medium", "account")] if fires else [])


def test_a_clean_account_has_no_findings() -> None:
    clean = row(password=True, password_used=1, mfa=True, keys=(key(1, age=10, used=1),))
    settings = CredentialSettings(max_access_key_age_days=90, max_unused_days=45)
    mfa = MfaSettings(root="required", console_users="required")
    assert audit(inp(clean, credentials=settings, mfa=mfa)) == ()


def test_users_that_no_longer_exist_are_skipped_and_unmanaged_ones_are_marked() -> None:
    gone = row("gone", keys=(key(1), key(2)))
    theirs = row("Theirs", keys=(key(1), key(2)))
    ours = row("ours", keys=(key(1), key(2)))
    findings = audit(inp(gone, theirs, ours, users={"theirs": False, "ours": True}))
    assert [(f.address, f.managed) for f in findings] == [("user.Theirs", False), ("user.ours", True)]


def test_findings_come_most_severe_first() -> None:
    findings = audit(
        inp(
            row("zed", password=True, keys=(key(1), key(2))),
            summary={"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1},
            mfa=MfaSettings(console_users="required"),
            has_password_policy=False,
        )
    )
    assert [f.level for f in findings] == sorted((f.level for f in findings), key=lambda lv: -lv.rank)
    assert findings[0].rule == "root-access-keys"


def test_every_rule_has_a_check_a_remedy_and_a_readme_row() -> None:
    from iamstate.rules import CHECKS

    assert set(CHECKS) == set(LIVE_RULES)
    section = README.split("## Drift", 1)[1]
    documented = dict(re.findall(r"^\| `([a-z-]+)` \| (low|medium|high|critical)\b", section, flags=re.M))
    assert documented == {rule.id: rule.level.value for rule in LIVE_RULES.values()}
    assert all(rule.remedy and rule.fires_when for rule in LIVE_RULES.values())


def test_the_schema_lists_exactly_the_live_rules() -> None:
    schema = json.loads((resources.files("iamstate") / "schemas" / "drift.schema.json").read_text())
    assert set(schema["$defs"]["live_finding"]["properties"]["rule"]["enum"]) == set(LIVE_RULES)


# --- stale keys and their deactivation ------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "settings", "reason"),
    [
        (
            key(age=100),
            CredentialSettings(max_access_key_age_days=90),
            "100 days old (max_access_key_age_days: 90)",
        ),
        (key(age=100, used=1), CredentialSettings(max_unused_days=45), None),
        (
            key(age=100, used=50),
            CredentialSettings(max_unused_days=45),
            "unused for 50 days (max_unused_days: 45)",
        ),
        (key(age=50), CredentialSettings(max_unused_days=45), "unused for 50 days (max_unused_days: 45)"),
        (key(age=100, active=False), CredentialSettings(max_access_key_age_days=90), None),
        (key(age=100), CredentialSettings(), None),
    ],
)
def test_stale_reason(slot: KeySlot, settings: CredentialSettings, reason: str | None) -> None:
    assert stale_reason(slot, settings, NOW) == reason
    assert has_stale_key(row(keys=(slot,)), settings, NOW) is (reason is not None)


@pytest.mark.parametrize(
    ("settings", "on"),
    [
        (CredentialSettings(max_access_key_age_days=90, stale_access_keys="deactivate"), True),
        (CredentialSettings(max_unused_days=45, stale_access_keys="deactivate"), True),
        (CredentialSettings(stale_access_keys="deactivate"), False),
        (CredentialSettings(max_access_key_age_days=90, stale_access_keys="report"), False),
    ],
)
def test_deactivation_needs_the_setting_and_a_limit(settings: CredentialSettings, on: bool) -> None:
    assert deactivates(settings) is on


def test_report_slots_are_matched_to_key_ids_by_creation_time_then_order() -> None:
    first = at(200).replace(microsecond=0)
    second = at(10).replace(microsecond=0)
    reported = row(keys=(KeySlot(1, True, second, None), KeySlot(2, True, first, at(1))))
    listed = [
        ListedKey("AKIAOLD", "Active", first + timedelta(microseconds=5)),
        ListedKey("AKIANEW", "Active", second + timedelta(microseconds=7)),
    ]
    assert {k: s.slot for k, s in match_slots(reported, listed).items()} == {"AKIAOLD": 2, "AKIANEW": 1}
    # Created in the same second (moto): slots in creation order.
    same = at(5).replace(microsecond=0)
    twins = row(keys=(KeySlot(1, True, same, None), KeySlot(2, True, same, None)))
    listed = [
        ListedKey("AKIAB", "Active", same + timedelta(microseconds=9)),
        ListedKey("AKIAA", "Active", same),
    ]
    assert {k: s.slot for k, s in match_slots(twins, listed).items()} == {"AKIAA": 1, "AKIAB": 2}


def test_stale_keys_are_active_listed_keys_judged_on_live_age_and_reported_use() -> None:
    old = at(200).replace(microsecond=0)
    new = at(3).replace(microsecond=0)
    reported = row(keys=(KeySlot(1, True, old, at(100)), KeySlot(2, True, new, None)))
    listed = [
        ListedKey("AKIAOLD", "Active", old),
        ListedKey("AKIANEW", "Active", new),
        ListedKey("AKIAUNREPORTED", "Active", at(300)),  # created after the report: not judged
    ]
    settings = CredentialSettings(max_unused_days=45)
    assert stale_keys(reported, listed, settings, NOW) == [
        StaleKey("alice", "AKIAOLD", "unused for 100 days (max_unused_days: 45)")
    ]
    listed[0] = ListedKey("AKIAOLD", "Inactive", old)
    assert stale_keys(reported, listed, settings, NOW) == []


def _plan(*changes: Change) -> Plan:
    return Plan("123456789012", "iamstate", changes, (), {"config_fingerprint": "x"})


def test_a_stale_key_of_an_unchanged_user_becomes_an_update_of_its_own() -> None:
    plan = with_deactivations(_plan(), [StaleKey("alice", "AKIA1", "100 days old")])
    (change,) = plan.changes
    assert change.address == Address(Kind.USER, "alice") and change.action is Action.UPDATE
    assert change.reason == "stale access keys are deactivated (credentials.stale_access_keys: deactivate)"
    assert change.fields == (FieldDiff("access_keys.AKIA1", "Active", "Inactive"),)
    assert change.api_calls == (
        ApiCall(
            "UpdateAccessKey",
            {"UserName": "alice", "AccessKeyId": "AKIA1", "Status": "Inactive"},
            Phase.UPDATE,
            note="100 days old",
        ),
    )
    assert plan.summary.change == 1
    assert plan.metadata == {"config_fingerprint": "x", "stale_access_keys": ["alice/AKIA1"]}
    assert not any(c.operation.startswith("Delete") for c in change.api_calls)


def test_a_stale_key_of_a_user_with_an_update_joins_that_change() -> None:
    tag = ApiCall("TagUser", {"UserName": "alice", "Tags": []}, Phase.UPDATE)
    existing = Change(
        Address(Kind.USER, "alice"),
        Action.UPDATE,
        {"name": "alice", "tags": {}},
        {"name": "alice", "tags": {"team": "data"}},
        "",
        (FieldDiff("tags.team", None, "data"),),
        (tag,),
    )
    other = Change(Address(Kind.GROUP, "devs"), Action.CREATE, None, {"name": "devs"})
    plan = with_deactivations(
        _plan(other, existing), [StaleKey("alice", "AKIA2", "r"), StaleKey("alice", "AKIA1", "r")]
    )
    assert len(plan.changes) == 2
    alice = next(c for c in plan.changes if c.address.kind is Kind.USER)
    assert [f.path for f in alice.fields] == ["tags.team", "access_keys.AKIA1", "access_keys.AKIA2"]
    assert [c.operation for c in alice.api_calls] == ["TagUser", "UpdateAccessKey", "UpdateAccessKey"]
    assert alice.before["access_keys"] == {"AKIA1": "Active", "AKIA2": "Active"}  # type: ignore[index]
    assert alice.after["tags"] == {"team": "data"}  # type: ignore[index]
    assert plan.summary.change == 1 and plan.summary.add == 1
    assert Plan.from_json(plan.to_json()) == plan


def test_no_stale_keys_leave_the_plan_as_it_was() -> None:
    plan = _plan()
    assert with_deactivations(plan, []) is plan


def test_users_the_plan_creates_deletes_or_replaces_are_not_candidates() -> None:
    plan = _plan(
        Change(Address(Kind.USER, "new"), Action.CREATE, None, {}),
        Change(Address(Kind.USER, "Renamed"), Action.REPLACE, {}, {}),
        Change(Address(Kind.USER, "tagged"), Action.UPDATE, {}, {}),
    )
    assert deactivation_candidates(plan, ["new", "renamed", "tagged", "kept"]) == ["kept", "tagged"]


# --- the report: summary, exit decision, rendering -------------------------------------


@pytest.mark.parametrize(
    ("changes", "levels", "failing", "fail_on", "line"),
    [
        (0, {}, 0, Level.LOW, "No drift. Live IAM matches the configuration and no live findings."),
        (
            2,
            {"critical": 1, "medium": 2},
            3,
            Level.LOW,
            "Drift: 2 changes, 3 live findings (1 critical, 2 medium).",
        ),
        (1, {}, 0, Level.LOW, "Drift: 1 change, 0 live findings."),
        (0, {"low": 1}, 1, Level.LOW, "Drift: 0 changes, 1 live finding (1 low)."),
        (
            0,
            {"medium": 1},
            0,
            Level.CRITICAL,
            "No drift at --fail-on critical. Live IAM matches the configuration; "
            "1 live finding (1 medium) below critical.",
        ),
    ],
)
def test_summary_line(changes: int, levels: dict[str, int], failing: int, fail_on: Level, line: str) -> None:
    counts = {lv: levels.get(lv, 0) for lv in ("critical", "high", "medium", "low")}
    assert summary_line(changes, counts, failing, fail_on) == line


def _finding(level: Level, address: str = "user.bob", managed: bool | None = True) -> LiveFinding:
    return LiveFinding(
        "multiple-active-keys", level, address, "user bob has 2 active access keys", "rotate | fix", managed
    )


@pytest.mark.parametrize(
    ("levels", "fail_on", "drifted"),
    [
        ([], Level.LOW, False),
        ([Level.LOW], Level.LOW, True),
        ([Level.MEDIUM], Level.HIGH, False),
        ([Level.MEDIUM, Level.HIGH], Level.HIGH, True),
        ([Level.HIGH], Level.CRITICAL, False),
        ([Level.CRITICAL], Level.CRITICAL, True),
    ],
)
def test_drift_is_any_change_or_a_finding_at_or_above_fail_on(
    levels: list[Level], fail_on: Level, drifted: bool
) -> None:
    report = DriftReport(_plan(), tuple(_finding(lv) for lv in levels), fail_on)
    assert report.drifted is drifted
    assert report.to_json()["summary"]["drift"] is drifted
    change = Change(Address(Kind.USER, "x"), Action.DELETE, {}, None)
    assert DriftReport(_plan(change), (), fail_on).drifted


def test_finding_json_round_trips() -> None:
    finding = _finding(Level.HIGH, managed=None)
    assert LiveFinding.from_json(finding.to_json()) == finding


def test_text_shows_live_findings_with_level_rule_entity_remedy_and_ownership() -> None:
    report = DriftReport(
        _plan(), (_finding(Level.CRITICAL, "account.root", None), _finding(Level.LOW, managed=False))
    )
    text = render_report(report.to_json(), "text", color=False)
    assert text.splitlines() == [
        'iamstate drift for account 123456789012 (stack "iamstate")',
        "",
        "Live findings:",
        "  Critical: [multiple-active-keys] account.root: user bob has 2 active access keys",
        "    remedy: rotate | fix",
        "  Low: [multiple-active-keys] user.bob: user bob has 2 active access keys "
        "(not managed by this configuration)",
        "    remedy: rotate | fix",
        "",
        "Drift: 0 changes, 2 live findings (1 critical, 1 low).",
    ]
    assert "\x1b[" in render_report(report.to_json(), "text", color=True)


def test_a_clean_report_is_one_line_in_text() -> None:
    assert render_report(DriftReport(_plan()).to_json(), "text", color=False) == (
        "No drift. Live IAM matches the configuration and no live findings.\n"
    )


def test_markdown_has_a_banner_only_for_critical_or_high_and_escapes_table_cells() -> None:
    low = render_report(DriftReport(_plan(), (_finding(Level.LOW),)).to_json(), "markdown", color=False)
    assert "[!CAUTION]" not in low and "[!WARNING]" not in low
    assert (
        "| **low** | `multiple-active-keys` | `user.bob` | user bob has 2 active access keys | rotate \\| fix |"
        in low
    )
    high = render_report(DriftReport(_plan(), (_finding(Level.HIGH),)).to_json(), "markdown", color=False)
    assert "> [!CAUTION]" in high and "> - **high** `multiple-active-keys` `user.bob`" in high
    delete = Change(Address(Kind.USER, "x"), Action.DELETE, {"name": "x"}, None)
    deleting = render_report(DriftReport(_plan(delete)).to_json(), "markdown", color=False)
    assert "> [!WARNING]" in deleting and "<details><summary><code>- user.x</code></summary>" in deleting


def test_an_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown output format"):
        render_report(DriftReport(_plan()).to_json(), "yaml", color=False)
