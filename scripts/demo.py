"""`make demo`: iamstate's main job on examples/ against a local IAM endpoint.

Starts a local IAM endpoint on 127.0.0.1 (with AWS's delete rules enforced), then:
validate, plan, apply, an empty re-plan, a clean drift check, an out-of-band change
that drift catches, the apply that puts it back, and stops the endpoint. The
configuration is a copy of examples/ in a temporary directory, so that the demo
can show the one-line fix a reviewer would make (``absent: true``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.strict import StrictIam  # noqa: E402

EXAMPLES = "examples"


def banner(text: str) -> None:
    """A visible step header."""
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def iamstate(env: dict[str, str], *args: str, expect: int = 0) -> None:
    """Run the CLI like a user would; stop the demo if the exit code is not the expected one."""
    banner("iamstate " + " ".join(args))
    code = subprocess.run(
        [sys.executable, "-m", "iamstate", *args], cwd=ROOT, env=env, check=False
    ).returncode
    print(f"(exit code {code})", flush=True)
    if code != expect:
        raise SystemExit(f"demo: expected exit code {expect}, got {code}")


def main() -> None:
    """Run the demo end to end."""
    with StrictIam() as endpoint:
        print(f"Local IAM endpoint at {endpoint.endpoint} (account {endpoint.account_id})")
        env = endpoint.env(os.environ)
        iamstate(env, "validate", EXAMPLES)
        iamstate(env, "plan", EXAMPLES, "--detailed-exitcode", expect=2)
        iamstate(env, "apply", EXAMPLES, "--auto-approve")
        iamstate(env, "plan", EXAMPLES, "--detailed-exitcode", expect=0)
        # A well-kept account: the root user has MFA (the local endpoint reports none by default).
        endpoint.root_mfa = True
        iamstate(env, "drift", EXAMPLES, expect=0)

        banner(
            "out of band: someone attaches AdministratorAccess to developers and adds a console user by hand"
        )
        iam = endpoint.client("iam")
        iam.attach_group_policy(
            GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        iam.create_user(UserName="temp-contractor")
        iam.create_access_key(UserName="temp-contractor")
        iam.create_login_profile(UserName="temp-contractor", Password="Temp-Contractor-2026!")
        iamstate(env, "drift", EXAMPLES, expect=2)
        banner("apply puts the group back; the hand-made user is not this stack's, so it is left alone")
        iamstate(env, "apply", EXAMPLES, "--auto-approve")
        banner("the reviewer's fix: declare the hand-made user absent (a copy of examples/ in a temp dir)")
        with tempfile.TemporaryDirectory(prefix="iamstate-demo-") as tmp:
            config = Path(tmp) / "iam"
            shutil.copytree(ROOT / EXAMPLES, config)
            with (config / "users.yaml").open("a") as users:
                users.write("\n  - name: temp-contractor   # made by hand; remove it\n    absent: true\n")
            iamstate(env, "apply", str(config), "--auto-approve")
            iamstate(env, "drift", str(config), expect=0)
    print("\nLocal IAM endpoint stopped. Demo complete.")


if __name__ == "__main__":
    main()
