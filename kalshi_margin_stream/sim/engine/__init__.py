"""The simulator's exchange engine: pure, synchronous, deterministic.

No asyncio, no sockets: the server owns the clock and passes ``now_ms``; randomness comes
only from seeded ``random.Random``. Mutating calls return events in order (see
:mod:`.events`); refused requests raise :class:`Rejection`. See ``API.md``.
"""

from __future__ import annotations

from .config import DEFAULT_MARKETS, ExchangeConfig, MarketConfig, default_markets
from .errors import Rejection
from .events import (
    BookDelta,
    Event,
    FillEvent,
    FundingPayment,
    FundingSettled,
    LiquidationTriggered,
    OrderGroupEvent,
    OrderUpdate,
    PublicTrade,
    TickerUpdate,
)
from .exchange import Exchange
from .flow import SyntheticFlow
from .results import CancelResult, GroupResult, OrderResult
from .views import (
    BalanceView,
    BookView,
    ExchangeStatus,
    FeeTiers,
    FundingEstimate,
    FundingRateRecord,
    MarketStats,
    NotionalLimitView,
    OrderGroupView,
    OrderView,
    Page,
    PositionView,
    PricePoint,
    RiskParameters,
    RiskPositionView,
    RiskView,
    SelfTradePrevention,
    Side,
    SubaccountBalance,
    TimeInForce,
    TransferView,
)

__all__ = [
    "DEFAULT_MARKETS",
    "BalanceView",
    "BookDelta",
    "BookView",
    "CancelResult",
    "Event",
    "Exchange",
    "ExchangeConfig",
    "ExchangeStatus",
    "FeeTiers",
    "FillEvent",
    "FundingEstimate",
    "FundingPayment",
    "FundingRateRecord",
    "FundingSettled",
    "GroupResult",
    "LiquidationTriggered",
    "MarketConfig",
    "MarketStats",
    "NotionalLimitView",
    "OrderGroupEvent",
    "OrderGroupView",
    "OrderResult",
    "OrderUpdate",
    "OrderView",
    "Page",
    "PositionView",
    "PricePoint",
    "PublicTrade",
    "Rejection",
    "RiskParameters",
    "RiskPositionView",
    "RiskView",
    "SelfTradePrevention",
    "Side",
    "SubaccountBalance",
    "SyntheticFlow",
    "TickerUpdate",
    "TimeInForce",
    "TransferView",
    "default_markets",
]
