"""Rules on what a plan changes: deleting what is in use, replacing what others rely on (pure).

They need the live account and the planned changes (plan and apply).
"""

from __future__ import annotations

from datetime import datetime

REFERENCES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"


def days_between(earlier: str, later: str) -> float | None:
    """Days from one ISO 8601 time to another, or None when either is missing or unreadable."""
    try:
        a = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        b = datetime.fromisoformat(later.replace("Z", "+00:00"))
    except ValueError:
        return None
    if a.tzinfo is None or b.tzinfo is None:
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (b - a).total_seconds() / 86400
