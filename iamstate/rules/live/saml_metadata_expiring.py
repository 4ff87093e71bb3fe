"""``saml-metadata-expiring``: a SAML provider's metadata expires soon, or has (pure).

IAM takes a provider's expiry from its metadata (``ValidUntil``); sign-ins through
the provider stop when it passes.
"""

from __future__ import annotations

from iamstate.audit import AuditInput, Level
from iamstate.kinds.saml_provider import EXPIRY_WARNING_DAYS, SamlProvider, expiring
from iamstate.rules.base import Found, Hit, SamlProviderRule


class SamlMetadataExpiring(SamlProviderRule):
    id = "saml-metadata-expiring"
    level = Level.MEDIUM
    order = 680
    summary = (
        f"a SAML provider's metadata expires within {EXPIRY_WARNING_DAYS} days (high once it has expired)"
    )
    remedy = "download the identity provider's current metadata into the provider's metadata_file and apply"
    source = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml.html"

    def check(self, provider: SamlProvider, inp: AuditInput) -> Found:
        days = expiring(provider, inp.now)
        if days is None:
            return
        until = provider.valid_until[:10]
        if days < 0:
            yield Hit(f"the metadata of SAML provider {provider.name} expired on {until}", level=Level.HIGH)
        else:
            yield (
                f"the metadata of SAML provider {provider.name} expires in {days} days ({until}); "
                "sign-ins through it stop then"
            )
