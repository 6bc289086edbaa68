"""Signing: both key types verify with the public key; loading errors are clear; no leaks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from kalshi_margin_stream.core.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Credentials,
    load_public_key,
    signing_path,
    verify_signature,
)
from kalshi_margin_stream.exceptions import CredentialsError

TS = 1788502115168


def pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
        password: bytes | None = None, fmt: str = "pkcs8") -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption())
    form = (serialization.PrivateFormat.TraditionalOpenSSL if fmt == "pkcs1"
            else serialization.PrivateFormat.PKCS8)
    return key.private_bytes(serialization.Encoding.PEM, form, enc)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("kind", ["rsa-pkcs8", "rsa-pkcs1", "ed25519"])
def test_signature_round_trip(kind: str, rsa_key: rsa.RSAPrivateKey) -> None:
    key = ed25519.Ed25519PrivateKey.generate() if kind == "ed25519" else rsa_key
    creds = Credentials.from_pem("key-1", pem(key, fmt=kind.split("-")[-1]))
    headers = creds.headers("get", "/trade-api/v2/margin/orders?limit=5&ticker=X", TS)
    assert headers[HEADER_KEY] == "key-1" and headers[HEADER_TIMESTAMP] == str(TS)
    public = load_public_key(creds.public_key_pem())
    sig = headers[HEADER_SIGNATURE]
    assert verify_signature(public, sig, TS, "GET", "/trade-api/v2/margin/orders")
    # The query is not signed; method, path and timestamp are.
    assert verify_signature(public, sig, TS, "GET", "/trade-api/v2/margin/orders?x=1")
    assert not verify_signature(public, sig, TS + 1, "GET", "/trade-api/v2/margin/orders")
    assert not verify_signature(public, sig, TS, "POST", "/trade-api/v2/margin/orders")
    assert not verify_signature(public, sig, TS, "GET", "/trade-api/v2/margin/fills")
    assert not verify_signature(public, "not base64!", TS, "GET", "/x")


def test_rsa_uses_pss_with_digest_length_salt(rsa_key: rsa.RSAPrivateKey) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    creds = Credentials("k", rsa_key)
    sig = base64.b64decode(creds.sign(TS, "GET", "/trade-api/ws/v2/margin"))
    rsa_key.public_key().verify(  # raises if salt length or MGF differ
        sig, f"{TS}GET/trade-api/ws/v2/margin".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


def test_signing_path_strips_host_query_fragment() -> None:
    assert signing_path("https://h.example/trade-api/v2/margin/orders?a=1#f") == \
        "/trade-api/v2/margin/orders"
    assert signing_path("wss://h/trade-api/ws/v2/margin") == "/trade-api/ws/v2/margin"
    assert signing_path("/p?q") == "/p" and signing_path("http://h") == "/"


def test_secrets_never_in_repr(rsa_key: rsa.RSAPrivateKey) -> None:
    creds = Credentials("key-1", rsa_key)
    text = repr(creds) + str(creds)
    assert "key-1" in text and "rsa" in text
    assert "PRIVATE" not in text and "BEGIN" not in text
    sig = creds.sign(TS, "GET", "/x")
    assert sig not in text


def test_file_and_env_loading(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(pem(rsa_key))
    assert Credentials.from_pem_file("id", path).key_id == "id"
    env = {"KALSHI_API_KEY_ID": "id2", "KALSHI_PRIVATE_KEY_PATH": str(path)}
    assert Credentials.from_env(env).key_id == "id2"
    with pytest.raises(CredentialsError, match="KALSHI_PRIVATE_KEY_PATH"):
        Credentials.from_env({"KALSHI_API_KEY_ID": "x"})
    with pytest.raises(CredentialsError, match="KALSHI_API_KEY_ID"):
        Credentials.from_env({"KALSHI_PRIVATE_KEY_PATH": str(path)})


def test_clear_errors(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(CredentialsError, match="not found"):
        Credentials.from_pem_file("id", tmp_path / "missing.pem")
    with pytest.raises(CredentialsError, match="directory"):
        Credentials.from_pem_file("id", tmp_path)
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(CredentialsError, match="not a PEM private key"):
        Credentials.from_pem_file("id", bad)
    enc = tmp_path / "enc.pem"
    enc.write_bytes(pem(rsa_key, password=b"pw"))
    with pytest.raises(CredentialsError, match="encrypted"):
        Credentials.from_pem_file("id", enc)
    with pytest.raises(CredentialsError, match="password is wrong"):
        Credentials.from_pem_file("id", enc, password="nope")
    assert Credentials.from_pem_file("id", enc, password="pw").key_id == "id"
    with pytest.raises(CredentialsError, match="unsupported key type"):
        Credentials.from_pem("id", pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(CredentialsError, match="empty"):
        Credentials("  ", rsa_key)
    with pytest.raises(CredentialsError, match="public key"):
        load_public_key(b"nope")
