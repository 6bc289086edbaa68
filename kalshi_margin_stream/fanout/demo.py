"""``make demo-fanout``: a gateway and two consumers against the simulator, one machine.

Starts a throw-away ``redis-server`` (loopback, temporary directory), the
simulated exchange with synthetic flow, one client + :class:`Gateway`, and two
:class:`RemoteFeed` consumers: ``plain`` (reads everything) and ``recorder`` (a
consumer group member). Prints one line a second, then stops the flow and checks
that both consumers' books equal the exchange's.

    python -m kalshi_margin_stream.fanout.demo [--duration 10] [--rate 300]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from ..sim.server import Simulator
from ..stream.client import Client
from ..stream.subscriptions import Books, Stale, Subscription, Trades
from .feed import RemoteFeed
from .gateway import Gateway
from .testing import RedisServer

__all__ = ["main"]

MARKETS = ("KXBTCPERP", "KXETHPERP")


def _equal(sim: Simulator, feed: RemoteFeed) -> bool:
    for t in MARKETS:
        book, view = feed.book(t), sim.exchange.orderbook(t)
        if book is None or not book.is_synced or (book.bids(), book.asks()) != (view.bids,
                                                                                 view.asks):
            return False
    return True


async def _count(sub: Subscription[Any], counts: dict[str, int], key: str) -> None:
    async for item in sub:
        counts[key] = counts.get(key, 0) + 1
        if isinstance(item, Stale):
            counts[key + " stale"] = counts.get(key + " stale", 0) + 1


async def run(duration: float, rate: float) -> bool:
    async with RedisServer() as redis, \
            Simulator(markets=list(MARKETS), rate=rate, ticker_interval=0.5) as sim:
        assert sim.credentials is not None
        print(f"redis-server {redis.url}, simulator {sim.ws_url}")
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url) as client, \
                Gateway(client, redis.url, channels=["orderbook_delta", "trade"],
                        markets=MARKETS, snapshot_interval=2.0) as gw, \
                RemoteFeed(redis.url) as plain, \
                RemoteFeed(redis.url, group="recorders", consumer="r1") as recorder:
            counts: dict[str, int] = {}
            tasks = [asyncio.create_task(_count(f.subscribe(spec), counts, name))
                     for name, f in (("plain", plain), ("recorder", recorder))
                     for spec in (Books(MARKETS), Trades(MARKETS))]
            try:
                start = time.monotonic()
                while time.monotonic() - start < duration:
                    await asyncio.sleep(1.0)
                    p = plain.statistics()
                    book = plain.book(MARKETS[0])
                    bid = book.best_bid() if book else None
                    ask = book.best_ask() if book else None
                    top = f"{bid[0] if bid else '-'}/{ask[0] if ask else '-'}"
                    print(f"{time.monotonic() - start:5.1f}s  gateway published "
                          f"{gw.statistics().published:6d}  plain: {p.entries:6d} entries, "
                          f"{MARKETS[0]} {top}, hop p50 {p.gateway_to_consumer_us.p50_us:.0f} "
                          f"p99 {p.gateway_to_consumer_us.p99_us:.0f} µs  recorder: "
                          f"{recorder.statistics().acked:6d} acked")
                sim.pause_flow()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not (_equal(sim, plain)
                                                           and _equal(sim, recorder)):
                    await asyncio.sleep(0.05)
                ok = _equal(sim, plain) and _equal(sim, recorder)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            g = gw.statistics()
            print("== summary ==")
            print(f"gateway: epoch {g.epoch}, published {g.published}, snapshots {g.snapshots}, "
                  f"dropped {g.publisher.dropped}, client frames {g.client.frames}")
            for name, f in (("plain", plain), ("recorder", recorder)):
                s = f.statistics()
                print(f"{name}: entries {s.entries}, gaps {s.gaps}, resyncs {s.resyncs}, "
                      f"delivered {counts.get(name, 0)}, acked {s.acked}")
            print(f"books equal to the exchange: {'yes' if ok else 'NO'}")
            return ok


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kalshi_margin_stream.fanout.demo",
                                description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--rate", type=float, default=300.0, help="simulated flow actions/s")
    a = p.parse_args(argv)
    if a.duration <= 0 or a.rate < 0:
        print("demo-fanout: --duration must be > 0 and --rate >= 0", file=sys.stderr)
        return 2
    logging.getLogger("kalshi_margin_stream").setLevel(logging.ERROR)
    try:
        return 0 if asyncio.run(run(a.duration, a.rate)) else 1
    except FileNotFoundError as exc:
        print(f"demo-fanout: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
