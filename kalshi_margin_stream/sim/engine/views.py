"""Read-only snapshots the engine hands out: orders, markets, books, accounts, risk.

All money, prices and counts are exact ``Decimal``; times are epoch milliseconds. The
server formats them (``fmt_dollars``/``fmt_count``, RFC 3339) — the engine never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from ...core.messages import SelfTradePrevention, Side, TimeInForce
from .config import MarketConfig

__all__ = [
    "Side",
    "TimeInForce",
    "SelfTradePrevention",
    "OrderView",
    "PricePoint",
    "MarketStats",
    "BookView",
    "Page",
    "PositionView",
    "SubaccountBalance",
    "BalanceView",
    "RiskPositionView",
    "RiskView",
    "RiskParameters",
    "NotionalLimitView",
    "FeeTiers",
    "FundingEstimate",
    "FundingRateRecord",
    "OrderGroupView",
    "TransferView",
    "ExchangeStatus",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """Everything REST ``MarginOrder`` and WS ``user_order`` carry about one order.

    ``status`` is derived (Kalshi has no status field): ``resting`` while
    ``remaining_count > 0``, else ``executed`` if fully filled, else ``canceled``.
    """

    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    side: Side
    price: Decimal
    initial_count: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    last_update_reason: str
    created_ts_ms: int
    last_update_ts_ms: int
    subaccount: int
    time_in_force: TimeInForce
    self_trade_prevention_type: SelfTradePrevention
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    expiration_ts_ms: int | None = None
    order_group_id: str | None = None
    order_source: Literal["user", "system"] = "user"
    order_reason: str | None = None
    """``"liquidation"`` for system orders."""
    fill_cost: Decimal = Decimal(0)
    """Sum of price x count over this order's fills (for averages)."""
    fees_paid: Decimal = Decimal(0)

    @property
    def status(self) -> Literal["resting", "executed", "canceled"]:
        if self.remaining_count > 0:
            return "resting"
        return "executed" if self.fill_count == self.initial_count else "canceled"

    @property
    def total_count(self) -> Decimal:
        """Current total size (fill_count + remaining_count): what amend's ``count`` means."""
        return self.fill_count + self.remaining_count


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A price with its source time (``{price, ts_ms}`` on the wire)."""

    price: Decimal
    ts_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketStats:
    """A market's config plus live state: L1, last trade, volumes, marks, funding estimate.

    ``bid``/``ask``/``price`` are None when there is no resting bid/ask/trade yet.
    ``ts_ms`` is the time of the last change (ticker ``ts_ms``).
    """

    config: MarketConfig
    status: str
    price: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    bid_size: Decimal
    ask_size: Decimal
    last_trade_size: Decimal
    volume: Decimal
    volume_notional: Decimal
    volume_24h: Decimal
    volume_24h_notional: Decimal
    open_interest: Decimal
    open_interest_notional: Decimal
    reference_price: PricePoint
    settlement_mark_price: PricePoint
    liquidation_mark_price: PricePoint
    funding_rate: Decimal
    next_funding_time_ms: int
    funding_ts_ms: int
    ts_ms: int

    @property
    def ticker(self) -> str:
        return self.config.ticker


@dataclass(frozen=True, slots=True, kw_only=True)
class BookView:
    """Aggregated book: ``(price, size)`` levels, **best first** on both sides."""

    ticker: str
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a paged listing; ``cursor == ""`` means no more pages."""

    items: list[T]
    cursor: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionView:
    """One open position (REST ``MarginPosition`` plus engine extras).

    ``roe`` is a percent (unrealized / margin_used x 100), None when margin_used is 0.
    """

    user_id: str
    subaccount: int
    ticker: str
    position: Decimal
    entry_price: Decimal
    cost_basis: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    margin_used: Decimal
    fees: Decimal
    roe: Decimal | None
    is_portfolio: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SubaccountBalance:
    """One entry of ``subaccount_balances`` (always fully computed; the server may zero
    ``resting_orders_margin``/``available_balance`` without ``compute_available_balance``)."""

    subaccount: int
    cash: Decimal
    position_value: Decimal
    account_equity: Decimal
    maintenance_margin: Decimal
    initial_margin: Decimal
    resting_orders_margin: Decimal
    available_balance: Decimal
    margin_ratio: Decimal | None
    """maintenance_margin / account_equity (margin-model.md M10): None when MM is 0,
    ``Decimal("Infinity")`` when equity <= 0 with MM > 0. Not a Kalshi field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceView:
    settled_funds: Decimal
    """Sum of cash over the user's subaccounts."""
    subaccount_balances: list[SubaccountBalance]


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskPositionView:
    subaccount: int
    ticker: str
    position: Decimal
    mark_price: Decimal
    position_notional: Decimal
    maintenance_margin_required: Decimal
    position_leverage: Decimal | None
    estimated_liquidation_price: Decimal | None
    is_portfolio: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskView:
    account_leverage: Decimal | None
    total_position_notional: Decimal
    total_maintenance_margin: Decimal
    positions: list[RiskPositionView]


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskParameters:
    liquidation_margin_ratio_threshold: Decimal
    queue_entry_margin_ratio_threshold: Decimal
    initial_margin_multiplier: dict[str, Decimal]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotionalLimitView:
    default_notional_value_risk_limit: Decimal
    notional_value_risk_limits_by_market_ticker: dict[str, Decimal]
    total_current_usage: Decimal
    current_usage_by_market_ticker: dict[str, Decimal]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeTiers:
    maker_fee_rates: dict[str, Decimal]
    taker_fee_rates: dict[str, Decimal]
    fee_schedule: str
    tier_rates: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    """``(tier, maker_rate, taker_rate)`` rows of the schedule, entry tier first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingEstimate:
    ticker: str
    computed_time_ms: int
    funding_rate: Decimal
    mark_price: Decimal
    next_funding_time_ms: int
    premium_index: Decimal | None
    premium_index_ts_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingRateRecord:
    ticker: str
    funding_time_ms: int
    funding_rate: Decimal
    mark_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderGroupView:
    order_group_id: str
    user_id: str
    subaccount: int
    contracts_limit: Decimal
    exchange_index: int
    is_auto_cancel_enabled: bool
    triggered: bool
    order_ids: list[str]
    """Resting orders currently in the group."""
    window_count: Decimal
    """Contracts matched in the rolling window as of the last update."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferView:
    transfer_id: str
    source: str
    destination: str
    amount: Decimal
    status: str
    created_ts_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeStatus:
    exchange_active: bool
    trading_active: bool
