"""Typed bodies of the margin REST API: every request we send, every answer we read.

Field names follow the wire (rest.md §6, ``perps_openapi.yaml``). Conventions:

* every price, amount and count is a :class:`decimal.Decimal`, decoded by msgspec
  straight from the wire's decimal string (see ``core/numbers.py``); rates,
  leverage and thresholds, which Kalshi sends as JSON numbers, decode into
  ``Decimal`` from the number's own text, like the socket's funding rate;
* optional fields default to ``None`` and are omitted when encoding
  (``omit_defaults``), so the simulator can encode these same Structs; a list the
  server may leave out (``{}`` for "no order groups") defaults to empty;
* unknown fields are ignored, so new server fields never break decoding;
* **timestamps**: REST objects carry RFC 3339 strings (``created_time``). We keep
  the wire string in the field (so re-encoding is faithful) and expose it as int
  Unix milliseconds, like the socket's ``*_ts_ms``, through a ``*_ms`` property
  (``order.created_time_ms``) built on :func:`rfc3339_to_ms`: an exact integer
  conversion (sub-millisecond digits are truncated toward the past), about 1 µs,
  done only when read.
* ``tick_size`` stays a string: the demo has served ``""``; ``MarginMarket.tick``
  gives the ``Decimal`` (or ``None``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

import msgspec

__all__ = [
    "AccountLimits",
    "AmendOrderRequest",
    "AmendOrderResponse",
    "ApiUsageLevelGrant",
    "BalanceResponse",
    "BidAskOHLC",
    "BucketLimit",
    "CancelOrderResponse",
    "Candlestick",
    "CandlesticksResponse",
    "CreateOrderGroupRequest",
    "CreateOrderGroupResponse",
    "CreateOrderRequest",
    "CreateOrderResponse",
    "CreateSubaccountResponse",
    "DecreaseOrderRequest",
    "DecreaseOrderResponse",
    "EmptyResponse",
    "ExchangeInstance",
    "ExchangeStatus",
    "FeeTierRate",
    "FeeTierRatesResponse",
    "FeeTiers",
    "Fill",
    "FillsResponse",
    "FundingEstimate",
    "FundingHistoryEntry",
    "FundingHistoryResponse",
    "HistoricalFundingRate",
    "HistoricalFundingRatesResponse",
    "IntraExchangeTransfer",
    "IntraExchangeTransferRequest",
    "IntraExchangeTransferResponse",
    "IntraExchangeTransferStatusResponse",
    "IntraExchangeTransfersResponse",
    "LastUpdateReason",
    "MarginEnabled",
    "MarginMarket",
    "MarginOrder",
    "MarketResponse",
    "MarketSchedule",
    "MarketsResponse",
    "NotionalRiskLimit",
    "OrderGroup",
    "OrderGroupDetail",
    "OrderGroupsResponse",
    "OrderResponse",
    "Orderbook",
    "OrderbookLevel",
    "OrderbookResponse",
    "OrdersResponse",
    "Position",
    "PositionsResponse",
    "PremiumIndexPoint",
    "PremiumIndexResponse",
    "PriceOHLC",
    "RiskParameters",
    "RiskPosition",
    "RiskResponse",
    "SelfTradePrevention",
    "Side",
    "SubaccountBalance",
    "SubaccountTransferRequest",
    "TickerPrice",
    "TimeInForce",
    "Trade",
    "TradesResponse",
    "UpdateOrderGroupLimitRequest",
    "rfc3339_to_ms",
]

Side = Literal["bid", "ask"]
TimeInForce = Literal["fill_or_kill", "good_till_canceled", "immediate_or_cancel"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]
ExchangeInstance = Literal["event_contract", "margined"]
LastUpdateReason = str
"""``""``, ``Decrease``, ``Amend``, ``MarginCancel``, ... kept a plain string: new values appear."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def rfc3339_to_ms(text: str) -> int:
    """Unix milliseconds of an RFC 3339 timestamp (``2026-06-12T04:07:38.474541Z``).

    Exact integer arithmetic; digits below the millisecond are truncated (floor).
    A timestamp without an offset is taken as UTC.

    Raises:
        ValueError: not an RFC 3339 / ISO 8601 timestamp.
    """
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _MS


def _ms(text: str | None) -> int | None:
    return None if not text else rfc3339_to_ms(text)


