"""Pre-trade calculator invariants (issue #10), over random accounts and baskets.

Markets carry the simulator's published leverage curves (the MM rate grows with
size), marks are fixed, and the account has no resting orders unless a test adds
them, so every figure is a pure function of positions, cash and the orders.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core.rest_models import (
    BalanceResponse,
    MarginMarket,
    Position,
    RiskParameters,
    RiskResponse,
    SubaccountBalance,
    TickerPrice,
)
from kalshi_margin_stream.rest.margins import MarginReads, build_margin_reads
from kalshi_margin_stream.sim.engine import default_markets

D = Decimal
T0 = 1_788_500_000_000
TICK = D("0.0001")
CONFIGS = {c.ticker: c for c in default_markets(["KXBTCPERP", "KXETHPERP", "KXSOLPERP"])}
TICKERS = tuple(CONFIGS)
MARKS = {t: c.initial_reference_price for t, c in CONFIGS.items()}

held_positions = st.dictionaries(
    st.sampled_from(TICKERS),
    st.tuples(st.integers(-400, 400).filter(bool), st.integers(-300, 300)), max_size=3)
"""ticker -> (signed count, entry offset from the mark in ticks)."""


def reads_for(positions: dict[str, tuple[int, int]], cash: Decimal) -> MarginReads:
    markets = [MarginMarket(
        ticker=t, tick_size="0.0001", status="active", fractional_trading_enabled=False,
        leverage_estimates=CONFIGS[t].leverage_estimates(), price=mark,
        bid=mark - 5 * TICK, ask=mark + 5 * TICK,
        liquidation_mark_price=TickerPrice(price=mark, ts_ms=T0),
        settlement_mark_price=TickerPrice(price=mark, ts_ms=T0)) for t, mark in MARKS.items()]
    rows = []
    upnl = D(0)
    for t, (qty, offset) in positions.items():
        entry = MARKS[t] + offset * TICK
        rows.append(Position(market_ticker=t, position=D(qty), entry_price=entry,
                             unrealized_pnl=qty * (MARKS[t] - entry)))
        upnl += qty * (MARKS[t] - entry)
    return build_margin_reads(
        params=RiskParameters(liquidation_margin_ratio_threshold=D(1),
                              queue_entry_margin_ratio_threshold=D("0.91"),
                              initial_margin_multiplier=dict.fromkeys(TICKERS, D("1.3"))),
        markets=markets, fee_tiers=None, notional_limit=None, positions=rows,
        balance=BalanceResponse(subaccount_balances=[
            SubaccountBalance(subaccount=0, account_equity=cash + upnl)]),
        risk=RiskResponse(total_position_notional=D(0), total_maintenance_margin=D(0)),
        orders=[], static_ms=T0, account_ms=T0, orders_ms=T0, now_ms=T0)


@st.composite
def orders(draw: st.DrawFn, tickers: tuple[str, ...] = TICKERS) -> dict[str, Any]:
    t = draw(st.sampled_from(tickers))
    offset = draw(st.integers(-40, 40))
    return {"ticker": t, "side": draw(st.sampled_from(["bid", "ask"])),
            "count": str(draw(st.integers(1, 300))), "price": str(MARKS[t] + offset * TICK)}


def dollars(x: str) -> Decimal:
    return D(x)


@given(held_positions, st.integers(1, 100), st.integers(-40, 40), st.booleans())
def test_an_exposure_reducing_order_never_increases_margin(
        positions: dict[str, tuple[int, int]], fraction: int, offset: int,
        reduce_only: bool) -> None:
    if not positions:
        positions = {"KXBTCPERP": (50, 0)}
    t, (qty, _) = next(iter(positions.items()))
    count = max(1, abs(qty) * fraction // 100)
    o = {"ticker": t, "side": "ask" if qty > 0 else "bid", "count": str(count),
         "price": str(MARKS[t] + offset * TICK)}
    if reduce_only:
        o.update(time_in_force="immediate_or_cancel", reduce_only=True)
    res = reads_for(positions, D(1000)).calculator().order_margins([o])[0]
    assert dollars(res["initial_margin"]["delta"]) <= 0
    assert dollars(res["maintenance_margin"]["delta"]) <= 0
    assert res["checks"]["im_fits"]
    assert dollars(res["total"]) == dollars(res["fees"]["amount"]) + max(
        D(0), -dollars(res["pnl"]["slippage"]))


@given(held_positions, st.sampled_from(TICKERS), st.integers(1, 300), st.integers(1, 300),
       st.integers(-40, 40), st.integers(-40, 40))
def test_offsetting_legs_cost_no_more_together_than_apart(
        positions: dict[str, tuple[int, int]], t: str, buy: int, sell: int, o1: int,
        o2: int) -> None:
    legs = [{"ticker": t, "side": "bid", "count": str(buy), "price": str(MARKS[t] + o1 * TICK)},
            {"ticker": t, "side": "ask", "count": str(sell), "price": str(MARKS[t] + o2 * TICK)}]
    res = reads_for(positions, D(5000)).calculator().basket_margins(legs)
    assert dollars(res["final"]["total"]) <= dollars(res["initial"]["total"])
    assert dollars(res["benefit"]) >= 0
    assert dollars(res["sequential"]["peak_total"]) >= dollars(res["final"]["total"])


@given(st.permutations(TICKERS), st.lists(st.integers(1, 300), min_size=3, max_size=3),
       st.lists(st.sampled_from(["bid", "ask"]), min_size=3, max_size=3), st.randoms())
def test_legs_that_cannot_offset_cost_the_same_together_and_apart_in_any_order(
        tickers: list[str], counts: list[int], sides: list[str], rnd: random.Random) -> None:
    legs = [{"ticker": t, "side": s, "count": str(c), "price": str(MARKS[t])}
            for t, c, s in zip(tickers, counts, sides, strict=True)]
    calc = reads_for({}, D(100000)).calculator()
    res = calc.basket_margins(legs)
    for key in ("initial_margin", "maintenance_margin", "fees", "total"):
        assert res["final"][key] == res["initial"][key]
    assert res["benefit"] == "0.0000"
    shuffled = legs[:]
    rnd.shuffle(shuffled)
    assert calc.basket_margins(shuffled)["final"] == res["final"]


@given(held_positions, st.lists(orders(), min_size=1, max_size=8), st.integers(10, 20000),
       st.sampled_from(["as_given", "hedge_first"]))
def test_the_sequential_peak_is_never_below_the_final_requirement(
        positions: dict[str, tuple[int, int]], legs: list[dict[str, Any]], cash: int,
        sequence: str) -> None:
    res = reads_for(positions, D(cash)).calculator().basket_margins(
        legs, sequence=sequence)  # type: ignore[arg-type]
    assert res["initial"] is not None, res
    assert dollars(res["sequential"]["peak_total"]) >= dollars(res["final"]["total"])
    assert sorted(res["sequential"]["order"]) == list(range(len(legs)))


@given(st.sampled_from(TICKERS), st.sampled_from(["bid", "ask"]), st.integers(100, 400))
def test_the_liquidation_price_moves_toward_the_mark_as_size_grows(
        t: str, side: str, cash: int) -> None:
    """Long: the liquidation price rises with size (toward the mark, and past it once the
    position could not be held); short: it falls."""
    calc = reads_for({}, D(cash)).calculator()
    mark = MARKS[t]
    legs = [{"ticker": t, "side": side, "count": str(count), "price": str(mark)}
            for count in range(1, 400, 13)]
    prices = [D(r["liquidation_price"]["after"]) for r in calc.order_margins(legs)
              if r["liquidation_price"]["after"] is not None]
    assert prices, "large enough positions must have a liquidation price"
    assert prices == sorted(prices, reverse=side == "ask")
    signed = [(p - mark) if side == "bid" else (mark - p) for p in prices]
    assert signed[0] < 0  # the first one found is on the far side of the mark


@given(held_positions, st.lists(orders(), min_size=1, max_size=6))
def test_compact_mode_gives_the_full_results_totals(
        positions: dict[str, tuple[int, int]], legs: list[dict[str, Any]]) -> None:
    calc = reads_for(positions, D(3000)).calculator()
    full = calc.order_margins(legs)
    compact = calc.order_margins(legs, mode="compact")
    for f, c in zip(full, compact, strict=True):
        assert c == {"ticker": f["ticker"], "subaccount": 0, "total": f["total"],
                     "initial_margin_after": f["initial_margin"]["after"],
                     "maintenance_margin_after": f["maintenance_margin"]["after"],
                     "available_balance_after": f["available_balance"]["after"], "ok": f["ok"]}
    basket_full = calc.basket_margins(legs)
    basket_compact = calc.basket_margins(legs, mode="compact")
    for key in ("initial_margin", "maintenance_margin", "fees", "total"):
        assert basket_compact["final"][key] == basket_full["final"][key]
    assert basket_compact["initial"] == basket_full["initial"]
    assert basket_compact["sequential"]["peak_total"] == basket_full["sequential"]["peak_total"]
