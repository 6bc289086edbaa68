"""Fan-out tests run against a real redis-server (started here) and the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.sim.server import Simulator


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    async with RedisServer() as server:
        yield server


def feed_matches(sim: Simulator, feed: RemoteFeed, tickers: Sequence[str]) -> bool:
    """The feed's rebuilt books equal the exchange's, level for level, and are synced."""
    for t in tickers:
        book = feed.book(t)
        if book is None or not book.is_synced:
            return False
        view = sim.exchange.orderbook(t)
        if book.bids() != view.bids or book.asks() != view.asks:
            return False
    return True


@pytest.fixture(autouse=True)
async def _dump_tasks_on_usr1() -> AsyncIterator[None]:
    import asyncio
    import signal
    import sys

    def dump() -> None:
        for t in asyncio.all_tasks():
            print("TASK", t.get_name(), file=sys.stderr)
            c = t.get_coro()
            while c is not None:
                f = getattr(c, "cr_frame", None) or getattr(c, "ag_frame", None)
                if f is not None:
                    print("   ", f.f_code.co_filename, f.f_lineno, file=sys.stderr)
                c = getattr(c, "cr_await", None) or getattr(c, "ag_await", None)
            
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
    yield
