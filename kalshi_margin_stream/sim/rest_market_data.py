"""Market-data routes the official SDK calls beyond the basic ones: candlesticks, the
premium index, corporate actions and several order books at once. All public.

The simulator keeps public trades but no per-second history of quotes or premiums,
so two answers are built from what it has (UNCONFIRMED as to Kalshi's exact values):
candles come from the trades (periods without trades are left out) with the *current*
best bid/ask as their bid/ask OHLC, and the premium index repeats the current
premium for every second of the window up to now. Corporate actions are empty unless
a scenario adds some to :data:`CORPORATE_ACTIONS_KEY`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..core.numbers import fmt_count, fmt_dollars
from .engine.errors import invalid_parameters
from .rest_common import STATE_KEY, BadRequest, json_response, public, query_int, query_str
from .rest_views import book_json

__all__ = ["CORPORATE_ACTIONS_KEY", "MAX_ORDERBOOK_TICKERS", "add_routes"]

PERIODS = (1, 60, 1440)
MAX_ORDERBOOK_TICKERS = 100
PREMIUM_WINDOW_S = 3600
CORPORATE_ACTIONS_KEY = web.AppKey("corporate_actions", list)
"""Scripted ``MarginCorporateAction`` objects (plain JSON), newest last."""


def _required_int(request: web.Request, name: str, **kw: Any) -> int:
    value = query_int(request, name, **kw)
    if value is None:
        raise BadRequest({"msg": f"Query argument {name} is required, but not found"})
    return value


def _rfc3339_s(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@public
async def candlesticks(request: web.Request) -> web.Response:
    ex = request.app[STATE_KEY].exchange
    ticker = request.match_info["ticker"]
    stats = ex.market(ticker)
    start = _required_int(request, "start_ts", lo=0)
    end = _required_int(request, "end_ts", lo=0)
    period = _required_int(request, "period_interval")
    if period not in PERIODS:
        raise BadRequest({"msg": "period_interval must be one of 1, 60, 1440"})
    if end < start:
        raise invalid_parameters("end_ts must be >= start_ts")
    step = period * 60
    buckets: dict[int, list[tuple[Decimal, Decimal]]] = {}
    cursor: str | None = None
    while True:
        page = ex.trades(ticker=ticker, min_ts_ms=start * 1000, max_ts_ms=end * 1000 + 999,
                         limit=1000, cursor=cursor)
        for t in page.items:
            close_s = (t.ts_ms // 1000 // step + 1) * step
            buckets.setdefault(close_s, []).append((t.price, t.count))
        if not page.cursor:
            break
        cursor = page.cursor
    bid = stats.bid if stats.bid is not None else stats.reference_price.price
    ask = stats.ask if stats.ask is not None else stats.reference_price.price
    flat = {k: fmt_dollars(v) for k, v in (("open", bid), ("low", bid), ("high", bid),
                                           ("close", bid))}
    flat_ask = {k: fmt_dollars(ask) for k in ("open", "low", "high", "close")}
    candles: list[dict[str, Any]] = []
    previous: str | None = None
    for close_s in sorted(buckets):
        rows = buckets[close_s][::-1]   # trades come newest first
        prices = [p for p, _ in rows]
        volume = sum((q for _, q in rows), Decimal(0))
        notional = sum((p * q for p, q in rows), Decimal(0))
        mean = (notional / volume).quantize(Decimal("0.0001")) if volume else None
        price = {"open": fmt_dollars(prices[0]), "low": fmt_dollars(min(prices)),
                 "high": fmt_dollars(max(prices)), "close": fmt_dollars(prices[-1]),
                 "mean": None if mean is None else fmt_dollars(mean), "previous": previous}
        previous = price["close"]
        candles.append({
            "end_period_ts": close_s, "bid": flat, "ask": flat_ask, "price": price,
            "volume": fmt_count(volume), "volume_notional_value_dollars": fmt_dollars(notional),
            "open_interest": fmt_count(stats.open_interest),
            "open_interest_notional_value_dollars": fmt_dollars(stats.open_interest_notional)})
    return json_response({"ticker": ticker, "candlesticks": candles})


@public
async def premium_index(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    ticker = query_str(request, "ticker", required=True)
    assert ticker is not None
    start = _required_int(request, "start_ts", lo=0)
    end = _required_int(request, "end_ts", lo=0)
    if not start < end <= start + PREMIUM_WINDOW_S:
        raise invalid_parameters("need start_ts < end_ts <= start_ts + 3600")
    estimate = state.exchange.funding_estimate(ticker)
    value = format(estimate.premium_index or Decimal(0), "f")
    now_s = state.now_ms() // 1000
    points = [{"second_ts": _rfc3339_s(s), "premium_index": value}
              for s in range(start, min(end, now_s + 1))]
    return json_response({"points": points})


@public
async def corporate_actions(request: web.Request) -> web.Response:
    ticker, market_id = query_str(request, "ticker"), query_str(request, "market_id")
    rows = [a for a in request.app[CORPORATE_ACTIONS_KEY]
            if ticker in (None, a.get("market_ticker")) and market_id in (None,
                                                                          a.get("market_id"))]
    return json_response({"corporate_actions": rows})


@public
async def orderbooks(request: web.Request) -> web.Response:
    ex = request.app[STATE_KEY].exchange
    text = query_str(request, "tickers", required=True) or ""
    tickers = [t for t in text.split(",") if t]
    if not 1 <= len(tickers) <= MAX_ORDERBOOK_TICKERS:
        raise BadRequest({"msg": f"tickers must list 1..{MAX_ORDERBOOK_TICKERS} markets"})
    depth = query_int(request, "depth", default=0, lo=0) or 0
    books = [{"ticker": t, **book_json(ex.orderbook(t), depth=depth)} for t in tickers]
    return json_response({"orderbooks": books})


def add_routes(app: web.Application, prefix: str) -> None:
    app[CORPORATE_ACTIONS_KEY] = []
    r = app.router
    # Registered before /margin/markets/{ticker}: "orderbooks" is not a ticker.
    r.add_get(prefix + "/margin/markets/orderbooks", orderbooks)
    r.add_get(prefix + "/margin/markets/{ticker}/candlesticks", candlesticks)
    r.add_get(prefix + "/margin/funding_rates/premium_index", premium_index)
    r.add_get(prefix + "/margin/corporate_actions", corporate_actions)
