"""Read the documents of the AWS-managed policies a state uses: once per distinct ARN, cached on disk.

For every distinct AWS-managed ARN (attached, or used as a permissions boundary)
this makes one GetPolicy, for the default version id, and one GetPolicyVersion
unless that version's document is already in the cache, at most ``concurrency``
at a time. The cost grows with distinct managed policies, never with entities.

The cache lives in ``$IAMSTATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/iamstate``, else
``~/.cache/iamstate``, under ``managed-policies/``: one file per ARN and version,
named by the ARN's SHA-256 and the version id, holding
``{"arn", "version_id", "document"}``. Files are written atomically (a private
temporary file in the same directory, then a rename) with mode 0600 in a 0700
directory. A cache file is only ever read as JSON, and used only when it is an
object whose ``arn`` and ``version_id`` are the ones asked for and whose
``document`` is an object; anything else is ignored and replaced. A cache that
cannot be written is logged and skipped: it never fails a plan.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from botocore.exceptions import ClientError

from iamstate.analysis.managed import is_aws_managed
from iamstate.aws.session import CallCounter, aws_errors, error_code
from iamstate.kinds.base import decode_document
from iamstate.model import Json

log = structlog.get_logger()

CACHE_ENV = "IAMSTATE_CACHE_DIR"
CACHE_SUBDIR = "managed-policies"
DEFAULT_CONCURRENCY = 8
_SAFE_VERSION = re.compile(r"[A-Za-z0-9._-]{1,64}")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where iamstate caches: ``$IAMSTATE_CACHE_DIR``, ``$XDG_CACHE_HOME/iamstate`` or ``~/.cache/iamstate``."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "iamstate"
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "iamstate"


@dataclass(frozen=True)
class ManagedDocuments:
    """What was read: documents by ARN (as asked for), ARNs IAM does not know, and the cost."""

    documents: Mapping[str, Json]
    missing: tuple[str, ...] = ()
    api_calls: Mapping[str, int] = field(default_factory=dict)
    from_cache: int = 0


class _Cache:
    def __init__(self, root: Path | None) -> None:
        self.root = root / CACHE_SUBDIR if root is not None else None

    def _path(self, arn: str, version: str) -> Path | None:
        if self.root is None or not _SAFE_VERSION.fullmatch(version):
            return None
        digest = hashlib.sha256(arn.encode()).hexdigest()
        return self.root / f"{digest}.{version}.json"

    def get(self, arn: str, version: str) -> Json | None:
        path = self._path(arn, version)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("arn") != arn or data.get("version_id") != version:
            return None
        document = data.get("document")
        return document if isinstance(document, dict) else None

    def put(self, arn: str, version: str, document: Json) -> None:
        path = self._path(arn, version)
        if path is None:
            return
        text = json.dumps({"arn": arn, "version_id": version, "document": document}, sort_keys=True)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            log.warning("managed_cache.unwritable", path=str(path.parent), error=str(error))


def _read_one(iam: Any, arn: str, cache: _Cache) -> tuple[Json | None, bool]:
    """(document or None when IAM does not know the policy, came from the cache)."""
    with aws_errors(f"iam:GetPolicy ({arn})"):
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return None, False
            raise
    version = str(policy.get("DefaultVersionId") or "")
    cached = cache.get(arn, version)
    if cached is not None:
        return cached, True
    with aws_errors(f"iam:GetPolicyVersion ({arn} {version})"):
        response = iam.get_policy_version(PolicyArn=arn, VersionId=version)
    document = decode_document(response["PolicyVersion"]["Document"])
    cache.put(arn, version, document)
    return document, False


def read_managed_policies(
    iam: Any,
    arns: Iterable[str],
    *,
    cache: Path | None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> ManagedDocuments:
    """The default-version documents of the distinct AWS-managed ARNs among ``arns``.

    ``cache`` is the cache directory (:func:`cache_dir`), or None for no cache.
    Customer policy ARNs are ignored (the live read already has their documents).
    Raises :class:`~iamstate.errors.AwsError` when a call fails for another reason
    than an unknown policy.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    distinct = sorted({a for a in arns if is_aws_managed(a)})
    store = _Cache(cache)
    counter = CallCounter()
    counter.attach(iam)
    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="iamstate-managed") as pool:
            futures = {arn: pool.submit(_read_one, iam, arn, store) for arn in distinct}
            try:
                results = {arn: future.result() for arn, future in futures.items()}
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        counter.detach(iam)
    documents = {arn: doc for arn, (doc, _) in results.items() if doc is not None}
    missing = tuple(arn for arn, (doc, _) in results.items() if doc is None)
    hits = sum(1 for _, (doc, cached) in results.items() if cached)
    api_calls = counter.snapshot()
    log.debug(
        "managed.read", policies=len(distinct), from_cache=hits, missing=len(missing), api_calls=api_calls
    )
    return ManagedDocuments(documents, missing, api_calls, hits)
