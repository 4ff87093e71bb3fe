"""``data-exfiltration``: a principal can read stored data or secrets anywhere (pure).

Cloudsplaining's class (:mod:`iamstate.analysis.exposure`), read on the principal's
effective permissions across all its policies: an action of the class granted on every
resource of its type without a narrowing condition. Full administrators are left to
``policy-admin-star`` and ``attach-admin-managed``.
"""

from __future__ import annotations

from iamstate.analysis.exposure import SOURCE, ExposureClass
from iamstate.plan import Severity
from iamstate.rules.principals import ExposureRule


class DataExfiltration(ExposureRule):
    id = "data-exfiltration"
    exposure = ExposureClass.DATA_EXFILTRATION
    severity = Severity.WARNING
    waivable = True
    order = 720
    summary = (
        "a user, group or role may read stored data or secrets on every resource of their type "
        "(`s3:GetObject`, `ssm:GetParameter*`, `secretsmanager:GetSecretValue`) (Cloudsplaining)"
    )
    remedy = "scope the actions to the buckets, parameters and secrets the job reads, or waive with a reason"
    source = SOURCE
    what = "can read stored data or secrets on every resource of their type"
