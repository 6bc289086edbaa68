"""Account channels through the gateway: fills and order updates reach remote consumers."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from kalshi_margin_stream.core.messages import Fill, UserOrder
from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.gateway import Gateway
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.sim.testing import running_simulator
from kalshi_margin_stream.stream.subscriptions import Fills, Orders, Subscription
from kalshi_margin_stream.testing import MARKETS, client_for, eventually


async def take(sub: Subscription[Any], n: int) -> list[Any]:
    out: list[Any] = []
    async with asyncio.timeout(10):
        async for item in sub:
            out.append(item)
            if len(out) == n:
                break
    return out


async def test_fills_and_orders_reach_a_remote_consumer_exactly(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=0.0, ping_interval=0.25) as sim, \
            client_for(sim) as client, \
            Gateway(client, redis_server.url, channels=["fill", "user_orders"],
                    heartbeat_interval=0.2) as gw, \
            RemoteFeed(redis_server.url) as feed:
        fills, orders = feed.subscribe(Fills()), feed.subscribe(Orders())
        await eventually(lambda: all((ch := client.session.channel(c)) is not None
                                     and ch.sid is not None for c in ("fill", "user_orders"))
                         and b"$" not in feed._cursors.values(), timeout=10)
        book = await client.rest.get_orderbook(MARKETS[0], depth=1)
        order = await client.rest.create_order(MARKETS[0], "bid", 3, book.sorted_asks()[0][0],
                                               time_in_force="immediate_or_cancel")
        (fill,) = await take(fills, 1)
        (update,) = await take(orders, 1)
        assert isinstance(fill, Fill) and isinstance(update, UserOrder)
        assert fill.msg.order_id == update.msg.order_id == order.order_id
        assert fill.msg.post_position == Decimal(3)  # exact decimals through Redis
        assert gw.statistics().publisher.written >= 2
