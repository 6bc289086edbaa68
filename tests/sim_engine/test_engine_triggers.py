"""Exit triggers in the engine: brackets, trailing stops, anchors, flips (rest.md §6.9)."""

from __future__ import annotations

import random

import pytest

from kalshi_margin_stream.sim.engine import Rejection
from kalshi_margin_stream.sim.engine.events import FillEvent, OrderUpdate
from kalshi_margin_stream.sim.engine.exchange import Exchange
from kalshi_margin_stream.sim.engine.testing import T0, D, exchange, of_type, order


def _long(ex: Exchange, user: str, qty: str = "5") -> None:
    """``user`` buys ``qty`` at 10.0000 from a maker, leaving a one-sided book (mark = ref)."""
    maker = ex.add_user("maker", synthetic=True)
    order(ex, maker, "ask", qty, "10.0000")
    taken = order(ex, user, "bid", qty, "10.0000", tif="immediate_or_cancel")
    assert taken.fill_count == D(qty)


def _bids(ex: Exchange, price: str = "10.5000", qty: str = "100") -> None:
    order(ex, ex.add_user("maker", synthetic=True), "bid", qty, price)


def _pos(ex: Exchange, user: str) -> D:
    rows = ex.positions(user, ticker="TEST")
    return rows[0].position if rows else D(0)


def test_bracket_take_profit_fires_as_a_system_order_and_retires_the_stop() -> None:
    ex = exchange()
    user = ex.add_user("u")
    _long(ex, user)
    _bids(ex)
    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                  stop_loss_price=D("9.0000"), take_profit_price=D("11.5000"),
                                  now_ms=T0)
    assert view.status == "active" and view.count == 0
    assert ex.move_price("TEST", D("11.0000"), now_ms=T0 + 1) is not None
    assert ex.exit_trigger(user, view.id).status == "active"
    events = ex.move_price("TEST", D("11.6000"), now_ms=T0 + 2)
    done = ex.exit_trigger(user, view.id)
    assert (done.status, done.triggered_leg, done.filled_count) == ("filled", "take_profit", 5)
    fills = [f for f in of_type(events, FillEvent) if f.user_id == user]
    assert [f.order_source for f in fills] == ["system"]
    assert fills[0].order_reason == "take_profit_stop_loss"
    sys_order = ex.get_order(user, done.triggered_order_id or "")
    assert (sys_order.order_source, sys_order.order_reason) == ("system",
                                                                 "take_profit_stop_loss")
    assert any(isinstance(e, OrderUpdate) and e.order.order_id == sys_order.order_id
               for e in events)
    assert _pos(ex, user) == 0
    assert ex.exit_triggers(user, scope="cross", ticker="TEST") == []
    # The stop leg went with it: falling through 9.0 now does nothing.
    ex.move_price("TEST", D("8.0000"), now_ms=T0 + 3)
    assert _pos(ex, user) == 0
    assert ex.audit() == []


def test_trailing_stop_follows_the_watermark_then_fires() -> None:
    ex = exchange()
    user = ex.add_user("u")
    _long(ex, user)
    _bids(ex, "9.7000")
    view, _ = ex.set_exit_trigger(user, scope="isolated", ticker="TEST", kind="trailing",
                                  trail_bps=1000, now_ms=T0)
    assert (view.watermark_price, view.effective_stop_price) == (D("10.0000"), D("9.0000"))
    ex.move_price("TEST", D("12.0000"), now_ms=T0 + 1)
    ex.move_price("TEST", D("11.0000"), now_ms=T0 + 2)
    live = ex.exit_trigger(user, view.id)
    assert (live.status, live.watermark_price, live.effective_stop_price) == (
        "active", D("12.0000"), D("10.8000"))
    ex.move_price("TEST", D("10.7000"), now_ms=T0 + 3)
    done = ex.exit_trigger(user, view.id)
    assert (done.status, done.triggered_leg) == ("filled", "stop_loss")
    assert _pos(ex, user) == 0


