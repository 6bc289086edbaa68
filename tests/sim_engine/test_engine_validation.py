"""Order validation answers with Kalshi's status, code and details (rest.md §4)."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

import pytest

from kalshi_margin_stream.sim.engine import Exchange, Rejection, TickerUpdate
from kalshi_margin_stream.sim.engine.testing import BIG, T0, D, exchange, market, order


@pytest.fixture
def ex() -> Exchange:
    e = exchange()
    e.add_user("mm", cash=BIG, synthetic=True)
    e.add_user("u")
    order(e, "mm", "bid", 5, "9.9000")
    order(e, "mm", "ask", 5, "10.1000")
    return e


def reject(fn: object, *args: object, **kw: object) -> Rejection:
    with pytest.raises(Rejection) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return info.value


def test_five_decimal_price_is_invalid_order_with_the_demo_details(ex: Exchange) -> None:
    r = reject(order, ex, "u", "bid", 1, "9.95005")
    assert (r.http_status, r.code, r.details) == (
        400, "invalid_order", "invalid price: invalid dollar precision: -5")
    assert r.body() == {"error": {"code": "invalid_order", "message": "invalid order",
                                  "details": "invalid price: invalid dollar precision: -5"}}


def test_trailing_zeros_do_not_count_as_precision(ex: Exchange) -> None:
    assert order(ex, "u", "bid", 1, "9.950000").remaining_count == 1


def test_off_tick_price_on_a_coarse_tick_market() -> None:
    e = exchange(market(tick_size=D("0.0100")))
    e.add_user("u")
    r = reject(order, e, "u", "bid", 1, "9.9950")
    assert (r.http_status, r.code) == (400, "invalid_order")
    assert "tick" in r.details


@pytest.mark.parametrize("price", ["0", "-1.0000"])
def test_non_positive_price(ex: Exchange, price: str) -> None:
    assert reject(order, ex, "u", "bid", 1, price).code == "invalid_order"


@pytest.mark.parametrize("count", ["0", "-1", "1.5", "1.001"])
def test_bad_counts(ex: Exchange, count: str) -> None:
    r = reject(order, ex, "u", "bid", count, "9.9000")
    assert (r.http_status, r.code) == (400, "invalid_order")


def test_fractional_count_allowed_when_the_market_enables_it() -> None:
    e = exchange(market(fractional_trading_enabled=True))
    e.add_user("u")
    assert order(e, "u", "bid", "1.25", "9.0000").remaining_count == D("1.25")


def test_reduce_only_with_gtc_has_the_documented_details(ex: Exchange) -> None:
    r = reject(order, ex, "u", "ask", 1, "10.2000", reduce_only=True)
    assert (r.http_status, r.code, r.details) == (
        400, "invalid_order", "reduce_only can only be used with IoC or FoK orders")


def test_bid_below_the_band_is_invalid_price(ex: Exchange) -> None:
    # best bid 9.9000: floor = min(0.8 x 9.9, 9.9 - 1000 ticks) = min(7.92, 9.8) = 7.92
    r = reject(order, ex, "u", "bid", 1, "7.9199")
    assert (r.http_status, r.code, r.message) == (400, "invalid_price", "invalid price")
    assert order(ex, "u", "bid", 1, "7.9200").remaining_count == 1


def test_ask_above_the_band_is_invalid_price(ex: Exchange) -> None:
    # best ask 10.1: ceiling = max(1.2 x 10.1, 10.1 + 0.1) = 12.12
    assert reject(order, ex, "u", "ask", 1, "12.1201").code == "invalid_price"
    assert order(ex, "u", "ask", 1, "12.1200").remaining_count == 1


def test_no_band_on_an_empty_side() -> None:
    e = exchange()
    e.add_user("u")
    assert order(e, "u", "bid", 1, "0.0001").remaining_count == 1


def test_duplicate_client_order_id_is_409_even_after_cancel(ex: Exchange) -> None:
    res = order(ex, "u", "bid", 1, "9.8000", coid="dup")
    r = reject(order, ex, "u", "bid", 1, "9.8000", coid="dup")
    assert (r.http_status, r.code, r.message) == (409, "order_already_exists",
                                                  "order already exists")
    ex.cancel_order("u", res.order.order_id, now_ms=T0)
    assert reject(order, ex, "u", "bid", 1, "9.8000", coid="dup").http_status == 409


def test_client_order_ids_are_per_user(ex: Exchange) -> None:
    ex.add_user("v")
    order(ex, "u", "bid", 1, "9.8000", coid="same")
    assert order(ex, "v", "bid", 1, "9.8000", coid="same").remaining_count == 1


def test_empty_client_order_id_is_refused(ex: Exchange) -> None:
    r = reject(order, ex, "u", "bid", 1, "9.8000", coid="")
    assert (r.http_status, r.code) == (400, "invalid_order")


def test_unknown_market_and_unknown_order_are_404(ex: Exchange) -> None:
    assert reject(order, ex, "u", "bid", 1, "9.8000", ticker="NOPE").http_status == 404
    r = reject(ex.cancel_order, "u", "no-such-order", now_ms=T0)
    assert (r.http_status, r.code) == (404, "not_found")
    assert reject(ex.get_order, "u", "no-such-order").code == "not_found"


def test_other_users_orders_are_invisible(ex: Exchange) -> None:
    ex.add_user("v")
    oid = order(ex, "u", "bid", 1, "9.8000").order.order_id
    assert reject(ex.get_order, "v", oid).http_status == 404
    assert reject(ex.cancel_order, "v", oid, now_ms=T0).http_status == 404


def test_cancel_of_a_finished_order_is_404(ex: Exchange) -> None:
    oid = order(ex, "u", "bid", 1, "9.8000").order.order_id
    ex.cancel_order("u", oid, now_ms=T0)
    assert reject(ex.cancel_order, "u", oid, now_ms=T0).http_status == 404


def test_market_version_mismatch_is_409(ex: Exchange) -> None:
    r = reject(order, ex, "u", "bid", 1, "9.8000", market_version=7)
    assert (r.http_status, r.code) == (409, "market_version_mismatch")
    assert order(ex, "u", "bid", 1, "9.8000", market_version=1).remaining_count == 1
    assert order(ex, "u", "bid", 1, "9.8000", market_version=0).remaining_count == 1


def test_trading_paused_is_409_and_cancels_cancel_on_pause_orders(ex: Exchange) -> None:
    keep = order(ex, "u", "bid", 1, "9.8000").order.order_id
    drop = order(ex, "u", "bid", 1, "9.8000", cancel_order_on_pause=True).order.order_id
    ex.set_trading_active(False, now_ms=T0)
    assert ex.status().trading_active is False
    assert reject(order, ex, "u", "bid", 1, "9.8000").code == "trading_is_paused"
    assert ex.get_order("u", drop).remaining_count == 0
    assert ex.get_order("u", keep).remaining_count == 1
    ex.set_trading_active(True, now_ms=T0)
    assert order(ex, "u", "bid", 1, "9.8000").remaining_count == 1


def test_unknown_subaccount_is_400(ex: Exchange) -> None:
    r = reject(order, ex, "u", "bid", 1, "9.8000", subaccount=5)
    assert r.http_status == 400


@pytest.mark.parametrize("field,value", [("side", "buy"), ("tif", "day"), ("stp", "none")])
def test_bad_enums_are_invalid_order(ex: Exchange, field: str, value: str) -> None:
    kw = {"side": "bid", "tif": "good_till_canceled", "stp": "taker_at_cross"}
    kw[field] = value
    r = reject(order, ex, "u", kw.pop("side"), 1, "9.8000", **kw)
    assert (r.http_status, r.code) == (400, "invalid_order")


def test_expiration_in_the_past_is_refused(ex: Exchange) -> None:
    assert reject(order, ex, "u", "bid", 1, "9.8000", expiration_ts_ms=T0).http_status == 400


def test_rejection_leaves_no_trace(ex: Exchange) -> None:
    before = ex.orderbook("TEST")
    with pytest.raises(Rejection):
        order(ex, "u", "bid", 1, "9.95005", coid="x")
    assert ex.orderbook("TEST") == before
    assert order(ex, "u", "bid", 1, "9.8000", coid="x").remaining_count == 1


@pytest.mark.parametrize("kw", [{"subaccount": "0"}, {"subaccount": True},
                                {"expiration_ts_ms": 1.5e12}, {"coid": 7}])
def test_wrong_types_are_rejections_not_crashes(ex: Exchange, kw: dict[str, object]) -> None:
    r = reject(order, ex, "u", "bid", 1, "9.8000", **kw)
    assert r.http_status == 400
    assert reject(ex.create_order, "u", ticker="TEST", client_order_id="t", side="bid",
                  count="1", price=D("9.8"), time_in_force="good_till_canceled",
                  now_ms=T0).code == "invalid_order"
    assert reject(ex.transfer_between_subaccounts, "u", client_transfer_id="x",
                  from_subaccount=[0], to_subaccount=1, amount_cents=1).http_status == 400


def test_scenario_knobs_notional_limit_and_market_status(ex: Exchange) -> None:
    ex.set_notional_limit("u", D("50"), ticker="TEST")
    assert reject(order, ex, "u", "bid", 6, "9.8000").code == "NOTIONAL_RISK_LIMIT_EXCEEDED"
    assert ex.notional_risk_limit("u").notional_value_risk_limits_by_market_ticker == {
        "TEST": D("50")}
    ex.set_notional_limit("u", D("1000"), ticker="TEST")
    events = ex.set_market_status("TEST", "inactive", now_ms=T0)
    assert [e.stats.status for e in events if isinstance(e, TickerUpdate)] == ["inactive"]
    r = reject(order, ex, "u", "bid", 1, "9.8000")
    assert (r.http_status, r.code) == (400, "market_not_active")
    assert reject(ex.set_market_status, "TEST", "paused", now_ms=T0).http_status == 400
    assert reject(ex.set_notional_limit, "u", D("-1")).http_status == 400
