"""Reading the files a configuration names, and only those inside its directory.

The *config root* is PATH's directory (the file's own directory when PATH is a
file). Every file iamstate reads because of the configuration — the YAML files
found below PATH, a policy's ``document_file`` — is resolved with symbolic links
followed and must lie inside the root, be a regular file (not a directory, FIFO,
device or socket) and be no larger than its cap. Anything else is a located
configuration error, and the file is neither read nor echoed.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from iamstate.config.text import decode
from iamstate.errors import ConfigError, Diagnostic
from iamstate.model import SourceLocation


@dataclass(frozen=True)
class ReadFile:
    """A file read from inside the config root."""

    name: str
    """How messages name it: the referring file's directory joined with the relative path."""
    path: Path
    """Where it is, every symbolic link resolved."""
    text: str


def config_root(path: str | os.PathLike[str]) -> Path:
    """The directory every file of the configuration at PATH must lie in, resolved.

    A relative PATH below the working directory must resolve below it too, so that a
    committed symbolic link cannot move the root elsewhere (``iam -> /``).
    """
    given = Path(path)
    base = given if given.is_dir() else given.parent
    root = base.resolve()
    parts = given.parts
    if not given.is_absolute() and (not parts or parts[0] != ".."):
        cwd = Path.cwd().resolve()
        if not root.is_relative_to(cwd):
            raise ConfigError(
                [
                    Diagnostic(
                        f"{os.fspath(path)}: leads outside the working directory through a symbolic link",
                        hint="name the configuration directory itself, not a link to it",
                    )
                ]
            )
    return root


def read_config_file(root: Path, path: Path, name: str, *, max_bytes: int) -> str | Diagnostic:
    """The text of one configuration file found below the root, within the rules above."""
    found = _read_contained(root, path, name, SourceLocation(name, 1, 1), name, max_bytes, ())
    return found if isinstance(found, Diagnostic) else found.text


def read_referenced_file(
    root: Path,
    referrer: SourceLocation,
    relative: str,
    *,
    what: str,
    max_bytes: int,
    allowed_suffixes: tuple[str, ...],
    not_found_hint: str = "",
) -> ReadFile | Diagnostic:
    """The file that ``relative`` (written at ``referrer``) names, relative to the referring file.

    ``what`` names the field in messages (``policy 'x' document_file``). Every refusal
    is located at ``referrer``; only a file's own bad encoding is located in that file.
    """
    path = Path(referrer.file).parent / relative
    shown = os.path.normpath(path)
    return _read_contained(
        root, path, shown, referrer, f"{what} '{relative}'", max_bytes, allowed_suffixes, not_found_hint
    )


def _read_contained(
    root: Path,
    path: Path,
    shown: str,
    at: SourceLocation,
    what: str,
    max_bytes: int,
    allowed_suffixes: tuple[str, ...],
    not_found_hint: str = "",
) -> ReadFile | Diagnostic:
    def refuse(problem: str, hint: str = "") -> Diagnostic:
        return Diagnostic(f"{what} {problem}", at, hint)

    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        if path.is_symlink():
            return refuse("is a symbolic link to nothing", "point it at a file inside the configuration")
        return refuse(f"not found (looked for {shown})", not_found_hint)
    except RuntimeError:
        return refuse("is a loop of symbolic links", "point it at a file inside the configuration")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return refuse("is a loop of symbolic links", "point it at a file inside the configuration")
        return refuse(f"cannot be resolved: {_reason(exc)}")
    if not resolved.is_relative_to(root):
        return refuse(
            "is outside the configuration directory",
            "iamstate reads only files inside the configuration directory; move the file there",
        )
    if allowed_suffixes and resolved.suffix.lower() not in allowed_suffixes:
        return refuse(
            f"leads to a file whose name does not end in {', '.join(allowed_suffixes)}",
            "name the file itself rather than a link to it",
        )
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(resolved, flags)
    except OSError as exc:
        return refuse(f"cannot be read: {_reason(exc)}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return refuse(f"is not a regular file but {_file_type(info.st_mode)}")
        if info.st_size > max_bytes:
            return refuse(
                f"is {info.st_size:,} bytes; at most {max_bytes:,} are read",
                "split it into smaller files",
            )
        data = _read_at_most(fd, max_bytes + 1)
    except OSError as exc:
        return refuse(f"cannot be read: {_reason(exc)}")
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return refuse(f"holds more than {max_bytes:,} bytes", "split it into smaller files")
    text = decode(data, shown)
    if isinstance(text, Diagnostic):
        return text
    return ReadFile(shown, resolved, text)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
