"""OpenID Connect identity providers: ``identity_providers.oidc`` (pure).

A provider is named by its URL without the scheme (``token.actions.githubusercontent.com``),
as its ARN is: ``arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com``.
Its client ids (audiences), thumbprints and tags change in place; a different
URL is a different provider. ``thumbprints`` may be left out: AWS then keeps
(and, for well-known providers, computes) its own, and iamstate leaves them be.

Providers have no path: one is owned when it carries this stack's tag or is
declared; an untagged provider nobody declared is never touched. Roles that
trust a provider are created after it and deleted before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iamstate.calls import CallContext
from iamstate.kinds.base import (
    DeleteStep,
    ImportContext,
    KindSpec,
    Listing,
    OrderInfo,
    Ownership,
    PerItem,
    Responses,
    TagApi,
    listed,
    tags_from,
)
from iamstate.kinds.policy import ctx_tags
from iamstate.model import Json, Kind
from iamstate.plan import ApiCall, Phase

if TYPE_CHECKING:
    from iamstate.config.build import Builder, Declared

OIDC_PROVIDER = Kind.define("oidc_provider")

LIST_PROVIDERS = Listing(
    "oidc_providers",
    "ListOpenIDConnectProviders",
    ("OpenIDConnectProviderList",),
    paginated=False,
    page_size=None,
)
PROVIDER_DETAILS = PerItem(
    "oidc_provider_details",
    "GetOpenIDConnectProvider",
    over=LIST_PROVIDERS.name,
    items_key="OpenIDConnectProviderList",
    param="OpenIDConnectProviderArn",
    item_field="Arn",
)
"""ListOpenIDConnectProviders gives only ARNs: one GetOpenIDConnectProvider per provider
(an account holds at most 100)."""


@dataclass(frozen=True)
class OidcProvider:
    """An IAM OIDC identity provider. ``thumbprints`` None: not managed (AWS keeps its own)."""

    name: str
    client_ids: frozenset[str] = frozenset()
    thumbprints: frozenset[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    arn: str = field(default="", compare=False)

    kind = OIDC_PROVIDER
    path = "/"

    @property
    def url(self) -> str:
        """The provider's URL (IAM's ``Url`` is always https)."""
        return f"https://{self.name}"


def provider_name(url: str) -> str:
    """``https://token.actions.githubusercontent.com/`` -> ``token.actions.githubusercontent.com``."""
    name = url.split("://", 1)[1] if "://" in url else url
    return name.rstrip("/")


def provider_from(arn: str, detail: Mapping[str, Any]) -> OidcProvider:
    """An OidcProvider from its ARN and GetOpenIDConnectProvider's answer."""
    name = (
        arn.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in arn else provider_name(str(detail["Url"]))
    )
    return OidcProvider(
        name=name,
        client_ids=frozenset(str(c) for c in detail.get("ClientIDList") or ()),
        thumbprints=frozenset(str(t).lower() for t in detail.get("ThumbprintList") or ()),
        tags=tags_from(detail.get("Tags")),
        arn=arn,
    )


