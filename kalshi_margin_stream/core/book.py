"""A local order book for one market, kept from snapshots and deltas.

Theory of operation
-------------------
Levels are held in **integer ticks**: a price ``8.0961`` is ``80961`` at four
places, a size ``617.00`` is ``61700`` at two (Kalshi's fixed-point counts).
Each side is a ``dict`` tick → size plus a sorted list of its ticks, both
ascending. The best bid is the *last* bid tick, the best ask the *first* ask
tick, so reading the top of the book or the top N levels is an index or a
slice: nothing is ever re-sorted on a read. A delta that changes the size of an
existing level touches only the dict (an int addition); a level that appears or
disappears costs a ``bisect`` plus a list insert/delete.

The wire's decimal strings reach the book as they came (the delta frame decodes
its ``price``/``delta`` as text, see ``messages.OrderbookDeltaBody``). Each book
caches text → ticks, so a price it has seen costs one dict lookup, and a text it
has not seen is parsed exactly once through ``Decimal``. A value finer than the
book's scale (a fifth price decimal, a third size decimal) rescales the book to
more places, so nothing is ever rounded. Every public read and every JSON output
gives exact ``Decimal`` back: prices as the ``Decimal`` of the wire text first
seen for that tick (so ``"8.0961"`` prints as ``"8.0961"``), sizes at the size
scale (``"617.00"``). Real Kalshi strings (4-place prices, 2-place sizes)
round-trip unchanged; ``"1.0"``/``"5"`` come back as ``"1.0"``/``"5.00"``.

Invariants (checked by the property tests):

* every stored size is > 0; a level whose size reaches exactly 0 is removed;
* the tick lists hold exactly the dict keys, sorted, without duplicates;
* the book is never crossed (best bid < best ask).

An update that would break one of them (a delta making a size negative, a
negative level in a snapshot, a cross, a value that is not a finite decimal)
raises :class:`BookDesync` *before* anything changes, so a rejected update never
leaves a half-applied book. The caller then resyncs the market from a fresh
snapshot; until that snapshot arrives the book's ``status`` says it is not to
be trusted. A snapshot replaces both sides at once: no level of the previous
book survives it (no ghost levels), and it cannot be half applied.

Size: over 400 lines because the text → tick conversion (caches, rescaling)
and the levels must stay in one class: the caches are only valid for the scale
the levels are stored at.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ..exceptions import BookDesync
from .messages import OrderbookDelta, OrderbookSnapshot

__all__ = ["BookStatus", "OrderBook", "PRICE_PLACES", "SIZE_PLACES"]

PRICE_PLACES = 4
"""Decimal places of a price tick to start with (Kalshi: ``0.0001``)."""
SIZE_PLACES = 2
"""Decimal places of a size to start with (Kalshi's fixed-point counts: ``617.00``)."""
_MAX_PLACES = 12
"""Finer values than this are refused (a desync): no market is quoted so finely."""
_HUGE = 10**15
"""No real level holds this many contracts: a size at or above it is a desync."""
_CACHE_SLACK = 10_000
"""Cached texts kept beyond four per live level before a cache is reset."""
_ZERO = Decimal(0)
_UNSET: tuple[Decimal, Decimal] = (Decimal(-1), Decimal(-1))
"""``_bid_top``/``_ask_top`` not filled (compared by identity: never a real answer)."""
_LOW = -(10**40)
_HIGH = 10**40


class _NotOnScale(Exception):
    """A value with more places than the book's scale (the book rescales)."""

    def __init__(self, places: int) -> None:
        self.places = places


def _parse(text: str, places: int) -> int:
    """``text`` as an integer at ``places`` decimals, exactly.

    Raises:
        ValueError: not a finite decimal number.
        _NotOnScale: exact only with more places.
    """
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    scaled = value.scaleb(places)
    whole = int(scaled)
    if whole != scaled:
        exponent = value.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > _MAX_PLACES:
            raise ValueError(f"more than {_MAX_PLACES} decimals: {text!r}")
        raise _NotOnScale(-exponent)
    return whole


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
    """Price levels of one market: int ticks inside, exact ``Decimal`` at every read.

    Args:
        ticker: the market ticker.
    """

    __slots__ = (
        "ticker", "status", "source", "last_update", "polled_at_ms",
        "_bids", "_asks", "_bid_prices", "_ask_prices", "_pplaces", "_splaces",
        "_price_ticks", "_size_units", "_price_decimals", "_size_decimals", "_size_quantum",
        "_huge", "_bid_top", "_ask_top", "_bid_edge", "_ask_edge",
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
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_prices: list[int] = []
        self._ask_prices: list[int] = []
        self._pplaces = PRICE_PLACES
        self._splaces = SIZE_PLACES
        self._price_ticks: dict[str, int] = {}
        """Wire text → price tick (also validates: only parsed texts get in)."""
        self._size_units: dict[str, int] = {}
        """Wire text → signed size in units of the size scale."""
        self._price_decimals: dict[int, Decimal] = {}
        """Tick → the exact ``Decimal`` of the first wire text seen for it."""
        self._size_decimals: dict[int, Decimal] = {}
        self._size_quantum = Decimal(1).scaleb(-SIZE_PLACES)
        """One unit of the size scale: ``units * quantum`` is exact and keeps the places."""
        self._huge = _HUGE * 10**SIZE_PLACES
        """``_HUGE`` contracts in size units: a level this big is a desync."""
        self._bid_top: tuple[Decimal, Decimal] | None = _UNSET
        """What :meth:`best_bid` returns, kept until an update touches the best bid."""
        self._ask_top: tuple[Decimal, Decimal] | None = _UNSET
        self._bid_edge = _LOW
        """The best bid tick when ``_bid_top`` was filled: a delta at or above it clears it."""
        self._ask_edge = _HIGH
        """The best ask tick when ``_ask_top`` was filled: a delta at or below it clears it."""

    def __repr__(self) -> str:
        return (f"OrderBook({self.ticker!r}, {self.status.value}, bid={self.best_bid()}, "
                f"ask={self.best_ask()}, levels={len(self._bids)}/{len(self._asks)})")

    # --- text <-> ticks ---------------------------------------------------------

    def _price_tick(self, text: str) -> int:
        tick = self._price_ticks.get(text)
        if tick is not None:
            return tick
        cache = self._price_ticks
        if len(cache) > _CACHE_SLACK + 4 * (len(self._bids) + len(self._asks)):
            cache.clear()
            live = set(self._bids) | set(self._asks)
            self._price_decimals = {t: d for t, d in self._price_decimals.items()
                                    if t in live}
        while True:
            try:
                tick = _parse(text, self._pplaces)
                break
            except _NotOnScale as finer:
                self._rescale(price_places=finer.places)
            except ValueError as exc:
                raise BookDesync(self.ticker, f"price {exc}") from None
        self._price_ticks[text] = tick  # not ``cache``: a rescale replaced the dict
        if tick not in self._price_decimals:
            self._price_decimals[tick] = Decimal(text)
        return tick

    def _size(self, text: str) -> int:
        units = self._size_units.get(text)
        if units is not None:
            return units
        cache = self._size_units
        if len(cache) > _CACHE_SLACK:
            cache.clear()
        while True:
            try:
                units = _parse(text, self._splaces)
                break
            except _NotOnScale as finer:
                self._rescale(size_places=finer.places)
            except ValueError as exc:
                raise BookDesync(self.ticker, f"size {exc}") from None
        self._size_units[text] = units
        return units

    def _rescale(self, *, price_places: int | None = None,
                 size_places: int | None = None) -> None:
        """Move to more decimal places (rare): every stored int is multiplied up."""
        pk = 10 ** (price_places - self._pplaces) if price_places else 1
        sk = 10 ** (size_places - self._splaces) if size_places else 1
        for side in ("_bids", "_asks"):
            levels: dict[int, int] = getattr(self, side)
            setattr(self, side, {p * pk: q * sk for p, q in levels.items()})
        self._bid_prices = [p * pk for p in self._bid_prices]
        self._ask_prices = [p * pk for p in self._ask_prices]
        self._price_ticks = {t: p * pk for t, p in self._price_ticks.items()}
        self._size_units = {t: q * sk for t, q in self._size_units.items()}
        self._price_decimals = {p * pk: d for p, d in self._price_decimals.items()}
        self._size_decimals = {}
        self._bid_top = self._ask_top = _UNSET
        if price_places:
            self._pplaces = price_places
        if size_places:
            self._splaces = size_places
            self._size_quantum = Decimal(1).scaleb(-size_places)
            self._huge = _HUGE * 10**size_places

    def _price_decimal(self, tick: int) -> Decimal:
        dec = self._price_decimals.get(tick)
        if dec is None:
            dec = self._price_decimals[tick] = Decimal(tick).scaleb(-self._pplaces)
        return dec

    def _size_decimal(self, units: int) -> Decimal:
        dec = self._size_decimals.get(units)
        if dec is None:
            cache = self._size_decimals
            if len(cache) > _CACHE_SLACK:
                cache.clear()
            dec = cache[units] = Decimal(units) * self._size_quantum
        return dec

    # --- updates --------------------------------------------------------------

    def apply_snapshot(self, bids: Iterable[tuple[Decimal | str, Decimal | str]],
                       asks: Iterable[tuple[Decimal | str, Decimal | str]], *,
                       source: str = "ws") -> None:
        """Replace the whole book; marks it synced (or ``REST`` when ``source="rest"``).

        Zero-size levels are skipped; a repeated price keeps its last size.

        Raises:
            BookDesync: a negative or non-numeric value, or the snapshot is crossed
                (nothing changes).
        """
        bid_levels = [(str(p), str(q)) for p, q in bids]
        ask_levels = [(str(p), str(q)) for p, q in asks]
        for _ in range(3):  # a rescale while parsing restarts the (pure) conversion
            scale = (self._pplaces, self._splaces)
            new_bids = self._side_from_levels(bid_levels)
            new_asks = self._side_from_levels(ask_levels)
            if scale == (self._pplaces, self._splaces):
                break
        if new_bids and new_asks and max(new_bids) >= min(new_asks):
            raise BookDesync(self.ticker, f"crossed snapshot: bid "
                                          f"{self._price_decimal(max(new_bids))} >= ask "
                                          f"{self._price_decimal(min(new_asks))}")
        self._bids = new_bids
        self._asks = new_asks
        self._bid_prices = sorted(new_bids)
        self._ask_prices = sorted(new_asks)
        self._bid_top = self._ask_top = _UNSET
        self.status = BookStatus.REST if source == "rest" else BookStatus.SYNCED
        self.source = source

    def _side_from_levels(self, levels: list[tuple[str, str]]) -> dict[int, int]:
        side: dict[int, int] = {}
        for price, size in levels:
            tick = self._price_tick(price)
            units = self._size(size)
            if units > 0:
                if units >= self._huge:
                    raise BookDesync(self.ticker, f"absurd level {size} at {price} in snapshot")
                side[tick] = units
            elif units < 0:
                raise BookDesync(self.ticker, f"negative size {size} at {price} in snapshot")
            else:
                side.pop(tick, None)
        return side

    def apply_delta(self, side: str, price: Decimal | str, delta: Decimal | str) -> None:
        """Add a signed change to one level; a level reaching zero is removed.

        ``price`` and ``delta`` are the wire's decimal texts (or ``Decimal``).

        Raises:
            BookDesync: the level would go negative, the book would cross, or a
                value is not a finite decimal (nothing changes).
            ValueError: ``side`` is neither ``"bid"`` nor ``"ask"``.
        """
        # A Decimal is never equal to a cached text: it takes the parsing path.
        tick = self._price_ticks.get(price)  # type: ignore[arg-type]
        units = self._size_units.get(delta)  # type: ignore[arg-type]
        if tick is None or units is None:
            tick = self._price_tick(str(price))
            units = self._size(str(delta))
            tick = self._price_ticks[str(price)]  # a rescale may have moved the tick
        if side == "bid":
            levels, prices, bid = self._bids, self._bid_prices, True
            if tick >= self._bid_edge:  # touches the best bid (or betters it)
                self._bid_top = _UNSET
        elif side == "ask":
            levels, prices, bid = self._asks, self._ask_prices, False
            if tick <= self._ask_edge:
                self._ask_top = _UNSET
        else:
            raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")
        old = levels.get(tick)
        if old is not None:  # the common case: a resting level changes size
            new = old + units
            if 0 < new < self._huge:
                levels[tick] = new
            elif new == 0:
                del levels[tick]
                del prices[bisect_left(prices, tick)]
            else:
                raise BookDesync(self.ticker, f"{side} level {price} would be "
                                              f"{self._size_decimal(new)}")
        elif units > 0:
            if units >= self._huge:
                raise BookDesync(self.ticker, f"absurd {side} level {delta} at {price}")
            other = self._ask_prices if bid else self._bid_prices
            if other and (tick >= other[0] if bid else tick <= other[-1]):
                raise self._crossed(side, tick)
            levels[tick] = units
            insort(prices, tick)
        elif units < 0:
            raise BookDesync(self.ticker, f"delta {delta} on empty {side} level {price}")

    def _crossed(self, side: str, tick: int) -> BookDesync:
        """The desync for a new ``side`` level at ``tick`` that would cross the book."""
        if side == "bid":
            return BookDesync(self.ticker, f"bid {self._price_decimal(tick)} crosses ask "
                                           f"{self._price_decimal(self._ask_prices[0])}")
        return BookDesync(self.ticker, f"ask {self._price_decimal(tick)} crosses bid "
                                       f"{self._price_decimal(self._bid_prices[-1])}")

    def clear(self, status: BookStatus = BookStatus.STALE) -> None:
        """Drop every level (used when a market leaves a subscription)."""
        self._bids, self._asks, self._bid_prices, self._ask_prices = {}, {}, [], []
        self._bid_top = self._ask_top = _UNSET
        self.status = status

    # --- reads (exact Decimals; no sorting, no copying beyond the slice asked for) ----

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        """``(price, size)`` of the best bid, or ``None`` when the side is empty.

        Kept from the last read until an update touches the best bid, so a read
        between such updates is one attribute load.
        """
        top = self._bid_top
        if top is not _UNSET:
            return top
        prices = self._bid_prices
        if prices:
            tick = prices[-1]
            units = self._bids[tick]
            price = self._price_decimals.get(tick)  # both cached nearly always: no calls
            size = self._size_decimals.get(units)
            if price is None or size is None:
                price, size = self._price_decimal(tick), self._size_decimal(units)
            top = price, size
        else:
            tick, top = _LOW, None
        self._bid_edge, self._bid_top = tick, top
        return top

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        """``(price, size)`` of the best ask, or ``None`` when the side is empty."""
        top = self._ask_top
        if top is not _UNSET:
            return top
        prices = self._ask_prices
        if prices:
            tick = prices[0]
            units = self._asks[tick]
            price = self._price_decimals.get(tick)  # both cached nearly always: no calls
            size = self._size_decimals.get(units)
            if price is None or size is None:
                price, size = self._price_decimal(tick), self._size_decimal(units)
            top = price, size
        else:
            tick, top = _HIGH, None
        self._ask_edge, self._ask_top = tick, top
        return top

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
        price, size = self._price_decimal, self._size_decimal
        return [(price(p), size(levels[p])) for p in chosen]

    def bids(self) -> list[tuple[Decimal, Decimal]]:
        """Every bid level, best (highest) first."""
        return self.top("bid", len(self._bid_prices))

    def asks(self) -> list[tuple[Decimal, Decimal]]:
        """Every ask level, best (lowest) first."""
        return self.top("ask", len(self._ask_prices))

    def size_at(self, side: str, price: Decimal | str) -> Decimal:
        """Resting size at ``price`` (zero when there is no level)."""
        levels = self._bids if side == "bid" else self._asks
        try:
            tick = _parse(str(price), self._pplaces)
        except (ValueError, _NotOnScale):
            return _ZERO  # not a price this book can hold a level at
        units = levels.get(tick)
        return _ZERO if units is None else self._size_decimal(units)

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
        return (self._price_decimal(self._bid_prices[-1])
                + self._price_decimal(self._ask_prices[0])) / 2

    def to_json_levels(self) -> dict[str, list[list[str]]]:
        """Both sides as exact decimal strings, best level first."""
        return {
            "bids": [[str(p), str(s)] for p, s in self.bids()],
            "asks": [[str(p), str(s)] for p, s in self.asks()],
        }
