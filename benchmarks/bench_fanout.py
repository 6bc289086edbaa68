"""Benchmark: fan-out over Redis Streams (issue 13), against a real redis-server.

Three measurements, each printed as a small table:

* **throughput**: the gateway's publisher writes a book stream (a snapshot then
  ``entries`` deltas, pre-encoded, as fast as it takes them) while N = 1, 4, 16
  :class:`RemoteFeed` consumers rebuild the book. Reported: entries/s the
  gateway wrote to Redis, and entries/s each consumer applied (all consumers run
  in this one process, so with 16 they share one core: a floor, not a ceiling);
* **hop latency, paced**: one consumer, the same stream written at a steady
  rate: gateway receive → consumer applied, p50/p99 (same host, one clock);
* **next to the direct client**: the simulator at a steady flow rate, one
  ``Client`` + ``Gateway`` and one consumer; exchange ``sending_ts_ms`` → direct
  client and → remote consumer, p50/p99 (millisecond resolution: the simulator's
  timestamps are in ms), and the gateway → consumer hop.

``--quick`` keeps each part to a second or two.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from benchmarks._common import fmt_rate, print_header, print_table, save_results
from kalshi_margin_stream.core.messages import (
    OrderbookDelta,
    OrderbookDeltaBody,
    OrderbookSnapshot,
    OrderbookSnapshotBody,
)
from kalshi_margin_stream.fanout.connect import open_redis
from kalshi_margin_stream.fanout.entries import MESSAGE, SNAPSHOT, encode_message
from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.gateway import Gateway, new_epoch
from kalshi_margin_stream.fanout.names import StreamNames
from kalshi_margin_stream.fanout.publisher import Publisher
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.latency import Histogram
from kalshi_margin_stream.stream.subscriptions import Books, Subscription

__all__ = ["main", "run"]

TICKER = "KXBENCHPERP"
PREFIX = "bench"


def synthetic_book(entries: int) -> tuple[bytes, list[bytes]]:
    """A snapshot frame and ``entries`` delta frames that keep the book valid."""
    bids = [(Decimal("8.0900") + Decimal(i) / 10_000, Decimal(100)) for i in range(20)]
    asks = [(Decimal("8.1000") + Decimal(i) / 10_000, Decimal(100)) for i in range(20)]
    snap = OrderbookSnapshot(sid=1, seq=1, msg=OrderbookSnapshotBody(
        market_ticker=TICKER, bid=bids, ask=asks))
    deltas = []
    for i in range(entries):
        price = bids[i % 20][0] if (i // 20) % 2 == 0 else asks[i % 20][0]
        side = "bid" if (i // 20) % 2 == 0 else "ask"
        sign = 1 if (i // 40) % 2 == 0 else -1
        deltas.append(encode_message(OrderbookDelta(
            sid=1, seq=i + 2, sending_ts_ms=0, msg=OrderbookDeltaBody(
                market_ticker=TICKER, price_text=str(price), delta_text=str(sign), side=side,
                ts_ms=0))))
    return encode_message(snap), deltas


async def _drain(sub: Subscription[Any]) -> None:
    async for _ in sub:
        pass


async def _wait(check: Any, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.002)


async def _with_feeds(url: str, n: int, entries: int, rate: float | None) -> dict[str, Any]:
    """Publish a snapshot + ``entries`` deltas with ``n`` consumers; ``rate`` paces it."""
    names = StreamNames(PREFIX)
    snap, deltas = synthetic_book(entries)
    redis = open_redis(url, timeout=10.0)
    await redis.flushdb()
    epoch = new_epoch()
    # the gateway's heartbeat (this benchmark plays the gateway, without a Kalshi client)
    await redis.set(names.heartbeat, json.dumps({"epoch": epoch, "markets": [TICKER]}))
    pub = Publisher(redis, epoch=epoch, maxlen=entries * 2, buffer=entries + 16)
    writer = asyncio.create_task(pub.run())
    feeds = [RemoteFeed(url, prefix=PREFIX) for _ in range(n)]
    drains: list[asyncio.Task[None]] = []
    try:
        for f in feeds:
            await f.__aenter__()
            drains.append(asyncio.create_task(_drain(f.subscribe(Books((TICKER,))))))
        stream = names.book(TICKER)
        await _wait(lambda: all(stream in f._cursors and not f._need_key for f in feeds), 10)
        t0 = time.perf_counter()
        pub.publish(stream, SNAPSHOT, frame=snap, snapshot_key=names.snapshot(TICKER))
        if rate is None:
            for i, frame in enumerate(deltas):
                pub.publish(stream, MESSAGE, frame=frame)
                if i % 2000 == 1999:
                    await asyncio.sleep(0)
        else:
            step = 0.005
            per_step = max(1, int(rate * step))
            start = time.perf_counter()
            for i in range(0, entries, per_step):
                for frame in deltas[i:i + per_step]:
                    pub.publish(stream, MESSAGE, frame=frame)
                delay = start + (i + per_step) / rate - time.perf_counter()
                await asyncio.sleep(max(0.0, delay))
        total = entries + 1
        await _wait(lambda: pub.written >= total, 120)
        t_pub = time.perf_counter() - t0
        await _wait(lambda: all(f.entries >= total for f in feeds), 300)
        t_all = time.perf_counter() - t0
        hist = Histogram()
        for f in feeds:  # the consumers' hop latencies, pooled
            for i, c in enumerate(f._latency._counts):
                hist._counts[i] += c
            hist.count += f._latency.count
            hist.max = max(hist.max, f._latency.max)
        synced = all(f.book(TICKER) is not None and f.book(TICKER).is_synced  # type: ignore[union-attr]
                     for f in feeds)
        return {"consumers": n, "entries": total, "gateway_rate": total / t_pub,
                "per_consumer_rate": total / t_all, "delivered_rate": n * total / t_all,
                "hop_p50_us": hist.percentile(0.5), "hop_p99_us": hist.percentile(0.99),
                "synced": synced, "dropped": pub.dropped}
    finally:
        for t in drains:
            t.cancel()
        await asyncio.gather(*drains, return_exceptions=True)
        for f in feeds:
            await f.aclose()
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        await redis.aclose()


async def _beside_client(url: str, rate: float, seconds: float) -> dict[str, Any]:
    """Simulator → client → gateway → Redis → consumer, next to the client itself."""
    markets = ["KXBTCPERP", "KXETHPERP"]
    remote = Histogram()
    async with Simulator(markets=markets, rate=rate, ticker_interval=1.0) as sim:
        assert sim.credentials is not None
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url) as client, \
                Gateway(client, url, channels=["orderbook_delta"], markets=markets,
                        prefix="beside") as gw, \
                RemoteFeed(url, prefix="beside") as feed:
            sub = feed.subscribe(Books(tuple(markets)))

            async def consume() -> None:
                async for item in sub:
                    sent = getattr(item, "sending_ts_ms", None)
                    if sent:
                        remote.record(time.time_ns() // 1000 - sent * 1000)
            task = asyncio.create_task(consume())
            try:
                await asyncio.sleep(seconds)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            direct = client.statistics().exchange_to_receive_us
            hop = feed.statistics().gateway_to_consumer_us
            published = gw.statistics().published
    return {"rate": rate, "seconds": seconds, "published": published,
            "direct_p50_us": direct.p50_us, "direct_p99_us": direct.p99_us,
            "remote_p50_us": remote.percentile(0.5), "remote_p99_us": remote.percentile(0.99),
            "hop_p50_us": hop.p50_us, "hop_p99_us": hop.p99_us}


def _us(v: float) -> str:
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"


async def _run(entries: int, consumers: Sequence[int], paced_rate: float, paced_s: float,
               sim_rate: float, sim_s: float) -> dict[str, Any]:
    async with RedisServer() as server:
        tp = [await _with_feeds(server.url, n, entries, None) for n in consumers]
        paced = await _with_feeds(server.url, 1, int(paced_rate * paced_s), paced_rate)
        beside = await _beside_client(server.url, sim_rate, sim_s)
    return {"throughput": tp, "paced": paced, "beside_client": beside}


def run(entries: int = 100_000, consumers: Sequence[int] = (1, 4, 16),
        paced_rate: float = 5_000.0, paced_s: float = 5.0, sim_rate: float = 1_000.0,
        sim_s: float = 10.0) -> dict[str, Any]:
    print_header("fan-out over Redis Streams (gateway → redis-server → RemoteFeed)")
    res = asyncio.run(_run(entries, consumers, paced_rate, paced_s, sim_rate, sim_s))
    print(f"\n   throughput: {entries} book deltas, consumers in this process")
    print_table(["consumers", "gateway wrote", "per consumer", "all consumers", "books synced"],
                [[str(r["consumers"]), fmt_rate(r["gateway_rate"]),
                  fmt_rate(r["per_consumer_rate"]), fmt_rate(r["delivered_rate"]),
                  "yes" if r["synced"] else "NO"] for r in res["throughput"]])
    p, b = res["paced"], res["beside_client"]
    print(f"\n   latency per hop (paced {paced_rate:.0f}/s, 1 consumer; and the simulator at "
          f"{sim_rate:.0f} actions/s)")
    print_table(["path", "p50", "p99"], [
        ["gateway receive → consumer (paced)", _us(p["hop_p50_us"]), _us(p["hop_p99_us"])],
        ["gateway receive → consumer (with sim)", _us(b["hop_p50_us"]), _us(b["hop_p99_us"])],
        ["exchange → direct client", _us(b["direct_p50_us"]), _us(b["direct_p99_us"])],
        ["exchange → remote consumer", _us(b["remote_p50_us"]), _us(b["remote_p99_us"])],
    ])
    save_results("fanout", res)
    return res


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="a short pass (~15 s)")
    a = p.parse_args(argv)
    if a.quick:
        run(entries=10_000, paced_rate=2_000.0, paced_s=1.0, sim_rate=500.0, sim_s=2.0)
    else:
        run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
