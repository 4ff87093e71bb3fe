"""SAML identity-provider metadata documents for tests (IAM wants at least 1,000 characters)."""

from __future__ import annotations


def metadata(entity: str = "http://www.okta.com/exk1", valid_until: str = "2030-01-01T00:00:00Z") -> str:
    """An identity provider's metadata: one signing certificate and one sign-on endpoint."""
    cert = "MIIDpDCCAoygAwIBAgIGAXoTpq1bMA0GCSqGSIb3DQEBCwUAMIGSMQswCQYDVQQGEwJVUzETMBEG" * 8
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}" validUntil="{valid_until}">\n'
        f'  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        f'    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n'
        f'    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.okta.com/app/amazon_aws/exk1/sso/saml"/>\n'
        f"  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n"
    )
