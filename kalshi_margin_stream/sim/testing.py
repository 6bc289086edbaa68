"""Helpers for other test packages: a running simulator and a signed raw client.

::

    from kalshi_margin_stream.sim.testing import running_simulator

    async with running_simulator(markets=["KXBTCPERP"], rate=0) as sim:
        ...  # sim.rest_url, sim.ws_url, sim.credentials

Defaults suit tests: no background flow (drive it with ``sim.step_flow``), fast
tickers (0.05 s), generous rate limits unless asked otherwise.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..core.auth import Credentials
from .server import WS_PATH, Simulator

__all__ = ["TEST_DEFAULTS", "running_simulator", "signed_headers", "ws_headers"]

TEST_DEFAULTS: dict[str, Any] = {
    "seed": 7,
    "rate": 0.0,
    "ticker_interval": 0.05,
    "levels": 20,
}


@asynccontextmanager
async def running_simulator(**kwargs: Any) -> AsyncIterator[Simulator]:
    """A started :class:`Simulator` on 127.0.0.1 and a free port; closed on exit."""
    options = {**TEST_DEFAULTS, **kwargs}
    async with Simulator(**options) as sim:
        yield sim


def signed_headers(credentials: Credentials, method: str, path: str, *,
                   timestamp_ms: int | None = None) -> dict[str, str]:
    """The three ``KALSHI-ACCESS-*`` headers for one request (``path`` may be a full URL)."""
    ts = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    return credentials.headers(method, path, ts)


def ws_headers(credentials: Credentials, *, timestamp_ms: int | None = None) -> dict[str, str]:
    """Handshake headers for the margin WebSocket."""
    return signed_headers(credentials, "GET", WS_PATH, timestamp_ms=timestamp_ms)
