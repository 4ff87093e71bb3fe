"""A saved plan is an approval, not a script: `apply --plan` executes only the plan it makes itself,
and only when that plan is identical to the saved one."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from iamstate.savedplan import call_text, first_difference
from tests.support.cli import run_iamstate as run_cli
from tests.support.strict import StrictIam

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Hunter2-Correct-Horse-Battery"


@pytest.fixture
def saved(strict_iam: StrictIam, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """examples/ copied to tmp/iam and its plan saved as tmp/plan.json (nothing applied yet)."""
    shutil.copytree(ROOT / "examples", tmp_path / "iam")
    result = run_cli(strict_iam, tmp_path, "plan", "iam", "--out", "plan.json")
    assert result.returncode == 0, result.stdout + result.stderr
    strict_iam.clear()
    return tmp_path, json.loads((tmp_path / "plan.json").read_text())


def change(doc: dict[str, Any], address: str) -> dict[str, Any]:
    return next(c for c in doc["changes"] if c["address"] == address)


def apply_tampered(strict: StrictIam, work: Path, doc: dict[str, Any]) -> tuple[str, str]:
    (work / "plan.json").write_text(json.dumps(doc))
    result = run_cli(strict, work, "apply", "iam", "--plan", "plan.json", "--auto-approve")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert strict.writes(lock=True) == [], "a tampered plan wrote something"
    return result.stdout, result.stderr


def test_an_added_admin_attachment_writes_nothing_and_is_named(
    strict_iam: StrictIam, saved: tuple[Path, dict[str, Any]]
) -> None:
    work, doc = saved
    tampered = copy.deepcopy(doc)
    group = change(tampered, "group.developers")
    attach = {
        "operation": "AttachGroupPolicy",
        "params": {"GroupName": "developers", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        "phase": "attach",
        "order": 0,
    }
    group["api_calls"].append(attach)
    index = len(group["api_calls"])
    _, err = apply_tampered(strict_iam, work, tampered)
    assert "saved plan plan.json does not match the plan iamstate makes now" in err
    assert (
        f'change group.developers: the saved plan\'s call {index}, AttachGroupPolicy(GroupName="developers", '
        'PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"), is not in the plan made now'
    ) in err
    assert "Nothing was written" in err


def test_an_added_login_profile_writes_nothing_and_never_prints_the_password(
    strict_iam: StrictIam, saved: tuple[Path, dict[str, Any]]
) -> None:
    work, doc = saved
    tampered = copy.deepcopy(doc)
    user = next(c for c in tampered["changes"] if c["kind"] == "user")
    name = user["name"]
    user["api_calls"].insert(
        0,
        {
            "operation": "CreateLoginProfile",
            "params": {"UserName": name, "Password": PASSWORD, "PasswordResetRequired": False},
            "phase": "create",
            "order": 0,
        },
    )
    out, err = apply_tampered(strict_iam, work, tampered)
    assert f'call 1 is CreateLoginProfile(UserName="{name}", Password=…, PasswordResetRequired=…)' in err
    assert PASSWORD not in out + err
    # Hidden in a field the plan only displays, it is a difference too, and still not shown.
    tampered = copy.deepcopy(doc)
    change(tampered, user["address"])["after"]["password"] = PASSWORD
    out, err = apply_tampered(strict_iam, work, tampered)
    assert f"change {user['address']}: its after differs from the plan made now" in err
    assert PASSWORD not in out + err


def test_a_changed_parameter_and_a_dropped_change_are_named(
    strict_iam: StrictIam, saved: tuple[Path, dict[str, Any]]
) -> None:
    work, doc = saved
    tampered = copy.deepcopy(doc)
    role = next(c for c in tampered["changes"] if c["kind"] == "role")
    create = next(c for c in role["api_calls"] if c["operation"] == "CreateRole")
    made = create["params"]["MaxSessionDuration"]
    create["params"]["MaxSessionDuration"] = 43200
    _, err = apply_tampered(strict_iam, work, tampered)
    assert f'change {role["address"]}: call 1, CreateRole(RoleName="{role["name"]}"' in err
    assert f"parameter MaxSessionDuration is 43200 in the saved plan, {made} now" in err

    tampered = copy.deepcopy(doc)
    dropped = tampered["changes"].pop()
    _, err = apply_tampered(strict_iam, work, tampered)
    assert f"the plan made now also creates {dropped['address']}, which the saved plan does not" in err


def test_an_untouched_plan_applies_from_its_own_config_path(
    strict_iam: StrictIam, saved: tuple[Path, dict[str, Any]]
) -> None:
    work, doc = saved
    assert doc["metadata"]["config_path"] == "iam"
    assert doc["metadata"]["iamstate_version"]
    # No PATH: the configuration is the one the plan was made from, not "." (which has no YAML).
    result = run_cli(strict_iam, work, "apply", "--plan", "plan.json", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Apply complete" in result.stdout
    made = [c for c in strict_iam.writes() if c.status == 200]
    assert len(made) == sum(len(c["api_calls"]) for c in doc["changes"])
    again = run_cli(strict_iam, work, "plan", "iam", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


# --- the comparison itself -----------------------------------------------------------------

PLAN = {
    "account_id": "123456789012",
    "stack": "iamstate",
    "changes": [
        {
            "address": "role.app",
            "action": "create",
            "after": {"name": "app"},
            "api_calls": [
                {"operation": "CreateRole", "params": {"RoleName": "app", "Path": "/"}, "phase": "create"},
                {
                    "operation": "AttachRolePolicy",
                    "params": {"RoleName": "app", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                    "phase": "attach",
                },
            ],
        },
        {"address": "user.bob", "action": "delete", "api_calls": []},
    ],
}


def edited(edit: Any) -> dict[str, Any]:
    doc = copy.deepcopy(PLAN)
    edit(doc)
    return doc


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: None, None),
        (
            lambda d: d.update(account_id="210987654321"),
            'it was made for account "210987654321", not "123456789012"',
        ),
        (lambda d: d.update(stack="other"), 'it was made for stack "other", not "iamstate"'),
        (lambda d: d["changes"].reverse(), "its changes are listed in another order, or repeated"),
        (
            lambda d: d["changes"].append(d["changes"][1]),
            "its changes are listed in another order, or repeated",
        ),
        (
            lambda d: d["changes"][0].update(action="replace"),
            'change role.app: its action is "replace", the plan made now create',
        ),
        (
            lambda d: d["changes"][0]["api_calls"][1]["params"].update(
                PolicyArn="arn:aws:iam::aws:policy/Admin"
            ),
            'change role.app: call 2, AttachRolePolicy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/'
            'ReadOnlyAccess"): parameter PolicyArn is "arn:aws:iam::aws:policy/Admin" in the saved plan, '
            '"arn:aws:iam::aws:policy/ReadOnlyAccess" now',
        ),
        (
            lambda d: d["changes"][0]["api_calls"][0]["params"].update(Tags=[{"Key": "x", "Value": "y"}]),
            'change role.app: call 1, CreateRole(RoleName="app", Path="/"): parameter Tags is not a parameter '
            "of the call the plan made now makes",
        ),
        (
            lambda d: d["changes"][0]["api_calls"][0].update(phase="delete"),
            'change role.app: call 1, CreateRole(RoleName="app", Path="/"): its phase differs',
        ),
        (
            lambda d: d["changes"][0]["api_calls"].pop(),
            "change role.app: the plan made now has call 2, AttachRolePolicy(",
        ),
        (
            lambda d: d["changes"][1].update(api_calls="DeleteUser"),
            "change user.bob: its api_calls are not a list",
        ),
        (
            lambda d: d["changes"].append({"address": "user.eve\n# No changes", "action": "create"}),
            "it creates user.eve\\n# No changes, which the plan made now does not change",
        ),
    ],
)
def test_the_first_difference_is_named(edit: Any, expected: str | None) -> None:
    difference = first_difference(edited(edit), PLAN)
    if expected is None:
        assert difference is None
    else:
        assert difference is not None and difference.startswith(expected), difference


def test_a_difference_shows_names_and_identifiers_only() -> None:
    call = {
        "operation": "CreateAccessKey\n",
        "params": {"UserName": "a\x1b[31m", "SecretAccessKey": "wJalr", "PolicyDocument": {"x": 1}},
    }
    assert (
        call_text(call) == 'CreateAccessKey\\n(UserName="a\\u001b[31m", SecretAccessKey=…, PolicyDocument=…)'
    )
