"""The account password policy: ``password_policy:`` (pure).

An account-wide setting, managed only while the configuration declares it.
``UpdateAccountPasswordPolicy`` resets every field it is not sent, so every
change sends them all; there is nothing to create or delete on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iamstate.calls import CallContext
from iamstate.kinds.base import KindSpec, Listing, OrderInfo, Ownership, Responses
from iamstate.model import PASSWORD_POLICY_ADDRESS, Json, Kind
from iamstate.plan import ApiCall, Phase

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

PASSWORD_POLICY = Kind.PASSWORD_POLICY


@dataclass(frozen=True)
class PasswordPolicy:
    """The account password policy; every field is always sent on update."""

    minimum_length: int = 8
    require_uppercase: bool = False
    require_lowercase: bool = False
    require_numbers: bool = False
    require_symbols: bool = False
    allow_users_to_change: bool = False
    max_age_days: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool = False

    kind = PASSWORD_POLICY
    name = "account"
    path = "/"


READ = Listing(
    "password_policy",
    "GetAccountPasswordPolicy",
    ("PasswordPolicy",),
    paginated=False,
    missing_ok=True,
    page_size=None,
)


def password_policy_from(policy: Mapping[str, Any]) -> PasswordPolicy:
    """A PasswordPolicy from GetAccountPasswordPolicy's ``PasswordPolicy``.

    IAM omits MaxPasswordAge or sends 0 when passwords never expire, and omits
    PasswordReusePrevention when reuse is allowed; both become None.
    """
    max_age = policy.get("MaxPasswordAge")
    reuse = policy.get("PasswordReusePrevention")
    return PasswordPolicy(
        minimum_length=int(policy.get("MinimumPasswordLength", PasswordPolicy.minimum_length)),
        require_uppercase=bool(policy.get("RequireUppercaseCharacters", False)),
        require_lowercase=bool(policy.get("RequireLowercaseCharacters", False)),
        require_numbers=bool(policy.get("RequireNumbers", False)),
        require_symbols=bool(policy.get("RequireSymbols", False)),
        allow_users_to_change=bool(policy.get("AllowUsersToChangePassword", False)),
        max_age_days=int(max_age) if max_age else None,
        reuse_prevention=int(reuse) if reuse else None,
        hard_expiry=bool(policy.get("HardExpiry", False)),
    )


def update_call(p: PasswordPolicy) -> ApiCall:
    """``UpdateAccountPasswordPolicy`` with every field: IAM resets the ones not sent."""
    params: dict[str, Json] = {
        "MinimumPasswordLength": p.minimum_length,
        "RequireUppercaseCharacters": p.require_uppercase,
        "RequireLowercaseCharacters": p.require_lowercase,
        "RequireNumbers": p.require_numbers,
        "RequireSymbols": p.require_symbols,
        "AllowUsersToChangePassword": p.allow_users_to_change,
        "HardExpiry": p.hard_expiry,
    }
    if p.max_age_days is not None:
        params["MaxPasswordAge"] = p.max_age_days
    if p.reuse_prevention is not None:
        params["PasswordReusePrevention"] = p.reuse_prevention
    return ApiCall("UpdateAccountPasswordPolicy", params, Phase.UPDATE)


def password_policy_doc(p: PasswordPolicy) -> dict[str, Json]:
    """The ``password_policy:`` section for a live password policy, every field written.

    Unlike entities, the password policy is written in full: each field is a
    security setting a reviewer should see. Only "no expiry" and "reuse allowed"
    are left out, as the configuration says them.
    """
    doc: dict[str, Json] = {
        "minimum_length": p.minimum_length,
        "require_uppercase": p.require_uppercase,
        "require_lowercase": p.require_lowercase,
        "require_numbers": p.require_numbers,
        "require_symbols": p.require_symbols,
        "allow_users_to_change": p.allow_users_to_change,
    }
    if p.max_age_days is not None:
        doc["max_age_days"] = p.max_age_days
    if p.reuse_prevention is not None:
        doc["reuse_prevention"] = p.reuse_prevention
    doc["hard_expiry"] = p.hard_expiry
    return doc


class PasswordPolicyKind(KindSpec[PasswordPolicy]):
    """``password_policy.account``."""

    kind = PASSWORD_POLICY
    resource = PasswordPolicy
    label = "password policy"
    section = ("password_policy",)
    singleton = True
    deletable = False
    schema_def = None
    ownership = Ownership.DECLARED
    rank = 0
    reads = (READ,)

    def name_of(self, data: Any) -> str | None:
        return PASSWORD_POLICY_ADDRESS.name

    def build(self, declared: Declared, builder: Builder) -> None:
        fields = {k: v for k, v in declared.data.items() if k != "exceptions"}
        builder.register(declared, PasswordPolicy(**fields), where=declared.key_at())

    def scoped(self, resource: PasswordPolicy) -> bool:
        return False

    def from_live(self, responses: Responses) -> Iterable[PasswordPolicy]:
        found = responses.get(READ.name)
        if found is None:
            return []
        return [password_policy_from(found["PasswordPolicy"])]

    def create_calls(self, resource: PasswordPolicy, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        return [update_call(resource)]

    def update_calls(self, before: PasswordPolicy, after: PasswordPolicy, ctx: CallContext) -> list[ApiCall]:
        return [update_call(after)]

    def to_config(self, resource: PasswordPolicy, ctx: Any) -> dict[str, Json] | None:
        return password_policy_doc(resource)


SPEC = PasswordPolicyKind()
