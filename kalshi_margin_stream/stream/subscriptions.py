"""What a consumer subscribes to, and the bounded queue that delivers it.

A spec (``Books``, ``Tickers``, ``Trades``, ``Fills``, ``Orders``,
``OrderGroups``) names a channel and a market filter; its type parameter is the
message type the :class:`Subscription` yields. Messages are the decoded Structs
themselves (no copy); book consumers read the book with ``client.book(ticker)``.

Three ways to consume one subscription:

* ``async for update in sub`` (the default), one update at a time;
* ``async for batch in sub.batches()``: a list of everything queued since the
  consumer last looked (at least one item; under load, a whole socket read);
* an inline callback (``client.on(spec, fn)`` with a plain function): ``fn`` is
  called on the socket reader itself, without a queue. It **must not block** and
  should be quick: the whole stream waits for it.

Delivery policy (the one place it lives)
----------------------------------------
The socket reader never waits on a consumer. Each subscription owns a bounded
queue (a ``deque`` of at most ``Limits.queue`` items, woken by one future).
When it is full:

* the update is not queued and is counted in ``missed``; so is every later one
  until the consumer has caught up (the queue is half empty again);
* then the consumer receives a :class:`Stale` marker saying how much it missed,
  and the repair is asked for: a books subscription gets fresh snapshots of its
  markets (their deltas are dropped until the snapshot arrives, since it
  supersedes them); ``Fills``/``Orders``/``OrderGroups`` consumers get the margin
  state reconciled from REST (``client.margin`` is then whole again); ``Tickers``
  carry latest state, so the next one repairs them; ``Trades`` consumers are told
  how many prints they missed (``Stale.missed``) and can re-read them with
  ``client.rest.iter_trades(min_ts=...)``: the socket cannot resend them.

Server error 25 (the exchange's own buffer overflow) and every resync go through
the same door: a :class:`Stale` marker before the fresh data. Nothing is dropped
without the consumer being told. An inline callback cannot fall behind (it runs
before the next frame is read), and it gets the same ``Stale`` markers in the
same order. Which book deltas to skip until a fresh snapshot is decided once,
by the session's snapshot gate: nothing here filters deltas.

Size: a little over 400 lines because the specs and the delivery policy they
are consumed under belong together; the policy is most of it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, Self, TypeVar

import msgspec

from ..core.messages import (
    Fill,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderGroupUpdates,
    ServerMessage,
    Ticker,
    Trade,
    UserOrder,
)

__all__ = [
    "Books", "Fills", "OrderGroups", "Orders", "Spec", "Stale", "Subscription", "Tickers",
    "Trades", "ticker_of",
]

T = TypeVar("T")
_log = logging.getLogger(__name__)
_YIELD_EVERY = 64
"""Queued items a consumer takes without yielding to the event loop."""


class Stale(msgspec.Struct, frozen=True):
    """Updates were missed or invalidated; fresh data follows.

    Attributes:
        channel: the channel concerned.
        tickers: the markets concerned (``None``: all of the subscription's).
        reason: ``"overflow"``, ``"gap"``, ``"error 25"``, ``"reconnect"``, ...
        missed: how many updates this consumer did not receive.
    """

    channel: str
    tickers: tuple[str, ...] | None
    reason: str
    missed: int = 0


@dataclass(frozen=True, slots=True)
class Spec(Generic[T]):
    """A channel and an optional market filter (``None`` = every market)."""

    tickers: tuple[str, ...] | None = None
    channel = ""

    def wants(self, ticker: str) -> bool:
        """Whether a message of market ``ticker`` (``""``: none) is for this spec."""
        return self.tickers is None or not ticker or ticker in self.tickers


@dataclass(frozen=True, slots=True)
class Books(Spec[OrderbookSnapshot | OrderbookDelta]):
    """Order books of ``tickers`` (required): snapshots, then deltas."""

    channel = "orderbook_delta"

    def __post_init__(self) -> None:
        if not self.tickers:
            raise ValueError("Books needs at least one market ticker")


@dataclass(frozen=True, slots=True)
class Tickers(Spec[Ticker]):
    """Top of book, volumes, marks and funding, at most once a second per market."""

    channel = "ticker"


@dataclass(frozen=True, slots=True)
class Trades(Spec[Trade]):
    """Public trades."""

    channel = "trade"


@dataclass(frozen=True, slots=True)
class Fills(Spec[Fill]):
    """Your executions."""

    channel = "fill"


@dataclass(frozen=True, slots=True)
class Orders(Spec[UserOrder]):
    """Your order state changes (full snapshots of the order)."""

    channel = "user_orders"


@dataclass(frozen=True, slots=True)
class OrderGroups(Spec[OrderGroupUpdates]):
    """Your order groups' events."""

    channel = "order_group_updates"


def ticker_of(msg: ServerMessage) -> str:
    """The market a data message concerns (``""`` when it has none)."""
    if type(msg) is UserOrder:
        return msg.msg.ticker  # user_order names it ``ticker``
    return getattr(getattr(msg, "msg", None), "market_ticker", "") or ""


class Subscription(Generic[T]):
    """An async iterator of ``T | Stale``; also an async context manager.

    ``async with`` (or :meth:`aclose`) ends it early; a bare ``async for`` lasts
    as long as the client. A fatal client error is raised from ``async for``.
    With ``callback`` set, updates go to it on the reader instead of the queue.
    """

    __slots__ = (
        "spec", "name", "wanted", "_items", "_waiter", "_queue", "_callback", "_on_close",
        "_on_overflow", "_error", "_closed", "delivered", "_consumed", "_streak", "missed",
        "missed_total", "high_water", "overflows", "_pending_stale", "_repair_on_flush",
        "_told_stale", "_slow",
    )

    def __init__(self, spec: Spec[T], *, queue: int,
                 on_close: Callable[[Subscription[T]], None],
                 on_overflow: Callable[[Subscription[T]], None],
                 callback: Callable[[T | Stale], object] | None = None) -> None:
        self.spec = spec
        self.name = spec.channel
        """``channel#n`` once the client registered it (the statistics key)."""
        self.wanted: frozenset[str] | None = (None if spec.tickers is None
                                              else frozenset(spec.tickers))
        """The market filter as a set (read by the router on every message)."""
        self._items: deque[T | Stale] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._queue = queue
        self._callback = callback
        self._on_close = on_close
        self._on_overflow = on_overflow
        self._error: BaseException | None = None
        self._closed = False
        self.delivered = 0
        """Items queued (updates and Stale markers)."""
        self._consumed = 0
        self._streak = 0
        self.missed = 0
        """Updates not delivered since the last Stale marker."""
        self.missed_total = 0
        self.high_water = 0
        self.overflows = 0
        self._pending_stale: Stale | None = None
        self._repair_on_flush = False
        self._told_stale = False
        self._slow = callback is not None
        """Anything but the plain queued case (closed, a marker waiting or just told,
        a callback): ``offer`` then takes the careful path. One flag on the hot path."""

    def __repr__(self) -> str:
        return (f"Subscription({self.spec!r}, delivered={self.delivered}, "
                f"missed={self.missed_total}, closed={self._closed})")

    # --- consumer side ------------------------------------------------------

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T | Stale:
        items = self._items
        while True:
            if items:
                # Take queued items directly, but yield every _YIELD_EVERY items so
                # a busy consumer cannot starve the reader.
                self._streak += 1
                if self._streak >= _YIELD_EVERY:
                    self._streak = 0
                    await asyncio.sleep(0)
                    continue
                item = items.popleft()
                self._consumed += 1
                if self._pending_stale is not None:
                    self._flush_stale()  # the consumer caught up: tell it, then fresh data
                return item
            await self._wait()

    async def batches(self) -> AsyncIterator[list[T | Stale]]:
        """Everything queued at once, as lists (never empty); same policy, same order."""
        items = self._items
        while True:
            if not items:
                try:
                    await self._wait()
                except StopAsyncIteration:
                    return
                continue
            batch = list(items)
            items.clear()
            self._consumed += len(batch)
            if self._pending_stale is not None:
                self._flush_stale()
            yield batch
            await asyncio.sleep(0)  # let the reader fill the next batch

    async def _wait(self) -> None:
        """Sleep until an item is queued; raise the end of the stream once closed."""
        if self._closed:
            if self._error is not None:
                raise self._error
            raise StopAsyncIteration
        self._streak = 0
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe (the channel too, if no other subscription needs it)."""
        if not self._closed:
            self._finish(None)
            self._on_close(self)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def error(self) -> BaseException | None:
        """What ended the subscription (a fatal client error, a callback's exception)."""
        return self._error

    @property
    def health(self) -> str:
        """``"resyncing"`` from a Stale marker until fresh data follows it, else ``"synced"``."""
        return "resyncing" if (self._told_stale or self._pending_stale) else "synced"

    # --- reader side (synchronous, never waits) ---------------------------------

    def offer(self, msg: T, ticker: str) -> None:
        """Queue one update, applying the delivery policy in the module docstring."""
        if self._slow:
            self._offer_carefully(msg)
            return
        items = self._items
        used = len(items)
        if used >= self._queue:
            self._overflow()
            return
        items.append(msg)
        self.delivered += 1
        if used >= self.high_water:
            self.high_water = used + 1
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _offer_carefully(self, msg: T) -> None:
        if self._closed:
            return
        if self._pending_stale is not None and not self._flush_stale():
            self._skip_until_told()
            return
        self._told_stale = False
        self._slow = self._callback is not None
        if self._callback is not None:
            self._call(msg)
            return
        self.offer(msg, "")

    def _call(self, item: T | Stale) -> None:
        """Run the inline callback; its exception ends this subscription, not the stream."""
        assert self._callback is not None
        self.delivered += 1
        self._consumed += 1
        if type(item) is not Stale:
            self._told_stale = False
        try:
            result = self._callback(item)
            if result is not None and inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()  # never awaited: say so clearly instead of a RuntimeWarning
                raise TypeError("an inline callback returned an awaitable: pass an "
                                "'async def' function to client.on to have it awaited")
        except Exception as exc:
            _log.exception("%s: callback failed; subscription ended", self.name)
            self._finish(exc)
            self._on_close(self)

    def mark_stale(self, tickers: tuple[str, ...] | None, reason: str) -> None:
        """Tell the consumer its data is invalid until fresh data (a resync, error 25...)."""
        if self._closed:
            return
        self._slow = True
        if self._pending_stale is None:
            self._pending_stale = Stale(self.spec.channel, tickers, reason)
        else:
            self._pending_stale = Stale(self.spec.channel, None,
                                        f"{self._pending_stale.reason}; {reason}")
        self._flush_stale()

    def fail(self, error: BaseException) -> None:
        """End the stream with ``error`` (raised from ``async for``)."""
        self._finish(error)

    def _overflow(self) -> None:
        self._slow = True
        self.overflows += 1
        self._skip()
        self._pending_stale = Stale(self.spec.channel, self.spec.tickers, "overflow")
        self._repair_on_flush = True

    def _skip(self) -> None:
        self.missed += 1
        self.missed_total += 1

    def _skip_until_told(self) -> None:
        """Drop an update while a Stale marker waits for room: it now covers everything.

        Whatever is skipped here (fresh snapshots included) must be repaired once
        the marker is out, exactly as after an overflow.
        """
        self._skip()
        if not self._repair_on_flush:
            self._repair_on_flush = True
            pending = self._pending_stale
            assert pending is not None
            self._pending_stale = Stale(self.spec.channel, self.spec.tickers, pending.reason)

    def _flush_stale(self) -> bool:
        """Queue the pending Stale marker once the queue is half empty.

        After an overflow, the repair (fresh snapshots, or a REST backfill) is asked
        for only now, so that what it brings lands in a queue with room for it.
        """
        stale = self._pending_stale
        if stale is None:
            return True
        if len(self._items) > self._queue // 2:
            return False
        self._pending_stale = None
        marker = Stale(stale.channel, stale.tickers, stale.reason, self.missed)
        self.missed = 0
        self._told_stale = True
        self._slow = True  # the next update clears _told_stale
        if self._callback is not None:
            self._call(marker)
        else:
            self._items.append(marker)
            self.delivered += 1
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if self._repair_on_flush:
            self._repair_on_flush = False
            self._on_overflow(self)
        return True

    def _finish(self, error: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._slow = True
        self._error = error
        self._items.clear()  # what was still queued is void: the subscription is over
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
