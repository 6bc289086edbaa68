"""Property tests under random order flow from several users.

Invariants checked after every operation (see ``Exchange.audit`` and ledger.py):

* no zero or negative resting size; book levels equal the sum of their orders;
* no crossed book after matching;
* every trade has exactly one taker fill and one maker fill of the trade's count and
  price, on opposite sides (buyer count == seller count);
* money: sum(cash) == deposits + sum(realized) - fees_collected - funding_residual, exactly,
  with sum(realized) == sum(cost basis); so total equity at a common mark is deposits
  minus the fees the exchange kept (and funding rounding dust);
* positions net to zero per market across all users, synthetic participants included;
* determinism: the same operations on the same seed give the same events.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.sim.engine import (
    BookDelta,
    Event,
    Exchange,
    FillEvent,
    PublicTrade,
    Rejection,
)
from kalshi_margin_stream.sim.engine.testing import BIG, T0, D, exchange, market, order
from kalshi_margin_stream.sim.engine.views import Side

USERS = ["u0", "u1", "u2"]
STEP = D("0.0100")

users = st.sampled_from(USERS)
sides = st.sampled_from(["bid", "ask"])
place = st.tuples(st.just("place"), users, sides, st.integers(1, 20), st.integers(-15, 15),
                  st.sampled_from(["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]),
                  st.booleans(), st.booleans(), st.sampled_from(["taker_at_cross", "maker"]))
cancel = st.tuples(st.just("cancel"), users, st.integers(0, 50))
amend = st.tuples(st.just("amend"), users, st.integers(0, 50), st.integers(-15, 15),
                  st.integers(1, 25))
decrease = st.tuples(st.just("decrease"), users, st.integers(0, 50), st.integers(0, 10))
move = st.tuples(st.just("move"), st.integers(-200, 200))
advance = st.tuples(st.just("advance"), st.integers(1, 600))
ops_strategy = st.lists(st.one_of(place, place, place, cancel, amend, decrease, move, advance),
                        min_size=5, max_size=50)


def check_events(events: list[Event]) -> None:
    fills: dict[str, list[FillEvent]] = {}
    for e in events:
        if isinstance(e, FillEvent):
            fills.setdefault(e.trade_id, []).append(e)
        if isinstance(e, BookDelta):
            assert e.delta != 0
    trades = [e for e in events if isinstance(e, PublicTrade)]
    assert sorted(fills) == sorted(t.trade_id for t in trades)
    for t in trades:
        pair = fills[t.trade_id]
        assert len(pair) == 2
        taker = next(f for f in pair if f.is_taker)
        maker = next(f for f in pair if not f.is_taker)
        assert taker.side == t.taker_side and maker.side != taker.side
        assert taker.count == maker.count == t.count > 0
        assert taker.price == maker.price == t.price


def ladder(ex: Exchange, ref: Decimal, now: int, tag: str) -> list[Event]:
    """Five levels of 10 lots a side around ``ref`` from the synthetic market maker."""
    events: list[Event] = []
    for i in range(1, 6):
        quotes: tuple[tuple[Side, Decimal], ...] = (("bid", ref - i * STEP),
                                                    ("ask", ref + i * STEP))
        for side, price in quotes:
            if price > 0:
                events += order(ex, "mm", side, 10, str(price), coid=f"mm-{tag}-{side}-{i}",
                                now_ms=now).events
    return events


def run(ops: list[tuple[Any, ...]], *, fees: bool = True) -> tuple[Exchange, list[Event]]:
    cfg = market() if fees else market(maker_fee_rate=D(0), taker_fee_rate=D(0))
    ex = exchange(cfg, seed=11)
    for u in USERS:
        ex.add_user(u, cash=D("40"))  # small: margin refusals and liquidations happen
    ex.add_user("mm", cash=BIG, synthetic=True)
    ladder(ex, D("10"), T0, "start")
    now = T0
    ids: dict[str, list[str]] = {u: [] for u in USERS}
    log: list[Event] = []
    for n, op in enumerate(ops):
        kind = op[0]
        ref = ex.market("TEST").reference_price.price
        events: list[Event] = []
        try:
            if kind == "place":
                _, u, side, count, off, tif, post, reduce, stp = op
                res = order(ex, u, side, count, str(ref + off * STEP), tif=tif, stp=stp,
                            post_only=post, reduce_only=reduce and tif != "good_till_canceled",
                            coid=f"{u}-{n}", now_ms=now)
                ids[u].append(res.order.order_id)
                events = res.events
            elif kind in ("cancel", "amend", "decrease") and ids[op[1]]:
                u, oid = op[1], ids[op[1]][op[2] % len(ids[op[1]])]
                if kind == "cancel":
                    events = ex.cancel_order(u, oid, now_ms=now).events
                elif kind == "amend":
                    o = ex.get_order(u, oid)
                    events = ex.amend_order(u, oid, ticker="TEST", side=o.side,
                                            price=ref + op[3] * STEP,
                                            count=o.fill_count + op[4], now_ms=now).events
                else:
                    events = ex.decrease_order(u, oid, reduce_by=Decimal(op[3]),
                                               now_ms=now).events
            elif kind == "move":
                # the index moves, then the market maker requotes around it (as the flow does)
                new = max(10 * STEP, ref + op[1] * STEP)
                events = ex.move_price("TEST", new, now_ms=now)
                events += ex.cancel_all_orders("mm", now_ms=now)
                events += ladder(ex, new, now, str(n))
            elif kind == "advance":
                now += op[1] * 60_000
                events = ex.advance_to(now)
        except Rejection as r:
            assert r.http_status in (400, 404, 409), r
        check_events(events)
        assert ex.audit() == []
        log += events
    return ex, log


@given(ops_strategy)
def test_invariants_hold_under_random_flow(ops: list[tuple[Any, ...]]) -> None:
    ex, _ = run(ops)
    assert ex.audit() == []


@given(ops_strategy)
def test_without_fees_total_equity_is_exactly_conserved(ops: list[tuple[Any, ...]]) -> None:
    ex, _ = run(ops, fees=False)
    t = ex.ledger_totals()
    assert t["fees_collected"] == 0
    # positions net to zero, so sum(q*mark - C) = -sum(C) = -sum(realized) at any mark
    assert t["cash"] - t["cost_basis"] + t["funding_residual"] == t["deposits"]


@given(ops_strategy)
def test_same_operations_same_events(ops: list[tuple[Any, ...]]) -> None:
    _, a = run(ops)
    _, b = run(ops)
    assert a == b
