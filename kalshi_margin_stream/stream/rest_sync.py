"""REST behind the socket: reconciliation, backfills, and polling while it is down.

One task (owned by the client) does all of it, so REST calls never overlap and
stay inside the rate limiter's budget:

* **reconcile** the margin state (balance, positions, open orders, fills since
  the last disconnect, order groups) at start, after every reconnect, every
  ``Limits.reconcile_interval`` and when a private channel overflowed or died;
* **backfill** what the socket cannot re-send: trades after a ``trade`` gap
  (deduplicated by ``trade_id`` against what the socket delivered) and order
  groups after an ``order_group_updates`` gap;
* **poll** while the socket has been down for ``Limits.fallback_after``: every
  subscribed book is replaced from ``GET .../orderbook`` (status ``REST``, with
  ``polled_at_ms``) and delivered to book consumers as a snapshot, and the margin
  state is reconciled, every ``Limits.fallback_interval``, until the socket is
  healthy again and its own snapshots take over.

The reader never waits on any of this (cryptofeed's mistake): it only sets flags.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..config import Limits
from ..core.book import BookStatus
from ..core.margin.state import MarginState
from ..core.messages import OrderbookSnapshot, OrderbookSnapshotBody, Trade, TradeBody
from ..core.session import Session
from ..exceptions import BookDesync, KalshiError
from ..rest import RestClient

if TYPE_CHECKING:  # pragma: no cover
    from .runner import StreamRunner

__all__ = ["RestSync"]

_SEEN_TRADES = 50_000
"""How many recent trade ids are remembered for backfill deduplication."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class RestSync:
    """The client's REST worker (see module docstring)."""

    def __init__(self, rest: RestClient, session: Session, margin: MarginState, limits: Limits,
                 *, logger: logging.Logger, reconcile: bool, fallback: bool,
                 deliver: Callable[[str, Any], None]) -> None:
        self.rest = rest
        self.session = session
        self.margin = margin
        self.limits = limits
        self.log = logger
        self.reconcile_enabled = reconcile
        self.fallback_enabled = fallback
        self.deliver = deliver
        self.backfills = 0
        self.reconciliations = 0
        self.polls = 0
        self.errors = 0
        self._wake = asyncio.Event()
        self._need_reconcile = reconcile
        self._backfill: dict[str, set[str] | None] = {}
        self._down_since: float | None = time.monotonic()
        self._down_since_ms: int | None = None
        self._last_reconcile = 0.0
        self._seen_trades: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._last_trade_ms: dict[str, int] = {}
        self._trade_since: dict[str, int] = {}
        self._trade_since_all: int | None = None
        self._epoch = 0
        """Bumped on every connect and disconnect: REST data older than a change is void."""
        self._static_loaded = False
        self._lock = asyncio.Lock()

    # --- signals from the client (synchronous) ----------------------------------

    def connected(self) -> None:
        self._epoch += 1
        self._down_since = None
        self._need_reconcile = self.reconcile_enabled
        self._wake.set()

    def disconnected(self) -> None:
        self._epoch += 1
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._down_since_ms = _now_ms()
        self._wake.set()

    def request_backfill(self, channel: str, tickers: tuple[str, ...] | None,
                         reason: str) -> None:
        if channel in ("fill", "user_orders"):
            self._need_reconcile = True
        else:
            if channel == "trade":
                # Backfill from what we had *before* the frame that revealed the gap
                # (it is noted right after this call and would move the mark past
                # the missing trades); the earliest mark wins across requests.
                for ticker, ts in self._last_trade_ms.items():
                    held = self._trade_since.get(ticker)
                    self._trade_since[ticker] = ts if held is None else min(held, ts)
                if self._trade_since_all is None:
                    self._trade_since_all = min(self._last_trade_ms.values(), default=0)
            have = self._backfill.get(channel, set())
            self._backfill[channel] = None if tickers is None or have is None else (
                have | set(tickers))
        self.log.info("REST backfill of %s requested: %s", channel, reason)
        self._wake.set()

    def note_trade(self, msg: Trade) -> None:
        """Remember a trade the socket delivered (for backfill deduplication)."""
        body = msg.msg
        self._remember(body.trade_id)
        if body.ts_ms > self._last_trade_ms.get(body.market_ticker, 0):
            self._last_trade_ms[body.market_ticker] = body.ts_ms

    def _remember(self, trade_id: str) -> bool:
        if trade_id in self._seen_trades:
            return False
        self._seen_trades.add(trade_id)
        self._seen_order.append(trade_id)
        if len(self._seen_order) > _SEEN_TRADES:
            self._seen_trades.discard(self._seen_order.popleft())
        return True

    # --- the task ------------------------------------------------------------------

    async def run(self, runner: StreamRunner) -> None:
        while True:
            timeout = self._next_timeout()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            await self._step()

    def _next_timeout(self) -> float | None:
        waits: list[float] = []
        if self._down_since is not None and self.fallback_enabled:
            waits.append(self.limits.fallback_after if self.polls == 0
                         else self.limits.fallback_interval)
        if self.reconcile_enabled and self.limits.reconcile_interval:
            waits.append(self.limits.reconcile_interval)
        if self._backfill:  # a backfill REST could not serve: try again
            waits.append(self.limits.fallback_interval)
        return min(waits) if waits else None

    async def _step(self) -> None:
        now = time.monotonic()
        due = (self.reconcile_enabled and self.limits.reconcile_interval is not None
               and now - self._last_reconcile >= self.limits.reconcile_interval)
        down = self._down_since is not None and now - self._down_since >= \
            self.limits.fallback_after
        if self._need_reconcile or due or (down and self.fallback_enabled):
            self._need_reconcile = False
            await self._guarded(self.reconcile(), "reconcile")
        for channel in list(self._backfill):
            tickers = self._backfill.pop(channel)
            if not await self._guarded(self._backfill_channel(channel, tickers),
                                       f"backfill {channel}"):
                self._requeue(channel, tickers)  # REST failed: retried, never forgotten
        if down and self.fallback_enabled:
            await self._guarded(self.poll_books(), "book poll")

    async def _guarded(self, coro: Any, what: str) -> bool:
        """Run ``coro``; ``False`` if REST failed (counted and logged)."""
        try:
            await coro
        except KalshiError as exc:  # REST trouble never kills the stream
            self.errors += 1
            self.log.warning("%s failed: %s", what, exc)
            return False
        return True

    def _requeue(self, channel: str, tickers: set[str] | None) -> None:
        have = self._backfill.get(channel, set())
        self._backfill[channel] = None if tickers is None or have is None else have | tickers

    # --- the work ---------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Read the account over REST into the margin state.

        Each read is stamped with the time the request was *sent*, so socket updates
        that arrive while it is in flight are never overwritten by older REST data.
        """
        async with self._lock:  # the task's own rounds and Client.reconcile() never overlap
            await self._reconcile()

    async def _reconcile(self) -> None:
        rest, margin = self.rest, self.margin
        if not self._static_loaded:
            margin.set_markets(await rest.list_markets())
            margin.set_risk_parameters(await rest.get_risk_parameters())
            self._static_loaded = True
        sent = _now_ms()
        margin.reconcile_positions(await rest.get_positions(), as_of_ms=sent)
        margin.reconcile_balance(await rest.get_balance(), as_of_ms=sent)
        sent = _now_ms()
        orders = [o async for o in rest.iter_orders(status="resting")]
        margin.reconcile_orders(orders, as_of_ms=sent)
        since = self._down_since_ms
        min_ts = None if since is None else max(0, since // 1000 - 5)
        margin.reconcile_fills([f async for f in rest.iter_fills(min_ts=min_ts)])
        margin.reconcile_order_groups(await rest.list_order_groups())
        self.reconciliations += 1
        self._last_reconcile = time.monotonic()

    async def _backfill_channel(self, channel: str, tickers: set[str] | None) -> None:
        if channel == "order_group_updates":
            self.margin.reconcile_order_groups(await self.rest.list_order_groups())
            self.backfills += 1
        elif channel == "trade":
            await self.backfill_trades(tickers)

    async def backfill_trades(self, tickers: set[str] | None) -> int:
        """Deliver trades the socket missed, oldest first; returns how many."""
        targets: list[str | None] = list(sorted(tickers)) if tickers else [None]
        since_by_ticker, since_all = self._trade_since, self._trade_since_all
        self._trade_since, self._trade_since_all = {}, None
        found: list[Trade] = []
        try:
            for ticker in targets:
                since = since_by_ticker.get(ticker, 0) if ticker else (since_all or 0)
                min_ts = since // 1000 if since else None
                async for t in self.rest.iter_trades(ticker=ticker, min_ts=min_ts):
                    if t.trade_id in self._seen_trades:
                        continue
                    found.append(Trade(sid=0, msg=TradeBody(
                        trade_id=t.trade_id, market_ticker=t.ticker, price=t.price,
                        count=t.count, taker_side=t.taker_side, ts_ms=t.created_time_ms)))
        except BaseException:
            # The retry must reach back as far: the marks come back, the earliest winning
            # over any a newer request set meanwhile.
            for ticker, ts in since_by_ticker.items():
                held = self._trade_since.get(ticker)
                self._trade_since[ticker] = ts if held is None else min(held, ts)
            if since_all is not None:
                held_all = self._trade_since_all
                self._trade_since_all = since_all if held_all is None else min(held_all,
                                                                               since_all)
            raise
        found.sort(key=lambda m: m.msg.ts_ms)
        delivered = 0
        for msg in found:
            if self._remember(msg.msg.trade_id):
                self.note_trade(msg)
                self.deliver("trade", msg)
                delivered += 1
        self.backfills += 1
        return delivered

    async def poll_books(self) -> None:
        """Replace every subscribed book from REST (the socket is down)."""
        for ticker, book in list(self.session.books.items()):
            if self._down_since is None:
                return  # the socket came back; its snapshots take over
            epoch = self._epoch
            ob = await self.rest.get_orderbook(ticker)
            if epoch != self._epoch or self.session.books.get(ticker) is not book:
                return  # the socket came (and maybe went) meanwhile: this read is void
            try:
                book.apply_snapshot(ob.bids, ob.asks, source="rest")
            except BookDesync as exc:
                self.log.warning("REST book of %s unusable: %s", ticker, exc.reason)
                continue
            book.polled_at_ms = _now_ms()
            self.polls += 1
            self.deliver("orderbook_delta", OrderbookSnapshot(
                sid=0, seq=0, msg=OrderbookSnapshotBody(market_ticker=ticker, bid=ob.bids,
                                                        ask=ob.asks)))
            assert book.status is BookStatus.REST
