"""The account alias: ``account: {alias: NAME}`` (pure).

An account has at most one alias (the name in its sign-in URL). It is managed
only while the configuration declares it; a different alias replaces the old
one (DeleteAccountAlias, then CreateAccountAlias).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iamstate.calls import CallContext
from iamstate.kinds.base import (
    DeleteStep,
    ImportContext,
    KindSpec,
    Listing,
    OrderInfo,
    Ownership,
    Responses,
    listed,
)
from iamstate.model import Json, Kind
from iamstate.plan import ApiCall

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

ACCOUNT_ALIAS = Kind.define("account_alias")

LIST_ALIASES = Listing("account_aliases", "ListAccountAliases", ("AccountAliases",))


@dataclass(frozen=True)
class AccountAlias:
    """The account's alias."""

    name: str

    kind = ACCOUNT_ALIAS
    path = "/"


class AccountAliasKind(KindSpec[AccountAlias]):
    """``account_alias.NAME``."""

    kind = ACCOUNT_ALIAS
    resource = AccountAlias
    label = "account alias"
    section = ("account", "alias")
    singleton = True
    ownership = Ownership.DECLARED
    rank = 8
    reads = (LIST_ALIASES,)
    create_operations = ("CreateAccountAlias",)

    def name_of(self, data: Any) -> str | None:
        return data if isinstance(data, str) and data else None

    def build(self, declared: Declared, builder: Builder) -> None:
        if builder.is_broken(declared):
            return
        builder.register(declared, AccountAlias(declared.name), where=declared.at())

    def scoped(self, resource: AccountAlias) -> bool:
        return False

    def from_live(self, responses: Responses) -> Iterable[AccountAlias]:
        return [AccountAlias(str(a)) for a in listed(responses, LIST_ALIASES.name, "AccountAliases")]

    def replace_reason(self, before: AccountAlias, after: AccountAlias) -> str:
        if before.name != after.name:
            return f"an account has one alias: {before.name!r} is deleted before {after.name!r} is created"
        return ""

    def create_calls(self, resource: AccountAlias, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params = {"AccountAlias": resource.name}
        return [ApiCall("CreateAccountAlias", params, order.create_phase, order=order.create_order)]

    def delete_calls(self, resource: AccountAlias, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        return [ApiCall("DeleteAccountAlias", {"AccountAlias": resource.name}, step.phase, order=step.final)]

    def to_config(self, resource: AccountAlias, ctx: ImportContext) -> Json:
        return resource.name


SPEC = AccountAliasKind()
