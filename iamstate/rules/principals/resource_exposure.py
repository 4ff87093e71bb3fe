"""``resource-exposure``: a principal can open resources up to others (pure).

Cloudsplaining's class (:mod:`iamstate.analysis.exposure`), read on the principal's
effective permissions across all its policies: an action of the class granted on every
resource of its type without a narrowing condition. Full administrators are left to
``policy-admin-star`` and ``attach-admin-managed``.
"""

from __future__ import annotations

from iamstate.analysis.exposure import SOURCE, ExposureClass
from iamstate.plan import Severity
from iamstate.rules.principals import ExposureRule


class ResourceExposure(ExposureRule):
    id = "resource-exposure"
    exposure = ExposureClass.RESOURCE_EXPOSURE
    severity = Severity.WARNING
    waivable = True
    order = 730
    summary = (
        "a user, group or role may change resource policies, grants or ACLs on every resource of their type "
        "(Permissions management: `s3:PutBucketPolicy`, `kms:CreateGrant`, `lambda:AddPermission`, ...) "
        "(Cloudsplaining)"
    )
    remedy = "scope the actions to the resources the job owns, or waive with a reason"
    source = SOURCE
    what = "can change who may use resources (policies, grants, ACLs) on every resource of their type"
