"""Gateway + RemoteFeed against the simulator and a real redis-server.

Every scenario ends the same way: the flow stops and each consumer's rebuilt
books must equal the simulated exchange's, level for level.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import ResponseError

from kalshi_margin_stream.core.messages import OrderbookDelta, OrderbookSnapshot, Trade
from kalshi_margin_stream.fanout.connect import open_redis
from kalshi_margin_stream.fanout.entries import decode_entry, decode_message
from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.gateway import Gateway
from kalshi_margin_stream.fanout.names import StreamNames
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.sim.testing import running_simulator
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Books, Stale, Subscription, Trades
from kalshi_margin_stream.testing import MARKETS, client_for, eventually

from .conftest import feed_matches

FAST: dict[str, Any] = {"snapshot_interval": 0.5, "heartbeat_interval": 0.2,
                        "redis_timeout": 1.0}
BOOKS = Books(tuple(MARKETS))


@asynccontextmanager
async def gateway_for(sim: Simulator, redis: RedisServer, **kw: Any
                      ) -> AsyncIterator[tuple[Client, Gateway]]:
    async with client_for(sim) as client:
        async with Gateway(client, redis.url, channels=["orderbook_delta", "trade"],
                           markets=MARKETS, **{**FAST, **kw}) as gw:
            yield client, gw


@asynccontextmanager
async def collecting(sub: Subscription[Any]) -> AsyncIterator[list[Any]]:
    """Drain ``sub`` into a list in a task owned (and awaited) here."""
    got: list[Any] = []

    async def drain() -> None:
        async for item in sub:
            got.append(item)

    task = asyncio.create_task(drain())
    try:
        yield got
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


async def settle(sim: Simulator, *feeds: RemoteFeed, timeout: float = 15.0) -> None:
    """Stop the flow and wait until every feed shows the exchange's books."""
    sim.pause_flow()
    await eventually(lambda: all(feed_matches(sim, f, MARKETS) for f in feeds),
                     timeout=timeout, what="feeds equal to the exchange")


def trade_ids(items: list[Any]) -> list[str]:
    return [x.msg.trade_id for x in items if isinstance(x, Trade)]


async def test_late_restarted_and_grouped_consumers_end_with_the_exchange_books(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=300.0, ping_interval=0.25) as sim, \
            gateway_for(sim, redis_server) as (_client, gw):
        sim.pause_flow()
        async with RemoteFeed(redis_server.url) as early, \
                RemoteFeed(redis_server.url, group="rec", consumer="a") as sib_a, \
                RemoteFeed(redis_server.url, group="rec", consumer="b") as sib_b:
            early_books = early.subscribe(BOOKS)
            early_trades = early.subscribe(Trades(tuple(MARKETS)))
            a_trades = sib_a.subscribe(Trades(tuple(MARKETS)))
            b_trades = sib_b.subscribe(Trades(tuple(MARKETS)))
            sib_a.subscribe(BOOKS)
            sib_b.subscribe(BOOKS)
            names = StreamNames()
            probe = open_redis(redis_server.url, timeout=1.0)

            async def ready() -> bool:
                for t in MARKETS:
                    try:
                        groups = await probe.xinfo_groups(names.stream("trade", t))
                    except ResponseError:  # the stream does not exist yet
                        return False
                    if not groups:
                        return False
                return b"$" not in early._cursors.values()
            try:
                await eventually(ready, timeout=10, what="group created, cursors pinned")
            finally:
                await probe.aclose()
            async with collecting(early_books) as e_books, collecting(early_trades) as e_tr, \
                    collecting(a_trades) as a_tr, collecting(b_trades) as b_tr:
                sim.resume_flow()
                await eventually(lambda: early.statistics().entries > 300, timeout=15)
                # restarted: a consumer that reads a while, stops, and comes back later
                async with RemoteFeed(redis_server.url) as first_run:
                    first_run.subscribe(BOOKS)
                    await eventually(lambda: feed_matches_now(first_run), timeout=10)
                await eventually(lambda: early.statistics().entries > 600, timeout=15)
                async with RemoteFeed(redis_server.url) as restarted, \
                        RemoteFeed(redis_server.url) as late:
                    restarted.subscribe(BOOKS)
                    await eventually(lambda: early.statistics().entries > 900, timeout=15)
                    late.subscribe(BOOKS)
                    await eventually(lambda: late.statistics().entries > 50, timeout=10)
                    await settle(sim, early, restarted, late, sib_a, sib_b)
                    # the group shared the trades: each one went to exactly one sibling
                    await eventually(lambda: sorted(trade_ids(a_tr) + trade_ids(b_tr))
                                     == sorted(trade_ids(e_tr)), timeout=10,
                                     what="siblings together saw every trade")
        everything = trade_ids(e_tr)
        assert len(everything) > 10 and len(set(everything)) == len(everything)
        assert trade_ids(a_tr) and trade_ids(b_tr)
        assert not set(trade_ids(a_tr)) & set(trade_ids(b_tr))
        assert not any(isinstance(x, Stale) for x in e_books + e_tr)
        assert isinstance(e_books[0], OrderbookSnapshot)
        assert sum(isinstance(x, OrderbookDelta) for x in e_books) > 300
        assert late.statistics().key_snapshots >= 1  # started from the snapshot key
        assert sib_a.statistics().acked > 0 and sib_b.statistics().acked > 0
        stats = gw.statistics()
        assert stats.publisher.dropped == 0 and stats.publisher.errors == 0


