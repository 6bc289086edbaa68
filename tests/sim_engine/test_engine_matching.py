"""Matching: price-time priority, time in force, post-only, reduce-only, self-trade
prevention, amend/decrease/cancel, and the events each step emits."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

import pytest

from kalshi_margin_stream.sim.engine import (
    BookDelta,
    Exchange,
    FillEvent,
    OrderUpdate,
    PublicTrade,
    Rejection,
    TickerUpdate,
)
from kalshi_margin_stream.sim.engine.testing import BIG, T0, D, exchange, of_type, order


@pytest.fixture
def ex() -> Exchange:
    e = exchange()
    for u in ("a", "b", "c"):
        e.add_user(u, cash=BIG)
    return e


def test_price_then_time_priority(ex: Exchange) -> None:
    first = order(ex, "a", "ask", 2, "10.1000").order.order_id
    second = order(ex, "b", "ask", 2, "10.1000").order.order_id
    better = order(ex, "b", "ask", 1, "10.0500").order.order_id
    res = order(ex, "c", "bid", 4, "10.1000", tif="immediate_or_cancel")
    fills = [(f.order_id, f.count, f.price) for f in of_type(res.events, FillEvent)
             if not f.is_taker]
    assert fills == [(better, 1, D("10.0500")), (first, 2, D("10.1000")),
                     (second, 1, D("10.1000"))]
    assert ex.get_order("b", second).remaining_count == 1
    assert res.fill_count == 4 and res.remaining_count == 0
    # average over the fills, per contract
    assert res.average_fill_price == D("10.0875")


def test_events_of_one_match_in_order_with_owner_fields(ex: Exchange) -> None:
    maker = order(ex, "a", "ask", 3, "10.1000", coid="mk")
    [rest] = of_type(maker.events, BookDelta)
    assert (rest.side, rest.price, rest.delta, rest.user_id, rest.client_order_id,
            rest.subaccount) == ("ask", D("10.1000"), 3, "a", "mk", 0)
    res = order(ex, "b", "bid", 1, "10.1000", tif="immediate_or_cancel", coid="tk")
    kinds = [type(e).__name__ for e in res.events]
    assert kinds[:6] == ["BookDelta", "PublicTrade", "FillEvent", "FillEvent", "OrderUpdate",
                         "OrderUpdate"]
    assert isinstance(res.events[-1], TickerUpdate)
    delta, trade, taker, mkr = res.events[:4]
    assert isinstance(delta, BookDelta) and delta.delta == -1
    assert delta.last_update_reason == "Trade" and delta.client_order_id == "mk"
    assert isinstance(trade, PublicTrade) and trade.taker_side == "bid" and trade.count == 1
    assert isinstance(taker, FillEvent) and taker.is_taker and taker.client_order_id == "tk"
    assert isinstance(mkr, FillEvent) and not mkr.is_taker and mkr.side == "ask"
    assert taker.trade_id == mkr.trade_id == trade.trade_id
    assert (taker.post_position, mkr.post_position) == (1, -1)
    # taker fee 1 x 10.1 x 0.0012 = 0.01212 -> 0.0122 (rounded up); maker 0.00505 -> 0.0051
    assert (taker.fee_cost, mkr.fee_cost) == (D("0.0122"), D("0.0051"))
    [upd_maker, upd_taker] = of_type(res.events, OrderUpdate)
    assert upd_maker.order.remaining_count == 2 and upd_maker.order.last_update_reason == "Trade"
    assert upd_taker.order.fill_count == 1 and upd_taker.order.status == "executed"


def test_gtc_remainder_rests_after_partial_fill(ex: Exchange) -> None:
    order(ex, "a", "ask", 2, "10.1000")
    res = order(ex, "b", "bid", 5, "10.2000")
    assert (res.fill_count, res.remaining_count) == (2, 3)
    book = ex.orderbook("TEST")
    assert book.bids == [(D("10.2000"), 3)] and book.asks == []


def test_ioc_drops_the_unfilled_rest(ex: Exchange) -> None:
    order(ex, "a", "ask", 2, "10.1000")
    res = order(ex, "b", "bid", 5, "10.1000", tif="immediate_or_cancel")
    assert (res.fill_count, res.remaining_count) == (2, 0)
    assert res.order.status == "canceled"
    assert res.order.last_update_reason == "Decrease"  # as the demo reported unfilled IOCs
    assert ex.orderbook("TEST").bids == []


def test_fok_fills_all_or_nothing(ex: Exchange) -> None:
    order(ex, "a", "ask", 2, "10.1000")
    order(ex, "a", "ask", 2, "10.2000")
    res = order(ex, "b", "bid", 5, "10.2000", tif="fill_or_kill")
    assert (res.fill_count, res.remaining_count) == (0, 0)
    assert of_type(res.events, PublicTrade) == []
    res = order(ex, "b", "bid", 4, "10.2000", tif="fill_or_kill")
    assert (res.fill_count, res.remaining_count) == (4, 0)


def test_post_only_that_would_cross_is_cancelled(ex: Exchange) -> None:
    order(ex, "a", "ask", 2, "10.1000")
    res = order(ex, "b", "bid", 1, "10.1000", post_only=True)
    assert res.remaining_count == 0 and res.fill_count == 0
    assert res.order.last_update_reason == "PostOnlyCrossCancel"
    assert of_type(res.events, PublicTrade) == []
    ok = order(ex, "b", "bid", 1, "10.0999", post_only=True)
    assert ok.remaining_count == 1


def test_self_trade_taker_at_cross_cancels_the_taker_but_keeps_prior_fills(
        ex: Exchange) -> None:
    order(ex, "b", "ask", 1, "10.0000")
    mine = order(ex, "a", "ask", 5, "10.1000").order.order_id
    res = order(ex, "a", "bid", 3, "10.1000", stp="taker_at_cross")
    assert res.fill_count == 1 and res.remaining_count == 0
    assert res.order.last_update_reason == "SelfTradeCancel"
    assert ex.get_order("a", mine).remaining_count == 5


def test_self_trade_maker_cancels_the_resting_order_and_keeps_matching(ex: Exchange) -> None:
    mine = order(ex, "a", "ask", 5, "10.0000").order.order_id
    order(ex, "b", "ask", 2, "10.1000")
    res = order(ex, "a", "bid", 3, "10.1000", stp="maker")
    assert ex.get_order("a", mine).last_update_reason == "SelfTradeCancel"
    assert ex.get_order("a", mine).remaining_count == 0
    assert (res.fill_count, res.remaining_count) == (2, 1)
    assert ex.orderbook("TEST").bids == [(D("10.1000"), 1)]


def test_reduce_only_caps_to_the_position(ex: Exchange) -> None:
    order(ex, "b", "ask", 3, "10.0000")
    order(ex, "a", "bid", 3, "10.0000", tif="immediate_or_cancel")
    order(ex, "b", "bid", 10, "9.9000")
    res = order(ex, "a", "ask", 10, "9.9000", tif="immediate_or_cancel", reduce_only=True)
    assert res.fill_count == 3
    assert ex.positions("a") == []


def test_reduce_only_without_a_position_is_reduce_only_cancel(ex: Exchange) -> None:
    order(ex, "b", "bid", 10, "9.9000")
    res = order(ex, "a", "ask", 1, "9.9000", tif="fill_or_kill", reduce_only=True)
    assert (res.fill_count, res.remaining_count) == (0, 0)
    assert res.order.last_update_reason == "ReduceOnlyCancel"


def test_decrease_keeps_priority(ex: Exchange) -> None:
    first = order(ex, "a", "ask", 5, "10.1000").order.order_id
    order(ex, "b", "ask", 5, "10.1000")
    res = ex.decrease_order("a", first, reduce_by=D(2), now_ms=T0)
    assert res.remaining_count == 3 and res.order.last_update_reason == "Decrease"
    fill = order(ex, "c", "bid", 1, "10.1000", tif="immediate_or_cancel")
    [maker_fill] = [f for f in of_type(fill.events, FillEvent) if not f.is_taker]
    assert maker_fill.order_id == first
    res = ex.decrease_order("a", first, reduce_to=D(0), now_ms=T0)
    assert res.remaining_count == 0 and res.order.status == "canceled"


def test_decrease_needs_exactly_one_of_by_or_to(ex: Exchange) -> None:
    oid = order(ex, "a", "ask", 5, "10.1000").order.order_id
    with pytest.raises(Rejection) as info:
        ex.decrease_order("a", oid, now_ms=T0)
    assert (info.value.http_status, info.value.code) == (400, "invalid_order")
    with pytest.raises(Rejection) as info:
        ex.decrease_order("a", oid, reduce_by=D(1), reduce_to=D(1), now_ms=T0)
    assert (info.value.http_status, info.value.code) == (400, "invalid_order")
    with pytest.raises(Rejection):
        ex.decrease_order("a", oid, reduce_to=D(6), now_ms=T0)


def test_amend_size_down_keeps_priority_price_change_loses_it(ex: Exchange) -> None:
    first = order(ex, "a", "ask", 5, "10.1000").order.order_id
    second = order(ex, "b", "ask", 5, "10.1000").order.order_id
    res = ex.amend_order("a", first, ticker="TEST", side="ask", price=D("10.1000"),
                         count=D(4), now_ms=T0)
    assert res.remaining_count == 4 and res.order.last_update_reason == "Amend"
    hit = order(ex, "c", "bid", 1, "10.1000", tif="immediate_or_cancel")
    assert [f.order_id for f in of_type(hit.events, FillEvent) if not f.is_taker] == [first]
    ex.amend_order("a", first, ticker="TEST", side="ask", price=D("10.2000"), count=D(4),
                   now_ms=T0)
    ex.amend_order("a", first, ticker="TEST", side="ask", price=D("10.1000"), count=D(4),
                   now_ms=T0)
    hit = order(ex, "c", "bid", 1, "10.1000", tif="immediate_or_cancel")
    assert [f.order_id for f in of_type(hit.events, FillEvent) if not f.is_taker] == [second]


def test_amend_count_is_the_new_total_and_can_cross(ex: Exchange) -> None:
    order(ex, "b", "bid", 2, "10.0000")
    oid = order(ex, "a", "ask", 3, "10.1000").order.order_id
    res = ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.0000"), count=D(3),
                         now_ms=T0)
    assert (res.fill_count, res.remaining_count, res.filled_now) == (2, 1, 2)
    res = ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.0000"), count=D(5),
                         now_ms=T0)
    assert (res.fill_count, res.remaining_count) == (2, 3)
    with pytest.raises(Rejection) as info:
        ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.0000"), count=D(2),
                       now_ms=T0)
    assert info.value.code == "invalid_order"
    with pytest.raises(Rejection):
        ex.amend_order("a", oid, ticker="TEST", side="bid", price=D("10.0000"), count=D(5),
                       now_ms=T0)


def test_amend_to_a_used_client_order_id_is_409(ex: Exchange) -> None:
    order(ex, "a", "ask", 1, "10.3000", coid="taken")
    oid = order(ex, "a", "ask", 1, "10.2000").order.order_id
    with pytest.raises(Rejection) as info:
        ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.2000"), count=D(1),
                       updated_client_order_id="taken", now_ms=T0)
    assert info.value.http_status == 409
    res = ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.2000"), count=D(1),
                         updated_client_order_id="fresh", now_ms=T0)
    assert res.order.client_order_id == "fresh"


def test_cancel_reports_reduced_by_and_reason(ex: Exchange) -> None:
    oid = order(ex, "a", "ask", 5, "10.1000").order.order_id
    order(ex, "b", "bid", 2, "10.1000", tif="immediate_or_cancel")
    res = ex.cancel_order("a", oid, now_ms=T0)
    assert res.reduced_by == 3
    assert res.order.last_update_reason == "Decrease"
    [delta] = of_type(res.events, BookDelta)
    assert delta.delta == -3 and delta.last_update_reason == "Decrease"


def test_cancel_all_by_subaccount(ex: Exchange) -> None:
    sub = ex.create_subaccount("a")
    ex.transfer_between_subaccounts("a", client_transfer_id="t1", from_subaccount=0,
                                    to_subaccount=sub, amount_cents=100_000)
    o0 = order(ex, "a", "ask", 1, "10.1000").order.order_id
    o1 = order(ex, "a", "ask", 1, "10.1000", subaccount=sub).order.order_id
    ex.cancel_all_orders("a", subaccount=sub, now_ms=T0)
    assert ex.get_order("a", o0).remaining_count == 1
    assert ex.get_order("a", o1).remaining_count == 0
    ex.cancel_all_orders("a", now_ms=T0)
    assert ex.get_order("a", o0).remaining_count == 0
    assert ex.orderbook("TEST").asks == []


def test_expiry_cancels_on_the_clock(ex: Exchange) -> None:
    oid = order(ex, "a", "ask", 1, "10.1000", expiration_ts_ms=T0 + 5_000).order.order_id
    assert ex.advance_to(T0 + 4_999) is not None
    assert ex.get_order("a", oid).remaining_count == 1
    events = ex.advance_to(T0 + 5_000)
    [upd] = of_type(events, OrderUpdate)
    assert upd.order.order_id == oid and upd.order.last_update_reason == "ExpiryCancel"


def test_ticker_update_only_when_the_top_changes(ex: Exchange) -> None:
    first = order(ex, "a", "ask", 1, "10.1000")
    assert len(of_type(first.events, TickerUpdate)) == 1
    deeper = order(ex, "a", "ask", 1, "10.3000")
    assert of_type(deeper.events, TickerUpdate) == []
    top = order(ex, "a", "ask", 1, "10.1000")
    [tick] = of_type(top.events, TickerUpdate)
    assert tick.stats.ask == D("10.1000") and tick.stats.ask_size == 2


def test_amended_order_rests_again_with_reason_amend(ex: Exchange) -> None:
    oid = order(ex, "a", "ask", 2, "10.2000", coid="am").order.order_id
    res = ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.3000"), count=D(2),
                         now_ms=T0)
    deltas = [(d.price, d.delta, d.last_update_reason) for d in of_type(res.events, BookDelta)]
    assert deltas == [(D("10.2000"), -2, "Amend"), (D("10.3000"), 2, "Amend")]
    assert ex.orderbook("TEST").asks == [(D("10.3000"), 2)]


def test_an_expired_order_never_matches_even_without_advance(ex: Exchange) -> None:
    oid = order(ex, "a", "ask", 1, "10.1000", expiration_ts_ms=T0 + 5_000).order.order_id
    res = order(ex, "b", "bid", 1, "10.1000", tif="immediate_or_cancel", now_ms=T0 + 5_000)
    assert res.fill_count == 0
    [expired] = [e for e in of_type(res.events, OrderUpdate) if e.order.order_id == oid]
    assert expired.order.last_update_reason == "ExpiryCancel"
    assert res.events.index(expired) < res.events.index(
        next(e for e in of_type(res.events, OrderUpdate) if e.order.user_id == "b"))


def test_fok_counts_neither_own_orders_nor_capped_group_makers(ex: Exchange) -> None:
    gid = ex.create_order_group("b", contracts_limit=D(2), now_ms=T0).group.order_group_id
    order(ex, "b", "ask", 5, "10.1000", order_group_id=gid)
    order(ex, "c", "ask", 2, "10.1000")
    # only 2 (group cap) + 2 available: a 5-lot FOK must not fill at all
    res = order(ex, "a", "bid", 5, "10.1000", tif="fill_or_kill")
    assert (res.fill_count, of_type(res.events, PublicTrade)) == (0, [])
    assert order(ex, "a", "bid", 4, "10.1000", tif="fill_or_kill").fill_count == 4
    # own resting order at the cross stops a taker_at_cross FOK
    order(ex, "a", "ask", 1, "10.2000")
    order(ex, "c", "ask", 5, "10.2000")
    res = order(ex, "a", "bid", 2, "10.2000", tif="fill_or_kill")
    assert res.fill_count == 0
    res = order(ex, "a", "bid", 2, "10.2000", tif="fill_or_kill", stp="maker")
    assert res.fill_count == 2


def test_amend_sets_and_clears_expiry(ex: Exchange) -> None:
    oid = order(ex, "a", "ask", 1, "10.1000").order.order_id
    res = ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.1000"), count=D(1),
                         expiration_ts_ms=T0 + 1_000, now_ms=T0)
    assert res.order.expiration_ts_ms == T0 + 1_000
    ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.1000"), count=D(1),
                   expiration_ts_ms=0, now_ms=T0)
    ex.advance_to(T0 + 2_000)
    assert ex.get_order("a", oid).remaining_count == 1
    with pytest.raises(Rejection):
        ex.amend_order("a", oid, ticker="TEST", side="ask", price=D("10.1000"), count=D(1),
                       expiration_ts_ms=T0, now_ms=T0 + 2_000)
