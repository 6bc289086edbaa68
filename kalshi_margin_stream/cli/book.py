"""``kalshi-margin-stream book --markets …``: a live terminal view of the books.

Top levels per market, spread, marks and funding, a tape of the last trades,
stream health and latency, redrawn in place in the alternate screen (see
``view.py``); plain status lines when stdout is not a terminal. Ends with a
summary table (``--duration`` or Ctrl-C: status 130).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from rich.console import Console
from rich.live import Live

from ..exceptions import KalshiError
from ..stream.client import Client
from ..stream.subscriptions import Books, Subscription, Tickers, Trades
from .common import (
    AttemptCounter,
    StdoutLines,
    Stopper,
    connect_within,
    non_negative_float,
    positive_int,
)
from .connection import add_connection_args, add_stream_args
from .stream import consume, credentials_from, open_client
from .view import BookView, ViewConsole

__all__ = ["add_parser", "make_console", "run", "show"]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("book", help="a live terminal view of the books")
    add_connection_args(p)
    add_stream_args(p)
    p.add_argument("--markets", nargs="+", required=True, help="market tickers")
    p.add_argument("--depth", type=positive_int, default=5, help="levels per side (default 5)")
    p.add_argument("--duration", type=non_negative_float, help="stop after this many seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        creds = credentials_from(args)
    except KalshiError as exc:
        print(f"book: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_book(args, creds))
    except KalshiError as exc:
        print(f"book: {exc}", file=sys.stderr)
        return 1


def make_console() -> ViewConsole:
    """The terminal's console; 160 columns when stdout is a file or a pipe."""
    console = ViewConsole()
    return console if console.is_terminal else ViewConsole(width=160)


async def show(view: BookView, client: Client, stop: Stopper, console: Console,
               *, period: float = 0.25) -> None:
    """Redraw ``view`` until ``stop``: live in the alternate screen on a terminal,
    a plain line every few seconds otherwise."""
    if console.is_terminal:
        with Live(console=console, screen=True, auto_refresh=False,
                  vertical_overflow="crop") as live:
            while not stop.event.is_set():
                size = console.size
                frame = view.renderable(client, size.width, size.height)  # plain text built here
                # drawn by a thread: a terminal that stops reading (Ctrl-S, a slow link)
                # blocks the drawing, never the socket reader
                await asyncio.to_thread(live.update, frame, refresh=True)
                await stop.wait(period)
        view.freeze(client)
        return
    out = StdoutLines()
    loop = asyncio.get_running_loop()
    try:
        due = loop.time() + 4.0
        while not stop.event.is_set() and not out.closed:
            await stop.wait(min(period, max(0.0, due - loop.time())))
            if out.reader_gone():  # noticed now, not at the next line 4 s on
                break
            if not stop.event.is_set() and loop.time() >= due:
                due += 4.0
                await out.put((view.plain_line(client) + "\n").encode())
        if out.closed:  # the reader went away (``| head``): the command ends, quietly
            stop.set()
        view.freeze(client)
        await out.put((view.plain_line(client) + "\n").encode())
    finally:
        await out.aclose()


async def _book(args: argparse.Namespace, creds: Any) -> int:
    markets = tuple(args.markets)
    view = BookView(markets, depth=args.depth)
    console = make_console()
    with Stopper() as stop:
        console.when_gone = stop.set  # a summary cut by ``| head``: quiet, no SystemExit(1)
        counter = AttemptCounter()
        async with open_client(args, creds, reconcile=False, recorder=counter) as client:
            subs: list[Subscription[Any]] = [client.subscribe(Books(markets)),
                                             client.subscribe(Trades(markets)),
                                             client.subscribe(Tickers(markets))]
            problem = await connect_within(client, args.timeout, counter,
                                           client.endpoints.ws_url)
            if problem:
                print(f"book: {problem}", file=sys.stderr)
                return 1

            async def handle(sub: Subscription[Any], item: Any) -> None:
                view.on_item(sub.spec.channel, item)

            drawer = asyncio.ensure_future(show(view, client, stop, console))
            try:
                await consume(subs, stop, args.duration, handle)
            finally:
                stop.set()
                await drawer
            view.summary(client, console)
            connections = client.statistics().connections
    if connections == 0:
        print("book: the WebSocket never connected (check --ws-url / --env); see the log "
              "above", file=sys.stderr)
        return 1
    return stop.exit_code
