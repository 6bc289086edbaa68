"""Endpoints and tunables, as small frozen values passed to constructors.

Nothing here reads the environment or a file; ``Credentials.from_env()`` is the
one explicit exception, and it lives in ``core/auth.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ENVIRONMENTS", "Endpoints", "Limits", "Timeouts"]

WS_PATH = "/trade-api/ws/v2/margin"
REST_PATH = "/trade-api/v2"


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """Where the REST API and the margin WebSocket live."""

    rest_url: str
    ws_url: str

    @classmethod
    def for_env(cls, env: Literal["demo", "prod"]) -> Endpoints:
        """Kalshi's published hosts (rest.md §1, websocket.md §1)."""
        try:
            return ENVIRONMENTS[env]
        except KeyError:
            raise ValueError(f"env must be 'demo' or 'prod', not {env!r}") from None


ENVIRONMENTS: dict[str, Endpoints] = {
    "prod": Endpoints(rest_url="https://external-api.kalshi.com" + REST_PATH,
                      ws_url="wss://external-api-margin-ws.kalshi.com" + WS_PATH),
    "demo": Endpoints(rest_url="https://external-api.demo.kalshi.co" + REST_PATH,
                      ws_url="wss://external-api-margin-ws.demo.kalshi.co" + WS_PATH),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """Seconds; ``None`` disables a limit."""

    connect: float | None = 10.0
    """Opening the WebSocket, handshake included."""
    silence: float | None = 30.0
    """No frame at all (data or ping) for this long while subscribed: reconnect."""
    ping_interval: float | None = 10.0
    """Our own pings; a missing pong within half of it closes the connection."""
    resync: float | None = 10.0
    """Books still waiting for their snapshot after this long: reconnect."""
    data_silence: float | None = 60.0
    """No book data for this long while the connection itself is alive (pings flow):
    the books are resynced in band. Separate from ``silence``, which judges the
    connection; quiet markets may warrant a longer value or ``None``."""
    close: float = 5.0
    """Waiting for the close handshake on shutdown."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Sizes and intervals of the client's own machinery."""

    queue: int = 1024
    """Updates buffered per subscription before the overflow policy applies."""
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    backoff_reset_after: float = 60.0
    """A connection healthy for this long resets the backoff."""
    reconcile_interval: float | None = 60.0
    """Periodic REST reconciliation of the margin state; ``None`` = only on (re)connect."""
    fallback_interval: float = 2.0
    """REST polling period for books and margin state while the socket is down."""
    fallback_after: float = 1.0
    """Socket down for this long before REST polling starts."""
    max_message_size: int = 64 * 1024 * 1024
    compression: bool = False
    """Offer permessage-deflate."""
