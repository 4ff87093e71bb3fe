"""``credentials-exposure``: a principal can obtain credentials (pure).

Cloudsplaining's class (:mod:`iamstate.analysis.exposure`), read on the principal's
effective permissions across all its policies: an action of the class granted on every
resource of its type without a narrowing condition. Full administrators are left to
``policy-admin-star`` and ``attach-admin-managed``.
"""

from __future__ import annotations

from iamstate.analysis.exposure import SOURCE, ExposureClass
from iamstate.plan import Severity
from iamstate.rules.principals import ExposureRule


class CredentialsExposure(ExposureRule):
    id = "credentials-exposure"
    exposure = ExposureClass.CREDENTIALS_EXPOSURE
    severity = Severity.WARNING
    waivable = True
    order = 740
    summary = (
        "a user, group or role may obtain credentials on every resource of their type "
        "(`ecr:GetAuthorizationToken`, `redshift:GetClusterCredentials`, `sts:GetFederationToken`, ...) "
        "(Cloudsplaining)"
    )
    remedy = "scope the actions to the registries, clusters or roles the job needs, or waive with a reason"
    source = SOURCE
    what = "can obtain credentials on every resource of their type"
