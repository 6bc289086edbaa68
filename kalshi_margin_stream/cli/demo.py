"""``kalshi-margin-stream demo``: the simulator and the client together, ~20 s.

Everything runs in one process over 127.0.0.1: the simulated exchange with
synthetic order flow, the streaming client subscribed to every channel for a
few markets, a small bot trading over REST (so fills, orders and order groups
move), and two fault drills (a sequence gap repaired in band, an abrupt
disconnect). The view is the ``book`` command's (``view.py``): live in the
alternate screen on a terminal, plain lines otherwise; a summary table closes
the run, with the same figures as the view.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
from decimal import Decimal
from typing import Any

from ..exceptions import KalshiError
from ..sim.server import Simulator
from ..stream.client import Client
from ..stream.subscriptions import (
    Books,
    Fills,
    OrderGroups,
    Orders,
    Subscription,
    Tickers,
    Trades,
)
from .book import make_console, show
from .common import Stopper, non_negative_float, positive_float
from .connection import transport_name
from .view import BookView, ViewConsole

__all__ = ["add_parser", "run"]

DEFAULT_MARKETS = ("KXBTCPERP", "KXETHPERP", "KXSOLPERP")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run the client against the embedded simulator")
    p.add_argument("--duration", type=positive_float, default=20.0,
                   help="seconds (default 20)")
    p.add_argument("--markets", nargs="+", default=list(DEFAULT_MARKETS))
    p.add_argument("--rate", type=non_negative_float, default=400.0,
                   help="simulated flow actions/s")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-faults", action="store_true", help="skip the fault drills")
    p.add_argument("--transport", type=transport_name, default=argparse.SUPPRESS,
                   help="WebSocket library (default aiohttp)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    console = make_console()
    if console.is_terminal:  # the view reports gaps and reconnects itself
        logging.getLogger("kalshi_margin_stream").setLevel(logging.ERROR)
    try:
        return asyncio.run(Demo(args, console).main())
    except KalshiError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1


class Demo:
    """Owns the simulator, the client, the bot and the view."""

    def __init__(self, args: argparse.Namespace, console: ViewConsole) -> None:
        self.args = args
        self.console = console
        self.markets = tuple(args.markets)
        self.view = BookView(self.markets, title="kalshi_margin_stream demo")

    async def main(self) -> int:
        with Stopper() as stop:
            self.console.when_gone = stop.set  # ``demo | head -1``: the reader has enough
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
                        drawer = tg.create_task(show(self.view, client, stop, self.console))
                        await stop.wait(self.args.duration)
                        stop.set()
                        await drawer
                        for w in workers:
                            w.cancel()
                    self.summary(client)
            return stop.exit_code

    def note(self, text: str) -> None:
        self.view.note(text)
        if not self.console.is_terminal:
            self.console.print(f"[{self.view.events[0]}]", markup=False, highlight=False,
                               soft_wrap=True)

    async def consume(self, sub: Subscription[Any]) -> None:
        async for item in sub:
            self.view.on_item(sub.spec.channel, item)

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

    def summary(self, client: Client) -> None:
        console = self.console
        console.print("\n== summary ==", markup=False, highlight=False)
        self.view.summary(client, console)
        acct = client.margin.account(0)
        console.print(f"account: equity {acct.equity:.4f}, positions "
                      f"{ {t: str(p.count) for t, p in acct.positions.items() if p.count} }, "
                      f"fills {client.margin.fills_count}", markup=False, highlight=False,
                      soft_wrap=True)
        synced = all((b := client.book(t)) is not None and b.is_synced for t in self.markets)
        console.print(f"books synced at the end: {'yes' if synced else 'no'}", markup=False,
                      highlight=False)
