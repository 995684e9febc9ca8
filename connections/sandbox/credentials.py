"""The sandbox's credentials, generated once per data folder and kept in <data_dir>/credentials.json."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

FILENAME = "credentials.json"
OKTA_SCOPES = [
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.devices.read",
    "okta.devices.manage",
    "okta.eventHooks.manage",  # event hooks (issue 14)
    "okta.logs.read",  # the System Log (issue 14)
]
DEFAULT_GOOGLE_TOKEN_URI = "http://127.0.0.1:8100/google/token"  # noqa: S105 - a URL, not a secret


def ensure_credentials(data_dir: Path) -> dict:
    """Read <data_dir>/credentials.json, generating it (mode 600) on first use."""
    data_dir = Path(data_dir)
    path = data_dir / FILENAME
    if path.exists():
        creds = json.loads(path.read_text())
        # Files made before a scope was added still grant it (the org's app has every scope).
        okta = creds.get("okta") or {}
        if "scopes" in okta:
            okta["scopes"] = list(dict.fromkeys([*okta["scopes"], *OKTA_SCOPES]))
        return creds
    data_dir.mkdir(parents=True, exist_ok=True)
    creds = generate_credentials()
    _write_private(path, creds)
    return creds


def set_google_token_uri(data_dir: Path, token_uri: str) -> dict:
    """Point the service account's token_uri at a running sandbox; returns the credentials."""
    path = Path(data_dir) / FILENAME
    creds = ensure_credentials(data_dir)
    if creds["google"]["service_account"]["token_uri"] != token_uri:
        creds["google"]["service_account"]["token_uri"] = token_uri
        _write_private(path, creds)
    return creds


def _write_private(path: Path, creds: dict) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(creds, handle, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "e": _b64url_uint(numbers.e),
        "n": _b64url_uint(numbers.n),
    }


def _certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "offboarding-portal-sandbox")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def thumbprint_sha256(cert_pem: str) -> str:
    """base64url SHA-256 of the certificate's DER: the value of the x5t#S256 header."""
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def generate_credentials() -> dict:
    """Fresh credentials for all four systems."""
    okta_key, google_key, graph_key = _rsa(), _rsa(), _rsa()
    key_id = _token(43, string.ascii_letters + string.digits + "-_")
    cert_pem = _certificate(graph_key).public_bytes(serialization.Encoding.PEM).decode()
    project = "acme-offboarding-sandbox"
    return {
        "okta": {
            "api_token": "00" + _token(40, string.ascii_letters + string.digits + "-_"),
            "client_id": "0oa" + _token(17),
            "key_id": key_id,
            "private_key_pem": _pem(okta_key),
            "public_jwk": public_jwk(okta_key, key_id),
            "scopes": list(OKTA_SCOPES),
        },
        "google": {
            "service_account": {
                "type": "service_account",
                "project_id": project,
                "private_key_id": secrets.token_hex(20),
                "private_key": _pem(google_key),
                "client_email": f"offboarding@{project}.iam.gserviceaccount.com",
                "client_id": str(10**20 + secrets.randbelow(9 * 10**20)),
                "token_uri": DEFAULT_GOOGLE_TOKEN_URI,
            },
            "admin_email": "admin@acme.example",
            "customer_id": "my_customer",
        },
        "zoom": {"account_id": _token(22), "client_id": _token(22), "client_secret": _token(32)},
        "graph": {
            "tenant_id": str(uuid.uuid4()),
            "client_id": str(uuid.uuid4()),
            "client_secret": _token(40, string.ascii_letters + string.digits + "~._-"),
            "certificate_pem": cert_pem,
            "private_key_pem": _pem(graph_key),
            "thumbprint_sha256": thumbprint_sha256(cert_pem),
        },
    }
