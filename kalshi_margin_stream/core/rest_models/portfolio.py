"""Fills, positions, balance, risk, fees, funding, transfers (rest.md §6.5-§6.10)."""

from __future__ import annotations

from decimal import Decimal

from .common import (
    ExchangeInstance,
    RestModel,
    Side,
    ms_or_none,
    rfc3339_to_ms,
)

__all__ = [
    "BalanceResponse",
    "CreateSubaccountResponse",
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
    "NotionalRiskLimit",
    "Position",
    "PositionsResponse",
    "PremiumIndexPoint",
    "PremiumIndexResponse",
    "RiskParameters",
    "RiskPosition",
    "RiskResponse",
    "SubaccountBalance",
    "SubaccountTransferRequest",
]

# --- portfolio (§6.5) ------------------------------------------------------


class Fill(RestModel, frozen=True):
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


class FillsResponse(RestModel, frozen=True):
    fills: list[Fill] = []
    cursor: str | None = None


class Position(RestModel, frozen=True):
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


class PositionsResponse(RestModel, frozen=True):
    positions: list[Position] = []


class SubaccountBalance(RestModel, frozen=True):
    subaccount: int
    position_value: Decimal | None = None
    account_equity: Decimal | None = None
    maintenance_margin: Decimal | None = None
    initial_margin: Decimal | None = None
    resting_orders_margin: Decimal | None = None
    available_balance: Decimal | None = None


class BalanceResponse(RestModel, frozen=True):
    """Per-subaccount balances (server order is unsorted) and the settled cash."""

    subaccount_balances: list[SubaccountBalance] = []
    settled_funds: Decimal | None = None

    def for_subaccount(self, subaccount: int) -> SubaccountBalance | None:
        for entry in self.subaccount_balances:
            if entry.subaccount == subaccount:
                return entry
        return None


# --- risk (§6.6) -----------------------------------------------------------


class RiskPosition(RestModel, frozen=True):
    market_ticker: str
    position: Decimal
    subaccount: int = 0
    mark_price: Decimal | None = None
    position_notional: Decimal | None = None
    maintenance_margin_required: Decimal | None = None
    position_leverage: Decimal | None = None
    estimated_liquidation_price: Decimal | None = None
    is_portfolio: bool | None = None


class RiskResponse(RestModel, frozen=True):
    total_position_notional: Decimal
    total_maintenance_margin: Decimal
    positions: list[RiskPosition] = []
    account_leverage: Decimal | None = None


class RiskParameters(RestModel, frozen=True):
    liquidation_margin_ratio_threshold: Decimal
    queue_entry_margin_ratio_threshold: Decimal
    initial_margin_multiplier: dict[str, Decimal] = {}


class NotionalRiskLimit(RestModel, frozen=True):
    default_notional_value_risk_limit: Decimal
    notional_value_risk_limits_by_market_ticker: dict[str, Decimal] = {}
    total_current_usage: Decimal | None = None
    current_usage_by_market_ticker: dict[str, Decimal] | None = None
    member_notional_value_risk_limit: Decimal | None = None
    effective_account_notional_value_risk_limit: Decimal | None = None


# --- fees (§6.7) -----------------------------------------------------------


class FeeTiers(RestModel, frozen=True):
    """Fractions of notional per ticker (``0.0005`` = 5 bps)."""

    maker_fee_rates: dict[str, Decimal] = {}
    taker_fee_rates: dict[str, Decimal] = {}


class FeeTierRate(RestModel, frozen=True):
    fee_schedule: str
    tier: int
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal


class FeeTierRatesResponse(RestModel, frozen=True):
    fee_tier_rates: list[FeeTierRate] = []


# --- funding (§6.8) --------------------------------------------------------


class FundingEstimate(RestModel, frozen=True):
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
        return ms_or_none(self.computed_time)


class HistoricalFundingRate(RestModel, frozen=True):
    market_ticker: str
    funding_time: str
    funding_rate: Decimal
    mark_price: Decimal | None = None

    @property
    def funding_time_ms(self) -> int:
        return rfc3339_to_ms(self.funding_time)


class HistoricalFundingRatesResponse(RestModel, frozen=True):
    funding_rates: list[HistoricalFundingRate] = []


class PremiumIndexPoint(RestModel, frozen=True):
    second_ts: str
    premium_index: Decimal

    @property
    def second_ts_ms(self) -> int:
        return rfc3339_to_ms(self.second_ts)


class PremiumIndexResponse(RestModel, frozen=True):
    points: list[PremiumIndexPoint] = []


class FundingHistoryEntry(RestModel, frozen=True):
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


class FundingHistoryResponse(RestModel, frozen=True):
    funding_history: list[FundingHistoryEntry] = []


# --- subaccounts and transfers (§6.10) -------------------------------------


class CreateSubaccountResponse(RestModel, frozen=True):
    subaccount_number: int


class SubaccountTransferRequest(RestModel, frozen=True):
    """``amount_cents`` is in cents (not centicents)."""

    client_transfer_id: str
    from_subaccount: int
    to_subaccount: int
    amount_cents: int


class IntraExchangeTransferRequest(RestModel, frozen=True):
    """``amount`` is in centicents (1 USD = 10,000)."""

    source: ExchangeInstance
    destination: ExchangeInstance
    amount: int
    source_exchange_shard: int | None = None
    destination_exchange_shard: int | None = None
    client_transfer_id: str | None = None


class IntraExchangeTransferResponse(RestModel, frozen=True):
    transfer_id: str


class IntraExchangeTransfer(RestModel, frozen=True):
    transfer_id: str
    source: str | None = None
    destination: str | None = None
    source_exchange_shard: int | None = None
    destination_exchange_shard: int | None = None
    amount: Decimal | None = None
    status: str | None = None
    created_ts: int | None = None
    """Unix seconds."""


class IntraExchangeTransferStatusResponse(RestModel, frozen=True):
    transfer: IntraExchangeTransfer


class IntraExchangeTransfersResponse(RestModel, frozen=True):
    transfers: list[IntraExchangeTransfer] = []
    cursor: str | None = None
