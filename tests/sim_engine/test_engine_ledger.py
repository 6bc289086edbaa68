"""Money: fees, PnL, margin numbers (against the recorded demo account), limits, funding,
liquidation, transfers and the exact ledger identity."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

from typing import Any

import pytest

from kalshi_margin_stream.sim.engine import (
    Exchange,
    FillEvent,
    FundingPayment,
    FundingSettled,
    LiquidationTriggered,
    OrderUpdate,
    Rejection,
)
from kalshi_margin_stream.sim.engine.testing import BIG, T0, D, exchange, market, of_type, order

ZERO_FEES: dict[str, Any] = {"maker_fee_rate": D(0), "taker_fee_rate": D(0)}
NEXT_FUNDING = 1_788_523_200_000  # 2026-09-04T12:00:00Z


def assert_ledger(ex: Exchange) -> None:
    t = ex.ledger_totals()
    assert t["cash"] == (t["deposits"] + t["realized"] - t["fees_collected"]
                         - t["funding_residual"])
    assert t["realized"] == t["cost_basis"]
    for key, value in t.items():
        if key.startswith("net_position:"):
            assert value == 0, key


def test_fee_rounds_up_to_four_places_like_the_docs_example() -> None:
    ex = exchange(market(initial_reference_price=D("8.0961")))
    ex.add_user("mm", cash=BIG)
    ex.add_user("u")
    order(ex, "mm", "ask", 3, "8.0962")
    res = order(ex, "u", "bid", 3, "8.0962", tif="immediate_or_cancel")
    [taker] = [f for f in of_type(res.events, FillEvent) if f.is_taker]
    assert taker.fee_cost == D("0.0292")  # 3 x 8.0962 x 0.0012 = 0.02914632
    assert res.average_fee_paid == D("0.0097")
    assert res.average_fill_price == D("8.0962")
    assert_ledger(ex)


def test_recorded_demo_account_numbers() -> None:
    """Demo 2026-06-12: cash 50.0500, long 1 KXBTCPERP1 @ 6.3587, mark 6.3329 (fee holiday).

    Recorded: equity 50.0242, IM 1.0737, MM 0.8259, available 48.9505, position value
    6.3329, leverage 7.6679, unrealized -0.0258, roe -3.1238...
    """
    ex = exchange(market("KXBTCPERP", initial_reference_price=D("6.3587"), **ZERO_FEES))
    ex.add_user("mm", cash=BIG, synthetic=True)
    ex.add_user("u", cash=D("50.0500"))
    order(ex, "mm", "ask", 1, "6.3587", ticker="KXBTCPERP")
    order(ex, "u", "bid", 1, "6.3587", ticker="KXBTCPERP", tif="immediate_or_cancel")
    order(ex, "mm", "bid", 5, "6.3329", ticker="KXBTCPERP")
    order(ex, "mm", "ask", 5, "6.3416", ticker="KXBTCPERP")
    ex.move_price("KXBTCPERP", D("6.3329"), now_ms=T0)
    bal = ex.balance("u")
    assert bal.settled_funds == D("50.0500")
    [row] = bal.subaccount_balances
    assert (row.account_equity, row.initial_margin, row.maintenance_margin,
            row.available_balance, row.position_value, row.resting_orders_margin) == (
        D("50.0242"), D("1.0737"), D("0.8259"), D("48.9505"), D("6.3329"), D(0))
    risk = ex.risk("u")
    assert risk.account_leverage == D("7.6679")
    assert risk.total_maintenance_margin == D("0.8259")
    [pos] = ex.positions("u")
    assert (pos.position, pos.entry_price, pos.unrealized_pnl, pos.margin_used) == (
        1, D("6.3587"), D("-0.0258"), D("0.8259"))
    assert pos.roe is not None and abs(pos.roe - D("-3.12386487468216")) < D("1E-13")


def test_realized_pnl_entry_price_and_flip() -> None:
    ex = exchange(market(**ZERO_FEES))
    ex.add_user("mm", cash=BIG)
    ex.add_user("u")
    order(ex, "mm", "ask", 1, "10.0000")
    order(ex, "mm", "ask", 1, "10.0001")
    order(ex, "u", "bid", 2, "10.0001", tif="immediate_or_cancel")
    [pos] = ex.positions("u")
    assert pos.cost_basis == D("20.0001") and pos.entry_price == D("10.0000")
    order(ex, "mm", "bid", 5, "11.0000")
    res = order(ex, "u", "ask", 5, "11.0000", tif="immediate_or_cancel")
    [fill] = [f for f in of_type(res.events, FillEvent) if f.user_id == "u"]
    assert fill.realized_pnl == D("1.9999") and fill.post_position == -3
    [pos] = ex.positions("u")
    assert (pos.position, pos.entry_price) == (-3, D("11.0000"))
    assert ex.balance("u").settled_funds == D("10001.9999")
    assert_ledger(ex)


def test_position_fees_reset_when_flat() -> None:
    ex = exchange()
    ex.add_user("mm", cash=BIG)
    ex.add_user("u")
    order(ex, "mm", "ask", 1, "10.0000")
    order(ex, "u", "bid", 1, "10.0000", tif="immediate_or_cancel")
    assert ex.positions("u")[0].fees == D("0.0120")
    order(ex, "mm", "bid", 1, "10.0000")
    order(ex, "u", "ask", 1, "10.0000", tif="immediate_or_cancel")
    assert ex.positions("u") == []
    assert ex.balance("u").settled_funds == D("10000") - D("0.0240")


def test_notional_limit_counts_positions_and_resting_orders() -> None:
    ex = exchange(default_notional_limit=D("100"))
    ex.add_user("u")
    order(ex, "u", "bid", 9, "10.0000")
    with pytest.raises(Rejection) as info:
        order(ex, "u", "bid", 2, "10.0000")
    r = info.value
    assert (r.http_status, r.code, r.message) == (400, "NOTIONAL_RISK_LIMIT_EXCEEDED",
                                                  "NOTIONAL_RISK_LIMIT_EXCEEDED")
    # the other side only counts against max(long, short): an ask of 9 still fits
    order(ex, "u", "ask", 9, "10.5000")
    lim = ex.notional_risk_limit("u")
    assert lim.total_current_usage == D("94.5000")
    assert lim.current_usage_by_market_ticker == {"TEST": D("94.5000")}


def test_insufficient_margin_is_refused_with_the_demo_code() -> None:
    ex = exchange()
    ex.add_user("u", cash=D("10"))
    with pytest.raises(Rejection) as info:
        order(ex, "u", "bid", 10, "10.0000")  # IM 13.04 x 1.3 = 16.952 > 10
    assert info.value.code == "NOTIONAL_RISK_LIMIT_EXCEEDED"
    assert order(ex, "u", "bid", 5, "10.0000").remaining_count == 5


def test_resting_orders_margin_reduces_available_balance() -> None:
    ex = exchange()
    ex.add_user("u", cash=D("100"))
    order(ex, "u", "bid", 10, "9.0000")
    [row] = ex.balance("u").subaccount_balances
    # ROM priced at the mark (reference 10): MM of 10 lots = 100 x (0.1304 + 0.0019 x 1e-4)
    # = 13.040019 -> 13.0401 (up); IM = 13.0401 x 1.3 = 16.95213 -> 16.9521
    assert row.resting_orders_margin == D("16.9521")
    assert row.available_balance == D("100") - D("16.9521")


def test_funding_longs_pay_shorts_when_the_book_is_above_the_index() -> None:
    ex = exchange(market(**ZERO_FEES))
    for u in ("a", "b"):
        ex.add_user(u)
    ex.add_user("mm", cash=BIG)
    order(ex, "b", "ask", 20, "10.2000")
    order(ex, "a", "bid", 10, "10.2000", tif="immediate_or_cancel")
    order(ex, "mm", "bid", 5, "10.0000")
    ex.advance_to(NEXT_FUNDING - 1)
    assert ex.funding_estimate("TEST").funding_rate == D("0.01")  # mid 10.1 vs index 10
    events = ex.advance_to(NEXT_FUNDING)
    [settled] = of_type(events, FundingSettled)
    assert (settled.funding_rate, settled.mark_price) == (D("0.01"), D("10.2000"))
    pays = {p.user_id: p.amount for p in of_type(events, FundingPayment)}
    assert pays == {"a": D("-1.0200"), "b": D("1.0200")}
    [hist] = ex.funding_history("a")
    assert (hist.quantity, hist.amount, hist.funding_time_ms) == (10, D("-1.0200"),
                                                                  NEXT_FUNDING)
    assert ex.funding_rates_historical(ticker="TEST")[0].funding_rate == D("0.01")
    assert_ledger(ex)


def test_funding_inside_the_deadband_pays_nothing() -> None:
    ex = exchange(market(**ZERO_FEES))
    ex.add_user("a")
    ex.add_user("b")
    order(ex, "b", "ask", 1, "10.0001")
    order(ex, "a", "bid", 1, "10.0001", tif="immediate_or_cancel")
    order(ex, "b", "ask", 1, "10.0001")
    order(ex, "a", "bid", 1, "9.9999")
    events = ex.advance_to(NEXT_FUNDING)
    assert of_type(events, FundingPayment) == []
    assert [s.funding_rate for s in of_type(events, FundingSettled)] == [D(0)]
    assert ex.funding_history("a") == []


def test_several_funding_times_in_one_advance() -> None:
    ex = exchange()
    events = ex.advance_to(NEXT_FUNDING + 16 * 3600 * 1000)
    times = [s.funding_time_ms for s in of_type(events, FundingSettled)]
    assert times == [NEXT_FUNDING, NEXT_FUNDING + 8 * 3600_000, NEXT_FUNDING + 16 * 3600_000]
    hist = ex.funding_rates_historical()
    assert [h.funding_time_ms for h in hist] == sorted(times, reverse=True)


def test_liquidation_when_margin_ratio_reaches_one() -> None:
    ex = exchange()
    ex.add_user("mm", cash=BIG, synthetic=True)
    ex.add_user("u", cash=D("20"))
    order(ex, "mm", "ask", 20, "10.0000")
    order(ex, "u", "bid", 10, "10.0000", tif="immediate_or_cancel")
    order(ex, "mm", "bid", 100, "9.0000")
    assert not of_type(ex.move_price("TEST", D("9.3000"), now_ms=T0), LiquidationTriggered)
    events = ex.move_price("TEST", D("9.2000"), now_ms=T0)
    [liq] = of_type(events, LiquidationTriggered)
    assert liq.user_id == "u" and liq.margin_ratio >= 1
    [fill] = [f for f in of_type(events, FillEvent) if f.user_id == "u"]
    assert (fill.order_source, fill.count, fill.price, fill.post_position) == (
        "system", 10, D("9.0000"), 0)
    [upd] = [e for e in of_type(events, OrderUpdate) if e.order.user_id == "u"]
    assert upd.order.order_source == "system" and upd.order.order_reason == "liquidation"
    assert ex.positions("u") == []
    # 20 - 0.12 (open fee) - 10 (loss) - 0.108 (close fee)
    assert ex.balance("u").settled_funds == D("9.7720")
    assert_ledger(ex)


def test_subaccount_transfers_are_idempotent_by_client_transfer_id() -> None:
    ex = exchange()
    ex.add_user("u", cash=D("100"))
    n = ex.create_subaccount("u")
    assert n == 1 and ex.subaccounts("u") == [0, 1]
    ex.transfer_between_subaccounts("u", client_transfer_id="t", from_subaccount=0,
                                    to_subaccount=1, amount_cents=2_500)
    with pytest.raises(Rejection) as info:
        ex.transfer_between_subaccounts("u", client_transfer_id="t", from_subaccount=0,
                                        to_subaccount=1, amount_cents=2_500)
    assert (info.value.http_status, info.value.code) == (409, "transfer_already_applied")
    cash = [r.cash for r in ex.balance("u").subaccount_balances]
    assert cash == [D("75.00"), D("25.00")]
    with pytest.raises(Rejection):
        ex.transfer_between_subaccounts("u", client_transfer_id="t2", from_subaccount=1,
                                        to_subaccount=0, amount_cents=2_501)
    with pytest.raises(Rejection):
        ex.transfer_between_subaccounts("u", client_transfer_id="t3", from_subaccount=0,
                                        to_subaccount=9, amount_cents=1)
    assert_ledger(ex)


def test_at_most_63_numbered_subaccounts() -> None:
    ex = exchange()
    ex.add_user("u")
    numbers = [ex.create_subaccount("u") for _ in range(63)]
    assert numbers == list(range(1, 64))
    with pytest.raises(Rejection) as info:
        ex.create_subaccount("u")
    assert info.value.http_status == 400


def test_intra_exchange_transfer_moves_event_cash_and_replays() -> None:
    ex = exchange(default_event_contract_balance=D("500"))
    ex.add_user("u", cash=D("0"))
    t = ex.intra_exchange_transfer("u", source="event_contract", destination="margined",
                                   amount_centicents=5_000_000, client_transfer_id="x",
                                   now_ms=T0)
    assert t.amount == D("500.0000") and t.status == "complete"
    again = ex.intra_exchange_transfer("u", source="event_contract", destination="margined",
                                       amount_centicents=5_000_000, client_transfer_id="x",
                                       now_ms=T0)
    assert again == t
    assert ex.balance("u").settled_funds == D("500.0000")
    assert ex.get_transfer("u", t.transfer_id) == t
    assert ex.list_transfers("u").items == [t]
    with pytest.raises(Rejection):
        ex.intra_exchange_transfer("u", source="event_contract", destination="margined",
                                   amount_centicents=1, client_transfer_id=None, now_ms=T0)
    assert_ledger(ex)


def test_liquidation_on_a_thin_book_is_retried_at_most_once_a_second() -> None:
    ex = exchange()
    ex.add_user("mm", cash=BIG, synthetic=True)
    ex.add_user("u", cash=D("20"))
    order(ex, "mm", "ask", 20, "10.0000")
    order(ex, "u", "bid", 10, "10.0000", tif="immediate_or_cancel")
    order(ex, "mm", "bid", 4, "9.0000")
    events = ex.move_price("TEST", D("9.0000"), now_ms=T0)
    assert len(of_type(events, LiquidationTriggered)) == 1
    [pos] = ex.positions("u")
    assert pos.position == 6  # only 4 lots of bids within the liquidation price
    # still in breach, but retried only after a second
    assert of_type(ex.move_price("TEST", D("8.0000"), now_ms=T0 + 999),
                   LiquidationTriggered) == []
    assert of_type(order(ex, "mm", "bid", 10, "8.0000", now_ms=T0 + 999).events,
                   LiquidationTriggered) == []
    events = ex.advance_to(T0 + 1_000)
    assert len(of_type(events, LiquidationTriggered)) == 1
    assert ex.positions("u") == []
    assert_ledger(ex)


def test_a_request_after_a_funding_time_settles_funding_first() -> None:
    ex = exchange()
    ex.add_user("u")
    res = order(ex, "u", "bid", 1, "9.0000", now_ms=NEXT_FUNDING + 1)
    assert [s.funding_time_ms for s in of_type(res.events, FundingSettled)] == [NEXT_FUNDING]


def test_a_stale_clock_settles_only_the_last_thirty_funding_times() -> None:
    ex = exchange()
    events = ex.advance_to(T0 + 365 * 24 * 3600 * 1000)
    settled = of_type(events, FundingSettled)
    assert len(settled) == 30
    assert settled[-1].funding_time_ms <= ex.now_ms < settled[-1].funding_time_ms + 8 * 3600_000


def test_short_liquidation_cancels_resting_orders_and_buys_back() -> None:
    ex = exchange()
    ex.add_user("mm", cash=BIG, synthetic=True)
    ex.add_user("u", cash=D("20"))
    order(ex, "mm", "bid", 20, "10.0000")
    order(ex, "u", "ask", 10, "10.0000", tif="immediate_or_cancel")
    resting = order(ex, "u", "bid", 1, "8.0000").order.order_id
    risk = ex.risk("u")
    [row] = risk.positions
    # single position: cash 19.88 - q*P + C = 1.0 x 10 x P x m  ->  P ~ 10.6
    assert row.estimated_liquidation_price is not None
    assert D("10.5") < row.estimated_liquidation_price < D("10.7")
    order(ex, "mm", "ask", 100, "11.0000")
    events = ex.move_price("TEST", D("10.8000"), now_ms=T0)
    assert len(of_type(events, LiquidationTriggered)) == 1
    cancelled = [e.order for e in of_type(events, OrderUpdate)
                 if e.order.order_id == resting]
    assert cancelled and cancelled[0].last_update_reason == "MarginCancel"
    [fill] = [f for f in of_type(events, FillEvent) if f.user_id == "u"]
    assert (fill.side, fill.count, fill.price, fill.order_source) == ("bid", 10, D("11.0000"),
                                                                      "system")
    assert ex.positions("u") == []
    assert_ledger(ex)


def test_deposit_counts_as_money_in() -> None:
    ex = exchange()
    ex.add_user("u", cash=D("1"))
    ex.deposit("u", D("99"))
    assert ex.balance("u").settled_funds == D("100")
    assert_ledger(ex)


def test_positions_and_risk_filter_by_subaccount() -> None:
    ex = exchange()
    ex.add_user("mm", cash=BIG)
    ex.add_user("u")
    sub = ex.create_subaccount("u")
    ex.transfer_between_subaccounts("u", client_transfer_id="t", from_subaccount=0,
                                    to_subaccount=sub, amount_cents=100_000)
    order(ex, "mm", "ask", 10, "10.0000")
    order(ex, "u", "bid", 1, "10.0000", tif="immediate_or_cancel")
    order(ex, "u", "bid", 2, "10.0000", tif="immediate_or_cancel", subaccount=sub)
    assert [p.position for p in ex.positions("u")] == [1, 2]
    assert [p.position for p in ex.positions("u", subaccount=sub)] == [2]
    assert [p.position for p in ex.risk("u", subaccount=0).positions] == [1]
    assert ex.positions("u", ticker="OTHER") == []
