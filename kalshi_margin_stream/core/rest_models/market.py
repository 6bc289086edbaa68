"""Exchange, account and market data (rest.md §6.1, §6.2)."""

from __future__ import annotations

from decimal import Decimal

from ..messages import TickerPrice  # one definition: the WS ticker and the REST market share it
from .common import (
    RestModel,
    Side,
    rfc3339_to_ms,
)

__all__ = [
    "DEFAULT_TICK",
    "AccountLimits",
    "ApiUsageLevelGrant",
    "BidAskOHLC",
    "BucketLimit",
    "Candlestick",
    "CandlesticksResponse",
    "ExchangeStatus",
    "MarginEnabled",
    "MarginMarket",
    "MarketResponse",
    "MarketSchedule",
    "MarketsResponse",
    "Orderbook",
    "OrderbookLevel",
    "OrderbookResponse",
    "PriceOHLC",
    "TickerPrice",
    "Trade",
    "TradesResponse",
]

DEFAULT_TICK = Decimal("0.0001")
"""UNCONFIRMED: the tick used when a market's ``tick_size`` is unknown or empty.

Every crypto perp observed had ``tick_size "0.0001"`` (rest.md §3.1); the demo once
served ``""``. With a cached market, its own ``tick_size`` wins.
"""

# --- exchange and account (§6.1) -------------------------------------------


class ExchangeStatus(RestModel, frozen=True):
    exchange_active: bool
    trading_active: bool


class MarginEnabled(RestModel, frozen=True):
    enabled: bool


class BucketLimit(RestModel, frozen=True):
    """One token bucket: ``refill_rate`` tokens/s up to ``bucket_capacity``."""

    refill_rate: int
    bucket_capacity: int


class ApiUsageLevelGrant(RestModel, frozen=True):
    exchange_instance: str
    level: str
    source: str | None = None
    expires_ts: int | None = None
    """Unix seconds; ``None`` for a permanent grant."""


class AccountLimits(RestModel, frozen=True):
    """``GET /account/limits/perps``."""

    usage_tier: str
    read: BucketLimit
    write: BucketLimit
    grants: list[ApiUsageLevelGrant] = []


# --- markets (§6.2) --------------------------------------------------------


class MarketSchedule(RestModel, frozen=True):
    is_open: bool
    next_close_ts: int | None = None
    next_open_ts: int | None = None


class MarginMarket(RestModel, frozen=True):
    """A perpetual market. Only ``ticker`` is needed: old builds sent few fields."""

    ticker: str
    title: str | None = None
    market_version: int | None = None
    exchange_index: int | None = None
    contract_size: Decimal | None = None
    underlying_multiplier: Decimal | None = None
    tick_size: str | None = None
    status: str | None = None
    fractional_trading_enabled: bool | None = None
    schedule: MarketSchedule | None = None
    funding_deadband: Decimal | None = None
    funding_cap: Decimal | None = None
    funding_limit_unit: str | None = None
    leverage_estimate: Decimal | None = None
    leverage_estimates: dict[str, Decimal] | None = None
    long_leverage_estimates: dict[str, Decimal] | None = None
    short_leverage_estimates: dict[str, Decimal] | None = None
    price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_size_fp: Decimal | None = None
    ask_size_fp: Decimal | None = None
    volume: Decimal | None = None
    volume_24h: Decimal | None = None
    open_interest: Decimal | None = None
    volume_notional_value_dollars: Decimal | None = None
    volume_24h_notional_value_dollars: Decimal | None = None
    open_interest_notional_value_dollars: Decimal | None = None
    settlement_mark_price: TickerPrice | None = None
    liquidation_mark_price: TickerPrice | None = None
    reference_price: TickerPrice | None = None
    asset_class: str | None = None
    product_metadata: dict[str, object] | None = None
    funding_invalid_premium_handling: str | None = None
    halt_sources: list[str] | None = None

    @property
    def tick(self) -> Decimal | None:
        """``tick_size`` as a ``Decimal``; ``None`` when absent or empty (demo sent ``""``)."""
        return Decimal(self.tick_size) if self.tick_size else None


class MarketsResponse(RestModel, frozen=True):
    markets: list[MarginMarket] = []


class MarketResponse(RestModel, frozen=True):
    market: MarginMarket


OrderbookLevel = tuple[Decimal, Decimal]
"""``[price_dollars, quantity]``."""


class Orderbook(RestModel, frozen=True):
    """A REST book. The server's level order is unreliable (rest.md §6.2): use the helpers."""

    bids: list[OrderbookLevel] = []
    asks: list[OrderbookLevel] = []

    def sorted_bids(self) -> list[OrderbookLevel]:
        """Bids best first (price descending)."""
        return sorted(self.bids, key=lambda lv: lv[0], reverse=True)

    def sorted_asks(self) -> list[OrderbookLevel]:
        """Asks best first (price ascending)."""
        return sorted(self.asks, key=lambda lv: lv[0])


class OrderbookResponse(RestModel, frozen=True):
    orderbook: Orderbook


class BidAskOHLC(RestModel, frozen=True):
    open: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    close: Decimal | None = None


class PriceOHLC(RestModel, frozen=True):
    open: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    close: Decimal | None = None
    mean: Decimal | None = None
    previous: Decimal | None = None


class Candlestick(RestModel, frozen=True):
    end_period_ts: int
    """Unix seconds."""
    bid: BidAskOHLC | None = None
    ask: BidAskOHLC | None = None
    price: PriceOHLC | None = None
    volume: Decimal | None = None
    volume_notional_value_dollars: Decimal | None = None
    open_interest: Decimal | None = None
    open_interest_notional_value_dollars: Decimal | None = None


class CandlesticksResponse(RestModel, frozen=True):
    ticker: str | None = None
    candlesticks: list[Candlestick] = []


class Trade(RestModel, frozen=True):
    trade_id: str
    ticker: str
    count: Decimal
    price: Decimal
    taker_side: Side
    created_time: str

    @property
    def created_time_ms(self) -> int:
        return rfc3339_to_ms(self.created_time)


class TradesResponse(RestModel, frozen=True):
    trades: list[Trade] = []
    cursor: str | None = None
