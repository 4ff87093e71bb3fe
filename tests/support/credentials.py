"""Out-of-band credentials that AWS makes DeleteUser wait for: test helpers."""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def certificate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eve")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 eve@laptop"


def user_with_every_credential(iam: Any, user: str) -> str:
    """A user holding every kind of credential DeleteUser refuses to leave behind; its MFA serial."""
    iam.create_user(UserName=user)
    iam.create_login_profile(UserName=user, Password="Correct-Horse-Battery-9")
    iam.create_access_key(UserName=user)
    iam.create_access_key(UserName=user)
    iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=SSH_KEY)
    iam.upload_signing_certificate(UserName=user, CertificateBody=certificate_pem())
    iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-phone")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    # A hardware device: deactivated, but there is no virtual device to delete.
    iam.enable_mfa_device(
        UserName=user, SerialNumber="GAHT12345678", AuthenticationCode1="111111", AuthenticationCode2="222222"
    )
    return str(serial)