class OidcProviderKind(KindSpec[OidcProvider]):
    """``oidc_provider.HOST[/PATH]``."""

    kind = OIDC_PROVIDER
    resource = OidcProvider
    label = "OIDC provider"
    section = ("identity_providers", "oidc")
    name_key = "url"
    schema_def = "oidc_provider"
    arn_type = "oidc-provider"
    ownership = Ownership.TAG
    tags = TagApi("OpenIDConnectProvider", "OpenIDConnectProviderArn", by_arn=True)
    create_before = (Kind.ROLE,)
    """IAM refuses a trust policy naming a provider that does not exist."""
    delete_after = (Kind.ROLE,)
    """Roles that trust the provider go first."""
    rank = 6
    reads = (LIST_PROVIDERS, PROVIDER_DETAILS)
    create_operations = ("CreateOpenIDConnectProvider",)
    import_file = "identity_providers.yaml"

    def name_of(self, data: Any) -> str | None:
        url = data.get("url") if isinstance(data, Mapping) else None
        return provider_name(url) if isinstance(url, str) and url else None

    def build(self, declared: Declared, builder: Builder) -> None:
        d = declared
        if builder.is_broken(d):
            return
        thumbprints = d.data.get("thumbprints")
        builder.register(
            d,
            OidcProvider(
                name=d.name,
                client_ids=frozenset(str(c) for c in d.data.get("client_ids") or ()),
                thumbprints=None if thumbprints is None else frozenset(str(t).lower() for t in thumbprints),
                tags=dict(d.data.get("tags") or {}),
                arn=self.arn_of_name(d.name, builder.partition, builder.account_id),
            ),
        )

    def arn_of_name(self, name: str, partition: str, account_id: str) -> str:
        """The ARN of the provider called ``name`` in an account."""
        return f"arn:{partition}:iam::{account_id}:oidc-provider/{name}"

    def scoped(self, resource: OidcProvider) -> bool:
        return False

    def from_live(self, responses: Responses) -> Iterable[OidcProvider]:
        details: Mapping[str, Any] = responses.get(PROVIDER_DETAILS.name) or {}
        for item in listed(responses, LIST_PROVIDERS.name, "OpenIDConnectProviderList"):
            arn = str(item["Arn"])
            detail = details.get(arn)
            if detail is not None:  # None: deleted while the account was read
                yield provider_from(arn, detail)

    def for_diff(self, desired: OidcProvider, live: OidcProvider) -> OidcProvider:
        if desired.thumbprints is None:
            return OidcProvider(desired.name, desired.client_ids, live.thumbprints, desired.tags, desired.arn)
        return desired

    def create_calls(self, resource: OidcProvider, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params: dict[str, Json] = {"Url": resource.url, "ClientIDList": sorted(resource.client_ids)}
        if resource.thumbprints is not None:
            params["ThumbprintList"] = sorted(resource.thumbprints)
        params["Tags"] = self.stack_tags(resource, ctx)
        return [ApiCall("CreateOpenIDConnectProvider", params, order.create_phase, order=order.create_order)]

    def update_calls(self, before: OidcProvider, after: OidcProvider, ctx: CallContext) -> list[ApiCall]:
        arn = self.arn(before, ctx.partition, ctx.account_id)
        key = {"OpenIDConnectProviderArn": arn}
        calls = [
            ApiCall("AddClientIDToOpenIDConnectProvider", {**key, "ClientID": c}, Phase.UPDATE)
            for c in sorted(after.client_ids - before.client_ids)
        ]
        calls += [
            ApiCall("RemoveClientIDFromOpenIDConnectProvider", {**key, "ClientID": c}, Phase.UPDATE)
            for c in sorted(before.client_ids - after.client_ids)
        ]
        if after.thumbprints is not None and after.thumbprints != before.thumbprints:
            params = {**key, "ThumbprintList": sorted(after.thumbprints)}
            calls.append(ApiCall("UpdateOpenIDConnectProviderThumbprint", params, Phase.UPDATE))
        return calls + self.tag_calls(before, after, ctx)

    def delete_calls(self, resource: OidcProvider, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        arn = self.arn(resource, ctx.partition, ctx.account_id)
        return [
            ApiCall(
                "DeleteOpenIDConnectProvider", {"OpenIDConnectProviderArn": arn}, step.phase, order=step.final
            )
        ]

    def arn(self, resource: OidcProvider, partition: str, account_id: str) -> str:
        return resource.arn or self.arn_of_name(resource.name, partition, account_id)

    def to_config(self, resource: OidcProvider, ctx: ImportContext) -> dict[str, Json] | None:
        item: dict[str, Json] = {"url": resource.url, "client_ids": sorted(resource.client_ids)}
        tags = ctx_tags(resource.tags)
        if tags:
            item["tags"] = tags
        return item

    def field_from_json(self, name: str, value: Json, f: Any) -> Any:
        if name == "thumbprints":
            return None if value is None else frozenset(value)
        return super().field_from_json(name, value, f)


SPEC = OidcProviderKind()
