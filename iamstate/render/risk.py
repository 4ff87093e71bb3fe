"""Which changes of a plan widen access, for the banners and the order reviewers read in (pure).

Read from the plan's JSON form, in either direction: :func:`widened` with
``gained="after"`` says what a plan grants that was not there (the plan's "access
widened" banner); with ``gained="before"`` it says what the live account holds beyond
the configuration — what someone changed out of band, which drift's banner names.
Widening is: an attached AWS-managed policy that lets a principal escalate or reach
everything (AdministratorAccess, IAMFullAccess, ... from
:mod:`iamstate.analysis.managed`); a policy document or an inline policy that grants
Permissions management (IAM writes, ``iam:PassRole``); a trust policy that admits
anyone (``*``) or another account; a permissions boundary removed. A policy the plan creates
and uses only as a permissions boundary grants nothing, so its document widens nothing.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from iamstate import catalog, policy
from iamstate.access import PERMISSIONS_MANAGEMENT, allowed_actions
from iamstate.analysis.managed import builtin
from iamstate.model import Json

_ACCOUNT_ROOT = "arn:aws:iam::"


_PHRASES = {
    "after": {
        "attached": "attaches {subject} ({detail})",
        "boundary": "removes its permissions boundary {subject}",
        "trust": "trust admits {detail}",
        "document": "grants {detail}",
        "inline": "holds inline policy {subject}, which grants {detail}",
    },
    "before": {
        "attached": "{subject} attached out of band ({detail})",
        "boundary": "permissions boundary {subject} removed out of band",
        "trust": "trust widened out of band to {detail}",
        "document": "document changed out of band grants {detail}",
        "inline": "inline policy {subject} added out of band grants {detail}",
    },
}


def boundaries_only(changes: Sequence[Mapping[str, Json]]) -> set[str]:
    """Addresses (lower case) of the policies this plan creates and uses only as permissions
    boundaries: a new policy is held by no one outside the plan, so when no change attaches
    it, it grants nothing — a boundary is a ceiling, never a grant."""
    attached: set[str] = set()
    bounding: set[str] = set()
    for change in changes:
        after = _side(change, "after")
        attached.update(_policy_name(arn) for arn in _strings(after.get("policies")))
        if after.get("permissions_boundary"):
            bounding.add(_policy_name(str(after["permissions_boundary"])))
    created = {
        str(c.get("address", "")).lower()
        for c in changes
        if c.get("action") == "create" and str(c.get("address", "")).lower().startswith("policy.")
    }
    return {f"policy.{name}" for name in bounding - attached} & created


def _policy_name(arn: str) -> str:
    # Managed policy names are unique in an account, whatever their path.
    return arn.rsplit("/", 1)[-1].lower()


def widened(
    change: Mapping[str, Json], account_id: str, *, gained: str = "after", grants_nothing: bool = False
) -> list[str]:
    """What the ``gained`` side (``after``: what the plan grants; ``before``: what the live account
    holds beyond the configuration) of a change grants beyond the other, in a few words each;
    [] when nothing widens. ``grants_nothing``: the change is a policy that no one holds as a
    grant (:func:`boundaries_only`), so its document widens nothing."""
    lost = "before" if gained == "after" else "after"
    new, old = _side(change, gained), _side(change, lost)
    found: list[tuple[str, str, str]] = []
    for arn in sorted(set(_strings(new.get("policies"))) - set(_strings(old.get("policies")))):
        grant = builtin(arn)
        if grant is not None:
            found.append(("attached", grant.name, grant.summary))
    if old.get("permissions_boundary") and not new.get("permissions_boundary"):
        found.append(("boundary", str(old["permissions_boundary"]).rsplit("/", 1)[-1], ""))
    found += [("trust", "", who) for who in _trust_widened(new.get("trust"), old.get("trust"), account_id)]
    if ("document" in new or "document" in old) and not grants_nothing:
        grants = _permissions_management(new.get("document")) - _permissions_management(old.get("document"))
        if grants:
            found.append(("document", "", _actions(grants)))
    inline_new, inline_old = new.get("inline_policies") or {}, old.get("inline_policies") or {}
    if isinstance(inline_new, Mapping) and isinstance(inline_old, Mapping):
        for name in sorted(set(inline_new) - set(inline_old)):
            grants = _permissions_management(inline_new[name])
            if grants:
                found.append(("inline", str(name), _actions(grants)))
    phrases = _PHRASES[gained]
    return [phrases[what].format(subject=subject, detail=detail) for what, subject, detail in found]


def risky(change: Mapping[str, Json], account_id: str, flagged: set[str]) -> bool:
    """True for a change a reviewer should read first: a delete or replace, one with findings
    (``flagged`` addresses, lower case), one that widens access or changes a trust policy."""
    if change.get("action") in ("delete", "replace"):
        return True
    if str(change.get("address", "")).lower() in flagged:
        return True
    if any(str(f.get("path", "")) == "trust" for f in change.get("fields") or [] if isinstance(f, Mapping)):
        return True
    return bool(widened(change, account_id))


def _side(change: Mapping[str, Json], side: str) -> Mapping[str, Json]:
    value = change.get(side)
    return value if isinstance(value, Mapping) else {}


def _strings(value: Json) -> Iterator[str]:
    if isinstance(value, list):
        yield from (str(v) for v in value)


def _permissions_management(document: Json) -> set[str]:
    if not document:
        return set()
    return {a for a in allowed_actions(document) if catalog.access_level(a) == PERMISSIONS_MANAGEMENT}


def _actions(actions: set[str]) -> str:
    shown = sorted(actions, key=str.lower)
    listed = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
    return f"{PERMISSIONS_MANAGEMENT} ({listed})"


def _principals(trust: Json) -> set[str]:
    """Who a trust document lets in: ``*`` for anyone, account ids, other principals as written."""
    found: set[str] = set()
    document = policy.normalize(trust) if trust else {}
    statements = document.get("Statement") if isinstance(document, Mapping) else None
    for statement in statements or []:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            found.add("*")
        elif isinstance(principal, Mapping):
            for value in principal.get("AWS") or []:
                found.add(_account_of(str(value)))
    return found


def _account_of(principal: str) -> str:
    if principal == "*":
        return "*"
    if principal.startswith(_ACCOUNT_ROOT) or principal.startswith("arn:"):
        parts = principal.split(":")
        if len(parts) > 4 and parts[4].isdigit():
            return parts[4]
    return principal


def _trust_widened(new: Json, old: Json, account_id: str) -> list[str]:
    if not new:
        return []
    added = _principals(new) - _principals(old)
    out = ["any principal (*)"] if "*" in added else []
    others = sorted(a for a in added if a != "*" and a.isdigit() and a != account_id)
    if others:
        out.append(f"account{'s' if len(others) > 1 else ''} {', '.join(others)}")
    return out
