"""Synthetic flow: deep realistic books, trades and drift; same seed, same stream."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

import pytest

from kalshi_margin_stream.sim.engine import (
    Event,
    Exchange,
    ExchangeConfig,
    FillEvent,
    PublicTrade,
    Rejection,
    SyntheticFlow,
    default_markets,
)
from kalshi_margin_stream.sim.engine.testing import T0, of_type

TICKERS = ["KXBTCPERP", "KXETHPERP"]


def run(seed: int, flow_seed: int, steps: int = 300) -> tuple[Exchange, list[Event]]:
    ex = Exchange(ExchangeConfig(markets=default_markets(TICKERS)), seed=seed, now_ms=T0)
    flow = SyntheticFlow(ex, seed=flow_seed, levels=60)
    events = flow.seed_books(T0)
    for i in range(steps):
        events += flow.step(T0 + 10 * (i + 1), actions=3)
    return ex, events


def test_same_seed_same_stream() -> None:
    _, a = run(7, 7)
    _, b = run(7, 7)
    assert len(a) > 1000
    assert a == b


def test_different_flow_seed_different_stream() -> None:
    _, a = run(7, 7)
    _, b = run(7, 8)
    assert a != b


def test_books_are_deep_trades_happen_and_invariants_hold() -> None:
    ex, events = run(3, 3, steps=600)
    for t in TICKERS:
        book = ex.orderbook(t)
        assert len(book.bids) >= 40 and len(book.asks) >= 40
        assert book.bids[0][0] < book.asks[0][0]
        assert ex.market(t).volume > 0
    trades = of_type(events, PublicTrade)
    assert {t.ticker for t in trades} == set(TICKERS)
    assert {t.taker_side for t in trades} == {"bid", "ask"}
    assert ex.audit() == []


def test_default_prices_are_realistic() -> None:
    ex, _ = run(1, 1, steps=10)
    btc = ex.market("KXBTCPERP")
    assert btc.bid is not None and btc.ask is not None
    ref = btc.config.initial_reference_price
    assert abs(btc.bid - ref) < ref / 100
    assert btc.ask - btc.bid >= btc.config.tick_size


def test_every_trade_has_a_taker_and_a_maker_fill() -> None:
    _, events = run(5, 5)
    fills: dict[str, list[FillEvent]] = {}
    for f in of_type(events, FillEvent):
        fills.setdefault(f.trade_id, []).append(f)
    trades = of_type(events, PublicTrade)
    assert trades
    for t in trades:
        pair = fills[t.trade_id]
        assert sorted(f.is_taker for f in pair) == [False, True]
        assert {f.side for f in pair} == {"bid", "ask"}
        assert all(f.count == t.count and f.price == t.price for f in pair)


def test_unknown_ticker_is_refused() -> None:
    ex = Exchange(seed=1, now_ms=T0)
    with pytest.raises(Rejection):
        SyntheticFlow(ex, tickers=["NOPE"])
    with pytest.raises(ValueError):
        SyntheticFlow(ex, levels=0)