class _Model(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of every REST body."""


class EmptyResponse(_Model, frozen=True):
    """``{}``: the answer of group reset/trigger/delete/limit and subaccount transfer."""


# --- exchange and account (§6.1) -------------------------------------------


class ExchangeStatus(_Model, frozen=True):
    exchange_active: bool
    trading_active: bool


class MarginEnabled(_Model, frozen=True):
    enabled: bool


class BucketLimit(_Model, frozen=True):
    """One token bucket: ``refill_rate`` tokens/s up to ``bucket_capacity``."""

    refill_rate: int
    bucket_capacity: int


class ApiUsageLevelGrant(_Model, frozen=True):
    exchange_instance: str
    level: str
    source: str | None = None
    expires_ts: int | None = None
    """Unix seconds; ``None`` for a permanent grant."""


class AccountLimits(_Model, frozen=True):
    """``GET /account/limits/perps``."""

    usage_tier: str
    read: BucketLimit
    write: BucketLimit
    grants: list[ApiUsageLevelGrant] = []


# --- markets (§6.2) --------------------------------------------------------


class TickerPrice(_Model, frozen=True):
    price: Decimal
    ts_ms: int | None = None


class MarketSchedule(_Model, frozen=True):
    is_open: bool
    next_close_ts: int | None = None
    next_open_ts: int | None = None


class MarginMarket(_Model, frozen=True):
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


class MarketsResponse(_Model, frozen=True):
    markets: list[MarginMarket] = []


class MarketResponse(_Model, frozen=True):
    market: MarginMarket


OrderbookLevel = tuple[Decimal, Decimal]
"""``[price_dollars, quantity]``."""


class Orderbook(_Model, frozen=True):
    """A REST book. The server's level order is unreliable (rest.md §6.2): use the helpers."""

    bids: list[OrderbookLevel] = []
    asks: list[OrderbookLevel] = []

    def sorted_bids(self) -> list[OrderbookLevel]:
        """Bids best first (price descending)."""
        return sorted(self.bids, key=lambda lv: lv[0], reverse=True)

    def sorted_asks(self) -> list[OrderbookLevel]:
        """Asks best first (price ascending)."""
        return sorted(self.asks, key=lambda lv: lv[0])


class OrderbookResponse(_Model, frozen=True):
    orderbook: Orderbook


class BidAskOHLC(_Model, frozen=True):
    open: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    close: Decimal | None = None


class PriceOHLC(_Model, frozen=True):
    open: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    close: Decimal | None = None
    mean: Decimal | None = None
    previous: Decimal | None = None


class Candlestick(_Model, frozen=True):
    end_period_ts: int
    """Unix seconds."""
    bid: BidAskOHLC | None = None
    ask: BidAskOHLC | None = None
    price: PriceOHLC | None = None
    volume: Decimal | None = None
    volume_notional_value_dollars: Decimal | None = None
    open_interest: Decimal | None = None
    open_interest_notional_value_dollars: Decimal | None = None


class CandlesticksResponse(_Model, frozen=True):
    ticker: str | None = None
    candlesticks: list[Candlestick] = []


class Trade(_Model, frozen=True):
    trade_id: str
    ticker: str
    count: Decimal
    price: Decimal
    taker_side: Side
    created_time: str

    @property
    def created_time_ms(self) -> int:
        return rfc3339_to_ms(self.created_time)


class TradesResponse(_Model, frozen=True):
    trades: list[Trade] = []
    cursor: str | None = None


# --- orders (§6.3) ---------------------------------------------------------


class CreateOrderRequest(_Model, frozen=True):
    """``POST /margin/orders``. ``expiration_time`` is Unix seconds."""

    ticker: str
    client_order_id: str
    side: Side
    count: Decimal
    price: Decimal
    time_in_force: TimeInForce
    self_trade_prevention_type: SelfTradePrevention
    market_id: str | None = None
    expiration_time: int | None = None
    post_only: bool | None = None
    cancel_order_on_pause: bool | None = None
    reduce_only: bool | None = None
    subaccount: int | None = None
    order_group_id: str | None = None
    market_version: int | None = None


class CreateOrderResponse(_Model, frozen=True):
    order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    client_order_id: str | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None


class MarginOrder(_Model, frozen=True):
    """An order as ``GET /margin/orders`` shows it. There is no status field: see ``is_resting``."""

    order_id: str
    ticker: str
    side: Side
    price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    user_id: str | None = None
    client_order_id: str | None = None
    last_update_reason: LastUpdateReason | None = None
    expiration_time: str | None = None
    created_time: str | None = None
    last_update_time: str | None = None
    self_trade_prevention_type: SelfTradePrevention | None = None
    cancel_order_on_pause: bool | None = None
    order_group_id: str | None = None
    order_source: str | None = None
    order_reason: str | None = None
    subaccount: int | None = None

    @property
    def is_resting(self) -> bool:
        """True while some of the order still rests on the book."""
        return self.remaining_count > 0

    @property
    def created_time_ms(self) -> int | None:
        return _ms(self.created_time)

    @property
    def last_update_time_ms(self) -> int | None:
        return _ms(self.last_update_time)

    @property
    def expiration_time_ms(self) -> int | None:
        return _ms(self.expiration_time)


class OrderResponse(_Model, frozen=True):
    order: MarginOrder


class OrdersResponse(_Model, frozen=True):
    orders: list[MarginOrder] = []
    cursor: str | None = None


class CancelOrderResponse(_Model, frozen=True):
    order_id: str
    reduced_by: Decimal
    client_order_id: str | None = None


class DecreaseOrderRequest(_Model, frozen=True):
    """Exactly one of ``reduce_by`` / ``reduce_to``."""

    reduce_by: Decimal | None = None
    reduce_to: Decimal | None = None


class DecreaseOrderResponse(_Model, frozen=True):
    order_id: str
    remaining_count: Decimal
    client_order_id: str | None = None


class AmendOrderRequest(_Model, frozen=True):
    """``count`` is the new *total* size; ``expiration_time`` Unix seconds (``0`` clears)."""

    side: Side
    price: Decimal
    count: Decimal
    ticker: str | None = None
    market_id: str | None = None
    client_order_id: str | None = None
    updated_client_order_id: str | None = None
    expiration_time: int | None = None


class AmendOrderResponse(_Model, frozen=True):
    order_id: str
    client_order_id: str | None = None
    remaining_count: Decimal | None = None
    fill_count: Decimal | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None


# --- order groups (§6.4) ---------------------------------------------------


class CreateOrderGroupRequest(_Model, frozen=True):
    contracts_limit: int | None = None
    contracts_limit_fp: Decimal | None = None
    subaccount: int | None = None
    exchange_index: int | None = None


class CreateOrderGroupResponse(_Model, frozen=True):
    order_group_id: str
    subaccount: int | None = None
    exchange_index: int | None = None


class OrderGroup(_Model, frozen=True):
    id: str
    is_auto_cancel_enabled: bool | None = None
    contracts_limit_fp: Decimal | None = None
    exchange_index: int | None = None


class OrderGroupsResponse(_Model, frozen=True):
    """The demo answered ``{}`` with no groups: a missing list is empty."""

    order_groups: list[OrderGroup] = []


class OrderGroupDetail(_Model, frozen=True):
    """``GET /margin/order_groups/{id}``."""

    is_auto_cancel_enabled: bool | None = None
    contracts_limit_fp: Decimal | None = None
    orders: list[str] = []
    exchange_index: int | None = None


class UpdateOrderGroupLimitRequest(_Model, frozen=True):
    contracts_limit: int | None = None
    contracts_limit_fp: Decimal | None = None


# --- portfolio (§6.5) ------------------------------------------------------


class Fill(_Model, frozen=True):
    fill_id: str
    order_id: str
    ticker: str
    side: Side
    count: Decimal
    price: Decimal
    created_time: str
    is_taker: bool | None = None
    entry_price: Decimal | None = None
    fees: Decimal | None = None
    realized_pnl: Decimal | None = None
    order_source: str | None = None
    subaccount: int | None = None

    @property
    def created_time_ms(self) -> int:
        return rfc3339_to_ms(self.created_time)


class FillsResponse(_Model, frozen=True):
    fills: list[Fill] = []
    cursor: str | None = None


class Position(_Model, frozen=True):
    """``position`` is signed: positive long, negative short."""

    market_ticker: str
    position: Decimal
    subaccount: int = 0
    entry_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    margin_used: Decimal | None = None
    fees: Decimal | None = None
    roe: Decimal | None = None
    is_portfolio: bool | None = None


class PositionsResponse(_Model, frozen=True):
    positions: list[Position] = []


class SubaccountBalance(_Model, frozen=True):
    subaccount: int
    position_value: Decimal | None = None
    account_equity: Decimal | None = None
    maintenance_margin: Decimal | None = None
    initial_margin: Decimal | None = None
    resting_orders_margin: Decimal | None = None
    available_balance: Decimal | None = None


class BalanceResponse(_Model, frozen=True):
    """Per-subaccount balances (server order is unsorted) and the settled cash."""

    subaccount_balances: list[SubaccountBalance] = []
    settled_funds: Decimal | None = None

    def for_subaccount(self, subaccount: int) -> SubaccountBalance | None:
        for entry in self.subaccount_balances:
            if entry.subaccount == subaccount:
                return entry
        return None


# --- risk (§6.6) -----------------------------------------------------------


class RiskPosition(_Model, frozen=True):
    market_ticker: str
    position: Decimal
    subaccount: int = 0
    mark_price: Decimal | None = None
    position_notional: Decimal | None = None
    maintenance_margin_required: Decimal | None = None
    position_leverage: Decimal | None = None
    estimated_liquidation_price: Decimal | None = None
    is_portfolio: bool | None = None


class RiskResponse(_Model, frozen=True):
    total_position_notional: Decimal
    total_maintenance_margin: Decimal
    positions: list[RiskPosition] = []
    account_leverage: Decimal | None = None


class RiskParameters(_Model, frozen=True):
    liquidation_margin_ratio_threshold: Decimal
    queue_entry_margin_ratio_threshold: Decimal
    initial_margin_multiplier: dict[str, Decimal] = {}


class NotionalRiskLimit(_Model, frozen=True):
    default_notional_value_risk_limit: Decimal
    notional_value_risk_limits_by_market_ticker: dict[str, Decimal] = {}
    total_current_usage: Decimal | None = None
    current_usage_by_market_ticker: dict[str, Decimal] | None = None
    member_notional_value_risk_limit: Decimal | None = None
    effective_account_notional_value_risk_limit: Decimal | None = None


# --- fees (§6.7) -----------------------------------------------------------


class FeeTiers(_Model, frozen=True):
    """Fractions of notional per ticker (``0.0005`` = 5 bps)."""

    maker_fee_rates: dict[str, Decimal] = {}
    taker_fee_rates: dict[str, Decimal] = {}


class FeeTierRate(_Model, frozen=True):
    fee_schedule: str
    tier: int
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal


class FeeTierRatesResponse(_Model, frozen=True):
    fee_tier_rates: list[FeeTierRate] = []


# --- funding (§6.8) --------------------------------------------------------


class FundingEstimate(_Model, frozen=True):
    next_funding_time: str
    market_ticker: str | None = None
    computed_time: str | None = None
    funding_rate: Decimal | None = None
    mark_price: Decimal | None = None
    premium_index: Decimal | None = None
    premium_index_ts: str | None = None

    @property
    def next_funding_time_ms(self) -> int:
        return rfc3339_to_ms(self.next_funding_time)

    @property
    def computed_time_ms(self) -> int | None:
        return _ms(self.computed_time)


class HistoricalFundingRate(_Model, frozen=True):
    market_ticker: str
    funding_time: str
    funding_rate: Decimal
    mark_price: Decimal | None = None

    @property
    def funding_time_ms(self) -> int:
        return rfc3339_to_ms(self.funding_time)


class HistoricalFundingRatesResponse(_Model, frozen=True):
    funding_rates: list[HistoricalFundingRate] = []


class PremiumIndexPoint(_Model, frozen=True):
    second_ts: str
    premium_index: Decimal

    @property
    def second_ts_ms(self) -> int:
        return rfc3339_to_ms(self.second_ts)


class PremiumIndexResponse(_Model, frozen=True):
    points: list[PremiumIndexPoint] = []


class FundingHistoryEntry(_Model, frozen=True):
    """``funding_amount``: positive = received, negative = paid."""

    market_ticker: str
    funding_time: str
    funding_rate: Decimal
    funding_amount: Decimal
    mark_price: Decimal | None = None
    quantity: Decimal | None = None
    subaccount_number: int | None = None

    @property
    def funding_time_ms(self) -> int:
        return rfc3339_to_ms(self.funding_time)


class FundingHistoryResponse(_Model, frozen=True):
    funding_history: list[FundingHistoryEntry] = []


# --- subaccounts and transfers (§6.10) -------------------------------------


class CreateSubaccountResponse(_Model, frozen=True):
    subaccount_number: int


class SubaccountTransferRequest(_Model, frozen=True):
    """``amount_cents`` is in cents (not centicents)."""

    client_transfer_id: str
    from_subaccount: int
    to_subaccount: int
    amount_cents: int


class IntraExchangeTransferRequest(_Model, frozen=True):
    """``amount`` is in centicents (1 USD = 10,000)."""

    source: ExchangeInstance
    destination: ExchangeInstance
    amount: int
    source_exchange_shard: int | None = None
    destination_exchange_shard: int | None = None
    client_transfer_id: str | None = None


class IntraExchangeTransferResponse(_Model, frozen=True):
    transfer_id: str


class IntraExchangeTransfer(_Model, frozen=True):
    transfer_id: str
    source: str | None = None
    destination: str | None = None
    source_exchange_shard: int | None = None
    destination_exchange_shard: int | None = None
    amount: Decimal | None = None
    status: str | None = None
    created_ts: int | None = None
    """Unix seconds."""


class IntraExchangeTransferStatusResponse(_Model, frozen=True):
    transfer: IntraExchangeTransfer


class IntraExchangeTransfersResponse(_Model, frozen=True):
    transfers: list[IntraExchangeTransfer] = []
    cursor: str | None = None
