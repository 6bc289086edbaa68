"""Gateway + RemoteFeed against the simulator and a real Redis: books end identical."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from typing import Any

from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.gateway import Gateway
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Books, Stale, Trades
from kalshi_margin_stream.testing import MARKETS, client_for, eventually
from kalshi_margin_stream.sim.testing import running_simulator
from kalshi_margin_stream.sim.server import Simulator

from .conftest import feed_matches

FAST = {"snapshot_interval": 0.5, "heartbeat_interval": 0.2, "redis_timeout": 1.0}


@asynccontextmanager
async def gateway_for(sim: Simulator, redis: RedisServer, **kw: Any
                      ) -> AsyncIterator[tuple[Client, Gateway]]:
    async with client_for(sim) as client:
        async with Gateway(client, redis.url, channels=["orderbook_delta", "trade"],
                           markets=MARKETS, **{**FAST, **kw}) as gw:
            yield client, gw


async def test_late_restarted_and_grouped_consumers_end_with_the_exchange_books(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=300.0, ping_interval=0.25) as sim, \
            gateway_for(sim, redis_server) as (client, gw):
        early = RemoteFeed(redis_server.url)
        async with early:
            sub = early.subscribe(Books(tuple(MARKETS)))
            got: list[Any] = []

            async def drain() -> None:
                async for item in sub:
                    got.append(item)
            task = asyncio.create_task(drain())
            import sys; print("A", file=sys.stderr)
            await eventually(lambda: early.statistics().entries > 200, timeout=10)
            print("B", early.statistics().entries, file=sys.stderr)
            async with RemoteFeed(redis_server.url) as late:
                late.subscribe(Books(tuple(MARKETS)))
                await eventually(lambda: late.statistics().entries > 50, timeout=10)
                sim.pause_flow()
                try:
                    await eventually(lambda: feed_matches(sim, early, MARKETS)
                                     and feed_matches(sim, late, MARKETS), timeout=10)
                except TimeoutError:
                    for f in (early, late):
                        for t in MARKETS:
                            b = f.book(t); v = sim.exchange.orderbook(t)
                            print(t, b, b.bids() == v.bids, b.asks() == v.asks, client.book(t), gw.mirror[t], file=sys.stderr)
                        print(f.statistics(), f._need_key, f._cursors, file=sys.stderr)
                    print(gw.statistics(), file=sys.stderr)
                    raise
            task.cancel()
        assert not any(isinstance(x, Stale) for x in got)
        assert gw.statistics().publisher.dropped == 0