def feed_matches_now(feed: RemoteFeed) -> bool:
    return all((b := feed.book(t)) is not None and b.is_synced for t in MARKETS)


async def test_a_group_member_takes_over_what_a_dead_sibling_left_unacknowledged(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=0.0, ping_interval=0.25) as sim, \
            gateway_for(sim, redis_server) as (client, _gw):
        names = StreamNames()
        streams = [names.stream("trade", t) for t in MARKETS]
        probe = open_redis(redis_server.url, timeout=1.0)
        try:
            for s in streams:  # the dead sibling joined first...
                await probe.xgroup_create(s, "rec", id="$", mkstream=True)
            sim.step_flow(400)

            async def all_written() -> bool:
                trades = client.statistics().by_type.get("trade", 0)
                return trades > 0 and sum([await probe.xlen(s) for s in streams]) == trades
            await eventually(all_written, timeout=10, what="every trade in its stream")
            taken: set[str] = set()
            # ...read every trade and died before acknowledging any
            reply = await probe.xreadgroup("rec", "ghost", {s: ">" for s in streams}, count=10_000)
            for _, items in reply:
                for _, fields in items:
                    msg = decode_message(decode_entry(fields))
                    assert isinstance(msg, Trade)
                    taken.add(msg.msg.trade_id)
            assert taken
        finally:
            await probe.aclose()
        async with RemoteFeed(redis_server.url, group="rec", consumer="alive",
                              claim_idle_ms=200) as feed:
            async with collecting(feed.subscribe(Trades(tuple(MARKETS)))) as got:
                await eventually(lambda: set(trade_ids(got)) == taken, timeout=10,
                                 what="the dead sibling's trades delivered here")
                await eventually(lambda: feed.statistics().acked >= len(taken), timeout=5)
        assert feed.statistics().claimed == len(taken) == len(trade_ids(got))


