"""What every state change of the engine emits, in order.

The server turns these into WS frames without asking the engine anything else:

========================  =================================================
event                     channel
========================  =================================================
:class:`BookDelta`        ``orderbook_delta`` (owner fields only to the owner)
:class:`PublicTrade`      ``trade``
:class:`FillEvent`        ``fill`` (to ``user_id``)
:class:`OrderUpdate`      ``user_orders`` (to ``order.user_id``)
:class:`OrderGroupEvent`  ``order_group_updates`` (to ``user_id``)
:class:`TickerUpdate`     ``ticker`` (coalesce to 1/s per market)
========================  =================================================

:class:`FundingSettled`, :class:`FundingPayment` and :class:`LiquidationTriggered`
have no WS channel; they feed REST history and the simulator's counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .views import MarketStats, OrderView, Side

__all__ = [
    "Event",
    "BookDelta",
    "PublicTrade",
    "FillEvent",
    "OrderUpdate",
    "OrderGroupEvent",
    "TickerUpdate",
    "FundingSettled",
    "FundingPayment",
    "LiquidationTriggered",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BookDelta:
    """Resting size at ``price`` on ``side`` changed by ``delta`` (signed, never 0).

    The owner fields are set when a specific order caused the change (always, in this
    engine); send ``client_order_id``/``subaccount``/``last_update_reason`` only to the
    subscriber whose user is ``user_id``.
    """

    ticker: str
    side: Side
    price: Decimal
    delta: Decimal
    ts_ms: int
    user_id: str | None = None
    client_order_id: str | None = None
    subaccount: int | None = None
    last_update_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    """One match between a taker and a maker (``taker_side`` = the aggressor's side)."""

    trade_id: str
    ticker: str
    price: Decimal
    count: Decimal
    taker_side: Side
    ts_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FillEvent:
    """One side of one trade, for the order's owner (WS ``fill`` and REST fills)."""

    user_id: str
    subaccount: int
    fill_id: str
    trade_id: str
    order_id: str
    client_order_id: str
    ticker: str
    is_taker: bool
    side: Side
    price: Decimal
    count: Decimal
    fee_cost: Decimal
    post_position: Decimal
    entry_price: Decimal
    """Entry price of the position the fill's realized PnL was measured against."""
    realized_pnl: Decimal
    order_source: Literal["user", "system"]
    ts_ms: int
    order_reason: str | None = None
    """System fills only: ``liquidation`` or ``take_profit_stop_loss``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdate:
    """Full snapshot of an order after a change (create, fill, amend, decrease, cancel)."""

    order: OrderView


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderGroupEvent:
    """``order_group_updates``; ``contracts_limit`` only for created / limit_updated."""

    user_id: str
    subaccount: int
    event_type: Literal["created", "triggered", "reset", "deleted", "limit_updated"]
    order_group_id: str
    ts_ms: int
    contracts_limit: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerUpdate:
    """The market's ticker-worthy state changed (L1, trade, marks or funding estimate)."""

    stats: MarketStats


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingSettled:
    """A funding interval closed for a market (one historical funding-rate row)."""

    ticker: str
    funding_time_ms: int
    funding_rate: Decimal
    mark_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPayment:
    """One user's funding cash flow (``amount`` > 0 received, < 0 paid)."""

    user_id: str
    subaccount: int
    ticker: str
    funding_time_ms: int
    funding_rate: Decimal
    mark_price: Decimal
    quantity: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class LiquidationTriggered:
    """A subaccount's margin ratio reached the liquidation threshold; system orders follow."""

    user_id: str
    subaccount: int
    margin_ratio: Decimal
    ts_ms: int


Event = (
    BookDelta
    | PublicTrade
    | FillEvent
    | OrderUpdate
    | OrderGroupEvent
    | TickerUpdate
    | FundingSettled
    | FundingPayment
    | LiquidationTriggered
)
