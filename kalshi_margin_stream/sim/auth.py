"""Request authentication for the simulator: the three ``KALSHI-ACCESS-*`` headers.

Pure and synchronous: the caller passes the headers, the method, the path and
``now_ms``; the answer is an :class:`Authenticated` or an :class:`AuthFailure`
carrying Kalshi's exact 401 body. The same check guards REST calls and the
WebSocket handshake (which signs ``GET /trade-api/ws/v2/margin``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    PublicKey,
    load_public_key,
    verify_signature,
)

__all__ = [
    "BAD_SIGNATURE_BODY",
    "MISSING_HEADERS_BODY",
    "SKEW_WINDOW_MS",
    "TIMESTAMP_EXPIRED_BODY",
    "UNKNOWN_KEY_BODY",
    "AuthFailure",
    "Authenticated",
    "KeyEntry",
    "KeyRegistry",
    "authenticate",
]

# Accepted ``timestamp - now`` range in ms, inclusive: (most in the past, most in the future).
# Measured on margin demo (rest.md §2, fixtures auth__skew_*): -5 s, +5 s and +30 s were
# accepted; -30 s, -5 min and +5 min were rejected. The exact edges are UNCONFIRMED: we take
# the middle of each unknown interval, 10 s in the past (between 5 s and 30 s) and 60 s in
# the future (between 30 s and 5 min).
SKEW_WINDOW_MS: tuple[int, int] = (-10_000, 60_000)

# 401 bodies exactly as captured on margin demo (fixtures/real/rest/auth__*.json).
TIMESTAMP_EXPIRED_BODY: dict[str, object] = {
    "error": {"code": "header_timestamp_expired", "message": "header timestamp expired"}}
BAD_SIGNATURE_BODY: dict[str, object] = {
    "error": {"code": "authentication_error", "message": "authentication_error",
              "details": "INCORRECT_API_KEY_SIGNATURE"}}
# Missing headers and unknown keys were not captured; we answer with the same code as a
# bad signature and a details string naming the cause (UNCONFIRMED wording).
MISSING_HEADERS_BODY: dict[str, object] = {
    "error": {"code": "authentication_error", "message": "authentication_error",
              "details": "MISSING_API_KEY_HEADERS"}}
UNKNOWN_KEY_BODY: dict[str, object] = {
    "error": {"code": "authentication_error", "message": "authentication_error",
              "details": "INCORRECT_API_KEY"}}


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A registered API key: who owns it and the public key that checks it."""

    key_id: str
    user_id: str
    public_key: PublicKey = field(repr=False)


@dataclass(frozen=True, slots=True)
class Authenticated:
    key_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was refused; ``body`` is the JSON body of the 401."""

    reason: str
    body: Mapping[str, object]
    status: int = 401


class KeyRegistry:
    """API keys known to the simulator (key id -> owner and public key)."""

    def __init__(self) -> None:
        self._keys: dict[str, KeyEntry] = {}
        self._lock = threading.Lock()

    def add(self, public_key: PublicKey | bytes, *, user_id: str,
            key_id: str | None = None) -> KeyEntry:
        """Register a key; a PEM is parsed. Returns the entry (key id generated if absent)."""
        key = load_public_key(public_key) if isinstance(public_key, bytes) else public_key
        kid = key_id or str(uuid.uuid4())
        entry = KeyEntry(kid, user_id, key)
        with self._lock:
            self._keys[kid] = entry
        return entry

    def get(self, key_id: str) -> KeyEntry | None:
        return self._keys.get(key_id)

    def user_ids(self) -> set[str]:
        """The users that own at least one key (not the synthetic flow)."""
        with self._lock:
            return {e.user_id for e in self._keys.values()}

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)


def authenticate(registry: KeyRegistry, headers: Mapping[str, str], method: str, path: str,
                 now_ms: int) -> Authenticated | AuthFailure:
    """Check the signed headers of one request (``path`` without the query string).

    Order of checks as Kalshi appears to do them: headers present, timestamp window,
    key known, signature valid.
    """
    key_id = headers.get(HEADER_KEY)
    ts_text = headers.get(HEADER_TIMESTAMP)
    signature = headers.get(HEADER_SIGNATURE)
    if not key_id or not ts_text or not signature:
        return AuthFailure("missing headers", MISSING_HEADERS_BODY)
    try:
        ts = int(ts_text)
    except ValueError:
        return AuthFailure("malformed timestamp", TIMESTAMP_EXPIRED_BODY)
    low, high = SKEW_WINDOW_MS
    if not low <= ts - now_ms <= high:
        return AuthFailure("timestamp outside the window", TIMESTAMP_EXPIRED_BODY)
    entry = registry.get(key_id)
    if entry is None:
        return AuthFailure("unknown key", UNKNOWN_KEY_BODY)
    if not verify_signature(entry.public_key, signature, ts, method, path):
        return AuthFailure("bad signature", BAD_SIGNATURE_BODY)
    return Authenticated(entry.key_id, entry.user_id)
