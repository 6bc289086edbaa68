"""The live terminal view of ``book`` and ``demo``, drawn with ``rich``.

On a terminal it runs in the alternate screen (nothing left in the scrollback),
redrawn in place, and every row is cut to the terminal's width (never
wrapped): markets sit side by side when the width allows. When stdout is not a
terminal it prints one plain status line now and then instead. The numbers in
the view and in the closing summary come from the same :meth:`BookView.counts`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..core.messages import Ticker, Trade
from ..stream.client import Client
from ..stream.subscriptions import Stale
from .output import stdout_gone

__all__ = ["BookView", "ViewConsole"]

_PANEL = 40
"""Columns one market needs; more markets go side by side on wider terminals."""


class ViewConsole(Console):
    """A rich ``Console`` that goes quiet when stdout's reader goes (``demo | head -1``).

    Rich's own answer to a broken pipe is ``SystemExit(1)`` from inside whatever
    task printed; a closed stdout is the reader saying "enough", so this console
    stops printing, points fd 1 at /dev/null, and calls :attr:`when_gone` (the
    command's stop) instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gone = False
        self.when_gone: Callable[[], None] | None = None

    def on_broken_pipe(self) -> None:
        self.quiet = True
        self.gone = True
        stdout_gone()
        if self.when_gone is not None:
            self.when_gone()


class BookView:
    """What the view shows, fed by the subscriptions; rendered on demand."""

    def __init__(self, markets: tuple[str, ...], *, depth: int = 5, tape: int = 6,
                 title: str = "kalshi-margin-stream") -> None:
        self.markets = markets
        self.depth = depth
        self.tape: deque[Trade] = deque(maxlen=tape)
        self.tickers: dict[str, Ticker] = {}
        self.updates: dict[str, int] = {}
        self.events: deque[str] = deque(maxlen=5)
        self.title = title
        self.started = time.monotonic()
        self.final: dict[str, Any] | None = None
        self.stale_markers = 0

    # --- input ------------------------------------------------------------------

    def on_item(self, channel: str, item: Any) -> None:
        if isinstance(item, Stale):  # a marker, not an update: counted by the statistics
            self.stale_markers += 1
            missed = f", {item.missed} missed" if item.missed else ""
            self.note(f"{channel}: stale ({item.reason}{missed}); fresh data follows")
            return
        self.updates[channel] = self.updates.get(channel, 0) + 1
        if isinstance(item, Trade):
            self.tape.appendleft(item)
        elif isinstance(item, Ticker):
            self.tickers[item.msg.market_ticker] = item

    def note(self, text: str) -> None:
        self.events.appendleft(f"{time.monotonic() - self.started:6.1f}s {text}")

    # --- shared numbers -----------------------------------------------------------

    def freeze(self, client: Client) -> None:
        """Fix the figures as they are now: the last view and the summary then agree."""
        self.final = None
        self.final = self.counts(client)

    def counts(self, client: Client) -> dict[str, Any]:
        """The figures both the view and the summary print (frozen ones once frozen)."""
        if self.final is not None:
            return self.final
        s = client.statistics()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {"elapsed": elapsed, "state": s.state, "frames": s.frames,
                "rate": s.frames / elapsed, "gaps": s.gaps, "duplicates": s.duplicates,
                "resyncs": s.resyncs, "reconnects": s.reconnects,
                "decode_errors": s.decode_errors,
                "core_p50_us": s.processing_us.p50_us, "core_p99_us": s.processing_us.p99_us,
                "latency_p50_ms": s.exchange_to_receive_us.p50_us / 1000,
                "latency_p99_ms": s.exchange_to_receive_us.p99_us / 1000,
                "stale_markers": self.stale_markers,
                "updates": dict(sorted(self.updates.items()))}

    def market_row(self, client: Client, ticker: str) -> dict[str, str]:
        book = client.book(ticker)
        row = {"market": ticker, "status": "none", "bid": "-", "ask": "-", "spread": "-",
               "depth": "-", "last": "-", "mark": "-", "funding": "-"}
        if book is not None:
            row["status"] = book.status.value
            b, a = book.best_bid(), book.best_ask()
            row["bid"] = f"{_n(b[1])}@{b[0]}" if b else "-"
            row["ask"] = f"{_n(a[1])}@{a[0]}" if a else "-"
            if b and a:
                row["spread"] = str(a[0] - b[0])
            row["depth"] = "{}/{}".format(*book.depth)
        tick = self.tickers.get(ticker)
        if tick is not None:
            if tick.msg.settlement_mark_price is not None:
                row["mark"] = str(tick.msg.settlement_mark_price.price)
            if tick.msg.funding_rate is not None:
                row["funding"] = f"{tick.msg.funding_rate.rate:.6f}"
        last = next((t for t in self.tape if t.msg.market_ticker == ticker), None)
        if last is not None:
            row["last"] = str(last.msg.price)
        return row

    # --- rendering ----------------------------------------------------------------

    def renderable(self, client: Client, width: int, height: int) -> RenderableType:
        c = self.counts(client)
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(f"{self.title} ", style="bold")
        header.append(f"{c['elapsed']:.0f}s  socket {c['state']}  {c['rate']:,.0f} msg/s  "
                      f"gaps {c['gaps']}  resyncs {c['resyncs']}  reconnects "
                      f"{c['reconnects']}  core p99 {c['core_p99_us']:.0f}µs  "
                      f"latency p50/p99 {c['latency_p50_ms']:.0f}/{c['latency_p99_ms']:.0f}ms")
        per_row = max(1, min(len(self.markets), width // _PANEL))
        rows = -(-len(self.markets) // per_row)
        small = height < 30
        n_events = min(len(self.events), 1 if small else 5)
        n_tape = min(len(self.tape), 2 if small else 8)
        room = height - 3 - n_tape - n_events  # header, "trades", updates
        depth = max(1, min(self.depth, room // rows - 4))  # title, head, rule, foot
        grid = Table.grid(padding=(0, 1), expand=False)
        for _ in range(per_row):
            grid.add_column(width=min(_PANEL - 1, width // per_row - 1), no_wrap=True)
        for i in range(0, len(self.markets), per_row):
            grid.add_row(*(self._market(client, t, depth)
                           for t in self.markets[i:i + per_row]))
        tape = Table(box=None, show_header=False, padding=(0, 1), expand=False)
        for _ in range(4):
            tape.add_column(no_wrap=True, overflow="ellipsis")
        for t in list(self.tape)[:n_tape]:
            side = "green" if t.msg.taker_side == "bid" else "red"
            tape.add_row(t.msg.market_ticker, Text(str(t.msg.price), style=side),
                         _n(t.msg.count), time.strftime("%H:%M:%S",
                                                        time.gmtime(t.msg.ts_ms / 1000)))
        updates = Text("updates: " + "  ".join(f"{k} {v}" for k, v in c["updates"].items()),
                       no_wrap=True, overflow="ellipsis")
        events = [Text(e, no_wrap=True, overflow="ellipsis", style="dim")
                  for e in list(self.events)[:n_events]]
        return Group(header, grid, Text("trades", style="bold"), tape, updates, *events)

    def _market(self, client: Client, ticker: str, depth: int) -> RenderableType:
        row = self.market_row(client, ticker)
        book = client.book(ticker)
        style = "green" if row["status"] == "synced" else "yellow"
        t = Table(title=Text(f"{ticker} [{row['status']}]", style=style, no_wrap=True,
                             overflow="ellipsis"),
                  box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1), expand=False,
                  title_justify="left")
        for name in ("bid size", "bid", "ask", "ask size"):
            t.add_column(name, justify="right", no_wrap=True, overflow="ellipsis")
        bids = book.top("bid", depth) if book is not None else []
        asks = book.top("ask", depth) if book is not None else []
        for i in range(depth):
            b = bids[i] if i < len(bids) else None
            a = asks[i] if i < len(asks) else None
            t.add_row(_n(b[1]) if b else "", Text(str(b[0]), style="green") if b else "",
                      Text(str(a[0]), style="red") if a else "", _n(a[1]) if a else "")
        foot = Text(f"sprd {row['spread']} mark {row['mark']} fund {row['funding']}",
                    no_wrap=True, overflow="ellipsis")
        return Group(t, foot)

    def plain_line(self, client: Client) -> str:
        c = self.counts(client)
        books = "  ".join(f"{r['market']} {r['status']} {r['bid']}/{r['ask']}"
                          for r in (self.market_row(client, t) for t in self.markets))
        return (f"[{c['elapsed']:6.1f}s] {c['state']}: {c['frames']} frames, {c['gaps']} gaps, "
                f"{c['resyncs']} resyncs, {c['reconnects']} reconnects | {books}")

    def summary(self, client: Client, console: Console) -> None:
        """The closing summary, as tables, from the same figures as the view."""
        c = self.counts(client)
        stats = Table(title="summary", box=box.SIMPLE, title_justify="left")
        stats.add_column("figure", no_wrap=True)
        stats.add_column("value", justify="right", no_wrap=True)
        for name in ("frames", "gaps", "duplicates", "resyncs", "reconnects",
                     "decode_errors", "stale_markers"):
            stats.add_row(name, f"{c[name]:,}")
        stats.add_row("seconds", f"{c['elapsed']:.1f}")
        stats.add_row("frames/s", f"{c['rate']:,.0f}")
        stats.add_row("core p50/p99 µs", f"{c['core_p50_us']:.0f}/{c['core_p99_us']:.0f}")
        for name, n in c["updates"].items():
            stats.add_row(f"updates: {name}", f"{n:,}")
        books = Table(title="books at the end", box=box.SIMPLE, title_justify="left")
        fields = ("market", "status", "bid", "ask", "spread", "depth", "last", "mark",
                  "funding")
        for name in fields:
            books.add_column(name, no_wrap=True, overflow="ellipsis")
        for t in self.markets:
            row = self.market_row(client, t)
            books.add_row(*(row[f] for f in fields))
        console.print(stats)
        console.print(books)


def _n(value: Decimal) -> str:
    """A size without trailing zeros (``100.00`` → ``100``)."""
    text = format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return text
