"""The book view fits the terminal: no wrapped or overlong row at 80×24 or 200×60."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
from typing import Any

import pytest
from rich.console import Console

from kalshi_margin_stream.cli.book import show
from kalshi_margin_stream.cli.common import Stopper
from kalshi_margin_stream.cli.view import BookView, ViewConsole
from kalshi_margin_stream.stream.subscriptions import Books, Subscription, Tickers, Trades
from kalshi_margin_stream.testing import MARKETS, books_match, eventually, sim_and_client

TICKERS = (*MARKETS, "KXSOLPERP")


async def feed(view: BookView, sub: Subscription[Any]) -> None:
    async for item in sub:
        view.on_item(sub.spec.channel, item)


@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 60)])
async def test_book_view_fits_the_terminal(width: int, height: int) -> None:
    view = BookView(TICKERS, depth=8)
    async with sim_and_client(sim_kw={"markets": list(TICKERS)}) as (sim, client):
        subs = [client.subscribe(Books(TICKERS)), client.subscribe(Trades(TICKERS)),
                client.subscribe(Tickers(TICKERS))]
        tasks = [asyncio.ensure_future(feed(view, s)) for s in subs]
        await eventually(lambda: books_match(sim, client, list(TICKERS)))
        sim.step_flow(300)
        await eventually(lambda: len(view.tape) >= 3 and len(view.tickers) == len(TICKERS)
                         and books_match(sim, client, list(TICKERS)))
        for i in range(8):
            view.note(f"event {i}: " + "a long note that would wrap on a narrow terminal " * 4)
        console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                          color_system=None, record=True, legacy_windows=False)
        console.print(view.renderable(client, width, height), crop=True)
        text = console.export_text()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    lines = text.rstrip("\n").split("\n")
    assert all(len(line) <= width for line in lines), max(map(len, lines))
    assert len(lines) <= height
    shown = [t for t in TICKERS if t in text]
    assert shown == list(TICKERS)  # every market fits on both sizes
    best_bid = client.book(TICKERS[0]).best_bid()  # type: ignore[union-attr]
    assert best_bid is not None and str(best_bid[0]) in text
    if width >= 200:  # wide: markets side by side, so a row holds two of them
        assert any(TICKERS[0] in line and TICKERS[1] in line for line in lines)


async def test_plain_lines_and_the_summary_share_their_figures() -> None:
    view = BookView(tuple(MARKETS))
    out = io.StringIO()
    console = Console(file=out, width=160, color_system=None)
    async with sim_and_client() as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        task = asyncio.ensure_future(feed(view, sub))
        await eventually(lambda: books_match(sim, client, MARKETS))
        sim.step_flow(100)
        await eventually(lambda: books_match(sim, client, MARKETS))
        with Stopper() as stop:
            stop.set()
        view.freeze(client)
        line = view.plain_line(client)
        sim.step_flow(100)  # more frames after the freeze change neither
        await eventually(lambda: books_match(sim, client, MARKETS))
        view.summary(client, console)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    frames = view.final["frames"]  # type: ignore[index]
    assert f"{frames} frames" in line
    assert any(row.split()[:2] == ["frames", f"{frames:,}"] for row in out.getvalue().splitlines())


def test_stale_markers_are_not_counted_as_updates() -> None:
    """A reconnect sends every subscription a Stale: the fill count must still equal the fills."""
    from pathlib import Path

    from kalshi_margin_stream.core.codec import decode_frame
    from kalshi_margin_stream.stream.subscriptions import Stale

    capture = Path(__file__).parents[1] / "data" / "ws" / "ws__private_lifecycle.jsonl"
    fill = decode_frame(next(line for line in capture.read_text().splitlines()
                             if '"type":"fill"' in line))
    view = BookView(TICKERS)
    view.on_item("fill", fill)
    view.on_item("fill", Stale(channel="fill", tickers=None, reason="reconnect"))
    assert view.updates == {"fill": 1}
    assert view.stale_markers == 1


class StalledTerminal(io.StringIO):
    """A terminal that stops reading after its first writes (Ctrl-S, a stalled link)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.stalled = threading.Event()
        self.release = threading.Event()

    def write(self, s: str) -> int:
        self.writes += 1
        if self.writes > 3 and not self.release.is_set():
            self.stalled.set()
            self.release.wait(15)
            self.stalled.clear()
        return super().write(s)


async def test_a_stalled_terminal_never_stalls_the_event_loop() -> None:
    view = BookView(tuple(MARKETS))
    term = StalledTerminal()
    console = Console(file=term, width=120, height=40, force_terminal=True,
                      color_system=None, legacy_windows=False)
    async with sim_and_client() as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        task = asyncio.ensure_future(feed(view, sub))
        stop = Stopper()
        drawer = asyncio.ensure_future(show(view, client, stop, console, period=0.01))
        try:
            await eventually(term.stalled.is_set, timeout=10, what="the terminal stalled")
            frames = client.statistics().frames
            sim.step_flow(200)  # the loop must go on reading while the drawing waits
            await eventually(lambda: client.statistics().frames >= frames + 100, timeout=10,
                             what="frames read while the terminal is stalled")
            assert term.stalled.is_set()  # ...and the drawing is still waiting
            assert not drawer.done()
        finally:
            term.release.set()
            stop.set()
            await asyncio.wait_for(drawer, 10)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def test_the_console_goes_quiet_when_the_reader_goes(capsys: pytest.CaptureFixture[str]) -> None:
    """Rich's Console raises SystemExit(1) on a broken pipe; the view's calls the stop."""
    read, write = os.pipe()
    os.close(read)
    stops: list[str] = []
    with contextlib.suppress(BrokenPipeError), open(write, "w") as f:
        console = ViewConsole(file=f, width=80)
        console.when_gone = lambda: stops.append("stop")
        console.print("first")  # EPIPE: no SystemExit
        console.print("second")  # quiet now: nothing written, no second stop
    assert console.gone and console.quiet and stops == ["stop"]
