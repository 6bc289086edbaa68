"""What-if before an order == the simulator's balance and risk after it fills.

Each test predicts with the calculator over what the REST API would show (built
in process from the simulator's own JSON), then really places the orders in the
simulator's engine and reads its balance, risk and positions. A counterparty
rests one order on each side inside the spread, so our orders fill against exactly
one order at their limit price and the marks do not move (the calculator assumes a
fill at the limit price; a fill across several price levels or resting orders is
priced differently and is not what these tests pin down).

Acceptance: a predicted "not ok" must be refused and a predicted "ok" accepted
(a false "ok" is a bug), swept across the boundary of the available balance and
of the notional risk limit.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from kalshi_margin_stream.core.numbers import fmt_count
from kalshi_margin_stream.sim.engine import Exchange, ExchangeConfig, Rejection, default_markets
from kalshi_margin_stream.sim.testing import engine_margin_reads

D = Decimal
T0 = 1_788_500_000_000
USER = "f50604b8-d25a-4b0c-b3c9-ce5b48ffcad0"
CP = "00000000-0000-4000-8000-00000000c0de"
BTC, ETH = "KXBTCPERP", "KXETHPERP"
# Counterparty quotes around each reference price (BTC 8.0961, ETH 2.5084).
QUOTES = {BTC: (D("8.0900"), D("8.1000")), ETH: (D("2.5000"), D("2.5150"))}
_ids = itertools.count()


CASH = D("10000")


def make_exchange(cash: Decimal = CASH, limit: Decimal | None = None) -> Exchange:
    ex = Exchange(ExchangeConfig(markets=default_markets([BTC, ETH])), seed=3, now_ms=T0)
    ex.add_user(USER, cash=cash)
    ex.add_user(CP, cash=D("100000000"))
    ex.set_notional_limit(CP, D("1000000000"))
    if limit is not None:
        ex.set_notional_limit(USER, limit)
    for t, (bid, ask) in QUOTES.items():
        place(ex, CP, t, "bid", D(100000), bid)
        place(ex, CP, t, "ask", D(100000), ask)
    return ex


def place(ex: Exchange, user: str, ticker: str, side: str, count: Decimal, price: Decimal,
          tif: str = "good_till_canceled", reduce_only: bool = False) -> Any:
    return ex.create_order(user, ticker=ticker, client_order_id=f"c{next(_ids)}",
                           side=side, count=count, price=price,  # type: ignore[arg-type]
                           time_in_force=tif, reduce_only=reduce_only,  # type: ignore[arg-type]
                           now_ms=ex.now_ms + 1)


def order(ticker: str, side: str, count: int | str, price: Decimal | None = None,
          **kw: Any) -> dict[str, Any]:
    if price is None:  # take the counterparty's quote
        price = QUOTES[ticker][1] if side == "bid" else QUOTES[ticker][0]
    return {"ticker": ticker, "side": side, "count": str(count), "price": str(price), **kw}


def submit(ex: Exchange, o: dict[str, Any]) -> Any:
    return place(ex, USER, o["ticker"], o["side"], D(o["count"]), D(o["price"]),
                 o.get("time_in_force", "good_till_canceled"), o.get("reduce_only", False))


def assert_matches_exchange(ex: Exchange, predicted: dict[str, Any]) -> None:
    """The prediction's "after" figures against the simulator's reads."""
    reads = engine_margin_reads(ex, USER)
    row = next(b for b in reads.balance.subaccount_balances if b.subaccount == 0)
    got = {"initial_margin": row.initial_margin, "maintenance_margin": row.maintenance_margin,
           "resting_orders_margin": row.resting_orders_margin,
           "available_balance": row.available_balance, "equity": row.account_equity}
    want = {"initial_margin": predicted["initial_margin"]["after"],
            "maintenance_margin": predicted["maintenance_margin"]["after"],
            "resting_orders_margin": predicted["resting_orders_margin"]["after"],
            "available_balance": predicted["available_balance"]["after"],
            "equity": predicted["equity"]["after"]}
    assert {k: str(v) for k, v in got.items()} == want
    ticker = predicted["ticker"]
    held = {p.market_ticker: p for p in reads.positions}
    position = held[ticker].position if ticker in held else D(0)
    assert fmt_count(position) == predicted["position"]["after"]
    risk = {r.market_ticker: r for r in reads.risk.positions}
    if ticker in risk:
        r = risk[ticker]
        assert str(r.position_leverage) == predicted["leverage"]["position_after"]
        liq = r.estimated_liquidation_price
        if len(risk) == 1:
            assert (None if liq is None else str(liq)) == predicted["liquidation_price"]["after"]
    if reads.risk.account_leverage is not None:
        assert str(reads.risk.account_leverage) == predicted["leverage"]["account_after"]


def predict_and_fill(ex: Exchange, o: dict[str, Any]) -> dict[str, Any]:
    predicted = engine_margin_reads(ex, USER).calculator().order_margins([o])[0]
    assert predicted["ok"], predicted["errors"]
    result = submit(ex, o)
    assert result.remaining_count == 0 and result.fill_count == D(o["count"])
    assert_matches_exchange(ex, predicted)
    return predicted


@pytest.mark.parametrize("side", ["bid", "ask"])
@pytest.mark.parametrize("ticker", [BTC, ETH])
def test_a_single_taker_order_matches_the_exchange_after_it_fills(ticker: str,
                                                                  side: str) -> None:
    ex = make_exchange()
    predicted = predict_and_fill(ex, order(ticker, side, 37))
    assert predicted["liquidity"] == "taker"
    assert D(predicted["fees"]["amount"]) > 0


def test_a_maker_order_matches_the_exchange_once_a_counterparty_fills_it() -> None:
    ex = make_exchange()
    o = order(BTC, "bid", 12, D("8.0950"))
    predicted = engine_margin_reads(ex, USER).calculator().order_margins([o])[0]
    assert predicted["liquidity"] == "maker" and predicted["ok"]
    assert submit(ex, o).remaining_count == 12
    place(ex, CP, BTC, "ask", D(12), D("8.0950"), "immediate_or_cancel")
    assert_matches_exchange(ex, predicted)


def test_adding_reducing_and_flipping_through_zero_match_the_exchange() -> None:
    ex = make_exchange()
    for o in (order(BTC, "bid", 10), order(BTC, "bid", 7), order(BTC, "ask", 4),
              order(BTC, "ask", 20), order(BTC, "bid", 9),
              order(BTC, "ask", 2, time_in_force="immediate_or_cancel", reduce_only=True)):
        predict_and_fill(ex, o)
    assert engine_margin_reads(ex, USER).positions == []


def test_a_liquidation_price_appears_and_matches_on_a_small_account() -> None:
    ex = make_exchange(cash=D("40"))
    predicted = predict_and_fill(ex, order(BTC, "bid", 20))
    assert predicted["liquidation_price"]["after"] is not None
    assert D(predicted["liquidation_price"]["after"]) < QUOTES[BTC][0]
    predicted = predict_and_fill(ex, order(BTC, "ask", 5))
    assert predicted["liquidation_price"]["after"] is not None


def test_an_offsetting_basket_placed_leg_by_leg_ends_where_final_said() -> None:
    ex = make_exchange()
    predict_and_fill(ex, order(ETH, "ask", 30))
    legs = [order(BTC, "bid", 25), order(ETH, "bid", 30), order(BTC, "ask", 10)]
    reads = engine_margin_reads(ex, USER)
    basket = reads.calculator().basket_margins(legs)
    assert basket["ok"] and basket["sequential"]["ok"]
    assert D(basket["final"]["total"]) <= D(basket["initial"]["total"])
    assert D(basket["benefit"]) > 0
    assert D(basket["sequential"]["peak_total"]) >= D(basket["final"]["total"])
    for leg in legs:
        assert submit(ex, leg).remaining_count == 0
    row = next(b for b in engine_margin_reads(ex, USER).balance.subaccount_balances
               if b.subaccount == 0)
    assert str(row.initial_margin) == basket["final"]["im_after"]
    assert str(row.maintenance_margin) == basket["final"]["mm_after"]
    assert str(row.available_balance) == basket["final"]["available_balance_after"]


def test_partially_filled_resting_orders_count_in_the_prediction() -> None:
    ex = make_exchange()
    resting = order(BTC, "bid", 30, D("8.0950"))
    assert submit(ex, resting).remaining_count == 30
    place(ex, CP, BTC, "ask", D(11), D("8.0950"), "immediate_or_cancel")  # 11 of 30 fill
    reads = engine_margin_reads(ex, USER)
    assert [o.remaining_count for o in reads.snapshot.account(0).open_orders.values()] == [19]
    own_cross = reads.calculator().order_margins([order(BTC, "ask", 15)])[0]
    assert not own_cross["ok"] and own_cross["errors"][0]["code"] == "self_trade"
    o = order(BTC, "bid", 15)
    with_orders = reads.calculator().order_margins([o])[0]
    without = reads.calculator().order_margins([o], consider_open_orders=False)[0]
    assert with_orders["resting_orders_margin"]["before"] != "0.0000"
    assert without["resting_orders_margin"]["before"] == "0.0000"
    assert submit(ex, o).remaining_count == 0
    assert_matches_exchange(ex, with_orders)


def refusal_sweep(counts: range, **exchange_kw: Any) -> list[tuple[int, bool]]:
    """(count, predicted ok) for a fresh account each; asserts the exchange agreed."""
    seen = []
    for count in counts:
        ex = make_exchange(**exchange_kw)
        o = order(BTC, "bid", count)
        predicted = engine_margin_reads(ex, USER).calculator().order_margins([o])[0]
        try:
            submit(ex, o)
            accepted = True
        except Rejection as exc:
            assert exc.code == "NOTIONAL_RISK_LIMIT_EXCEEDED"
            accepted = False
        assert predicted["ok"] == accepted, (count, predicted["errors"])
        if predicted["ok"]:
            assert_matches_exchange(ex, predicted)
        seen.append((count, predicted["ok"]))
    return seen


def test_available_balance_refusals_are_predicted_exactly_at_the_boundary() -> None:
    seen = refusal_sweep(range(10, 20), cash=D("20"))
    oks = [ok for _, ok in seen]
    assert True in oks and False in oks, seen  # the sweep crosses the boundary
    assert oks == sorted(oks, reverse=True)
    ex = make_exchange(cash=D("20"))
    bad = engine_margin_reads(ex, USER).calculator().order_margins([order(BTC, "bid", 19)])[0]
    assert not bad["checks"]["im_fits"] and bad["errors"][0]["code"] == "insufficient_margin"


def test_notional_limit_refusals_are_predicted_exactly_at_the_boundary() -> None:
    seen = refusal_sweep(range(9, 15), limit=D("100"))
    assert [ok for _, ok in seen] == [c * QUOTES[BTC][1] <= 100 for c, _ in seen]
    ex = make_exchange(limit=D("100"))
    bad = engine_margin_reads(ex, USER).calculator().order_margins([order(BTC, "bid", 14)])[0]
    assert bad["checks"] ["notional_limit"] is False
    assert bad["notional_risk_limit"]["ok"] is False


def test_a_reduce_only_order_is_never_refused_for_margin() -> None:
    ex = make_exchange(cash=D("20"))
    predict_and_fill(ex, order(BTC, "bid", 10))
    o = order(BTC, "ask", 10, time_in_force="fill_or_kill", reduce_only=True)
    predicted = engine_margin_reads(ex, USER).calculator().order_margins([o])[0]
    assert predicted["checks"]["im_fits"] and D(predicted["initial_margin"]["delta"]) < 0
    assert submit(ex, o).remaining_count == 0
    assert_matches_exchange(ex, predicted)


def test_the_sequential_check_predicts_which_leg_order_the_exchange_accepts() -> None:
    ex = make_exchange(cash=D("20"))
    predict_and_fill(ex, order(BTC, "bid", 10))
    legs = [order(ETH, "bid", 15),
            order(BTC, "ask", 10, time_in_force="immediate_or_cancel", reduce_only=True)]
    calc = engine_margin_reads(ex, USER).calculator()
    as_given = calc.basket_margins(legs)
    hedged = calc.basket_margins(legs, sequence="hedge_first")
    assert [s["fits"] for s in as_given["sequential"]["steps"]] == [False, True]
    assert not as_given["ok"] and hedged["ok"] and hedged["sequential"]["order"] == [1, 0]
    assert hedged["final"] == as_given["final"]
    with pytest.raises(Rejection):  # as given, the first leg is refused
        submit(ex, legs[0])
    for i in hedged["sequential"]["order"]:  # hedge first, both go through
        assert submit(ex, legs[i]).remaining_count == 0
    row = next(b for b in engine_margin_reads(ex, USER).balance.subaccount_balances
               if b.subaccount == 0)
    assert str(row.initial_margin) == hedged["final"]["im_after"]
    assert str(row.available_balance) == hedged["final"]["available_balance_after"]


def test_reconcile_finds_the_simulator_consistent_with_our_formulas() -> None:
    ex = make_exchange(cash=D("60"))
    predict_and_fill(ex, order(BTC, "bid", 12))
    reads = engine_margin_reads(ex, USER)
    report = reads.reconcile()
    assert report.ok and report.mismatches == (), report.lines()
    # One position: its liquidation price is checked too (the sim publishes it).
    assert reads.risk.positions[0].estimated_liquidation_price is not None
    predict_and_fill(ex, order(ETH, "ask", 40))
    report = engine_margin_reads(ex, USER).reconcile()
    assert report.ok and report.checked >= 15, report.lines()
