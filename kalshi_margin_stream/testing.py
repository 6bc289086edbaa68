"""Test helpers for code built on the client: a simulator and a fast-reacting client.

::

    async with sim_and_client() as (sim, client):
        sub = client.subscribe(Books(("KXBTCPERP",)))
        sim.step_flow(100)
        await eventually(lambda: books_match(sim, client, ["KXBTCPERP"]))

Everything runs on 127.0.0.1 with free ports; timeouts and backoff are short so
fault scenarios play out in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from .config import Limits, Timeouts
from .core.book import OrderBook
from .sim.server import Simulator
from .sim.testing import running_simulator
from .stream.client import Client

__all__ = ["FAST_LIMITS", "FAST_TIMEOUTS", "MARKETS", "SIM_PING_INTERVAL", "books_match",
           "client_for", "eventually", "sim_and_client"]

MARKETS = ["KXBTCPERP", "KXETHPERP"]

SIM_PING_INTERVAL = 0.25
"""Server pings (Kalshi: 10 s) well inside the client's silence timeout below."""
FAST_TIMEOUTS = Timeouts(connect=2.0, silence=1.0, ping_interval=None, resync=2.0, close=0.5)
FAST_LIMITS = Limits(backoff_initial=0.02, backoff_max=0.1, backoff_reset_after=5.0,
                     reconcile_interval=None, fallback_after=0.1, fallback_interval=0.1,
                     queue=1024)


@asynccontextmanager
async def client_for(sim: Simulator, transport: str = "aiohttp", **kw: Any
                     ) -> AsyncIterator[Client]:
    assert sim.credentials is not None
    options: dict[str, Any] = {"timeouts": FAST_TIMEOUTS, "limits": FAST_LIMITS}
    options.update(kw)
    async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url,
                      transport=transport, **options) as client:  # type: ignore[arg-type]
        yield client


@asynccontextmanager
async def sim_and_client(transport: str = "aiohttp", sim_kw: dict[str, Any] | None = None,
                         **kw: Any) -> AsyncIterator[tuple[Simulator, Client]]:
    options = {"markets": MARKETS, "ping_interval": SIM_PING_INTERVAL, **(sim_kw or {})}
    async with running_simulator(**options) as sim:
        async with client_for(sim, transport, **kw) as client:
            yield sim, client


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0,
                     what: str = "condition") -> None:
    """Wait until ``check()`` holds (re-checked as the event loop makes progress)."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.005)


class HasBooks(Protocol):
    """A client, or anything that rebuilds books (``RemoteFeed``)."""

    def book(self, ticker: str) -> OrderBook | None: ...


def books_match(sim: Simulator, client: HasBooks, tickers: Sequence[str]) -> bool:
    """The client's books equal the exchange's, level for level, and are synced."""
    for t in tickers:
        book = client.book(t)
        if book is None or not book.is_synced:
            return False
        view = sim.exchange.orderbook(t)
        if book.bids() != view.bids or book.asks() != view.asks:
            return False
    return True
