"""``password-policy-weak``: the declared password policy is below CIS's minimums (pure)."""

from __future__ import annotations

from iamstate.kinds.password_policy import PasswordPolicy
from iamstate.model import Kind, Resource
from iamstate.plan import Severity
from iamstate.rules.account import CIS
from iamstate.rules.base import EntityRule, Found, RuleInput

MIN_PASSWORD_LENGTH = 14
MIN_REUSE_PREVENTION = 24


class PasswordPolicyWeak(EntityRule):
    id = "password-policy-weak"
    severity = Severity.ERROR
    waivable = True
    order = 510
    kinds = (Kind.PASSWORD_POLICY,)
    summary = "password_policy has minimum_length < 14 or reuse_prevention < 24 (or unset) (CIS)"
    remedy = "set minimum_length: 14 (or more) and reuse_prevention: 24"
    source = CIS + " (1.8 and 1.9: password length and reuse)"

    def check(self, entity: Resource, data: RuleInput) -> Found:
        assert isinstance(entity, PasswordPolicy)
        problems = []
        if entity.minimum_length < MIN_PASSWORD_LENGTH:
            problems.append(f"minimum_length is {entity.minimum_length} (CIS asks for {MIN_PASSWORD_LENGTH})")
        if entity.reuse_prevention is None or entity.reuse_prevention < MIN_REUSE_PREVENTION:
            shown = "not set" if entity.reuse_prevention is None else f"{entity.reuse_prevention}"
            problems.append(f"reuse_prevention is {shown} (CIS asks for {MIN_REUSE_PREVENTION})")
        if problems:
            yield "is weak: " + "; ".join(problems)
