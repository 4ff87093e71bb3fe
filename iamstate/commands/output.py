"""Writing what commands produce (``--out``, ``--sarif-out``, ``import --out``) without following links.

A repository can carry symbolic links, and a pull request can add them: a committed
``plan.json`` that links to ``~/.bashrc`` must not get its target overwritten when a
pipeline runs ``plan --out plan.json``. So a file is written only when neither it nor
a directory between the working directory (or the import directory) and it is a
symbolic link, and only as a regular file: never into a FIFO, a device or a
directory. The final open uses ``O_NOFOLLOW`` so that a link made after the check
is refused too. Every refusal is an :class:`~iamstate.errors.IamstateError` that
names the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from iamstate.errors import IamstateError

_OPEN_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _links_between(root: Path, path: Path) -> Path | None:
    """The first existing symbolic link among the directories from ``root`` down to ``path``'s
    parent (``root`` itself included), or None."""
    try:
        relative = path.parent.relative_to(root)
    except ValueError:
        return None
    current = root
    for part in ("", *relative.parts):
        current = current / part if part else current
        if current.is_symlink():
            return current
    return None


def check_writable_dir(directory: Path, what: str) -> None:
    """Refuse a directory to write into that is a symbolic link (or lies below one, under the
    working directory), or that exists and is no directory."""
    absolute = directory if directory.is_absolute() else Path.cwd() / directory
    link = directory if directory.is_symlink() else _links_between(Path.cwd(), absolute)
    if link is not None:
        where = f"{directory} is" if link == directory else f"{directory}: {link} is"
        raise IamstateError(
            f"{what} {where} a symbolic link; iamstate never writes through one "
            "(remove the link or choose another directory). Nothing was written."
        )
    if directory.exists() and not directory.is_dir():
        raise IamstateError(f"{what} {directory} exists and is not a directory. Nothing was written.")


def check_writable(path: Path, *, what: str, root: Path | None = None) -> None:
    """Refuse ``path`` before anything is written when :func:`write_output` would refuse it."""
    base = root if root is not None else Path.cwd()
    absolute = path if path.is_absolute() else Path.cwd() / path
    link = _links_between(base.absolute(), absolute)
    if link is not None:
        raise IamstateError(
            f"{what} {path}: {link} is a symbolic link; iamstate never writes through one "
            "(remove the link or choose another path). Nothing was written there."
        )
    try:
        existing = os.lstat(absolute)
    except FileNotFoundError:
        return
    except OSError as error:
        raise IamstateError(f"cannot write {what} {path}: {error.strerror}") from None
    if stat.S_ISLNK(existing.st_mode):
        raise IamstateError(
            f"{what} {path} is a symbolic link; iamstate never writes through one "
            "(remove the link or choose another file). Nothing was written there."
        )
    if not stat.S_ISREG(existing.st_mode):
        raise IamstateError(
            f"{what} {path} is {_kind(existing.st_mode)}; iamstate writes only regular files. "
            "Nothing was written there."
        )


def write_output(path: Path, text: str, *, what: str, root: Path | None = None) -> None:
    """Write ``text`` to ``path`` as a regular file, refusing symbolic links and special files.

    ``root`` (default: the working directory) is where links start to matter: below it,
    no directory on the way to ``path`` may be a link. Directories missing on the way
    are created. ``what`` names the option in messages (``--out``).
    """
    check_writable(path, what=what, root=root)
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        absolute.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(absolute, _OPEN_FLAGS, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise IamstateError(
                f"{what} {path} is a symbolic link; iamstate never writes through one. "
                "Nothing was written there."
            ) from None
        raise IamstateError(f"cannot write {what} {path}: {error.strerror}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise IamstateError(
                f"{what} {path} is {_kind(opened.st_mode)}; iamstate writes only regular files. "
                "Nothing was written there."
            )
        data = text.encode("utf-8")
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
    except OSError as error:
        raise IamstateError(f"cannot write {what} {path}: {error.strerror}") from None
    finally:
        os.close(fd)
