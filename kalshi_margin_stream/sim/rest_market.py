"""REST routes for the exchange and its markets (rest.md §6.1, 6.2, 6.6 parameters, 6.7, 6.8).

Mostly public reads; ``/margin/enabled``, ``/account/limits/perps`` and
``/margin/fee_tiers`` are signed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aiohttp import web

from ..core.numbers import fmt_count, fmt_dollars, to_decimal
from .engine.errors import not_found
from .engine.views import BookView
from .rest_common import (
    STATE_KEY,
    BadRequest,
    json_response,
    public,
    query_int,
    query_str,
)
from .rest_views import (
    book_json,
    fee_tiers_json,
    funding_estimate_json,
    funding_rate_json,
    market_json,
    rfc3339,
    risk_parameters_json,
)

__all__ = ["add_routes"]

_MARKET_STATUSES = ("inactive", "active", "closed")


@public
async def exchange_status(request: web.Request) -> web.Response:
    st = request.app[STATE_KEY].exchange.status()
    return json_response({"exchange_active": st.exchange_active,
                          "trading_active": st.trading_active})


async def margin_enabled(request: web.Request) -> web.Response:
    return json_response({"enabled": True})


async def account_limits(request: web.Request) -> web.Response:
    tier = request.app[STATE_KEY].limiter.tier
    return json_response({
        "usage_tier": tier.name,
        "read": {"refill_rate": tier.read.refill_rate,
                 "bucket_capacity": tier.read.bucket_capacity},
        "write": {"refill_rate": tier.write.refill_rate,
                  "bucket_capacity": tier.write.bucket_capacity},
        "grants": [],
    })


@public
async def list_markets(request: web.Request) -> web.Response:
    status = query_str(request, "status")
    if status is not None and status not in _MARKET_STATUSES:
        raise BadRequest({"msg": f"Invalid value for parameter status: {status!r}"})
    markets = request.app[STATE_KEY].exchange.markets()
    rows = [market_json(m) for m in markets if status is None or m.status == status]
    return json_response({"markets": rows})


@public
async def get_market(request: web.Request) -> web.Response:
    stats = request.app[STATE_KEY].exchange.market(request.match_info["ticker"])
    return json_response({"market": market_json(stats)})


def _aggregate(levels: list[tuple[Decimal, Decimal]], step: Decimal
               ) -> list[tuple[Decimal, Decimal]]:
    """Bucket levels by the floor of ``price / step`` (labels are floors on both sides)."""
    buckets: dict[Decimal, Decimal] = {}
    for price, size in levels:
        label = (price / step).to_integral_value(rounding="ROUND_FLOOR") * step
        buckets[label] = buckets.get(label, Decimal(0)) + size
    return list(buckets.items())


@public
async def get_orderbook(request: web.Request) -> web.Response:
    depth = query_int(request, "depth", default=0, lo=0) or 0
    step_text = query_str(request, "aggregation_tick_size")
    book = request.app[STATE_KEY].exchange.orderbook(request.match_info["ticker"])
    if step_text is not None:
        try:
            step = to_decimal(step_text)
        except ValueError:
            raise BadRequest({"msg": "Invalid format for parameter aggregation_tick_size"}
                             ) from None
        if step <= 0:
            raise BadRequest({"msg": "aggregation_tick_size must be positive"})
        book = BookView(ticker=book.ticker, bids=_aggregate(book.bids, step),
                        asks=_aggregate(book.asks, step))
    return json_response(book_json(book, depth=depth))


def _seconds_to_ms(request: web.Request, name: str) -> int | None:
    value = query_int(request, name, lo=0)
    return None if value is None else value * 1000


@public
async def list_trades(request: web.Request) -> web.Response:
    ex = request.app[STATE_KEY].exchange
    page = ex.trades(ticker=query_str(request, "ticker"),
                     min_ts_ms=_seconds_to_ms(request, "min_ts"),
                     max_ts_ms=_seconds_to_ms(request, "max_ts"),
                     limit=query_int(request, "limit", default=100, lo=1, hi=1000) or 100,
                     cursor=query_str(request, "cursor"))
    rows = [{"trade_id": t.trade_id, "ticker": t.ticker, "count": fmt_count(t.count),
             "price": fmt_dollars(t.price), "created_time": rfc3339(t.ts_ms),
             "taker_side": t.taker_side} for t in page.items]
    return json_response({"trades": rows, "cursor": page.cursor})


@public
async def risk_parameters(request: web.Request) -> web.Response:
    return json_response(risk_parameters_json(request.app[STATE_KEY].exchange.risk_parameters()))


async def fee_tiers(request: web.Request) -> web.Response:
    return json_response(fee_tiers_json(request.app[STATE_KEY].exchange.fee_tiers()))


async def fee_tier_rates(request: web.Request) -> web.Response:
    """The fee schedule table (rest.md §6.7; added 2026-09-03, not in the 2026-08 YAML)."""
    tiers = request.app[STATE_KEY].exchange.fee_tiers()
    return json_response({"fee_tier_rates": [
        {"fee_schedule": tiers.fee_schedule, "tier": n, "maker_fee_rate": maker,
         "taker_fee_rate": taker} for n, maker, taker in tiers.tier_rates]})


@public
async def funding_estimate(request: web.Request) -> web.Response:
    ticker = query_str(request, "ticker", required=True)
    assert ticker is not None
    ex = request.app[STATE_KEY].exchange
    if ticker not in {m.ticker for m in ex.config.markets}:
        raise not_found(f"market {ticker}")
    return json_response(funding_estimate_json(ex.funding_estimate(ticker)))


@public
async def funding_historical(request: web.Request) -> web.Response:
    ex = request.app[STATE_KEY].exchange
    rows = ex.funding_rates_historical(ticker=query_str(request, "ticker"),
                                       start_ms=_seconds_to_ms(request, "start_ts"),
                                       end_ms=_seconds_to_ms(request, "end_ts"))
    return json_response({"funding_rates": [funding_rate_json(r) for r in rows]})


def parse_date(request: web.Request, name: str, *, end: bool) -> int:
    """``YYYY-MM-DD`` (UTC, inclusive) -> epoch ms of the day's start (or next day's start)."""
    text = query_str(request, name, required=True)
    assert text is not None
    try:
        day = datetime.strptime(text[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadRequest({"msg": f"Invalid format for parameter {name}: {text!r}"}) from None
    ms = int(day.timestamp() * 1000)
    return ms + 86_400_000 if end else ms


def add_routes(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_get(prefix + "/margin/exchange/status", exchange_status)
    r.add_get(prefix + "/margin/enabled", margin_enabled)
    r.add_get(prefix + "/account/limits/perps", account_limits)
    r.add_get(prefix + "/margin/markets", list_markets)
    r.add_get(prefix + "/margin/markets/{ticker}", get_market)
    r.add_get(prefix + "/margin/markets/{ticker}/orderbook", get_orderbook)
    r.add_get(prefix + "/margin/trades", list_trades)
    r.add_get(prefix + "/margin/risk_parameters", risk_parameters)
    r.add_get(prefix + "/margin/fee_tiers", fee_tiers)
    r.add_get(prefix + "/margin/fee_tier_rates", fee_tier_rates)
    r.add_get(prefix + "/margin/funding_rates/estimate", funding_estimate)
    r.add_get(prefix + "/margin/funding_rates/historical", funding_historical)
