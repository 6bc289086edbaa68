"""What the exchange publishes to WebSocket sessions, independent of the engine's types.

``adapter.py`` turns engine events into these items; ``session.py`` turns them into
frames for one connection (filtering by subscription and by owner). Keeping this seam
small means the engine and the wire protocol can change separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..core.messages import (
    FillBody,
    OrderbookDeltaBody,
    OrderbookSnapshotBody,
    OrderGroupBody,
    TickerBody,
    TradeBody,
    UserOrderBody,
)

__all__ = [
    "BookChange",
    "FeedItem",
    "GroupChange",
    "MarketView",
    "OrderChange",
    "TradePrint",
    "UserFill",
]


@dataclass(frozen=True, slots=True)
class BookChange:
    """A public level change; ``owner`` is the user whose order caused it, if any.

    ``body`` carries the own-order annotations (``client_order_id``, ``subaccount``,
    ``last_update_reason``); sessions of other users get them stripped.
    """

    body: OrderbookDeltaBody
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class TradePrint:
    body: TradeBody


@dataclass(frozen=True, slots=True)
class UserFill:
    user_id: str
    body: FillBody


@dataclass(frozen=True, slots=True)
class OrderChange:
    user_id: str
    body: UserOrderBody


@dataclass(frozen=True, slots=True)
class GroupChange:
    user_id: str
    body: OrderGroupBody


FeedItem = BookChange | TradePrint | UserFill | OrderChange | GroupChange


class MarketView(Protocol):
    """Read access a WebSocket session needs: market list, books, ticker state."""

    def market_tickers(self) -> list[str]:
        """Every listed market, in a stable order."""
        ...

    def book_snapshot(self, ticker: str) -> OrderbookSnapshotBody:
        """The aggregated book of ``ticker`` now."""
        ...

    def ticker_body(self, ticker: str) -> TickerBody:
        """The current ticker payload of ``ticker``."""
        ...
