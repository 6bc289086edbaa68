"""Order requests: create, amend, decrease, cancel, cancel-all.

Each function validates everything first (raising :class:`Rejection` with the state
untouched), then mutates and returns the result with the call's events.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .errors import (
    Rejection,
    invalid_order,
    invalid_parameters,
    market_not_active,
    market_version_mismatch,
    not_found,
    order_already_exists,
    trading_is_paused,
)
from .events import Event, OrderUpdate
from .ledger import MONEY, Account
from .matching import cancel, fillable, match, rest, shrink
from .orders import REASON, Order
from .results import CancelResult, OrderResult
from .risk import check_liquidations, pretrade_check
from .state import Ctx, State
from .triggers import evaluate as evaluate_exit_triggers
from .validation import SIDES, STPS, TIFS, check_band, check_count, check_enum, check_price
from .views import SelfTradePrevention, Side, TimeInForce

__all__ = ["create_order", "amend_order", "decrease_order", "cancel_order", "cancel_all",
           "wrap_up", "ORDER_GROUP_TRIGGERED"]

ZERO = Decimal(0)


def ORDER_GROUP_TRIGGERED() -> Rejection:  # noqa: N802 - a constant-like factory
    """UNCONFIRMED: Kalshi's answer to an order into a triggered group is not recorded."""
    return Rejection(400, "order_group_triggered", "order group triggered")


def wrap_up(st: State, ctx: Ctx) -> list[Event]:
    """Refresh marks/tickers of touched markets, liquidate whoever breached, then let
    the exit triggers on those markets react."""
    tickers = list(ctx.touched)
    st.finish(ctx)
    if tickers:
        check_liquidations(st, ctx, tickers)
        st.finish(ctx)
        if st.live_exit_triggers:
            evaluate_exit_triggers(st, ctx, tickers)
            st.finish(ctx)
    return ctx.events


def _result(o: Order, before_fill: Decimal, events: list[Event]) -> OrderResult:
    avg_price = avg_fee = None
    if o.fill_count > 0:
        avg_price = (o.fill_cost / o.fill_count).quantize(MONEY, rounding=ROUND_HALF_UP)
        avg_fee = (o.fees_paid / o.fill_count).quantize(MONEY, rounding=ROUND_HALF_UP)
    return OrderResult(order=o.view(), fill_count=o.fill_count, remaining_count=o.remaining,
                       filled_now=o.fill_count - before_fill, average_fill_price=avg_price,
                       average_fee_paid=avg_fee, events=events)


def _check_open(st: State, ticker: str) -> None:
    m = st.market(ticker)
    if not (st.trading_active and st.exchange_active):
        raise trading_is_paused()
    if m.status != "active":
        raise market_not_active(ticker)


def _user_order(st: State, user_id: str, order_id: str, subaccount: int | None) -> Order:
    o = st.orders.get(order_id)
    if o is None or o.user_id != user_id or (subaccount is not None
                                             and o.subaccount != subaccount):
        raise not_found(f"order {order_id}")
    return o


def _take(st: State, ctx: Ctx, o: Order, *, amended: bool = False) -> None:
    """Run a new or re-priced order through post-only / FOK / matching, then rest or drop
    its remainder per its time in force. Emits the order's final OrderUpdate."""
    m = st.markets[o.ticker]
    opp = m.book.best_ask() if o.side == "bid" else m.book.best_bid()
    crosses = opp is not None and (o.price >= opp if o.side == "bid" else o.price <= opp)
    stop: str | None = None
    if o.post_only and crosses:
        stop = REASON.POST_ONLY
    elif o.time_in_force == "fill_or_kill" and fillable(st, o, o.remaining) < o.remaining:
        stop = REASON.IOC_REMAINDER
    else:
        stop = match(st, ctx, o)
    if o.remaining > 0 and stop is None and o.time_in_force != "good_till_canceled":
        stop = REASON.IOC_REMAINDER
    if o.remaining > 0 and stop is not None:
        o.remaining = ZERO
        o.last_update_reason = stop
    elif o.remaining > 0:
        rest(st, ctx, o, REASON.AMEND if amended else None)
    o.updated_ts_ms = ctx.now_ms
    ctx.emit(OrderUpdate(order=o.view()))


