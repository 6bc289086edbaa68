"""What a consumer subscribes to, and the bounded queue that delivers it.

A spec (``Books``, ``Tickers``, ``Trades``, ``Fills``, ``Orders``,
``OrderGroups``) names a channel and a market filter; its type parameter is the
message type the :class:`Subscription` yields. Messages are the decoded Structs
themselves (no copy); book consumers read the book with ``client.book(ticker)``.

Delivery policy (the one place it lives)
----------------------------------------
The socket reader never waits on a consumer. Each subscription owns a bounded
anyio memory stream (``Limits.queue``). When it is full:

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
without the consumer being told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, Self, TypeVar

import anyio
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

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
        return self.tickers is None or ticker in self.tickers


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
    """

    def __init__(self, spec: Spec[T], *, queue: int,
                 on_close: Callable[[Subscription[T]], None],
                 on_overflow: Callable[[Subscription[T]], None]) -> None:
        self.spec = spec
        self._send: MemoryObjectSendStream[T | Stale]
        self._recv: MemoryObjectReceiveStream[T | Stale]
        self._send, self._recv = anyio.create_memory_object_stream[T | Stale](queue)
        self._queue = queue
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
        self._awaiting: set[str] = set()
        """Book markets whose deltas are skipped until their fresh snapshot."""

    def __repr__(self) -> str:
        return (f"Subscription({self.spec!r}, delivered={self.delivered}, "
                f"missed={self.missed_total}, closed={self._closed})")

    # --- consumer side ------------------------------------------------------

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T | Stale:
        try:
            # anyio's receive() yields to the loop even when an item waits: take queued
            # items directly (one loop round trip per message saved), but still yield
            # every _YIELD_EVERY items so a busy consumer cannot starve the reader.
            self._streak += 1
            if self._streak < _YIELD_EVERY:
                try:
                    item = self._recv.receive_nowait()
                except anyio.WouldBlock:
                    self._streak = 0
                    item = await self._recv.receive()
            else:
                self._streak = 0
                item = await self._recv.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None
        self._consumed += 1
        if self._pending_stale is not None:
            self._flush_stale()  # the consumer caught up: tell it, then fresh data
        return item

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
        self._recv.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def health(self) -> str:
        """``"synced"``, or ``"resyncing"`` while fresh data is awaited after a loss."""
        return "resyncing" if (self._awaiting or self._pending_stale) else "synced"

    # --- reader side (synchronous, never waits) ---------------------------------

    def offer(self, msg: T, ticker: str) -> None:
        """Queue one update, applying the delivery policy in the module docstring."""
        if self._closed:
            return
        if self._pending_stale is not None and not self._flush_stale():
            self._skip_until_told()
            return
        awaiting = self._awaiting
        if awaiting and ticker in awaiting and type(msg) is not OrderbookSnapshot:
            self._skip()  # superseded by the fresh snapshot on its way
            return
        try:
            self._send.send_nowait(msg)
        except anyio.WouldBlock:
            self._overflow()
            return
        if awaiting:
            awaiting.discard(ticker)
        self.delivered += 1
        used = self.delivered - self._consumed
        if used > self.high_water:
            self.high_water = used

    def mark_stale(self, tickers: tuple[str, ...] | None, reason: str) -> None:
        """Tell the consumer its data is invalid until fresh data (a resync, error 25...)."""
        if self._closed:
            return
        if self.spec.channel == "orderbook_delta":
            mine = tickers if tickers is not None else self.spec.tickers or ()
            self._awaiting.update(t for t in mine if self.spec.wants(t))
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
        self.overflows += 1
        self._skip()
        if self.spec.channel == "orderbook_delta":
            self._awaiting.update(self.spec.tickers or ())
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
            if self.spec.channel == "orderbook_delta":
                self._awaiting.update(self.spec.tickers or ())
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
        if self.delivered - self._consumed > self._queue // 2:
            return False
        try:
            self._send.send_nowait(Stale(stale.channel, stale.tickers, stale.reason,
                                         self.missed))
        except anyio.WouldBlock:  # pragma: no cover - checked just above
            return False
        self.delivered += 1
        self._pending_stale = None
        self.missed = 0
        if self._repair_on_flush:
            self._repair_on_flush = False
            self._on_overflow(self)
        return True

    def _finish(self, error: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._error = error
        self._send.close()
        self._recv.close()  # what was still queued is void: the subscription is over
