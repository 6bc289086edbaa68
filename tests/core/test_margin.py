"""Margin state on real captures: the demo lifecycle, the §3.2 worked example, reconcile."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import msgspec
import pytest

from kalshi_margin_stream.core.codec import decode_frame
from kalshi_margin_stream.core.margin.formulas import MONEY, RateCurve, liquidation_price
from kalshi_margin_stream.core.margin.state import MarginState
from kalshi_margin_stream.core.messages import (
    FillBody,
    FundingRate,
    Message,
    OrderGroupBody,
    OrderGroupUpdates,
    Side,
    TickerBody,
    TickerPrice,
    UserOrder,
    UserOrderBody,
)
from kalshi_margin_stream.core.rest_models import (
    BalanceResponse,
    Fill,
    MarginOrder,
    MarketResponse,
    OrderGroup,
    OrderGroupsResponse,
    Position,
    PositionsResponse,
    RiskParameters,
    RiskResponse,
    SubaccountBalance,
)
from kalshi_margin_stream.exceptions import DecodeError
from tests.conftest import DATA

D = Decimal
BTC = "KXBTCPERP1"
GROUP = "3e027f77-5bd4-48db-b953-339d3f56b8c6"
T = TypeVar("T")


def lifecycle() -> list[Message]:
    lines = (DATA / "ws" / "ws__private_lifecycle.jsonl").read_text().splitlines()
    out: list[Message] = []
    for line in lines:
        if line.strip():
            msg = decode_frame(line)
            assert isinstance(msg, Message)
            out.append(msg)
    return out


def rest(name: str, kind: type[T]) -> T:
    return msgspec.json.decode((DATA / "rest" / f"{name}.json").read_bytes(), type=kind)


def ticker(mark: str, ts: int, *, liq: str | None = None, rate: str | None = None) -> TickerBody:
    return TickerBody(
        market_ticker=BTC, price=D(mark), ts_ms=ts,
        settlement_mark_price=TickerPrice(price=D(mark), ts_ms=ts),
        liquidation_mark_price=TickerPrice(price=D(liq or mark), ts_ms=ts),
        funding_rate=None if rate is None else FundingRate(rate=D(rate),
                                                           next_funding_time_ms=ts + 1000,
                                                           ts_ms=ts))


def fill(trade: str, side: Side, count: str, price: str, post: str, ts: int, *,
         fee: str = "0", order: str = "o1", sub: int = 0) -> FillBody:
    return FillBody(trade_id=trade, order_id=order, market_ticker=BTC, is_taker=True,
                    side=side, ts_ms=ts, price=D(price), count=D(count), fee_cost=D(fee),
                    post_position=D(post), subaccount=sub)


def order(oid: str, fill_count: str, remaining: str, ts: int, *, side: Side = "bid",
          price: str = "5.0000", reason: str | None = None) -> UserOrderBody:
    return UserOrderBody(order_id=oid, ticker=BTC, side=side, price=D(price),
                         fill_count=D(fill_count), remaining_count=D(remaining),
                         last_updated_ts_ms=ts, last_update_reason=reason, subaccount_number=0)


# --- the recorded private lifecycle ------------------------------------------


def test_lifecycle_capture_orders_fill_and_groups() -> None:
    state = MarginState()
    groups_seen = []
    for msg in lifecycle():
        state.apply_message(msg)
        if isinstance(msg, OrderGroupUpdates):
            groups_seen.append(state.snapshot().order_groups.get(GROUP))
    snap = state.snapshot()
    acct = snap.account(0)
    assert acct.open_orders == {}  # every order was cancelled, filled or group-cancelled
    assert state.order("f6384bf5-23d0-475d-9ea2-19914feb73ed").status == "canceled"  # type: ignore[union-attr]
    ioc = state.order("01740d1e-b68b-416f-bbf0-244547fb5ddb")
    assert ioc is not None and ioc.status == "executed" and ioc.fill_count == D("1.00")
    amended = state.order("27da8d61-16d6-41d5-81c1-296a98075495")
    assert amended is not None and amended.price == D("5.3779")  # the amend is kept
    # The fill: post_position 2 while we held nothing -> count 2, entry unknown (a gap).
    pos = acct.positions[BTC]
    assert pos.count == D("2.00") and pos.entry_price is None and pos.gaps == 1
    assert snap.fills_count == 1
    # Groups: created 10, limit 5, triggered, reset, deleted.
    created, limited, triggered, reset, deleted = groups_seen
    assert created is not None and created.contracts_limit == D("10.00")
    assert limited is not None and limited.contracts_limit == D("5.00")
    assert triggered is not None and triggered.triggered
    assert reset is not None and not reset.triggered
    assert deleted is None and snap.order_groups == {}


def test_lifecycle_replayed_twice_changes_nothing() -> None:
    state = MarginState()
    frames = lifecycle()
    for msg in frames:
        state.apply_message(msg)
    before = state.snapshot()
    results = [state.apply_message(m) for m in frames if not isinstance(m, UserOrder)
               or m.msg.remaining_count == 0]
    assert not any(results)
    after = state.snapshot()
    assert after.accounts == before.accounts and after.fills_count == 1
    assert after.order_groups == before.order_groups
    assert after.counters["fills_duplicate"] == 1


def test_lifecycle_with_rest_baseline_has_exact_entry() -> None:
    state = MarginState()
    fill_ts = 1781268381592
    state.reconcile_positions(rest("positions__open", PositionsResponse), as_of_ms=fill_ts - 5000)
    for msg in lifecycle():
        state.apply_message(msg)
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.count == D("2.00") and pos.gaps == 0
    assert pos.entry_price == (D("6.3587") + D("6.3556")) / 2


# --- late and out-of-order order snapshots -----------------------------------


def test_late_order_snapshots_never_move_back() -> None:
    frames = [m.msg for m in lifecycle() if isinstance(m, UserOrder)
              and m.msg.order_id == "27da8d61-16d6-41d5-81c1-296a98075495"]
    assert len(frames) == 4  # create 2, decrease 1, amend price, cancel
    state = MarginState()
    assert state.apply_order(frames[0])
    assert state.apply_order(frames[2])
    assert not state.apply_order(frames[1])  # older snapshot, same fill_count
    assert state.order(frames[0].order_id).price == D("5.3779")  # type: ignore[union-attr]
    assert state.apply_order(frames[3])
    assert not state.apply_order(frames[0])  # a finished order is never resurrected
    assert state.snapshot().account(0).open_orders == {}
    assert state.snapshot().counters["orders_stale"] == 2


def test_fill_count_never_goes_backwards() -> None:
    state = MarginState()
    assert state.apply_order(order("a", "3.00", "7.00", 10))
    assert not state.apply_order(order("a", "2.00", "8.00", 20))  # newer time, fewer fills
    assert state.order("a").fill_count == D("3.00")  # type: ignore[union-attr]
    assert state.apply_order(order("a", "10.00", "0.00", 30))
    assert state.order("a").status == "executed"  # type: ignore[union-attr]


def test_status_from_reasons() -> None:
    state = MarginState()
    state.apply_order(order("x", "1.00", "4.00", 1))
    state.apply_order(order("x", "1.00", "0.00", 2, reason="MarginCancel"))
    state.apply_order(order("y", "0.00", "0.00", 2, reason="Trade"))
    assert state.order("x").status == "canceled"  # type: ignore[union-attr]
    assert state.order("y").status == "executed"  # type: ignore[union-attr]


# --- fills ----------------------------------------------------------------------


def test_duplicate_fill_ignored() -> None:
    state = MarginState()
    f = fill("t1", "bid", "3", "6.0000", "3", 100, fee="0.0100")
    assert state.apply_fill(f)
    assert not state.apply_fill(f)
    acct = state.snapshot().account(0)
    assert state.snapshot().fills_count == 1
    assert acct.positions[BTC].count == 3 and acct.fees == D("0.0100")


def test_entry_price_increase_reduce_flip() -> None:
    state = MarginState()
    state.apply_fill(fill("t1", "bid", "2", "6.0000", "2", 1))
    state.apply_fill(fill("t2", "bid", "2", "6.2000", "4", 2))
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.entry_price == D("6.1")  # weighted average on increase
    state.apply_fill(fill("t3", "ask", "1", "6.5000", "3", 3))
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.entry_price == D("6.1") and pos.realized_pnl == D("0.4")  # kept on reduce
    state.apply_fill(fill("t4", "ask", "5", "6.3000", "-2", 4))
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.count == -2 and pos.entry_price == D("6.3")  # reset on flip
    assert pos.realized_pnl == D("0.4") + 3 * (D("6.3") - D("6.1"))


def test_out_of_order_fill_is_replayed_in_place() -> None:
    a, b = fill("t1", "bid", "1", "6.0000", "1", 1), fill("t2", "bid", "1", "7.0000", "2", 2)
    c = fill("t3", "ask", "1", "8.0000", "1", 3)
    s1, s2 = MarginState(), MarginState()
    for f in (a, b, c):
        s1.apply_fill(f)
    for f in (c, a, b):
        s2.apply_fill(f)
    p1, p2 = s1.snapshot().account(0).positions[BTC], s2.snapshot().account(0).positions[BTC]
    assert p1 == p2 and p1.count == 1 and p1.gaps == 0
    assert p1.realized_pnl == D("1.5000")  # 8 - average 6.5


# --- reconcile after a disconnect ----------------------------------------------


def rest_fill(fid: str, side: Side, count: str, price: str, ts_iso: str, *,
              order_id: str = "o1", fee: str = "0") -> Fill:
    return Fill(fill_id=fid, order_id=order_id, ticker=BTC, side=side,
                count=D(count), price=D(price), created_time=ts_iso, fees=D(fee))


def test_reconcile_after_disconnect_merges_without_double_counting() -> None:
    state = MarginState()
    t0 = 1781268000000
    state.reconcile_balance(rest("balance__compute_available", BalanceResponse), as_of_ms=t0,
                            positions=rest("positions__open", PositionsResponse))
    assert state.snapshot().account(0).cash == D("50.0500")
    # Live: fill A (post 2). Then the socket drops; B and C happen unseen.
    assert state.apply_fill(fill("ta", "bid", "1", "6.3556", "2", t0 + 1000, order="oa",
                                 fee="0.0010"))
    rest_fills = [
        rest_fill("fa", "bid", "1", "6.3556", "2026-06-12T12:40:01.000Z", order_id="oa",
                  fee="0.0010"),
        rest_fill("fb", "ask", "1", "6.4000", "2026-06-12T12:40:02.000Z", order_id="ob",
                  fee="0.0020"),
        rest_fill("fc", "bid", "2", "6.3800", "2026-06-12T12:40:03.000Z", order_id="oc"),
    ]
    assert [f.created_time_ms for f in rest_fills] == [t0 + 1000, t0 + 2000, t0 + 3000]
    assert state.reconcile_fills(rest_fills) == 2  # A is the live fill's twin
    assert state.reconcile_fills(rest_fills) == 0
    # C also arrives late on the socket: a duplicate of its REST twin.
    assert not state.apply_fill(fill("tc", "bid", "2", "6.3800", "3", t0 + 3000, order="oc"))
    snap = state.snapshot()
    acct = snap.account(0)
    assert snap.fills_count == 3
    assert acct.positions[BTC].count == 3
    # B closed 1 of 2 (cost 12.7143 -> 6.3572 removed, half-even to 4 dp).
    assert acct.realized_pnl == D("6.4000") - D("6.3572")
    assert acct.cash == D("50.0500") + acct.realized_pnl - D("0.0030")
    # A later REST position read rebases; the same fills replayed change nothing.
    state.reconcile_positions(
        PositionsResponse(positions=[]), as_of_ms=t0 + 500)  # older than held -> ignored
    assert state.snapshot().account(0).positions[BTC].count == 3
    state.reconcile_positions(PositionsResponse(positions=[
        Position(market_ticker=BTC, position=D("3.00"), entry_price=D("6.3700"))]),
        as_of_ms=t0 + 4000)
    for f in (fill("ta", "bid", "1", "6.3556", "2", t0 + 1000, order="oa"),
              fill("tc", "bid", "2", "6.3800", "3", t0 + 3000, order="oc")):
        assert not state.apply_fill(f)
    assert state.reconcile_fills(rest_fills) == 0
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.count == 3 and pos.entry_price == D("6.37") and pos.baseline_ms == t0 + 4000
    assert state.snapshot().fills_count == 3


def test_fill_inside_rest_baseline_does_not_move_position() -> None:
    state = MarginState()
    state.reconcile_positions(rest("positions__open", PositionsResponse), as_of_ms=5000)
    assert state.apply_fill(fill("t", "bid", "1", "6.3556", "1", 4000))  # new, but inside
    acct = state.snapshot().account(0)
    assert acct.positions[BTC].count == 1 and acct.positions[BTC].entry_price == D("6.3587")
    assert state.snapshot().counters["fills_in_baseline"] == 1


# --- margin-model.md §3.2 worked example, to the cent (and to 0.0001) -----------


def worked_example_state() -> MarginState:
    state = MarginState()
    state.set_markets([rest("markets__single", MarketResponse).market])
    state.set_risk_parameters(rest("risk__parameters", RiskParameters))
    state.reconcile_balance(rest("balance__compute_available", BalanceResponse),
                            as_of_ms=1781268384595,
                            positions=rest("positions__open", PositionsResponse))
    # /margin/risk priced the position at 6.3329: use it for both marks.
    state.apply_ticker(ticker("6.3329", 1781268390000))
    return state


def test_worked_example_3_2() -> None:
    acct = worked_example_state().snapshot().account(0)
    pos = acct.positions[BTC]
    assert pos.count == D("1.00") and pos.entry_price == D("6.3587")
    assert pos.notional == D("6.3329")
    assert pos.maintenance_margin == D("0.8259")
    assert pos.initial_margin == D("1.0737")
    assert pos.unrealized_pnl == D("-0.0258")
    assert acct.cash == D("50.0500")
    assert acct.equity == D("50.0242")
    assert acct.available_balance == D("48.9505")
    assert pos.leverage is not None and pos.leverage.quantize(MONEY) == D("7.6679")
    assert acct.account_leverage is not None and acct.account_leverage.quantize(MONEY) == D(
        "7.6679")
    assert pos.liquidation_price is None  # (6.3587 - 50.05) / ... < 0: no valid price
    # The exchange's own figures agree with ours.
    assert acct.exchange is not None
    assert acct.exchange.account_equity == acct.equity
    assert acct.exchange.available_balance == acct.available_balance
    assert acct.exchange.initial_margin == acct.initial_margin
    assert acct.exchange.maintenance_margin == acct.maintenance_margin
    assert acct.complete and acct.margin_used == D("1.0737")
    assert acct.margin_ratio == D("0.8259") / D("50.0242")


def test_worked_example_risk_rate_fallback() -> None:
    """Without market curves, the rate /margin/risk showed gives the same MM."""
    state = MarginState()
    state.set_risk_parameters(rest("risk__parameters", RiskParameters))
    state.reconcile_risk(rest("risk__account", RiskResponse))
    state.reconcile_positions(rest("positions__open", PositionsResponse), as_of_ms=1)
    state.apply_ticker(ticker("6.3329", 2))
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.maintenance_margin == D("0.8259") and pos.initial_margin == D("1.0737")


def test_liquidation_price_examples_3_6() -> None:
    rate = D("0.1304")
    assert liquidation_price(D(10), D("63.6"), D(10), rate, D(1)) == D("6.1638")
    assert liquidation_price(D(-10), D("-63.6"), D(10), rate, D(1)) == D("6.5110")
    assert liquidation_price(D(0), D(0), D(10), rate, D(1)) is None


def test_lone_position_liquidation_price_and_funding() -> None:
    state = MarginState()
    state.set_markets([rest("markets__single", MarketResponse).market])
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D("10.0000"))]), as_of_ms=1)
    state.apply_fill(fill("t", "bid", "10", "6.3600", "10", 2))
    state.apply_ticker(ticker("6.3600", 1781268400000, rate="0.0001"))
    pos = state.snapshot().account(0).positions[BTC]
    assert pos.liquidation_price is not None
    assert abs(pos.liquidation_price - D("6.1638")) <= D("0.0002")  # rate 0.13040 vs 0.1304
    assert pos.funding_estimate == -10 * D("6.3600") * D("0.0001")


# --- marks, resting-order margin ------------------------------------------------


def test_marks_only_move_forward() -> None:
    state = MarginState()
    assert state.apply_ticker(ticker("6.0000", 100, liq="6.1000"))
    assert not state.apply_ticker(ticker("5.0000", 50, liq="5.5000"))
    market = state.snapshot().markets[BTC]
    assert market.settlement_mark == D("6.0000") and market.liquidation_mark == D("6.1000")
    assert state.apply_ticker(ticker("6.2000", 200, rate="-0.00012"))
    market = state.snapshot().markets[BTC]
    assert market.settlement_mark == D("6.2000") and market.funding_rate == D("-0.00012")


def test_upnl_uses_settlement_mark_and_margin_uses_liquidation_mark() -> None:
    state = worked_example_state()
    state.apply_ticker(ticker("6.4000", 1781268400000, liq="6.3329"))
    acct = state.snapshot().account(0)
    pos = acct.positions[BTC]
    assert pos.unrealized_pnl == D("6.4000") - D("6.3587")
    assert pos.maintenance_margin == D("0.8259")  # still at 6.3329
    assert acct.margin_equity == D("50.0242")


def test_resting_orders_margin_and_available() -> None:
    state = worked_example_state()
    state.apply_order(order("r", "0.00", "2.00", 1, side="bid", price="6.0000"))
    acct = state.snapshot().account(0)
    # Worst side: long 1 + 2 bids = 3 contracts at 6.3329: MM = round_up(18.9987 x m).
    im3 = (D("18.9987") / (D("5.899") * D("1.3"))).quantize(MONEY, rounding="ROUND_UP")
    expected = (im3 * D("1.3")).quantize(MONEY, rounding="ROUND_HALF_UP") - D("1.0737")
    assert acct.resting_orders_margin == expected > 0
    assert acct.margin_used == acct.initial_margin + acct.resting_orders_margin
    assert acct.available_balance == acct.equity - acct.margin_used


# --- REST orders and groups ---------------------------------------------------


def rest_order(oid: str, fill_count: str, remaining: str, updated: str) -> MarginOrder:
    return MarginOrder(order_id=oid, ticker=BTC, side="bid", price=D("5.0000"),
                       fill_count=D(fill_count), remaining_count=D(remaining),
                       last_update_time=updated, subaccount=0)


def test_reconcile_orders_replaces_open_set() -> None:
    state = MarginState()
    t = 1781268000000  # 2026-06-12T12:40:00Z
    state.apply_order(order("gone", "0.00", "1.00", t - 5000))
    state.apply_order(order("ahead", "3.00", "1.00", t - 4000))
    state.apply_order(order("fresh", "0.00", "1.00", t + 5000))  # after the REST read
    state.apply_order(order("done", "1.00", "0.00", t - 3000))
    state.reconcile_orders([
        rest_order("ahead", "1.00", "3.00", "2026-06-12T12:39:50Z"),  # REST lags: keep ours
        rest_order("done", "0.00", "1.00", "2026-06-12T12:39:50Z"),   # finished: stays so
        rest_order("new", "0.00", "4.00", "2026-06-12T12:39:59Z"),
    ], as_of_ms=t)
    open_orders = state.snapshot().account(0).open_orders
    assert set(open_orders) == {"ahead", "fresh", "new"}
    assert open_orders["ahead"].fill_count == D("3.00")
    assert state.order("gone").status == "closed"  # type: ignore[union-attr]
    assert state.order("done").status == "executed"  # type: ignore[union-attr]


def test_reconcile_order_groups_keeps_triggered_flag() -> None:
    state = MarginState()
    state.apply_order_group(OrderGroupBody(event_type="created", order_group_id="g1",
                                           contracts_limit_fp=D("10.00"), ts_ms=1))
    state.apply_order_group(OrderGroupBody(event_type="triggered", order_group_id="g1", ts_ms=2))
    assert not state.apply_order_group(OrderGroupBody(event_type="renamed", order_group_id="g1"))
    state.reconcile_order_groups(OrderGroupsResponse(order_groups=[
        OrderGroup(id="g1", contracts_limit_fp=D("10.00")),
        OrderGroup(id="g2", contracts_limit_fp=D("3.00"))]))
    groups = state.snapshot().order_groups
    assert groups["g1"].triggered and not groups["g2"].triggered
    state.reconcile_order_groups(rest("groups__list", OrderGroupsResponse))  # "{}": none
    assert state.snapshot().order_groups == {}


def test_snapshot_is_immutable() -> None:
    snap = worked_example_state().snapshot(now_ms=7)
    with pytest.raises(TypeError):
        snap.accounts[0] = snap.account(1)  # type: ignore[index]
    with pytest.raises(AttributeError):
        snap.fills_count = 3  # type: ignore[misc]
    assert snap.as_of_ms == 7


def test_cash_keeps_fills_a_later_position_read_folded_in() -> None:
    state = MarginState()
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D("100.0000"))]), as_of_ms=1000,
        positions=PositionsResponse(positions=[]))
    state.apply_fill(fill("t1", "bid", "2", "6.0000", "2", 2000, fee="0.0100"))
    state.apply_fill(fill("t2", "ask", "1", "6.5000", "1", 3000, fee="0.0100"))
    expected = D("100.0000") + D("0.5000") - D("0.0200")
    assert state.snapshot().account(0).cash == expected
    state.reconcile_positions(PositionsResponse(positions=[
        Position(market_ticker=BTC, position=D("1.00"), entry_price=D("6.0000"))]),
        as_of_ms=4000)
    acct = state.snapshot().account(0)
    assert acct.cash == expected and acct.realized_pnl == D("0.5000")
    # A balance read after the fills includes them: nothing is added twice.
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D("100.4800"))]), as_of_ms=5000)
    assert state.snapshot().account(0).cash == D("100.4800")


def test_bad_rest_timestamp_is_a_typed_error_and_applies_nothing() -> None:
    state = MarginState()
    good = rest_fill("f1", "bid", "1", "6.0000", "2026-06-12T12:40:01.000Z")
    bad = rest_fill("f2", "bid", "1", "6.0000", "yesterday")
    with pytest.raises(DecodeError) as err:
        state.reconcile_fills([good, bad])
    assert err.value.path == "$.fills[1].created_time"
    assert state.snapshot().fills_count == 0
    with pytest.raises(DecodeError):
        state.reconcile_orders([rest_order("o", "0.00", "1.00", "not a time")], as_of_ms=1)
    assert state.order("o") is None


def test_rate_curve_tolerates_odd_estimates() -> None:
    curve = RateCurve.from_leverage({"1000": D("5"), "1000.0": D("5"), "oops": D("3"),
                                     "Infinity": D("2"), "10000": D("0")}, None, D("2"))
    assert curve is not None and curve.points == ((D(1000), D("0.1")),)
    assert curve.rate(D(5)) == D("0.1")
    assert RateCurve.from_leverage({"1000": D("5")}, None, D(0)) is None
    assert RateCurve.from_leverage(None, D("4"), D("1.25")) == RateCurve.flat(D("0.2"))
    assert RateCurve.from_leverage({}, None, D("1.3")) is None
    two = RateCurve.from_leverage({"1000": D("5"), "2000": D("4")}, None, D(1))
    assert two is not None
    assert two.rate(D(1500)) == (D("0.2") + D("0.25")) / 2  # linear between points
    assert two.rate(D(3000)) == D("0.3")  # and beyond them


def test_missing_marks_or_rates_leave_values_unknown_not_zero() -> None:
    state = MarginState()
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D("5.0000"))]), as_of_ms=0)
    state.apply_fill(fill("t", "ask", "2", "6.0000", "-2", 1))
    acct = state.snapshot().account(0)
    pos = acct.positions[BTC]
    assert pos.unrealized_pnl is None and pos.maintenance_margin is None
    assert not acct.complete and acct.equity == D("5.0000")
    state.apply_ticker(ticker("6.1000", 2))  # marks, but still no margin rate
    acct = state.snapshot().account(0)
    assert acct.positions[BTC].unrealized_pnl == D("-0.2000")
    assert acct.positions[BTC].maintenance_margin is None and not acct.complete


def test_snapshot_to_json_builtins_is_exact() -> None:
    from kalshi_margin_stream.core.margin.snapshot import to_builtins

    data = to_builtins(worked_example_state().snapshot(now_ms=9))
    acct = data["accounts"]["0"]
    assert acct["available_balance"] == "48.9505" and acct["cash"] == "50.0500"
    assert acct["positions"][BTC]["maintenance_margin"] == "0.8259"
    assert data["as_of_ms"] == 9 and msgspec.json.decode(msgspec.json.encode(data)) == data


def test_set_markets_seeds_marks_and_contract_size() -> None:
    state = MarginState()
    state.set_markets([rest("markets__single", MarketResponse).market])
    market = state.snapshot().markets[BTC]
    assert market.contract_size == D("0.000100")
    assert market.settlement_mark == D("6.3332") and market.liquidation_mark == D("6.3440")
    assert not state.apply_ticker(TickerBody(  # an older mark than the REST one: ignored
        market_ticker=BTC, settlement_mark_price=TickerPrice(price=D("1"), ts_ms=5)))