def create_order(st: State, acct: Account, *, ticker: str, client_order_id: str, side: Side,
                 count: Decimal, price: Decimal, time_in_force: TimeInForce,
                 stp: SelfTradePrevention, post_only: bool, reduce_only: bool,
                 subaccount: int, order_group_id: str | None, expiration_ts_ms: int | None,
                 cancel_order_on_pause: bool, market_version: int | None,
                 now_ms: int) -> OrderResult:
    check_enum("side", side, SIDES)
    check_enum("time_in_force", time_in_force, TIFS)
    check_enum("self_trade_prevention_type", stp, STPS)
    if not isinstance(ticker, str):
        raise invalid_order("invalid ticker")
    if not isinstance(subaccount, int) or isinstance(subaccount, bool):
        raise invalid_parameters("subaccount must be an integer")
    if expiration_ts_ms is not None and (not isinstance(expiration_ts_ms, int)
                                         or isinstance(expiration_ts_ms, bool)):
        raise invalid_order("invalid expiration_time")
    if not isinstance(client_order_id, str):
        raise invalid_order("client_order_id must be a string")
    m = st.market(ticker)
    _check_open(st, ticker)
    if market_version not in (None, 0) and market_version != m.cfg.market_version:
        raise market_version_mismatch()
    sub = st.subaccount(acct.user_id, subaccount)
    check_price(m.cfg, price)
    check_count(m.cfg, count)
    if not client_order_id:
        raise invalid_order("client_order_id is required")
    if reduce_only and time_in_force == "good_till_canceled":
        raise invalid_order("reduce_only can only be used with IoC or FoK orders")
    if expiration_ts_ms is not None and expiration_ts_ms <= now_ms:
        raise invalid_order("expiration_time must be in the future")
    if client_order_id in acct.client_order_ids:
        raise order_already_exists()
    if order_group_id is not None:
        g = st.groups.get(order_group_id)
        if g is None or g.user_id != acct.user_id:
            raise not_found(f"order group {order_group_id}")
        if g.subaccount != subaccount:
            raise invalid_parameters("order group belongs to another subaccount")
        if g.exchange_index != m.cfg.exchange_index:
            raise invalid_order("order group exchange_index does not match the market")
        if g.triggered:
            raise ORDER_GROUP_TRIGGERED()
    check_band(m, side, price)
    if not reduce_only:
        pretrade_check(st, acct, sub, ticker, side, count, price)
    ctx = Ctx(now_ms)
    o = Order(order_id=st.ids.uuid(), user_id=acct.user_id, subaccount=subaccount,
              client_order_id=client_order_id, ticker=ticker, side=side, price=price,
              count=count, time_in_force=time_in_force, stp=stp, post_only=post_only,
              reduce_only=reduce_only, cancel_on_pause=cancel_order_on_pause,
              expiration_ts_ms=expiration_ts_ms, group_id=order_group_id, source="user",
              reason=None, now_ms=now_ms, seq=st.next_seq(), synthetic=acct.synthetic)
    if not acct.synthetic:
        acct.client_order_ids.add(client_order_id)
        acct.order_seqs.append(o.seq)
        acct.orders.append(o.order_id)
    st.orders[o.order_id] = o
    if reduce_only:
        q = sub.qty(ticker)
        room = -q if side == "bid" else q
        room = max(room, ZERO)
        if room < o.remaining:
            o.remaining = room
            o.last_update_reason = REASON.REDUCE_ONLY
        if o.remaining == 0:
            ctx.emit(OrderUpdate(order=o.view()))
            return _result(o, ZERO, wrap_up(st, ctx))
    _take(st, ctx, o)
    if o.remaining == 0 and o.synthetic:
        st.orders.pop(o.order_id, None)
    return _result(o, ZERO, wrap_up(st, ctx))


