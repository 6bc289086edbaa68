"""``kalshi-margin-stream demo``: the simulator and the client together, ~20 s.

Everything runs in one process over 127.0.0.1: the simulated exchange with
synthetic order flow, the streaming client subscribed to every channel for a
few markets, a small bot trading over REST (so fills, orders and order groups
move), and two fault drills (a sequence gap repaired in band, an abrupt
disconnect). The view is refreshed in place on a terminal, printed as plain
lines otherwise, and a summary closes the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import time
from decimal import Decimal
from typing import Any, TextIO

from ..core.messages import Ticker, Trade
from ..exceptions import KalshiError
from ..sim.server import Simulator
from ..stream.client import Client
from ..stream.subscriptions import (
    Books,
    Fills,
    OrderGroups,
    Orders,
    Stale,
    Subscription,
    Tickers,
    Trades,
)
from ..stream.transport import TRANSPORTS, transport_missing

__all__ = ["add_parser", "run"]

DEFAULT_MARKETS = ("KXBTCPERP", "KXETHPERP", "KXSOLPERP")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run the client against the embedded simulator")
    p.add_argument("--duration", type=float, default=20.0, help="seconds (default 20)")
    p.add_argument("--markets", nargs="+", default=list(DEFAULT_MARKETS))
    p.add_argument("--rate", type=float, default=400.0, help="simulated flow actions/s")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-faults", action="store_true", help="skip the fault drills")
    p.add_argument("--transport", choices=list(TRANSPORTS), default="aiohttp")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The view reports gaps, resyncs and reconnects itself; keep log lines off it.
    logging.getLogger("kalshi_margin_stream").setLevel(logging.ERROR)
    missing = transport_missing(args.transport)
    if missing is not None:
        print(f"demo: {missing}", file=sys.stderr)
        return 2
    try:
        asyncio.run(Demo(args, sys.stdout).main())
    except KalshiError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    return 0


class Demo:
    """Owns the simulator, the client, the bot and the view."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.out = out
        self.tty = out.isatty()
        self.markets = tuple(args.markets)
        self.counts: dict[str, int] = {}
        self.stale: list[str] = []
        self.last_trade: dict[str, Trade] = {}
        self.tickers: dict[str, Ticker] = {}
        self.events: list[str] = []
        self.started = time.monotonic()

    async def main(self) -> None:
        async with Simulator(markets=list(self.markets), rate=self.args.rate,
                             seed=self.args.seed) as sim:
            assert sim.credentials is not None
            self.note(f"simulator listening at {sim.rest_url}")
            async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url,
                              transport=self.args.transport) as client:
                subs: list[Subscription[Any]] = [
                    client.subscribe(Books(self.markets)),
                    client.subscribe(Tickers(self.markets)),
                    client.subscribe(Trades(self.markets)),
                    client.subscribe(Fills()), client.subscribe(Orders()),
                    client.subscribe(OrderGroups()),
                ]
                await client.wait_connected(10)
                async with asyncio.TaskGroup() as tg:
                    workers = [tg.create_task(self.consume(s)) for s in subs]
                    workers.append(tg.create_task(self.bot(client)))
                    if not self.args.no_faults:
                        workers.append(tg.create_task(self.drills(sim, client)))
                    await self.view(client)
                    for w in workers:
                        w.cancel()
                self.summary(client)

    def note(self, text: str) -> None:
        stamp = time.monotonic() - self.started
        self.events.append(f"{stamp:5.1f}s {text}")
        del self.events[:-6]
        if not self.tty:
            self.out.write(f"[{stamp:5.1f}s] {text}\n")
            self.out.flush()

    async def consume(self, sub: Subscription[Any]) -> None:
        async for item in sub:
            channel = sub.spec.channel
            self.counts[channel] = self.counts.get(channel, 0) + 1
            if isinstance(item, Stale):
                missed = f", {item.missed} updates not delivered" if item.missed else ""
                self.note(f"{channel}: stale ({item.reason}{missed}); fresh data follows")
            elif isinstance(item, Trade):
                self.last_trade[item.msg.market_ticker] = item
            elif isinstance(item, Ticker):
                self.tickers[item.msg.market_ticker] = item

    async def bot(self, client: Client) -> None:
        """Trade a little over REST so the private channels have something to say."""
        rng = random.Random(self.args.seed)
        rest = client.rest
        group = await rest.create_order_group(50)
        self.note(f"bot: order group {group.order_group_id[:8]} (limit 50)")
        while True:
            await asyncio.sleep(1.5)
            ticker = rng.choice(self.markets)
            book = client.book(ticker)
            if book is None or not book.is_synced:
                continue
            bid, ask = book.best_bid(), book.best_ask()
            if bid is None or ask is None:
                continue
            try:
                if rng.random() < 0.5:
                    side, price = ("bid", ask[0]) if rng.random() < 0.5 else ("ask", bid[0])
                    await rest.create_order(ticker, side, rng.randint(1, 5), price,
                                            time_in_force="immediate_or_cancel")
                    self.note(f"bot: IOC {side} {ticker} at {price}")
                else:
                    price = bid[0] - Decimal("0.0020")
                    await rest.create_order(ticker, "bid", rng.randint(1, 5), price,
                                            order_group_id=group.order_group_id)
                    self.note(f"bot: resting bid {ticker} at {price}")
            except KalshiError as exc:
                self.note(f"bot: order refused: {exc}")

    async def drills(self, sim: Simulator, client: Client) -> None:
        await asyncio.sleep(self.args.duration * 0.35)
        ch = client.session.channel("orderbook_delta")
        if ch is not None and ch.sid is not None:
            sim.drop_frames(ch.sid, 3)
            self.note("drill: the exchange drops 3 book frames (a real seq gap)")
        await asyncio.sleep(self.args.duration * 0.25)
        sim.close_connections()
        self.note("drill: the exchange aborts the connection")

    async def view(self, client: Client) -> None:
        deadline = self.started + self.args.duration
        period = 0.5 if self.tty else 4.0
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(period, left))
            if self.tty:
                self.out.write("\x1b[H\x1b[2J" + "\n".join(self.render(client)) + "\n")
            else:
                s = client.statistics()
                self.out.write(f"[{time.monotonic() - self.started:5.1f}s] {s.state}: "
                               f"{s.frames} frames, {s.gaps} gaps, {s.resyncs} resyncs, "
                               f"{s.reconnects} reconnects\n")
            self.out.flush()

    def render(self, client: Client) -> list[str]:
        s = client.statistics()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        lines = [f"kalshi_margin_stream demo — {elapsed:4.1f}s / {self.args.duration:.0f}s  "
                 f"socket {s.state}  {s.frames / elapsed:,.0f} msg/s", ""]
        lines.append(f"{'market':11} {'status':9} {'bid':>16} {'ask':>16} {'depth':>9} "
                     f"{'last':>8} {'mark':>8} {'funding':>10}")
        for t in self.markets:
            lines.append(self.market_line(client, t))
        acct = client.margin.account(0)
        lines += ["", f"account: cash {acct.cash:.4f}  equity {acct.equity:.4f}  "
                      f"uPnL {acct.unrealized_pnl:.4f}  margin used {acct.margin_used:.4f}  "
                      f"available {acct.available_balance:.4f}  "
                      f"open orders {len(acct.open_orders)}"]
        for t, p in acct.positions.items():
            if p.count:
                lines.append(f"  {t}: {p.count} @ {p.entry_price}  uPnL {p.unrealized_pnl}")
        lines += ["", f"stream: gaps {s.gaps}  duplicates {s.duplicates}  resyncs {s.resyncs}  "
                      f"reconnects {s.reconnects}  core p50/p99 "
                      f"{s.processing_us.p50_us:.0f}/{s.processing_us.p99_us:.0f} µs",
                  "updates: " + "  ".join(f"{k} {v}" for k, v in sorted(self.counts.items())),
                  ""] + self.events
        return lines

    def market_line(self, client: Client, ticker: str) -> str:
        book = client.book(ticker)
        bid = ask = "-"
        depth = "-"
        status = "none"
        if book is not None:
            status = book.status.value
            b, a = book.best_bid(), book.best_ask()
            bid = f"{b[1]}@{b[0]}" if b else "-"
            ask = f"{a[1]}@{a[0]}" if a else "-"
            depth = "{}/{}".format(*book.depth)
        trade = self.last_trade.get(ticker)
        tick = self.tickers.get(ticker)
        mark = funding = "-"
        if tick is not None:
            if tick.msg.settlement_mark_price is not None:
                mark = str(tick.msg.settlement_mark_price.price)
            if tick.msg.funding_rate is not None:
                funding = f"{tick.msg.funding_rate.rate:.6f}"
        last = str(trade.msg.price) if trade else "-"
        return (f"{ticker:11} {status:9} {bid:>16} {ask:>16} {depth:>9} {last:>8} {mark:>8} "
                f"{funding:>10}")

    def summary(self, client: Client) -> None:
        s = client.statistics()
        elapsed = time.monotonic() - self.started
        out = self.out
        out.write("\n== summary ==\n")
        out.write(f"{s.frames} frames in {elapsed:.1f}s ({s.frames / elapsed:,.0f}/s); "
                  f"{s.decode_errors} decode errors, {s.gaps} gaps, {s.duplicates} duplicates, "
                  f"{s.resyncs} resyncs, {s.reconnects} reconnects, "
                  f"{s.reconciliations} REST reconciliations\n")
        out.write(f"core time per frame: p50 {s.processing_us.p50_us:.0f} µs, "
                  f"p99 {s.processing_us.p99_us:.0f} µs\n")
        for t in self.markets:
            out.write("  " + self.market_line(client, t) + "\n")
        acct = client.margin.account(0)
        out.write(f"account: equity {acct.equity:.4f}, positions "
                  f"{ {t: str(p.count) for t, p in acct.positions.items() if p.count} }, "
                  f"fills {client.margin.fills_count}\n")
        synced = all((b := client.book(t)) is not None and b.is_synced for t in self.markets)
        out.write(f"books synced at the end: {'yes' if synced else 'no'}\n")
        with contextlib.suppress(Exception):
            out.flush()
