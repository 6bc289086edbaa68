"""Fan-out tests run against a real redis-server (started here) and the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.testing import books_match


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    async with RedisServer() as server:
        yield server


def feed_matches(sim: Simulator, feed: RemoteFeed, tickers: Sequence[str]) -> bool:
    """The feed's rebuilt books equal the exchange's, level for level, and are synced."""
    return books_match(sim, feed, tickers)

