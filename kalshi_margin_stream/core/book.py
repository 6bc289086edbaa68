"""A local order book for one market, kept from snapshots and deltas.

Theory of operation
-------------------
Each side is a ``dict`` price → size plus a sorted list of its prices, both
ascending. The best bid is the *last* bid price, the best ask the *first* ask
price, so reading the top of the book or the top N levels is an index or a
slice: nothing is ever re-sorted on a read. A delta that changes the size of an
existing level touches only the dict; a level that appears or disappears costs a
``bisect`` plus a list insert/delete (a memmove, cheap even at 2,000 levels).

Invariants (checked by the property tests):

* every stored size is > 0; a level whose size reaches exactly 0 is removed;
* the price lists hold exactly the dict keys, sorted, without duplicates;
* the book is never crossed (best bid < best ask).

An update that would break one of them (a delta making a size negative, a
negative level in a snapshot, a cross) raises :class:`BookDesync` *before*
anything changes, so a rejected update never leaves a half-applied book. The
caller then resyncs the market from a fresh snapshot; until that snapshot
arrives the book's ``status`` says it is not to be trusted.

A snapshot replaces both sides at once: no level of the previous book survives
it (no ghost levels), and it cannot be half applied.

Hashing a freshly decoded ``Decimal`` costs ~0.6 µs (``_decimal`` computes it
with modular exponentiation and caches it per object), which would dominate a
delta. So each book interns its prices: the wire string (``str()`` of a
``Decimal`` is ~65 ns and gives back the exchange's text) maps to one ``Decimal``
object whose hash is already cached. Equal values written differently
(``"8.0961"``/``"8.09610"``) still meet in the level dict, which compares by
value. The intern table is dropped whenever it outgrows the book by far, so a
long session with drifting prices stays bounded.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ..exceptions import BookDesync
from .messages import OrderbookDelta, OrderbookSnapshot

__all__ = ["BookStatus", "OrderBook"]

_ZERO = Decimal(0)
_HUGE = Decimal("1e15")
"""No real level holds this many contracts: a size at or above it (or infinite) is a desync."""
_INTERN_SLACK = 10_000
"""Interned price strings kept beyond four per live level before the table is reset."""


class BookStatus(StrEnum):
    """How far a book can be trusted."""

    SYNCED = "synced"
    """Built from a snapshot and every delta since, in sequence."""
    RESYNCING = "resyncing"
    """A gap or desync was seen; a fresh snapshot has been asked for."""
    STALE = "stale"
    """The connection is down (or has not delivered a snapshot yet)."""
    REST = "rest"
    """Polled over REST while the socket is down: whole, but not sequenced."""


class OrderBook:
    """Price levels of one market; sizes and prices are ``Decimal``.

    Args:
        ticker: the market ticker.
    """

    __slots__ = (
        "ticker", "status", "source", "last_update", "polled_at_ms",
        "_bids", "_asks", "_bid_prices", "_ask_prices", "_intern",
    )

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.status = BookStatus.STALE
        self.source = "ws"
        """Where the levels came from: ``"ws"`` or ``"rest"`` (fallback polling)."""
        self.last_update: OrderbookSnapshot | OrderbookDelta | None = None
        """The newest message applied (its ``ts_ms``/``sending_ts_ms`` date the book)."""
        self.polled_at_ms: int | None = None
        """When the REST fallback last replaced the levels (Unix ms)."""
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._bid_prices: list[Decimal] = []
        self._ask_prices: list[Decimal] = []
        self._intern: dict[str, Decimal] = {}

    def __repr__(self) -> str:
        return (f"OrderBook({self.ticker!r}, {self.status.value}, bid={self.best_bid()}, "
                f"ask={self.best_ask()}, levels={len(self._bids)}/{len(self._asks)})")

    # --- updates --------------------------------------------------------------

    def apply_snapshot(self, bids: Iterable[tuple[Decimal, Decimal]],
                       asks: Iterable[tuple[Decimal, Decimal]], *, source: str = "ws") -> None:
        """Replace the whole book; marks it synced (or ``REST`` when ``source="rest"``).

        Zero-size levels are skipped; a repeated price keeps its last size.

        Raises:
            BookDesync: a negative size, or the snapshot is crossed (nothing changes).
        """
        new_bids = self._side_from_levels(bids)
        new_asks = self._side_from_levels(asks)
        if new_bids and new_asks and max(new_bids) >= min(new_asks):
            raise BookDesync(self.ticker, f"crossed snapshot: bid {max(new_bids)} >= "
                                          f"ask {min(new_asks)}")
        self._bids = new_bids
        self._asks = new_asks
        self._bid_prices = sorted(new_bids)
        self._ask_prices = sorted(new_asks)
        self.status = BookStatus.REST if source == "rest" else BookStatus.SYNCED
        self.source = source

    def _side_from_levels(self, levels: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal,
                                                                                  Decimal]:
        side: dict[Decimal, Decimal] = {}
        for price, size in levels:
            if not (price.is_finite() and size.is_finite()):
                raise BookDesync(self.ticker, f"non-finite level {size} at {price} in snapshot")
            if size > _ZERO:
                if not (size < _HUGE and price.is_finite()):
                    raise BookDesync(self.ticker, f"absurd level {size} at {price} in snapshot")
                side[price] = size
            elif size < _ZERO:
                raise BookDesync(self.ticker, f"negative size {size} at {price} in snapshot")
            else:
                side.pop(price, None)
        return side

    def apply_delta(self, side: str, price: Decimal, delta: Decimal) -> None:
        """Add a signed change to one level; a level reaching zero is removed.

        Raises:
            BookDesync: the level would go negative, or the book would cross
                (nothing changes).
            ValueError: ``side`` is neither ``"bid"`` nor ``"ask"``.
        """
        if side == "bid":
            levels, prices = self._bids, self._bid_prices
        elif side == "ask":
            levels, prices = self._asks, self._ask_prices
        else:
            raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")
        key = self._intern.get(str(price))
        if key is None:
            key = self._intern_price(price)
        try:
            old = levels.get(key)
            if old is None:
                if delta > _ZERO:
                    if not (delta < _HUGE and key.is_finite()):
                        raise BookDesync(self.ticker, f"absurd {side} level {delta} at {price}")
                    self._check_cross(side, key)
                    levels[key] = delta
                    insort(prices, key)
                elif delta < _ZERO:
                    raise BookDesync(self.ticker, f"delta {delta} on empty {side} level {price}")
                return
            new = old + delta
            if _ZERO < new < _HUGE:
                levels[key] = new
            elif new == _ZERO:
                del levels[key]
                del prices[bisect_left(prices, key)]
            else:
                raise BookDesync(self.ticker, f"{side} level {price} would be {new}")
        except InvalidOperation:  # a NaN delta: the peer's value, never applied
            raise BookDesync(self.ticker, f"{side} delta {delta} at {price}") from None

    def _intern_price(self, price: Decimal) -> Decimal:
        if not price.is_finite():
            raise BookDesync(self.ticker, f"non-finite price {price}")
        intern = self._intern
        if len(intern) > _INTERN_SLACK + 4 * (len(self._bids) + len(self._asks)):
            intern.clear()
        intern[str(price)] = price
        return price

    def _check_cross(self, side: str, price: Decimal) -> None:
        if side == "bid":
            if self._ask_prices and price >= self._ask_prices[0]:
                raise BookDesync(self.ticker, f"bid {price} crosses ask {self._ask_prices[0]}")
        elif self._bid_prices and price <= self._bid_prices[-1]:
            raise BookDesync(self.ticker, f"ask {price} crosses bid {self._bid_prices[-1]}")

    def clear(self, status: BookStatus = BookStatus.STALE) -> None:
        """Drop every level (used when a market leaves a subscription)."""
        self._bids, self._asks, self._bid_prices, self._ask_prices = {}, {}, [], []
        self.status = status

    # --- reads (no sorting, no copying beyond the slice asked for) ------------

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        """``(price, size)`` of the best bid, or ``None`` when the side is empty."""
        if not self._bid_prices:
            return None
        price = self._bid_prices[-1]
        return price, self._bids[price]

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        """``(price, size)`` of the best ask, or ``None`` when the side is empty."""
        if not self._ask_prices:
            return None
        price = self._ask_prices[0]
        return price, self._asks[price]

    def top(self, side: str, n: int) -> list[tuple[Decimal, Decimal]]:
        """The best ``n`` levels of one side, best first."""
        if side == "bid":
            levels = self._bids
            chosen = self._bid_prices[:-n - 1:-1] if n > 0 else []
        elif side == "ask":
            levels = self._asks
            chosen = self._ask_prices[:n] if n > 0 else []
        else:
            raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")
        return [(p, levels[p]) for p in chosen]

    def bids(self) -> list[tuple[Decimal, Decimal]]:
        """Every bid level, best (highest) first."""
        return self.top("bid", len(self._bid_prices))

    def asks(self) -> list[tuple[Decimal, Decimal]]:
        """Every ask level, best (lowest) first."""
        return self.top("ask", len(self._ask_prices))

    def size_at(self, side: str, price: Decimal) -> Decimal:
        """Resting size at ``price`` (zero when there is no level)."""
        levels = self._bids if side == "bid" else self._asks
        return levels.get(price, _ZERO)

    @property
    def depth(self) -> tuple[int, int]:
        """Number of bid and ask levels."""
        return len(self._bid_prices), len(self._ask_prices)

    @property
    def last_ts_ms(self) -> int | None:
        """Exchange time of the newest applied delta (snapshots carry none)."""
        msg = self.last_update
        return msg.msg.ts_ms if type(msg) is OrderbookDelta else None

    @property
    def last_sending_ts_ms(self) -> int | None:
        """``sending_ts_ms`` of the newest applied message."""
        msg = self.last_update
        return None if msg is None else msg.sending_ts_ms

    @property
    def is_synced(self) -> bool:
        """True when the levels can be trusted (built from a snapshot, no gap since)."""
        return self.status is BookStatus.SYNCED

    def mid(self) -> Decimal | None:
        """Midpoint of best bid and best ask, when both exist."""
        if not self._bid_prices or not self._ask_prices:
            return None
        return (self._bid_prices[-1] + self._ask_prices[0]) / 2

    def to_json_levels(self) -> dict[str, list[list[str]]]:
        """Both sides as the exchange's decimal strings, best level first."""
        return {
            "bids": [[str(p), str(s)] for p, s in self.bids()],
            "asks": [[str(p), str(s)] for p, s in self.asks()],
        }
