"""Engine views -> REST JSON bodies (plain dicts), in Kalshi's formats.

Money and counts become strings here (``fmt_dollars``/``fmt_count``); rates, leverage
and thresholds stay ``Decimal`` and are written as JSON numbers by :data:`ENCODER`
(``decimal_format="number"``), as the official schema wants. Optional keys are
omitted rather than null, like the live API (rest.md §8.11), except where the schema
makes a key required-and-nullable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from ..core.margin.formulas import LEVERAGE_NOTIONALS
from ..core.numbers import fmt_count, fmt_dollars
from .engine.config import MarketConfig
from .engine.views import (
    BalanceView,
    BookView,
    FeeTiers,
    FundingEstimate,
    FundingRateRecord,
    MarketStats,
    NotionalLimitView,
    OrderGroupView,
    OrderView,
    PositionView,
    PricePoint,
    RiskParameters,
    RiskView,
)

__all__ = [
    "ENCODER",
    "LEVERAGE_NOTIONALS",
    "balance_json",
    "book_json",
    "fee_tiers_json",
    "funding_estimate_json",
    "funding_rate_json",
    "group_json",
    "market_json",
    "notional_json",
    "order_json",
    "position_json",
    "risk_json",
    "risk_parameters_json",
    "rfc3339",
]

ENCODER = msgspec.json.Encoder(decimal_format="number")
"""REST bodies: a remaining ``Decimal`` is a rate and goes out as a JSON number."""


_LEV_PLACES = Decimal("0.0001")
_RATE_PLACES = Decimal("0.0000000001")

Json = dict[str, Any]


def rfc3339(ts_ms: int) -> str:
    """``2026-06-12T04:07:38.474Z`` from epoch milliseconds (``...T12:00:00Z`` on a whole
    second, as Kalshi writes funding times)."""
    dt = datetime.fromtimestamp(ts_ms // 1000, tz=UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return base + (f".{ts_ms % 1000:03d}Z" if ts_ms % 1000 else "Z")


def _d(x: Decimal) -> str:
    return fmt_dollars(x)


def _c(x: Decimal) -> str:
    return fmt_count(x)


def _tp(p: PricePoint) -> Json:
    return {"price": _d(p.price), "ts_ms": p.ts_ms}


def _lev(x: Decimal) -> Decimal:
    return x.quantize(_LEV_PLACES)


# UNCONFIRMED: in neither spec; kalshi-sdk 22.4.0 requires it ("dampen" | "exclude").
# We dampen, as the funding maths (clamp, deadband) does rather than drop a sample.
FUNDING_INVALID_PREMIUM_HANDLING = "dampen"


def market_json(s: MarketStats) -> Json:
    cfg: MarketConfig = s.config
    lev = cfg.leverage_estimates()
    out: Json = {
        "ticker": cfg.ticker,
        "title": cfg.title,
        "market_version": cfg.market_version,
        "exchange_index": cfg.exchange_index,
        "contract_size": format(cfg.contract_size.quantize(Decimal("0.000001")), "f"),
        "underlying_multiplier": format(cfg.underlying_multiplier, "f"),
        "tick_size": _d(cfg.tick_size),
        "status": s.status,
        "fractional_trading_enabled": cfg.fractional_trading_enabled,
        "schedule": None,
        # The market config holds fractions; the wire unit is "percentage" (UNCONFIRMED).
        "funding_deadband": cfg.funding_deadband * 100,
        "funding_cap": cfg.funding_cap * 100,
        "funding_limit_unit": "percentage",
        "funding_invalid_premium_handling": FUNDING_INVALID_PREMIUM_HANDLING,
        "leverage_estimate": lev.get("1000"),
        "leverage_estimates": lev,
        "long_leverage_estimates": lev,
        "short_leverage_estimates": lev,
        "bid_size_fp": _c(s.bid_size),
        "ask_size_fp": _c(s.ask_size),
        "volume": _c(s.volume),
        "volume_notional_value_dollars": _d(s.volume_notional),
        "volume_24h": _c(s.volume_24h),
        "volume_24h_notional_value_dollars": _d(s.volume_24h_notional),
        "open_interest": _c(s.open_interest),
        "open_interest_notional_value_dollars": _d(s.open_interest_notional),
        "settlement_mark_price": _tp(s.settlement_mark_price),
        "liquidation_mark_price": _tp(s.liquidation_mark_price),
        "reference_price": _tp(s.reference_price),
        "asset_class": cfg.asset_class,
    }
    for key, value in (("price", s.price), ("bid", s.bid), ("ask", s.ask)):
        if value is not None:
            out[key] = _d(value)
    return out


def book_json(book: BookView, *, depth: int = 0, worst_first: bool = True) -> Json:
    """``{"orderbook": {"bids", "asks"}}``; ``depth`` best levels (0 = all)."""
    def side(levels: list[tuple[Decimal, Decimal]]) -> list[list[str]]:
        chosen = levels[:depth] if depth > 0 else levels
        rows = [[_d(p), _c(q)] for p, q in chosen]
        return rows[::-1] if worst_first else rows
    return {"orderbook": {"bids": side(book.bids), "asks": side(book.asks)}}


def order_json(o: OrderView) -> Json:
    out: Json = {
        "order_id": o.order_id,
        "user_id": o.user_id,
        "client_order_id": o.client_order_id,
        "ticker": o.ticker,
        "side": o.side,
        "price": _d(o.price),
        "fill_count": _c(o.fill_count),
        "remaining_count": _c(o.remaining_count),
        "last_update_reason": o.last_update_reason,
        "created_time": rfc3339(o.created_ts_ms),
        "last_update_time": rfc3339(o.last_update_ts_ms),
        "self_trade_prevention_type": o.self_trade_prevention_type,
        "cancel_order_on_pause": o.cancel_order_on_pause,
        "order_source": o.order_source,
    }
    if o.expiration_ts_ms is not None:
        out["expiration_time"] = rfc3339(o.expiration_ts_ms)
    if o.order_group_id:
        out["order_group_id"] = o.order_group_id
    if o.order_reason:
        out["order_reason"] = o.order_reason
    return out


def position_json(p: PositionView) -> Json:
    out: Json = {
        "subaccount": p.subaccount,
        "market_ticker": p.ticker,
        "position": _c(p.position),
        "entry_price": _d(p.entry_price),
        "unrealized_pnl": _d(p.unrealized_pnl),
        "margin_used": _d(p.margin_used),
        "fees": _d(p.fees),
        "is_portfolio": p.is_portfolio,
    }
    if p.roe is not None:
        out["roe"] = p.roe.quantize(_RATE_PLACES)
    return out


def balance_json(b: BalanceView, *, compute_available: bool) -> Json:
    """``resting_orders_margin``/``available_balance`` are 0 unless computed (rest.md §6.5)."""
    rows = []
    for s in b.subaccount_balances:
        rows.append({
            "subaccount": s.subaccount,
            "position_value": _d(s.position_value),
            "account_equity": _d(s.account_equity),
            "maintenance_margin": _d(s.maintenance_margin),
            "initial_margin": _d(s.initial_margin),
            "resting_orders_margin": _d(s.resting_orders_margin if compute_available
                                        else Decimal(0)),
            "available_balance": _d(s.available_balance if compute_available else Decimal(0)),
        })
    return {"subaccount_balances": rows, "settled_funds": _d(b.settled_funds)}


def risk_json(r: RiskView) -> Json:
    positions = []
    for p in r.positions:
        row: Json = {
            "subaccount": p.subaccount,
            "market_ticker": p.ticker,
            "position": _c(p.position),
            "mark_price": _d(p.mark_price),
            "position_notional": _d(p.position_notional),
            "maintenance_margin_required": _d(p.maintenance_margin_required),
            "is_portfolio": p.is_portfolio,
        }
        if p.position_leverage is not None:
            row["position_leverage"] = _lev(p.position_leverage)
        if p.estimated_liquidation_price is not None:
            row["estimated_liquidation_price"] = _d(p.estimated_liquidation_price)
        positions.append(row)
    out: Json = {
        "total_position_notional": _d(r.total_position_notional),
        "total_maintenance_margin": _d(r.total_maintenance_margin),
        "positions": positions,
    }
    if r.account_leverage is not None:
        out["account_leverage"] = _lev(r.account_leverage)
    return out


def risk_parameters_json(r: RiskParameters) -> Json:
    return {
        "liquidation_margin_ratio_threshold": r.liquidation_margin_ratio_threshold,
        "queue_entry_margin_ratio_threshold": r.queue_entry_margin_ratio_threshold,
        "initial_margin_multiplier": dict(r.initial_margin_multiplier),
    }


def notional_json(n: NotionalLimitView) -> Json:
    return {
        "default_notional_value_risk_limit": _d(n.default_notional_value_risk_limit),
        "notional_value_risk_limits_by_market_ticker": {
            k: _d(v) for k, v in n.notional_value_risk_limits_by_market_ticker.items()},
        "total_current_usage": _d(n.total_current_usage),
        "current_usage_by_market_ticker": {
            k: _d(v) for k, v in n.current_usage_by_market_ticker.items()},
    }


def fee_tiers_json(f: FeeTiers) -> Json:
    return {"maker_fee_rates": dict(f.maker_fee_rates),
            "taker_fee_rates": dict(f.taker_fee_rates)}


def funding_estimate_json(e: FundingEstimate) -> Json:
    out: Json = {
        "market_ticker": e.ticker,
        "computed_time": rfc3339(e.computed_time_ms),
        "funding_rate": e.funding_rate.quantize(_RATE_PLACES).normalize(),
        "mark_price": _d(e.mark_price),
        "next_funding_time": rfc3339(e.next_funding_time_ms),
    }
    if e.premium_index is not None:
        out["premium_index"] = format(e.premium_index, "f")
    if e.premium_index_ts_ms is not None:
        out["premium_index_ts"] = rfc3339(e.premium_index_ts_ms)
    return out


def funding_rate_json(r: FundingRateRecord) -> Json:
    return {"market_ticker": r.ticker, "funding_time": rfc3339(r.funding_time_ms),
            "funding_rate": r.funding_rate, "mark_price": _d(r.mark_price)}


def group_json(g: OrderGroupView) -> Json:
    return {"id": g.order_group_id, "contracts_limit_fp": _c(g.contracts_limit),
            "is_auto_cancel_enabled": g.is_auto_cancel_enabled,
            "exchange_index": g.exchange_index}
