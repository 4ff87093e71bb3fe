"""structlog set-up: events go to stderr only, stdout carries the plan/report."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from iamstate.errors import redact
from iamstate.render import escape


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


def redact_credentials(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: no URL in an event carries its user name or password."""
    return {key: _redacted(value) for key, value in event_dict.items()}


def configure(log_format: str = "console", verbose: int = 0, color: bool = False) -> None:
    """Send structlog events to stderr as console lines or JSON; ``-v`` shows debug events.

    Console logs stay quiet unless asked (warnings only); JSON logs are for a log
    pipeline, so they carry the info events (``aws.read``, ``plan.done``, ...) too.
    """
    if verbose:
        level = logging.DEBUG
    elif log_format == "json":
        level = logging.INFO
    else:
        level = logging.WARNING
    renderer: structlog.types.Processor
    escaping: list[structlog.types.Processor] = []
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=color)
        escaping = [escape_strings]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_credentials,
            *escaping,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def escape_strings(
    logger: object, method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Console lines: every string value as one line of text (:func:`iamstate.render.escape.text`),
    so that a name from the configuration or the account cannot add or reorder log lines. JSON
    logs need nothing: JSON escapes what it holds."""
    return {key: escape.text(value) if isinstance(value, str) else value for key, value in event.items()}
