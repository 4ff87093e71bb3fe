"""SAML identity providers: ``identity_providers.saml`` (pure).

A provider has a name, the identity provider's metadata document (an XML file
next to the configuration, ``metadata_file``) and tags. The metadata changes in
place (UpdateSAMLProvider). IAM takes the provider's expiry (``ValidUntil``) from
the metadata; drift reports a provider whose metadata expires within
:data:`EXPIRY_WARNING_DAYS` days, since sign-ins through it stop then.

Providers have no path: one is owned when it carries this stack's tag or is
declared. Roles that trust a provider are created after it and deleted before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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

SAML_PROVIDER = Kind.define("saml_provider")
EXPIRY_WARNING_DAYS = 30
METADATA_DIRECTORY = "saml"
"""Where ``import`` writes providers' metadata documents, relative to the configuration."""

LIST_PROVIDERS = Listing(
    "saml_providers", "ListSAMLProviders", ("SAMLProviderList",), paginated=False, page_size=None
)
PROVIDER_DETAILS = PerItem(
    "saml_provider_details",
    "GetSAMLProvider",
    over=LIST_PROVIDERS.name,
    items_key="SAMLProviderList",
    param="SAMLProviderArn",
    item_field="Arn",
)
"""ListSAMLProviders has no metadata or tags: one GetSAMLProvider per provider
(an account holds at most 100)."""


@dataclass(frozen=True)
class SamlProvider:
    """An IAM SAML identity provider; ``metadata`` is the metadata document's text."""

    name: str
    metadata: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    arn: str = field(default="", compare=False)
    valid_until: str = field(default="", compare=False)
    """When the metadata expires (ISO 8601), as IAM reports it (live only)."""

    kind = SAML_PROVIDER
    path = "/"


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def provider_from(arn: str, listed_item: Mapping[str, Any], detail: Mapping[str, Any]) -> SamlProvider:
    """A SamlProvider from its ListSAMLProviders entry and GetSAMLProvider's answer."""
    return SamlProvider(
        name=arn.rsplit(":saml-provider/", 1)[-1],
        metadata=str(detail.get("SAMLMetadataDocument") or "").strip(),
        tags=tags_from(detail.get("Tags")),
        arn=arn,
        valid_until=_iso(detail.get("ValidUntil") or listed_item.get("ValidUntil")),
    )


class SamlProviderKind(KindSpec[SamlProvider]):
    """``saml_provider.NAME``."""

    kind = SAML_PROVIDER
    resource = SamlProvider
    label = "SAML provider"
    section = ("identity_providers", "saml")
    schema_def = "saml_provider"
    arn_type = "saml-provider"
    ownership = Ownership.TAG
    tags = TagApi("SAMLProvider", "SAMLProviderArn", by_arn=True)
    create_before = (Kind.ROLE,)
    """IAM refuses a trust policy naming a provider that does not exist."""
    delete_after = (Kind.ROLE,)
    rank = 7
    reads = (LIST_PROVIDERS, PROVIDER_DETAILS)
    create_operations = ("CreateSAMLProvider",)
    import_file = "identity_providers.yaml"

    def build(self, declared: Declared, builder: Builder) -> None:
        d = declared
        if builder.is_broken(d):
            return
        metadata = builder.read_text_file(d, "metadata_file", suffixes=(".xml",))
        if metadata is None:
            return
        builder.register(
            d,
            SamlProvider(
                name=d.name,
                metadata=metadata.strip(),
                tags=dict(d.data.get("tags") or {}),
                arn=f"arn:{builder.partition}:iam::{builder.account_id}:saml-provider/{d.name}",
            ),
        )

    def scoped(self, resource: SamlProvider) -> bool:
        return False

    def arn(self, resource: SamlProvider, partition: str, account_id: str) -> str:
        return resource.arn or f"arn:{partition}:iam::{account_id}:saml-provider/{resource.name}"

    def from_live(self, responses: Responses) -> Iterable[SamlProvider]:
        details: Mapping[str, Any] = responses.get(PROVIDER_DETAILS.name) or {}
        for item in listed(responses, LIST_PROVIDERS.name, "SAMLProviderList"):
            arn = str(item["Arn"])
            detail = details.get(arn)
            if detail is not None:  # None: deleted while the account was read
                yield provider_from(arn, item, detail)

    def create_calls(self, resource: SamlProvider, ctx: CallContext, order: OrderInfo) -> list[ApiCall]:
        params: dict[str, Json] = {
            "Name": resource.name,
            "SAMLMetadataDocument": resource.metadata,
            "Tags": self.stack_tags(resource, ctx),
        }
        return [ApiCall("CreateSAMLProvider", params, order.create_phase, order=order.create_order)]

    def update_calls(self, before: SamlProvider, after: SamlProvider, ctx: CallContext) -> list[ApiCall]:
        calls: list[ApiCall] = []
        if before.metadata != after.metadata:
            params = {
                "SAMLProviderArn": self.arn(before, ctx.partition, ctx.account_id),
                "SAMLMetadataDocument": after.metadata,
            }
            calls.append(ApiCall("UpdateSAMLProvider", params, Phase.UPDATE))
        return calls + self.tag_calls(before, after, ctx)

    def delete_calls(self, resource: SamlProvider, ctx: CallContext, step: DeleteStep) -> list[ApiCall]:
        arn = self.arn(resource, ctx.partition, ctx.account_id)
        return [ApiCall("DeleteSAMLProvider", {"SAMLProviderArn": arn}, step.phase, order=step.final)]

    def to_config(self, resource: SamlProvider, ctx: ImportContext) -> dict[str, Json] | None:
        path = f"{METADATA_DIRECTORY}/{resource.name}.xml"
        ctx.files[path] = resource.metadata + "\n"
        item: dict[str, Json] = {"name": resource.name, "metadata_file": path}
        tags = ctx_tags(resource.tags)
        if tags:
            item["tags"] = tags
        return item


def expiring(provider: SamlProvider, now: datetime) -> int | None:
    """Days until a live provider's metadata expires, when that is within the warning window."""
    if not provider.valid_until:
        return None
    try:
        until = datetime.fromisoformat(provider.valid_until.replace("Z", "+00:00"))
    except ValueError:
        return None
    if until.tzinfo is None:
        until = until.replace(tzinfo=now.tzinfo)
    days = (until - now).total_seconds() / 86400
    return int(days) if days <= EXPIRY_WARNING_DAYS else None


SPEC = SamlProviderKind()
