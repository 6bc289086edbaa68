"""Read side: books, trades and orders with stable cursors, market stats, parameters."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

from typing import Any

import pytest

from kalshi_margin_stream.sim.engine import Exchange, Rejection
from kalshi_margin_stream.sim.engine.testing import BIG, T0, D, exchange, order


@pytest.fixture
def ex() -> Exchange:
    e = exchange()
    for u in ("a", "b"):
        e.add_user(u, cash=BIG)
    return e


def test_orderbook_is_aggregated_best_first_with_depth(ex: Exchange) -> None:
    for price, n in (("9.9000", 1), ("9.9000", 2), ("9.8000", 5), ("9.9500", 1)):
        order(ex, "a", "bid", n, price)
    order(ex, "b", "ask", 4, "10.2000")
    order(ex, "b", "ask", 6, "10.1000")
    book = ex.orderbook("TEST")
    assert book.bids == [(D("9.9500"), 1), (D("9.9000"), 3), (D("9.8000"), 5)]
    assert book.asks == [(D("10.1000"), 6), (D("10.2000"), 4)]
    assert ex.orderbook("TEST", depth=1).bids == [(D("9.9500"), 1)]
    with pytest.raises(Rejection):
        ex.orderbook("NOPE")


def test_trade_cursor_is_stable_while_new_trades_arrive(ex: Exchange) -> None:
    order(ex, "b", "ask", 100, "10.1000")
    for i in range(5):
        order(ex, "a", "bid", i + 1, "10.1000", tif="immediate_or_cancel", now_ms=T0 + i)
    page1 = ex.trades(ticker="TEST", limit=2)
    assert [t.count for t in page1.items] == [5, 4] and page1.cursor
    order(ex, "a", "bid", 9, "10.1000", tif="immediate_or_cancel", now_ms=T0 + 10)
    page2 = ex.trades(ticker="TEST", limit=2, cursor=page1.cursor)
    page3 = ex.trades(ticker="TEST", limit=2, cursor=page2.cursor)
    assert [t.count for t in page2.items + page3.items] == [3, 2, 1]
    assert page3.cursor == ""
    assert [t.count for t in ex.trades(limit=1).items] == [9]
    assert [t.count for t in ex.trades(min_ts_ms=T0 + 3, max_ts_ms=T0 + 4).items] == [5, 4]


def test_bad_cursor_and_limit_are_400(ex: Exchange) -> None:
    cases: list[dict[str, Any]] = [{"cursor": "abc"}, {"cursor": "-1"}, {"limit": 0},
                                   {"limit": 1001}]
    for kw in cases:
        with pytest.raises(Rejection) as info:
            ex.trades(**kw)
        assert info.value.http_status == 400


def test_list_orders_filters_and_pages(ex: Exchange) -> None:
    order(ex, "b", "ask", 1, "10.1000")
    resting = order(ex, "a", "bid", 1, "9.0000").order.order_id
    executed = order(ex, "a", "bid", 1, "10.1000", tif="immediate_or_cancel").order.order_id
    canceled = order(ex, "a", "bid", 1, "9.0000").order.order_id
    ex.cancel_order("a", canceled, now_ms=T0)
    ids = [o.order_id for o in ex.list_orders("a").items]
    assert ids == [canceled, executed, resting]
    for status, want in (("resting", [resting]), ("open", [resting]),
                         ("executed", [executed]), ("canceled", [canceled]),
                         ("garbage", [canceled, executed, resting])):
        assert [o.order_id for o in ex.list_orders("a", status=status).items] == want
    p1 = ex.list_orders("a", limit=2)
    p2 = ex.list_orders("a", limit=2, cursor=p1.cursor)
    assert [o.order_id for o in p1.items + p2.items] == ids and p2.cursor == ""
    assert ex.list_orders("a", ticker="OTHER").items == []
    assert ex.list_orders("b").items[0].remaining_count == 0


def test_fills_newest_first_default_subaccount_zero(ex: Exchange) -> None:
    sub = ex.create_subaccount("a")
    ex.transfer_between_subaccounts("a", client_transfer_id="t", from_subaccount=0,
                                    to_subaccount=sub, amount_cents=1_000_000)
    order(ex, "b", "ask", 10, "10.1000")
    order(ex, "a", "bid", 1, "10.1000", tif="immediate_or_cancel")
    order(ex, "a", "bid", 2, "10.1000", tif="immediate_or_cancel", subaccount=sub)
    order(ex, "a", "bid", 3, "10.1000", tif="immediate_or_cancel")
    assert [f.count for f in ex.fills("a").items] == [3, 1]
    assert [f.count for f in ex.fills("a", subaccount=None).items] == [3, 2, 1]
    assert [f.count for f in ex.fills("a", subaccount=sub).items] == [2]
    [maker] = ex.fills("b", limit=1).items
    assert maker.count == 3 and not maker.is_taker


def test_market_stats_follow_trades(ex: Exchange) -> None:
    order(ex, "b", "ask", 10, "10.1000")
    order(ex, "a", "bid", 4, "10.1000", tif="immediate_or_cancel")
    order(ex, "a", "bid", 2, "9.9000")
    m = ex.market("TEST")
    assert (m.price, m.bid, m.ask, m.bid_size, m.ask_size) == (
        D("10.1000"), D("9.9000"), D("10.1000"), 2, 6)
    assert (m.volume, m.volume_24h, m.open_interest, m.last_trade_size) == (4, 4, 4, 4)
    assert m.volume_notional == D("40.4000")
    assert m.next_funding_time_ms == 1_788_523_200_000
    assert [s.ticker for s in ex.markets()] == ["TEST"]
    with pytest.raises(Rejection):
        ex.market("NOPE")


def test_parameters_and_fee_tiers(ex: Exchange) -> None:
    rp = ex.risk_parameters()
    assert rp.liquidation_margin_ratio_threshold == 1
    assert rp.queue_entry_margin_ratio_threshold == D("0.91")
    assert rp.initial_margin_multiplier == {"TEST": D("1.3")}
    ft = ex.fee_tiers()
    assert (ft.maker_fee_rates, ft.taker_fee_rates) == ({"TEST": D("0.0005")},
                                                         {"TEST": D("0.0012")})
    assert ft.tier_rates[0] == (0, D("0.0005"), D("0.0012"))


def test_trades_across_markets_interleave_newest_first() -> None:
    from kalshi_margin_stream.sim.engine.testing import market

    ex = exchange(market("A"), market("B"))
    ex.add_user("a", cash=BIG)
    ex.add_user("b", cash=BIG)
    for i, t in enumerate(["A", "B", "A"]):
        order(ex, "b", "ask", 1, "10.1000", ticker=t)
        order(ex, "a", "bid", 1, "10.1000", ticker=t, tif="immediate_or_cancel", now_ms=T0 + i)
    p1 = ex.trades(limit=2)
    p2 = ex.trades(limit=2, cursor=p1.cursor)
    assert [t.ticker for t in p1.items + p2.items] == ["A", "B", "A"]
    assert [t.ts_ms for t in p1.items + p2.items] == [T0 + 2, T0 + 1, T0]
    assert p2.cursor == ""


def test_volume_24h_rolls_off(ex: Exchange) -> None:
    order(ex, "b", "ask", 10, "10.1000")
    order(ex, "a", "bid", 3, "10.1000", tif="immediate_or_cancel")
    day = 24 * 3600 * 1000
    order(ex, "a", "bid", 2, "10.1000", tif="immediate_or_cancel", now_ms=T0 + day - 60_000)
    ex.advance_to(T0 + day + 60_000)
    m = ex.market("TEST")
    assert (m.volume, m.volume_24h) == (5, 2)
    assert m.volume_24h_notional == D("20.2000")


def test_cheap_reads_and_estimate_clock(ex: Exchange) -> None:
    order(ex, "a", "bid", 1, "9.9000")
    assert ex.best_prices("TEST") == (D("9.9000"), None, D("10.0000"))
    assert ex.tick_size("TEST") == D("0.0001")
    est = ex.funding_estimate("TEST", now_ms=T0 + 5_000)
    assert est.computed_time_ms == T0 + 5_000 == ex.now_ms
    assert est.next_funding_time_ms == 1_788_523_200_000
    with pytest.raises(Rejection) as info:
        ex.move_price("TEST", D("0"), now_ms=T0)
    assert info.value.http_status == 400


def test_list_orders_time_window(ex: Exchange) -> None:
    ids = [order(ex, "a", "bid", 1, "9.0000", now_ms=T0 + i).order.order_id for i in range(4)]
    got = ex.list_orders("a", min_ts_ms=T0 + 1, max_ts_ms=T0 + 2).items
    assert [o.order_id for o in got] == [ids[2], ids[1]]
    assert ex.list_orders("a", subaccount=3).items == []