async def test_a_consumer_behind_the_maxlen_trim_resyncs_instead_of_showing_a_wrong_book(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=0.0, ping_interval=0.25) as sim, \
            gateway_for(sim, redis_server, maxlen=10, snapshot_interval=0.3) as (client, gw):
        async with RemoteFeed(redis_server.url) as feed:
            sub = feed.subscribe(BOOKS)
            async with collecting(sub) as got:
                sim.step_flow(50)
                await settle(sim, feed)
                # Hold the consumer's reads (the consumer process is busy) while the
                # gateway writes far past MAXLEN.
                gate = asyncio.Event()
                real_xread = feed._rd.xread

                async def held_xread(*a: Any, **kw: Any) -> Any:
                    await gate.wait()
                    return await real_xread(*a, **kw)
                feed._rd.xread = held_xread  # type: ignore[method-assign]
                await asyncio.sleep(0.2)  # let the read in flight finish
                seen = len(got)
                for _ in range(20):
                    sim.step_flow(100)
                    await asyncio.sleep(0)
                names = StreamNames()
                probe = open_redis(redis_server.url, timeout=1.0)
                try:
                    await eventually(lambda: gw.publisher.statistics().buffered == 0, timeout=10)
                    first = await probe.xrange(names.book(MARKETS[0]), count=1)
                    assert first and decode_entry(first[0][1]).version > 10  # start trimmed
                finally:
                    await probe.aclose()
                assert all(feed.book(t).is_synced for t in MARKETS)  # type: ignore[union-attr]
                gate.set()
                await settle(sim, feed)
                assert client.statistics().gaps == 0
        stats = feed.statistics()
        assert stats.gaps >= 1 and stats.resyncs >= 1
        after = got[seen:]
        first_stale = next(i for i, x in enumerate(after) if isinstance(x, Stale))
        # nothing but the marker and a fresh snapshot may follow the hole
        assert not any(isinstance(x, OrderbookDelta) for x in after[first_stale:first_stale + 1])
        assert any(isinstance(x, OrderbookSnapshot) for x in after[first_stale:])


async def test_a_stalled_redis_never_stalls_the_gateways_kalshi_reader(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=400.0, ping_interval=0.25) as sim, \
            gateway_for(sim, redis_server, buffer=300, redis_timeout=0.5) as (client, gw), \
            RemoteFeed(redis_server.url, redis_timeout=1.0, heartbeat_check=0.2) as feed:
        feed.subscribe(BOOKS)
        await eventually(lambda: feed_matches_now(feed) and feed.statistics().entries > 100,
                         timeout=10)
        redis_server.pause()
        samples: list[tuple[float, int]] = []
        try:
            end = time.monotonic() + 3.0
            while time.monotonic() < end:
                samples.append((time.monotonic(), client.statistics().frames))
                await asyncio.sleep(0.05)
        finally:
            redis_server.resume()
        # the Kalshi reader went on: frames kept arriving through the whole stall
        assert samples[-1][1] - samples[0][1] > 500
        longest = 0.0
        last_t, last_n = samples[0]
        for t, n in samples[1:]:
            if n != last_n:
                longest = max(longest, t - last_t)
                last_t, last_n = t, n
        longest = max(longest, samples[-1][0] - last_t)
        assert longest < 0.5, f"reader made no progress for {longest:.2f}s"
        stats = gw.statistics().publisher
        assert stats.dropped > 0  # the buffer (300) could not hold 3 s: dropped, counted
        await settle(sim, feed)
        assert gw.statistics().publisher.stale_markers >= 1
        assert feed.statistics().resyncs >= 1


async def test_redis_restarting_mid_stream_is_survived_by_both_sides(
        redis_server: RedisServer) -> None:
    async with running_simulator(markets=MARKETS, rate=300.0, ping_interval=0.25) as sim, \
            gateway_for(sim, redis_server) as (_client, gw), \
            RemoteFeed(redis_server.url, heartbeat_check=0.2) as feed:
        sub = feed.subscribe(BOOKS)
        async with collecting(sub) as got:
            await eventually(lambda: feed_matches_now(feed) and feed.statistics().entries > 100,
                             timeout=10)
            await redis_server.restart()  # no AOF: everything in Redis is gone
            await eventually(lambda: gw.statistics().redis_restarts >= 1, timeout=10)
            await eventually(lambda: feed.statistics().entries > 400, timeout=15)
            await settle(sim, feed)
            # a late joiner after the restart starts from the republished snapshot keys
            async with RemoteFeed(redis_server.url) as late:
                late.subscribe(BOOKS)
                await eventually(lambda: feed_matches(sim, late, MARKETS), timeout=10)
        assert any(isinstance(x, Stale) for x in got)
        assert feed.statistics().redis_errors >= 1
