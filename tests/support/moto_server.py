"""A real IAM/STS HTTP endpoint on 127.0.0.1, served by moto in this process.

    with LocalIam() as local:
        iam = local.client("iam")
        subprocess.run(["iamstate", "plan"], env=local.env(os.environ))

Each ``reset()`` gives a clean account (moto's default, 123456789012). AWS-managed
policies are loaded by default so that attaching ``arn:aws:iam::aws:policy/...``
works as on AWS; that costs a few hundred milliseconds on the first IAM call after
each reset.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from tests.support import moto_patches

ACCOUNT_ID = "123456789012"
"""moto's default account; GetCallerIdentity answers it for any fake credentials."""

REGION = "us-east-1"
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
HOST = "127.0.0.1"

# Never follow proxy settings for the local endpoint.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalIam:
    """moto's server on an ephemeral port of 127.0.0.1, with helpers to reach it."""

    def __init__(self, *, aws_managed_policies: bool = True) -> None:
        self._aws_managed_policies = aws_managed_policies
        self._server: ThreadedMotoServer | None = None
        self._endpoint = ""
        # One session, so that botocore loads its service models once; sessions are
        # not thread-safe, clients are.
        self._session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=REGION
        )
        self._session_lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> LocalIam:
        """Start serving; returns self."""
        if self._server is not None:
            return self
        moto_patches.install()
        # Read by moto when it creates an account's IAM backend (after each reset).
        default_user_config["iam"] = {"load_aws_managed_policies": self._aws_managed_policies}
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every entity: the next call sees a clean account."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with _direct.open(request, timeout=30) as response:
            response.read()

    def __enter__(self) -> LocalIam:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- reaching it -------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if not self._endpoint:
            raise RuntimeError("LocalIam is not started")
        return self._endpoint

    @property
    def account_id(self) -> str:
        """The account every call lands in."""
        return ACCOUNT_ID

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment variables that point boto3 (in a subprocess too) at this endpoint only.

        With ``base`` (e.g. ``os.environ``) the result is a whole environment: ``base``
        without any ``AWS_*`` variable of its own (profiles, tokens, regions), plus
        these. Config and credential files point at /dev/null, so no real profile
        is read and nothing else is reachable through one.
        """
        kept = {k: v for k, v in (base or {}).items() if not k.startswith("AWS_")}
        return kept | {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "NO_PROXY": f"{HOST},localhost",
        }

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for ``service`` on this endpoint with fake credentials.

        ``config`` goes to botocore's Config; retries default to ``standard`` so
        that moto's occasional 500 under parallel writes is retried.
        """
        settings: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 10}} | config
        with self._session_lock:
            session: Any = self._session  # boto3-stubs wants a literal service name
            return session.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                config=Config(**settings),
            )