def test_anchored_trigger_waits_for_the_entry_fill() -> None:
    ex = exchange()
    user = ex.add_user("u")
    entry = order(ex, user, "bid", "3", "9.5000")
    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                  take_profit_price=D("11.0000"),
                                  anchor_order_id=entry.order.order_id,
                                  client_trigger_id="tp-1", now_ms=T0)
    assert (view.status, view.anchor_order_id) == ("pending_on_entry", entry.order.order_id)
    ex.move_price("TEST", D("11.5000"), now_ms=T0 + 1)   # no position yet: nothing fires
    assert ex.exit_trigger(user, view.id).status == "pending_on_entry"
    ex.move_price("TEST", D("10.0000"), now_ms=T0 + 2)
    maker = ex.add_user("maker", synthetic=True)
    order(ex, maker, "ask", "3", "9.5000", tif="immediate_or_cancel", now_ms=T0 + 3)
    armed = ex.exit_trigger(user, view.id)
    assert (armed.status, armed.count) == ("active", 3)
    # A replay of the key returns the same trigger.
    again, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                   take_profit_price=D("11.0000"),
                                   anchor_order_id=entry.order.order_id,
                                   client_trigger_id="tp-1", now_ms=T0 + 4)
    assert again.id == view.id
    # The same key on another position slot is refused.
    with pytest.raises(Rejection) as err:
        ex.set_exit_trigger(user, scope="isolated", ticker="TEST",
                            take_profit_price=D("11.0000"), count=D(1),
                            client_trigger_id="tp-1", now_ms=T0 + 4)
    assert err.value.code == "idempotency_key_already_used"


def test_flipping_the_position_cancels_the_trigger() -> None:
    ex = exchange()
    user = ex.add_user("u")
    _long(ex, user, "2")
    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                  stop_loss_price=D("8.0000"), now_ms=T0)
    _bids(ex, "10.0000", "5")
    order(ex, user, "ask", "5", "10.0000", tif="immediate_or_cancel", now_ms=T0 + 1)
    assert _pos(ex, user) == -3
    done = ex.exit_trigger(user, view.id)
    assert (done.status, done.status_reason) == ("canceled", "position_flipped")


def test_closing_the_position_cancels_and_delete_is_user_canceled() -> None:
    ex = exchange()
    user = ex.add_user("u")
    _long(ex, user, "2")
    trail, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST", kind="trailing",
                                   trail_amount=D("0.5000"), now_ms=T0)
    bracket, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                     take_profit_price=D("12.0000"), now_ms=T0)
    ex.delete_exit_triggers(user, scope="cross", ticker="TEST", kind="trailing", now_ms=T0)
    assert ex.exit_trigger(user, trail.id).status_reason == "user_canceled"
    _bids(ex, "10.0000", "2")
    order(ex, user, "ask", "2", "10.0000", tif="immediate_or_cancel", now_ms=T0 + 1)
    done = ex.exit_trigger(user, bracket.id)
    assert (done.status, done.status_reason) == ("canceled", "position_closed")


@pytest.mark.parametrize("kw, code", [
    ({"stop_loss_price": D("9.00005")}, "invalid_parameters"),
    ({"kind": "trailing", "trail_bps": 0}, "invalid_parameters"),
    ({"kind": "trailing", "trail_bps": 10000}, "invalid_parameters"),
    ({"kind": "trailing", "trail_bps": 5, "trail_amount": D("1")}, "invalid_parameters"),
    ({"take_profit_price": D("11"), "count": D(1)}, "invalid_parameters"),
    ({}, "invalid_parameters"),
])
def test_bad_trigger_requests_are_refused_and_change_nothing(kw: dict[str, object],
                                                              code: str) -> None:
    ex = exchange()
    user = ex.add_user("u")
    _long(ex, user)
    with pytest.raises(Rejection) as err:
        ex.set_exit_trigger(user, scope="cross", ticker="TEST", now_ms=T0,
                            **kw)  # type: ignore[arg-type]
    assert err.value.code == code
    assert ex.exit_triggers(user, scope="cross", ticker="TEST") == []


def test_no_position_and_unknown_anchor() -> None:
    ex = exchange()
    user = ex.add_user("u")
    with pytest.raises(Rejection) as err:
        ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                            stop_loss_price=D("9"), now_ms=T0)
    assert err.value.http_status == 404
    with pytest.raises(Rejection) as err:
        ex.set_exit_trigger(user, scope="cross", ticker="TEST", stop_loss_price=D("9"),
                            anchor_order_id="nope", client_trigger_id="k", now_ms=T0)
    assert err.value.code == "anchor_order_unavailable"


