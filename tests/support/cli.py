"""Run the real iamstate CLI as a pipeline would: a subprocess, no terminal, AWS pointed at a local endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol


class Endpoint(Protocol):
    """A local IAM endpoint (LocalIam or StrictIam)."""

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]: ...


def run_iamstate(endpoint: Endpoint, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m iamstate ARGS`` in ``cwd`` with stdin closed, against ``endpoint`` only."""
    env = endpoint.env(dict(os.environ))
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "iamstate", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
