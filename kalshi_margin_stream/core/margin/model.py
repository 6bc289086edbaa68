"""The calculator's static inputs: per-market margin parameters, fees and limits.

:class:`MarginModel` is built once from the exchange's own reads
(``/margin/risk_parameters``, ``/margin/markets``, ``/margin/fee_tiers``,
``/margin/notional_risk_limit``; margin-model.md §8.2, §8.4 ``from_exchange``) and
is immutable. Each input records where it came from, which the calculator turns
into the confidence tags of its results (margin-model.md legend):

* ``spec``: read from the exchange (the API states the rule);
* ``inferred``: derived by an [INF] rule (the MM rate curve from leverage estimates);
* ``observed``: the MM rate ``/margin/risk`` showed for a held position (flat curve);
* ``assumed``: a documented default used because the exchange gave nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from ..rest_models.market import DEFAULT_TICK
from .formulas import DEFAULT_IM_MULTIPLIER, RateCurve, market_curve
from .snapshot import frozen_map

if TYPE_CHECKING:
    from ..rest_models import (
        FeeTiers,
        MarginMarket,
        NotionalRiskLimit,
        RiskParameters,
        RiskResponse,
    )

__all__ = ["DEFAULT_MAKER_RATE", "DEFAULT_TAKER_RATE", "DEFAULT_TICK", "Confidence",
           "MarginModel", "MarketModel"]

Confidence = Literal["spec", "inferred", "observed", "assumed", "unknown"]

DEFAULT_MAKER_RATE = Decimal("0.0005")
DEFAULT_TAKER_RATE = Decimal("0.0012")
"""Fee rates used until ``/margin/fee_tiers`` is read (demo 2026-06-12, §2.5)."""
DEFAULT_LIQUIDATION_THRESHOLD = Decimal(1)
DEFAULT_QUEUE_THRESHOLD = Decimal("0.91")


@dataclass(frozen=True, slots=True)
class MarketModel:
    """One market's margin, fee and order-entry parameters."""

    ticker: str
    tick: Decimal = DEFAULT_TICK
    status: str | None = None
    fractional: bool = False
    multiplier: Decimal = DEFAULT_IM_MULTIPLIER
    multiplier_source: Confidence = "assumed"
    long_curve: RateCurve | None = None
    short_curve: RateCurve | None = None
    curve_source: Confidence = "unknown"
    maker_rate: Decimal = DEFAULT_MAKER_RATE
    taker_rate: Decimal = DEFAULT_TAKER_RATE
    fee_source: Confidence = "assumed"

    def curve(self, is_long: bool) -> RateCurve | None:
        return self.long_curve if is_long else self.short_curve

    @property
    def active(self) -> bool:
        """Open for orders (an unknown status counts as open; the exchange decides)."""
        return self.status in (None, "active")