def test_anchor_cancelled_unfilled_is_entry_not_filled() -> None:
    ex = exchange()
    user = ex.add_user("u")
    entry = order(ex, user, "bid", "2", "9.5000")
    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                  stop_loss_price=D("9.0000"),
                                  anchor_order_id=entry.order.order_id,
                                  client_trigger_id="sl-1", now_ms=T0)
    ex.cancel_order(user, entry.order.order_id, now_ms=T0 + 1)
    done = ex.exit_trigger(user, view.id)
    assert (done.status, done.status_reason, done.anchor_order_id) == (
        "canceled", "entry_not_filled", None)


def test_anchored_trigger_returns_to_pending_while_its_entry_still_rests() -> None:
    ex = exchange()
    user = ex.add_user("u")
    maker = ex.add_user("maker", synthetic=True)
    entry = order(ex, user, "bid", "4", "10.0000")
    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                  take_profit_price=D("11.0000"),
                                  anchor_order_id=entry.order.order_id,
                                  client_trigger_id="tp-2", now_ms=T0)
    order(ex, maker, "ask", "1", "10.0000", tif="immediate_or_cancel", now_ms=T0 + 1)
    assert ex.exit_trigger(user, view.id).status == "active"
    order(ex, maker, "bid", "10", "10.5000", now_ms=T0 + 2)   # liquidity for the exit
    ex.move_price("TEST", D("11.2000"), now_ms=T0 + 3)
    back = ex.exit_trigger(user, view.id)
    assert (back.status, back.triggered_leg, back.filled_count) == (
        "pending_on_entry", "take_profit", 1)
    assert back.triggered_order_id is not None and _pos(ex, user) == 0


def test_an_exit_that_finds_no_liquidity_fails_with_order_rejected() -> None:
    ex = exchange()
    user = ex.add_user("u")
    _long(ex, user)
    view, _ = ex.set_exit_trigger(user, scope="isolated", ticker="TEST",
                                  stop_loss_price=D("9.5000"), now_ms=T0)
    ex.move_price("TEST", D("9.0000"), now_ms=T0 + 1)     # no bids at all
    done = ex.exit_trigger(user, view.id)
    assert (done.status, done.status_reason, done.triggered_leg) == (
        "failed", "order_rejected", "stop_loss")
    assert _pos(ex, user) == 5


@pytest.mark.parametrize("seed", range(5))
def test_random_walks_with_triggers_keep_the_books_and_ledger_sound(seed: int) -> None:
    """Prices wander, makers quote and users trade while brackets and trailing stops
    fire: every invariant of ``audit()`` holds and no live trigger outlives its position."""
    rng = random.Random(seed)
    ex = exchange()
    users = [ex.add_user(f"u{i}") for i in range(3)]
    maker = ex.add_user("maker", synthetic=True)
    ref = D("10.0000")
    now = T0
    made: list[tuple[str, str]] = []
    for step in range(120):
        now += 1000
        ref = max(D("5.0000"), min(D("15.0000"), ref + D(rng.randint(-30, 30)) / 100))
        ex.move_price("TEST", ref, now_ms=now)
        user = rng.choice(users)
        side = rng.choice(["bid", "ask"])
        price = ref + D("0.1000") if side == "bid" else ref - D("0.1000")
        for who, s, qty, px, tif in (
                (maker, "bid", rng.randint(1, 5), ref - D("0.0500"), "good_till_canceled"),
                (maker, "ask", rng.randint(1, 5), ref + D("0.0500"), "good_till_canceled"),
                (user, side, rng.randint(1, 3), price, "immediate_or_cancel")):
            try:
                order(ex, who, s, str(qty), str(px), tif=tif, now_ms=now)
            except Rejection as exc:   # outside the price band, or no margin left
                assert exc.code in ("invalid_price", "NOTIONAL_RISK_LIMIT_EXCEEDED"), exc
        if ex.positions(user, ticker="TEST") and step % 3 == 0:
            try:
                if rng.random() < 0.5:
                    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                                  kind="trailing",
                                                  trail_bps=rng.randint(10, 300), now_ms=now)
                else:
                    view, _ = ex.set_exit_trigger(user, scope="cross", ticker="TEST",
                                                  stop_loss_price=ref - D("0.3000"),
                                                  take_profit_price=ref + D("0.3000"),
                                                  now_ms=now)
                made.append((user, view.id))
            except Rejection as exc:
                assert exc.http_status == 400, exc
        assert ex.audit() == []
        for u in users:
            if not ex.positions(u, ticker="TEST"):
                assert ex.exit_triggers(u, scope="cross", ticker="TEST") == []
    finals = {ex.exit_trigger(u, i).status for u, i in made}
    assert "filled" in finals and "canceled" in finals, finals
