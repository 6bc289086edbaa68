"""Synthetic flow: deep realistic books, trades and drift; same seed, same stream."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from kalshi_margin_stream.sim.engine.testing import T0, D, of_type
from kalshi_margin_stream.sim.engine.views import Side

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


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 2**32), st.integers(1, 5))
def test_any_seed_keeps_invariants(seed: int, flow_seed: int, actions: int) -> None:
    ex = Exchange(ExchangeConfig(markets=default_markets(["KXSOLPERP"])), seed=seed, now_ms=T0)
    ex.add_user("u", cash=D("200"))
    flow = SyntheticFlow(ex, seed=flow_seed, levels=30)
    events = flow.seed_books(T0)
    for i in range(150):
        now = T0 + 1_000 * (i + 1)
        events += flow.step(now, actions=actions)
        if i % 10 == 0:  # a real user trading through the synthetic book
            bid, ask, _ = ex.best_prices("KXSOLPERP")
            side: Side = "bid" if i % 20 == 0 else "ask"
            price = ask if side == "bid" else bid
            if price is not None:
                try:
                    events += ex.create_order("u", ticker="KXSOLPERP", client_order_id=f"u{i}",
                                              side=side, count=D(3), price=price,
                                              time_in_force="immediate_or_cancel",
                                              now_ms=now).events
                except Rejection:
                    pass
    assert ex.audit() == []
    bids, asks = ex.orderbook("KXSOLPERP").bids, ex.orderbook("KXSOLPERP").asks
    assert all(size > 0 for _, size in bids + asks)
    assert not bids or not asks or bids[0][0] < asks[0][0]
