"""``unknown-action``: an action the action catalogue does not know (pure).

Reads every document as written. A misspelt action of a known service, or a
wildcard that matches no action, is an error; an action of a service the
catalogue does not know is a warning (it may be brand new).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from iamstate import catalog
from iamstate.model import Json
from iamstate.plan import Severity
from iamstate.rules.base import Document, DocumentRule, Found, Hit, RuleInput
from iamstate.rules.documents import ACCESS_ANALYZER
from iamstate.rules.statements import ACTION_FORMAT, as_list, raw_statements


class UnknownAction(DocumentRule):
    id = "unknown-action"
    severity = Severity.ERROR
    waivable = True
    order = 220
    summary = (
        "an action of a known service does not exist, or a wildcard matches none "
        "(a warning for a service the catalogue does not know)"
    )
    remedy = "fix the action's spelling; a brand-new action or service can be waived with a reason"
    source = ACCESS_ANALYZER
    template = "{subject}: {message}"

    def check(self, document: Document, data: RuleInput) -> Found:
        for action, why, known in unknown_actions(document.written):
            if known:
                yield f"{action} {why}"
            else:
                new = f" ({catalog.PACKAGE} {catalog.data_version()}); fine if it is new"
                yield Hit(f"{action} {why}{new}", severity=Severity.WARNING)


def unknown_actions(document: Json) -> Iterator[tuple[str, str, bool]]:
    """(action as written, explanation, service known) for each action the catalogue lacks."""
    seen: set[str] = set()
    for statement in raw_statements(document):
        if not isinstance(statement, Mapping):
            continue
        for key in ("Action", "NotAction"):
            for action in as_list(statement.get(key)):
                if not isinstance(action, str) or action == "*" or action.lower() in seen:
                    continue
                seen.add(action.lower())
                if not ACTION_FORMAT.fullmatch(action):
                    continue  # malformed-policy reports it
                prefix = action.split(":", 1)[0]
                wildcard_prefix = "*" in prefix or "?" in prefix
                if not wildcard_prefix and not catalog.known_service(prefix):
                    yield (
                        action,
                        f"names the service '{prefix}', which the action catalogue does not know",
                        False,
                    )
                elif "*" in action or "?" in action:
                    if not catalog.expand(action):
                        yield action, "matches no action", True
                elif catalog.lookup(action) is None:
                    suggestion = catalog.suggest(action)
                    hint = f" (did you mean {suggestion}?)" if suggestion else ""
                    yield action, f"is not an action of {prefix.lower()}{hint}", True