def amend_order(st: State, acct: Account, order_id: str, *, ticker: str, side: Side,
                price: Decimal, count: Decimal, subaccount: int,
                updated_client_order_id: str | None, expiration_ts_ms: int | None,
                now_ms: int) -> OrderResult:
    o = _user_order(st, acct.user_id, order_id, subaccount)
    m = st.market(o.ticker)
    _check_open(st, o.ticker)
    if o.remaining == 0:
        raise not_found(f"order {order_id} is not resting")
    if ticker != o.ticker:
        raise invalid_order("order_ticker_mismatch")
    if side != o.side:
        raise invalid_order("order_side_mismatch")
    check_price(m.cfg, price)
    check_count(m.cfg, count)
    new_remaining = count - o.fill_count
    if new_remaining <= 0:
        raise invalid_order("invalid count: must exceed the filled count")
    if expiration_ts_ms not in (None, 0) and expiration_ts_ms <= now_ms:
        raise invalid_order("expiration_time must be in the future")
    new_id = updated_client_order_id
    if new_id and new_id != o.client_order_id and new_id in acct.client_order_ids:
        raise order_already_exists()
    if price != o.price:
        check_band(m, side, price)
    sub = st.subaccount(acct.user_id, o.subaccount)
    grows = price != o.price or new_remaining > o.remaining
    if grows:
        # Margin as if the amended order replaced the old one.
        exp = sub.resting(o.ticker)
        exp.add(o.side, -o.remaining, o.price)
        try:
            pretrade_check(st, acct, sub, o.ticker, side, new_remaining, price)
        finally:
            exp.add(o.side, o.remaining, o.price)
    ctx = Ctx(now_ms)
    before_fill = o.fill_count
    if new_id and new_id != o.client_order_id:
        acct.client_order_ids.add(new_id)
        o.client_order_id = new_id
    if expiration_ts_ms is not None:
        o.expiration_ts_ms = None if expiration_ts_ms == 0 else expiration_ts_ms
        st.add_expiry(o)
    o.initial_count = count
    if not grows:
        # Same price, size down or unchanged: keeps queue priority.
        shrink(st, ctx, o, o.remaining - new_remaining, REASON.AMEND)
        o.last_update_reason = REASON.AMEND
        o.updated_ts_ms = now_ms
        ctx.emit(OrderUpdate(order=o.view()))
        return _result(o, before_fill, wrap_up(st, ctx))
    # Re-priced or grown: leaves the book and comes back as a new taker (loses priority).
    shrink(st, ctx, o, o.remaining, REASON.AMEND)
    st.orders[o.order_id] = o
    o.price = price
    o.remaining = new_remaining
    o.last_update_reason = REASON.AMEND
    _take(st, ctx, o, amended=True)
    return _result(o, before_fill, wrap_up(st, ctx))


def decrease_order(st: State, acct: Account, order_id: str, *, reduce_by: Decimal | None,
                   reduce_to: Decimal | None, subaccount: int, now_ms: int) -> OrderResult:
    o = _user_order(st, acct.user_id, order_id, subaccount)
    cfg = st.market(o.ticker).cfg
    if (reduce_by is None) == (reduce_to is None):
        raise invalid_order("exactly one of reduce_by or reduce_to is required")
    if o.remaining == 0:
        raise not_found(f"order {order_id} is not resting")
    if reduce_by is not None:
        check_count(cfg, reduce_by, "reduce_by")
        by = min(reduce_by, o.remaining)
    else:
        assert reduce_to is not None
        if reduce_to != 0:
            check_count(cfg, reduce_to, "reduce_to")
        if reduce_to < 0 or reduce_to > o.remaining:
            raise invalid_order("invalid reduce_to: must be between 0 and the remaining count")
        by = o.remaining - reduce_to
    ctx = Ctx(now_ms)
    before_fill = o.fill_count
    if by > 0:
        shrink(st, ctx, o, by, REASON.DECREASE)
    o.last_update_reason = REASON.DECREASE
    o.updated_ts_ms = now_ms
    ctx.emit(OrderUpdate(order=o.view()))
    return _result(o, before_fill, wrap_up(st, ctx))


def cancel_order(st: State, acct: Account, order_id: str, *, subaccount: int | None,
                 now_ms: int) -> CancelResult:
    o = _user_order(st, acct.user_id, order_id, subaccount)
    if o.remaining == 0:
        raise not_found(f"order {order_id} is not resting")
    ctx = Ctx(now_ms)
    by = cancel(st, ctx, o, REASON.CANCEL)
    return CancelResult(order=o.view(), reduced_by=by, events=wrap_up(st, ctx))


def cancel_all(st: State, acct: Account, *, subaccount: int | None, now_ms: int) -> list[Event]:
    ctx = Ctx(now_ms)
    for oid in list(acct.resting):
        o = st.orders.get(oid)
        if o is not None and o.remaining > 0 and subaccount in (None, o.subaccount):
            cancel(st, ctx, o, REASON.CANCEL)
    return wrap_up(st, ctx)
