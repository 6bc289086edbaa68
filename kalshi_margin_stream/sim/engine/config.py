"""Static configuration of the simulated exchange: markets, fees, risk and funding.

The defaults come from ``market-facts.md`` and ``margin-model.md`` (production board,
Sept 2026). Everything is a frozen dataclass of ``Decimal``/``int`` so a config can be
shared, hashed and printed. Choices the spec marks UNCONFIRMED live here as named
constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ...core.margin.formulas import LEVERAGE_NOTIONALS, LEVERAGE_PLACES, RateCurve

__all__ = [
    "MarketConfig",
    "ExchangeConfig",
    "DEFAULT_MARKETS",
    "default_markets",
    "FUNDING_INTERVAL_MS",
    "FUNDING_OFFSET_MS",
    "ORDER_GROUP_WINDOW_MS",
]

D = Decimal

# UNCONFIRMED: funding is every 8 h at 00:00/08:00/16:00 ET; we use the EDT times seen live
# (04:00/12:00/20:00 UTC) and ignore DST.  Funding times are offset + k * interval (UTC ms).
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
FUNDING_OFFSET_MS = 4 * 3600 * 1000
# Order groups cap contracts matched in a rolling 15-second window (rest.md §6.4).
ORDER_GROUP_WINDOW_MS = 15_000


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketConfig:
    """One perpetual market.

    The underlying maintenance-margin rate is ``mm_rate_base + mm_rate_per_million *
    N/1e6`` (N = position notional in dollars): flat for retail sizes and growing with
    size, as ``leverage_estimates`` show (margin-model.md §3.3; a linear stand-in for the
    unpublished curve). The market publishes it as ``leverage_estimates`` (4 places), and
    margin is charged by the rate curve **rebuilt from those published numbers** with the
    client's own :class:`RateCurve`, so a client that reads the market can predict every
    margin figure exactly (the pre-trade calculator relies on it).
    """

    ticker: str
    title: str
    contract_size: Decimal
    initial_reference_price: Decimal
    tick_size: Decimal = D("0.0001")
    underlying_multiplier: Decimal = D(1)
    fractional_trading_enabled: bool = False
    status: str = "active"
    exchange_index: int = 0
    market_version: int = 1
    asset_class: str = "Crypto"
    # Fees: fraction of notional (fee tier 0, market-facts.md §7).
    maker_fee_rate: Decimal = D("0.0005")
    taker_fee_rate: Decimal = D("0.0012")
    # Margin.
    initial_margin_multiplier: Decimal = D("1.3")
    mm_rate_base: Decimal = D("0.1304")
    mm_rate_per_million: Decimal = D("0.0019")
    # Price band (market-facts.md §3): bid >= min(80% bb, bb - 1000 ticks), ask mirrored.
    band_fraction: Decimal = D("0.2")
    band_ticks: int = 1000
    # Funding (market-facts.md §5).
    funding_cap: Decimal = D("0.02")
    funding_deadband: Decimal = D("0.0001")
    funding_interval_ms: int = FUNDING_INTERVAL_MS
    funding_offset_ms: int = FUNDING_OFFSET_MS
    curve: RateCurve = field(init=False, repr=False, compare=False)
    """The charged MM rate curve (derived from the published leverage estimates)."""

    def __post_init__(self) -> None:
        curve = RateCurve.from_leverage(self.leverage_estimates(), None,
                                        self.initial_margin_multiplier)
        if curve is None:  # a zero multiplier publishes nothing usable: charge the model rate
            curve = RateCurve.flat(self.model_rate(D(1000)))
        object.__setattr__(self, "curve", curve)

    def model_rate(self, notional: Decimal) -> Decimal:
        """The underlying (unpublished) MM rate at ``notional`` dollars."""
        return self.mm_rate_base + self.mm_rate_per_million * notional / D(1_000_000)

    def mm_rate(self, notional: Decimal) -> Decimal:
        """The MM rate charged for a position of ``notional`` dollars."""
        return self.curve.rate(notional)

    def leverage_estimate(self, notional: Decimal) -> Decimal:
        """``1 / (IM multiplier x MM rate)`` at ``notional``, to the published 4 places."""
        return (D(1) / (self.initial_margin_multiplier * self.model_rate(notional))
                ).quantize(LEVERAGE_PLACES)

    def leverage_estimates(self) -> dict[str, Decimal]:
        """What ``leverage_estimates`` publishes (keys: dollar notionals)."""
        if self.initial_margin_multiplier <= 0:
            return {}
        return {k: self.leverage_estimate(D(k)) for k in LEVERAGE_NOTIONALS}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeConfig:
    """Exchange-wide settings; ``markets`` is the board."""

    markets: tuple[MarketConfig, ...] = field(default_factory=lambda: DEFAULT_MARKETS)
    # Risk parameters (production values, rest.md §6.6).
    liquidation_margin_ratio_threshold: Decimal = D("1")
    queue_entry_margin_ratio_threshold: Decimal = D("0.91")
    # Accounts.
    default_cash: Decimal = D("10000.0000")
    """Margin cash a new user gets in subaccount 0 (paper money)."""
    default_event_contract_balance: Decimal = D("0.0000")
    """Event-contract cash a new user gets (source of intra-exchange transfers)."""
    default_notional_limit: Decimal = D("50000.0000")
    """Per-user notional risk limit (demo showed 50000; the docs' example is 5000)."""
    max_subaccount: int = 63
    order_group_window_ms: int = ORDER_GROUP_WINDOW_MS
    fee_schedule: str = "kalshi_prime"

    def market(self, ticker: str) -> MarketConfig | None:
        """The market with this ticker, or None."""
        for m in self.markets:
            if m.ticker == ticker:
                return m
        return None


def _m(ticker: str, title: str, size: str, price: str, mm: str, slope: str) -> MarketConfig:
    return MarketConfig(
        ticker=ticker,
        title=title,
        contract_size=D(size),
        initial_reference_price=D(price),
        mm_rate_base=D(mm),
        mm_rate_per_million=D(slope),
    )


# Prices: Sept 2026 board where known (BTC 8.0961, ETH 2.5084, XRP 1.4492), else June.
# MM base rates: 1 / (1.3 x leverage_estimate) from the demo curves (margin-model.md §3.3).
DEFAULT_MARKETS: tuple[MarketConfig, ...] = (
    _m("KXBTCPERP", "0.0001 BTC", "0.000100", "8.0961", "0.1304", "0.0019"),
    _m("KXETHPERP", "0.001 ETH", "0.001000", "2.5084", "0.1709", "0.0050"),
    _m("KXSOLPERP", "0.1 SOL", "0.100000", "6.5046", "0.2856", "0.0180"),
    _m("KXXRPPERP", "1 XRP", "1.000000", "1.4492", "0.2753", "0.0316"),
    _m("KXDOGEPERP", "100 DOGE", "100.000000", "8.4909", "0.2824", "0.0341"),
    _m("KXLTCPERP", "0.1 LTC", "0.100000", "4.2642", "0.2111", "0.1367"),
)


def default_markets(tickers: Sequence[str] | None = None) -> tuple[MarketConfig, ...]:
    """The default board, or the named subset in the given order.

    Unknown tickers get a generic crypto market (BTC-like margin) priced at 5.0000, so a
    user can simulate any ticker name.
    """
    if not tickers:
        return DEFAULT_MARKETS
    by_ticker = {m.ticker: m for m in DEFAULT_MARKETS}
    out: list[MarketConfig] = []
    for t in tickers:
        base = by_ticker.get(t)
        if base is None:
            base = replace(DEFAULT_MARKETS[0], ticker=t, title=t,
                           contract_size=D("1.000000"), initial_reference_price=D("5.0000"))
        out.append(base)
    return tuple(out)