@dataclass(frozen=True, slots=True)
class MarginModel:
    """Everything the calculator needs besides the account snapshot."""

    markets: Mapping[str, MarketModel]
    liquidation_threshold: Decimal = DEFAULT_LIQUIDATION_THRESHOLD
    queue_threshold: Decimal = DEFAULT_QUEUE_THRESHOLD
    notional_limit: Decimal | None = None
    """The account's effective notional risk limit (None: not read; the check is skipped)."""
    market_limits: Mapping[str, Decimal] = field(default_factory=lambda: frozen_map({}))
    risk_params_ts_ms: int | None = None
    markets_ts_ms: int | None = None
    fees_ts_ms: int | None = None
    limits_ts_ms: int | None = None

    @classmethod
    def from_exchange(cls, *, risk_parameters: RiskParameters | None,
                      markets: Iterable[MarginMarket], fee_tiers: FeeTiers | None = None,
                      notional_limit: NotionalRiskLimit | None = None,
                      risk: RiskResponse | None = None, as_of_ms: int | None = None,
                      risk_params_ts_ms: int | None = None, markets_ts_ms: int | None = None,
                      fees_ts_ms: int | None = None,
                      limits_ts_ms: int | None = None) -> MarginModel:
        """A model from REST bodies; ``as_of_ms`` stamps every input not stamped alone.

        ``risk`` (``/margin/risk``) only supplies a flat MM rate for markets whose
        leverage estimates are missing, as the margin state does.
        """
        mults = {} if risk_parameters is None else dict(risk_parameters.initial_margin_multiplier)
        observed: dict[str, Decimal] = {}
        for p in [] if risk is None else risk.positions:
            if p.maintenance_margin_required is not None and p.position_notional:
                observed[p.market_ticker] = p.maintenance_margin_required / p.position_notional
        out: dict[str, MarketModel] = {}
        for spec in markets:
            out[spec.ticker] = _market(spec, mults, observed, fee_tiers)
        limit = market_limits = None
        if notional_limit is not None:
            limit = effective_limit(notional_limit)
            market_limits = dict(notional_limit.notional_value_risk_limits_by_market_ticker)
        stamp = as_of_ms
        return cls(
            markets=frozen_map(out),
            liquidation_threshold=DEFAULT_LIQUIDATION_THRESHOLD if risk_parameters is None
            else risk_parameters.liquidation_margin_ratio_threshold,
            queue_threshold=DEFAULT_QUEUE_THRESHOLD if risk_parameters is None
            else risk_parameters.queue_entry_margin_ratio_threshold,
            notional_limit=limit, market_limits=frozen_map(market_limits or {}),
            risk_params_ts_ms=None if risk_parameters is None else (risk_params_ts_ms or stamp),
            markets_ts_ms=markets_ts_ms or stamp,
            fees_ts_ms=None if fee_tiers is None else (fees_ts_ms or stamp),
            limits_ts_ms=None if notional_limit is None else (limits_ts_ms or stamp))


def effective_limit(body: NotionalRiskLimit) -> Decimal:
    """The limit the exchange enforces: the effective one if given, else the smaller of
    Kalshi's default and the member's (§2.5)."""
    if body.effective_account_notional_value_risk_limit is not None:
        return body.effective_account_notional_value_risk_limit
    limit = body.default_notional_value_risk_limit
    member = body.member_notional_value_risk_limit
    return limit if member is None else min(limit, member)


def _market(spec: MarginMarket, mults: Mapping[str, Decimal], observed: Mapping[str, Decimal],
            fee_tiers: FeeTiers | None) -> MarketModel:
    mult = mults.get(spec.ticker)
    mult_source: Confidence = "spec" if mult is not None else "assumed"
    if mult is None:
        mult = DEFAULT_IM_MULTIPLIER
    long_curve = market_curve(spec, True, mult)
    short_curve = market_curve(spec, False, mult)
    source: Confidence = "inferred"
    if long_curve is None or short_curve is None:
        rate = observed.get(spec.ticker)
        flat = None if rate is None else RateCurve.flat(rate)
        long_curve, short_curve = long_curve or flat, short_curve or flat
        source = "observed" if flat is not None else "unknown"
    maker = taker = None
    if fee_tiers is not None:
        maker = fee_tiers.maker_fee_rates.get(spec.ticker)
        taker = fee_tiers.taker_fee_rates.get(spec.ticker)
    fee_source: Confidence = "spec" if maker is not None and taker is not None else "assumed"
    return MarketModel(
        ticker=spec.ticker, tick=spec.tick or DEFAULT_TICK, status=spec.status,
        fractional=bool(spec.fractional_trading_enabled), multiplier=mult,
        multiplier_source=mult_source, long_curve=long_curve, short_curve=short_curve,
        curve_source=source, maker_rate=DEFAULT_MAKER_RATE if maker is None else maker,
        taker_rate=DEFAULT_TAKER_RATE if taker is None else taker, fee_source=fee_source)
