"""Work on a second core: validate's parsing and its rules, each half in a forked child (Linux).

The loader and the rules are pure, so a child forked from this process computes what the
process would; its answer comes back pickled through a pipe. A large YAML file is parsed
in two halves at once (:mod:`iamstate.config.yamlhalves`); then, for a configuration of at
least :data:`MIN_ENTITIES` declarations, a child builds the configuration from the parsed
files and runs the rules on principals while this process builds it too and runs the
others (each process its own configuration: neither copies the other's pages as it
reads them). A child is used only where forking is safe: Linux, more than one core
available, no other thread running. If the child fails for any reason, its half runs
in this process, so errors surface exactly as without it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from iamstate.config import ParsedConfig

MIN_ENTITIES = 1_000
"""Below this many declarations the rules take a fraction of a second: one core."""

_end_child = os._exit
"""Taken at import: the child always ends here, whatever later replaces ``os._exit``."""

T = TypeVar("T")
U = TypeVar("U")


def fan_out_for(parsed: ParsedConfig) -> Callable[[Callable[[], T], Callable[[], U]], tuple[T, U]] | None:
    """:func:`on_second_core` where it is safe and worth it for the rules of ``parsed``, else None."""
    if parsed.declarations < MIN_ENTITIES or not available():
        return None
    return on_second_core


def second_core() -> Callable[[Callable[[], T], Callable[[], U]], tuple[T, U]] | None:
    """:func:`on_second_core` where forking is safe here (for loading: the loader decides
    which files are large enough), else None."""
    return on_second_core if available() else None


def meanwhile(
    apart: Callable[[Callable[[], T], Callable[[], U]], tuple[T, U]] | None, ready: Callable[[], object]
) -> Callable[[Callable[[], T], Callable[[], U]], tuple[T, U]] | None:
    """``apart`` (None stays None) with ``ready()`` run here after this process's own half,
    while the child still works on its half: what ``ready`` makes (imports, caches) is then
    made once, before any later fork, instead of in each process after it."""
    if apart is None:
        return None
    run = apart  # narrowed, for the closure

    def readying(elsewhere: Callable[[], T], here: Callable[[], U]) -> tuple[T, U]:
        def mine() -> U:
            found = here()
            ready()
            return found

        return run(elsewhere, mine)

    return readying


def available() -> bool:
    """True on Linux with more than one core to run on and no thread besides this one."""
    if sys.platform != "linux" or not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    return len(os.sched_getaffinity(0)) > 1


def on_second_core(elsewhere: Callable[[], T], here: Callable[[], U]) -> tuple[T, U]:
    """``elsewhere()`` in a forked child while ``here()`` runs in this process; both answers.

    When the child does not bring its answer back (it failed, or was killed), ``elsewhere()``
    runs here after ``here()``. If ``here()`` raises, the child is stopped first."""
    import pickle  # only where a child is used (validate of a small config never pickles)

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read)
            payload = pickle.dumps(elsewhere(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(payload)
            status = 0
        except BaseException:  # the parent runs it again and reports what went wrong
            pass
        finally:
            _end_child(status)  # no exit handlers, no flushing of the parent's buffers
    os.close(write)
    try:
        mine = here()
        with os.fdopen(read, "rb", closefd=False) as pipe:
            payload = pipe.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return elsewhere(), mine
    theirs: T = pickle.loads(payload)  # our own child's
    return theirs, mine
