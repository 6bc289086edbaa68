"""Order groups: contracts limit over a rolling window, trigger/reset/delete, events."""

# Counts compare exactly against ints (Decimal(3) == 3), which mypy calls non-overlapping.
# mypy: disable-error-code="comparison-overlap"
from __future__ import annotations

import pytest

from kalshi_margin_stream.sim.engine import (
    Exchange,
    FillEvent,
    OrderGroupEvent,
    OrderUpdate,
    Rejection,
)
from kalshi_margin_stream.sim.engine.testing import BIG, T0, D, exchange, of_type, order


@pytest.fixture
def ex() -> Exchange:
    e = exchange()
    for u in ("a", "b"):
        e.add_user(u, cash=BIG)
    return e


def group(ex: Exchange, user: str = "a", limit: int = 5) -> str:
    res = ex.create_order_group(user, contracts_limit=D(limit), now_ms=T0)
    [ev] = of_type(res.events, OrderGroupEvent)
    assert (ev.event_type, ev.contracts_limit, ev.user_id) == ("created", limit, user)
    return res.group.order_group_id


def test_trigger_cancels_resting_orders_and_blocks_until_reset(ex: Exchange) -> None:
    gid = group(ex)
    oid = order(ex, "a", "bid", 2, "9.9000", order_group_id=gid).order.order_id
    assert ex.get_order_group("a", gid).order_ids == [oid]
    events = ex.trigger_order_group("a", gid, now_ms=T0)
    assert [e.event_type for e in of_type(events, OrderGroupEvent)] == ["triggered"]
    [upd] = of_type(events, OrderUpdate)
    assert upd.order.order_id == oid and upd.order.remaining_count == 0
    assert ex.get_order_group("a", gid).order_ids == []
    with pytest.raises(Rejection) as info:
        order(ex, "a", "bid", 1, "9.9000", order_group_id=gid)
    assert info.value.http_status == 400
    events = ex.reset_order_group("a", gid, now_ms=T0)
    assert [e.event_type for e in of_type(events, OrderGroupEvent)] == ["reset"]
    assert order(ex, "a", "bid", 1, "9.9000", order_group_id=gid).remaining_count == 1


def test_taker_in_a_group_is_capped_at_the_limit_and_triggers_it(ex: Exchange) -> None:
    gid = group(ex, limit=5)
    order(ex, "b", "ask", 10, "10.1000")
    res = order(ex, "a", "bid", 8, "10.1000", order_group_id=gid)
    assert (res.fill_count, res.remaining_count) == (5, 0)
    assert res.order.last_update_reason == "Decrease"
    assert [e.event_type for e in of_type(res.events, OrderGroupEvent)] == ["triggered"]
    assert ex.get_order_group("a", gid).triggered


def test_maker_group_caps_fills_and_the_taker_moves_on(ex: Exchange) -> None:
    gid = group(ex, limit=3)
    grouped = order(ex, "a", "ask", 5, "10.1000", order_group_id=gid).order.order_id
    ex.add_user("c", cash=BIG)
    other = order(ex, "c", "ask", 5, "10.1000").order.order_id
    res = order(ex, "b", "bid", 5, "10.1000", tif="immediate_or_cancel")
    makers = [(f.order_id, f.count) for f in of_type(res.events, FillEvent) if not f.is_taker]
    assert makers == [(grouped, 3), (other, 2)]
    assert ex.get_order("a", grouped).remaining_count == 0
    assert ex.get_order_group("a", gid).triggered


def test_window_rolls_after_fifteen_seconds(ex: Exchange) -> None:
    gid = group(ex, limit=5)
    order(ex, "b", "ask", 20, "10.1000")
    order(ex, "a", "bid", 3, "10.1000", tif="immediate_or_cancel", order_group_id=gid)
    assert ex.get_order_group("a", gid).window_count == 3
    later = T0 + 15_001
    ex.advance_to(later)
    assert ex.get_order_group("a", gid).window_count == 0
    res = order(ex, "a", "bid", 4, "10.1000", tif="immediate_or_cancel",
                order_group_id=gid, now_ms=later)
    assert res.fill_count == 4 and not ex.get_order_group("a", gid).triggered


def test_lowering_the_limit_under_usage_triggers_at_once(ex: Exchange) -> None:
    gid = group(ex, limit=10)
    order(ex, "b", "ask", 20, "10.1000")
    order(ex, "a", "bid", 4, "10.1000", tif="immediate_or_cancel", order_group_id=gid)
    events = ex.update_order_group_limit("a", gid, contracts_limit=D(3), now_ms=T0)
    kinds = [(e.event_type, e.contracts_limit) for e in of_type(events, OrderGroupEvent)]
    assert kinds == [("limit_updated", 3), ("triggered", None)]


def test_delete_cancels_orders_and_forgets_the_group(ex: Exchange) -> None:
    gid = group(ex)
    oid = order(ex, "a", "bid", 2, "9.9000", order_group_id=gid).order.order_id
    events = ex.delete_order_group("a", gid, now_ms=T0)
    assert [e.event_type for e in of_type(events, OrderGroupEvent)] == ["deleted"]
    assert ex.get_order("a", oid).remaining_count == 0
    with pytest.raises(Rejection) as info:
        ex.get_order_group("a", gid)
    assert info.value.http_status == 404
    assert ex.list_order_groups("a") == []


def test_groups_are_private_and_validated(ex: Exchange) -> None:
    gid = group(ex)
    with pytest.raises(Rejection) as info:
        order(ex, "b", "bid", 1, "9.9000", order_group_id=gid)
    assert info.value.http_status == 404
    with pytest.raises(Rejection):
        ex.trigger_order_group("b", gid, now_ms=T0)
    for bad in ("0", "1.5", "1000001"):
        with pytest.raises(Rejection) as info:
            ex.create_order_group("a", contracts_limit=D(bad), now_ms=T0)
        assert info.value.http_status == 400
    assert [g.order_group_id for g in ex.list_order_groups("a")] == [gid]
    assert ex.list_order_groups("a", subaccount=1) == []
