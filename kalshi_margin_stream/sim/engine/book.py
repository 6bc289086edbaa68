"""Price-time-priority order book for one market.

Each side keeps ``price -> Level`` (a dict of orders in arrival order, plus the level
total) and a sorted list of prices, so best price is O(1), adding or removing an order
is O(1) at an existing level and O(log n) + a short memmove when a level appears or
disappears. Invariant: every level in the book has a positive total and at least one
order; an order is in the book iff its ``remaining > 0`` and it is resting.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal

from .orders import Order
from .views import Side

__all__ = ["BookSide", "Level", "OrderBook"]


class Level:
    __slots__ = ("price", "orders", "total")

    def __init__(self, price: Decimal) -> None:
        self.price = price
        self.orders: dict[str, Order] = {}
        self.total = Decimal(0)


class BookSide:
    """One side; ``prices`` ascending, best is the last (bids) or the first (asks)."""

    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[Decimal, Level] = {}
        self.prices: list[Decimal] = []

    def best(self) -> Level | None:
        if not self.prices:
            return None
        return self.levels[self.prices[-1] if self.is_bid else self.prices[0]]

    def add(self, order: Order) -> None:
        level = self.levels.get(order.price)
        if level is None:
            level = Level(order.price)
            self.levels[order.price] = level
            insort(self.prices, order.price)
        level.orders[order.order_id] = order
        level.total += order.remaining

    def remove(self, order: Order) -> Decimal:
        """Take the order out; returns the size it had resting (0 if it was not here)."""
        level = self.levels.get(order.price)
        if level is None or level.orders.pop(order.order_id, None) is None:
            return Decimal(0)
        level.total -= order.remaining
        if not level.orders:
            del self.levels[order.price]
            del self.prices[bisect_left(self.prices, order.price)]
        return order.remaining

    def shrink(self, order: Order, by: Decimal) -> None:
        """The order's remaining drops by ``by`` (caller updates ``order.remaining``)."""
        self.levels[order.price].total -= by

    def iter_best_first(self) -> Iterator[Level]:
        seq = reversed(self.prices) if self.is_bid else iter(self.prices)
        for p in seq:
            yield self.levels[p]

    def depth(self, n: int = 0) -> list[tuple[Decimal, Decimal]]:
        out: list[tuple[Decimal, Decimal]] = []
        for level in self.iter_best_first():
            out.append((level.price, level.total))
            if n and len(out) >= n:
                break
        return out

    def __len__(self) -> int:
        return len(self.prices)


class OrderBook:
    __slots__ = ("bids", "asks")

    def __init__(self) -> None:
        self.bids = BookSide(True)
        self.asks = BookSide(False)

    def side(self, side: Side) -> BookSide:
        return self.bids if side == "bid" else self.asks

    def opposite(self, side: Side) -> BookSide:
        return self.asks if side == "bid" else self.bids

    def best_bid(self) -> Decimal | None:
        b = self.bids.best()
        return None if b is None else b.price

    def best_ask(self) -> Decimal | None:
        a = self.asks.best()
        return None if a is None else a.price
