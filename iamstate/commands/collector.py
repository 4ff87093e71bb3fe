"""How a command's process uses the cyclic garbage collector.

A command is one short process that builds large, acyclic structures (the
configuration, the pages read, the model) which live until it ends. The console entry
point calls :func:`tune` once; commands load the configuration inside :func:`building`
(or call :func:`settle` after loading it). Code that calls the commands in a long-lived
process (tests, a library user) never calls :func:`tune`, and :func:`settle` then does
nothing.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_tuned = False
_kept: list[object] = []


def tune() -> None:
    """Collect cycles rarely: the cyclic collector would walk the large structures a command
    builds again and again while they grow. Reference counting still frees them; a young
    generation of 50,000 objects keeps what cycles there are bounded."""
    global _tuned
    gc.freeze()  # what importing made lives as long as the process
    gc.set_threshold(50_000, 20, 100)
    _tuned = True


def settle() -> None:
    """What exists now lives until the command ends: take it out of the collector's walks.

    Loading builds a large configuration with the collector paused, so all of it is
    young; without this, the next collections would walk all of it, and a forked child
    (see :mod:`iamstate.commands.cores`) would copy every page they touch."""
    if _tuned:
        gc.freeze()


@contextlib.contextmanager
def building() -> Iterator[None]:
    """Pause the collector while the command builds what lives until it ends, then
    :func:`settle` it before resuming: resuming first would start a collection that walks
    all of it once more (tens of milliseconds for a large configuration). A child forked
    inside starts with the collector paused too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        settle()
        if enabled:
            gc.enable()


def keep(*objects: object) -> None:
    """In a command's process (see :func:`tune`), hold ``objects`` until it ends: a command
    returning would otherwise free a large configuration object by object (tens of
    milliseconds) just before the process ends without freeing anything. Elsewhere, nothing."""
    if _tuned:
        _kept.extend(objects)
