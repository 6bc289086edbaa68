"""Request signing: the three ``KALSHI-ACCESS-*`` headers.

Kalshi signs ``timestamp_ms + METHOD + path`` where ``path`` is the URL path from
the API root (``/trade-api/v2/...`` or ``/trade-api/ws/v2/margin``) without the
query string; the body is not signed. RSA keys sign with RSA-PSS, SHA-256,
MGF1-SHA-256 and a salt as long as the digest; Ed25519 keys sign the same bytes.
The key type decides the algorithm.

No clock here: callers pass ``timestamp_ms`` so signing stays deterministic for
RSA's inputs and testable. Keys and signatures never appear in a repr or a log.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from ..exceptions import CredentialsError

__all__ = [
    "ENV_KEY_ID",
    "ENV_KEY_PATH",
    "ENV_KEY_PASSWORD",
    "HEADER_KEY",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "Credentials",
    "PrivateKey",
    "PublicKey",
    "load_private_key",
    "load_public_key",
    "sign_bytes",
    "sign_message",
    "signing_path",
    "verify_bytes",
    "verify_signature",
]

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"

ENV_KEY_ID = "KALSHI_API_KEY_ID"
ENV_KEY_PATH = "KALSHI_PRIVATE_KEY_PATH"
ENV_KEY_PASSWORD = "KALSHI_PRIVATE_KEY_PASSWORD"

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def signing_path(path_or_url: str) -> str:
    """The part of a request target that Kalshi signs: the path, no host, no query."""
    text = path_or_url
    if "://" in text:
        text = text.split("://", 1)[1]
        slash = text.find("/")
        text = text[slash:] if slash >= 0 else "/"
    return text.split("?", 1)[0].split("#", 1)[0]


def _message(timestamp_ms: int, method: str, path: str) -> bytes:
    return f"{timestamp_ms}{method.upper()}{signing_path(path)}".encode()


def sign_bytes(key: PrivateKey, data: bytes) -> str:
    """Base64 signature of ``data``: RSA-PSS/SHA-256 (salt = digest) or Ed25519.

    The one signing recipe, shared by REST/WS headers and the FIX Logon (fix.md §3.2).
    """
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, _PSS, hashes.SHA256())
    else:
        raw = key.sign(data)
    return base64.b64encode(raw).decode("ascii")


def verify_bytes(key: PublicKey, signature_b64: str, data: bytes) -> bool:
    """True when ``signature_b64`` is a valid :func:`sign_bytes` signature of ``data``."""
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError):
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, data, _PSS, hashes.SHA256())
        else:
            key.verify(raw, data)
    except InvalidSignature:
        return False
    return True


def sign_message(key: PrivateKey, timestamp_ms: int, method: str, path: str) -> str:
    """Base64 signature of ``timestamp_ms + METHOD + path`` with ``key``."""
    return sign_bytes(key, _message(timestamp_ms, method, path))


def verify_signature(key: PublicKey, signature_b64: str, timestamp_ms: int, method: str,
                     path: str) -> bool:
    """True when ``signature_b64`` is a valid signature of the request by ``key``."""
    return verify_bytes(key, signature_b64, _message(timestamp_ms, method, path))


def load_private_key(pem: bytes, *, password: bytes | None = None,
                     source: str = "key") -> PrivateKey:
    """Parse a PEM private key (RSA PKCS#1/PKCS#8 or Ed25519 PKCS#8).

    Raises:
        CredentialsError: not PEM, encrypted without (or with a wrong) password, or a
            key type Kalshi does not accept.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError as exc:
        if password is None:
            raise CredentialsError(
                f"{source}: the private key is encrypted; pass its password "
                f"(or set {ENV_KEY_PASSWORD})") from None
        raise CredentialsError(f"{source}: {exc}") from None
    except (ValueError, UnsupportedAlgorithm):
        if password is not None:
            raise CredentialsError(
                f"{source}: not a PEM private key, or the password is wrong") from None
        raise CredentialsError(f"{source}: not a PEM private key (RSA or Ed25519)") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise CredentialsError(
            f"{source}: unsupported key type {type(key).__name__}; Kalshi takes RSA or Ed25519")
    return key


def load_public_key(pem: bytes, *, source: str = "key") -> PublicKey:
    """Parse a PEM public key (RSA or Ed25519), for the simulator and tests."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise CredentialsError(f"{source}: not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise CredentialsError(f"{source}: unsupported public key type {type(key).__name__}")
    return key


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key id and its private key; signs requests.

    The repr shows the key id and the key type only.
    """

    key_id: str
    private_key: PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not self.key_id.strip():
            raise CredentialsError("the API key id is empty")

    def __repr__(self) -> str:
        kind = "rsa" if isinstance(self.private_key, rsa.RSAPrivateKey) else "ed25519"
        return f"Credentials(key_id={self.key_id!r}, key=<{kind} private key>)"

    @classmethod
    def from_pem(cls, key_id: str, pem: bytes | str, *,
                 password: bytes | str | None = None) -> Credentials:
        """Credentials from PEM text or bytes."""
        data = pem.encode() if isinstance(pem, str) else pem
        pw = password.encode() if isinstance(password, str) else password
        return cls(key_id, load_private_key(data, password=pw))

    @classmethod
    def from_pem_file(cls, key_id: str, path: str | os.PathLike[str], *,
                      password: bytes | str | None = None) -> Credentials:
        """Credentials from a PEM file.

        Raises:
            CredentialsError: the file is missing or unreadable, or holds no usable key.
        """
        p = Path(path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise CredentialsError(f"private key file not found: {p}") from None
        except IsADirectoryError:
            raise CredentialsError(f"private key path is a directory: {p}") from None
        except OSError as exc:
            raise CredentialsError(f"cannot read private key file {p}: {exc.strerror}") from None
        pw = password.encode() if isinstance(password, str) else password
        return cls(key_id, load_private_key(data, password=pw, source=str(p)))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Credentials:
        """Credentials from ``KALSHI_API_KEY_ID`` and ``KALSHI_PRIVATE_KEY_PATH``.

        ``KALSHI_PRIVATE_KEY_PASSWORD`` is used for an encrypted key.
        """
        env = os.environ if environ is None else environ
        key_id = env.get(ENV_KEY_ID, "").strip()
        path = env.get(ENV_KEY_PATH, "").strip()
        missing = [name for name, value in ((ENV_KEY_ID, key_id), (ENV_KEY_PATH, path))
                   if not value]
        if missing:
            raise CredentialsError("missing environment variable(s): " + ", ".join(missing))
        return cls.from_pem_file(key_id, path, password=env.get(ENV_KEY_PASSWORD) or None)

    def sign(self, timestamp_ms: int, method: str, path: str) -> str:
        """Base64 signature for one request."""
        return sign_message(self.private_key, timestamp_ms, method, path)

    def headers(self, method: str, path: str, timestamp_ms: int) -> dict[str, str]:
        """The three ``KALSHI-ACCESS-*`` headers for one request."""
        return {
            HEADER_KEY: self.key_id,
            HEADER_TIMESTAMP: str(timestamp_ms),
            HEADER_SIGNATURE: self.sign(timestamp_ms, method, path),
        }

    def public_key_pem(self) -> bytes:
        """The matching public key, PEM (SubjectPublicKeyInfo)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
