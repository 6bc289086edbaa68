"""Price-time-priority matching and the book/ledger bookkeeping around it.

Every function here mutates :class:`State` and appends events to the call's
:class:`Ctx` in the order things happen. For one match the order is: the maker's
``BookDelta``, the ``PublicTrade``, the taker's then the maker's ``FillEvent``, the
maker's ``OrderUpdate``. The taker's own ``OrderUpdate`` comes once, when the request
is done (trading.py).
"""

from __future__ import annotations

from decimal import Decimal

from .events import BookDelta, FillEvent, OrderGroupEvent, OrderUpdate, PublicTrade
from .ledger import fee_for
from .orders import REASON, Order
from .state import Ctx, Group, State

__all__ = ["match", "rest", "cancel", "shrink", "fillable", "trigger_group",
           "TRIGGER_AT_LIMIT", "group_full"]

ZERO = Decimal(0)
# UNCONFIRMED: an order group triggers as soon as the contracts matched in its window
# *reach* the limit (matching is capped so they never exceed it).
TRIGGER_AT_LIMIT = True
MAX_SYNTHETIC_FILLS = 2_000


def _delta(ctx: Ctx, o: Order, delta: Decimal, reason: str | None) -> None:
    ctx.emit(BookDelta(ticker=o.ticker, side=o.side, price=o.price, delta=delta,
                       ts_ms=ctx.now_ms, user_id=o.user_id, client_order_id=o.client_order_id,
                       subaccount=o.subaccount, last_update_reason=reason))


def _forget_if_done(st: State, o: Order) -> None:
    if o.remaining == 0:
        st.accounts[o.user_id].resting.pop(o.order_id, None)
        if o.group_id is not None:
            g = st.groups.get(o.group_id)
            if g is not None:
                g.orders.pop(o.order_id, None)
        if o.synthetic:
            st.orders.pop(o.order_id, None)


def rest(st: State, ctx: Ctx, o: Order, reason: str | None = None) -> None:
    """Put a (validated, unmatched) remainder on the book (``reason`` for its BookDelta:
    None for a new order, ``Amend`` for an amended one)."""
    st.markets[o.ticker].book.side(o.side).add(o)
    acct = st.accounts[o.user_id]
    acct.resting[o.order_id] = None
    acct.subaccounts[o.subaccount].resting(o.ticker).add(o.side, o.remaining, o.price)
    if o.group_id is not None:
        st.groups[o.group_id].orders[o.order_id] = None
    st.add_expiry(o)
    _delta(ctx, o, o.remaining, reason)
    ctx.touch(o.ticker)


def shrink(st: State, ctx: Ctx, o: Order, by: Decimal, reason: str) -> None:
    """Take ``by`` contracts off a resting order without a fill (decrease/cancel)."""
    if by <= 0:
        return
    side = st.markets[o.ticker].book.side(o.side)
    side.shrink(o, by)
    o.remaining -= by
    st.accounts[o.user_id].subaccounts[o.subaccount].resting(o.ticker).add(o.side, -by, o.price)
    if o.remaining == 0:
        side.remove(o)
    o.last_update_reason = reason
    o.updated_ts_ms = ctx.now_ms
    _delta(ctx, o, -by, reason)
    _forget_if_done(st, o)
    ctx.touch(o.ticker)


def cancel(st: State, ctx: Ctx, o: Order, reason: str) -> Decimal:
    """Cancel a resting order's remainder; emits its BookDelta and OrderUpdate."""
    by = o.remaining
    shrink(st, ctx, o, by, reason)
    ctx.emit(OrderUpdate(order=o.view()))
    return by


def trigger_group(st: State, ctx: Ctx, g: Group) -> None:
    """Kill switch: mark triggered, cancel every resting order of the group."""
    if g.triggered:
        return
    g.triggered = True
    ctx.emit(OrderGroupEvent(user_id=g.user_id, subaccount=g.subaccount,
                             event_type="triggered", order_group_id=g.group_id,
                             ts_ms=ctx.now_ms))
    for oid in list(g.orders):
        o = st.orders.get(oid)
        if o is not None and o.remaining > 0:
            cancel(st, ctx, o, REASON.GROUP_CANCEL)
    g.orders.clear()


def group_full(st: State, g: Group, now_ms: int) -> bool:
    used = g.used(now_ms, st.config.order_group_window_ms)
    return used >= g.limit if TRIGGER_AT_LIMIT else used > g.limit


def fillable(st: State, taker: Order, want: Decimal) -> Decimal:
    """How much ``taker`` could match right now (for fill-or-kill), capped at ``want``."""
    window = st.config.order_group_window_ms
    allow: dict[str, Decimal] = {}
    tg = st.groups.get(taker.group_id) if taker.group_id else None
    cap = want if tg is None else min(want, tg.allowance(st.now_ms, window))
    total = ZERO
    is_bid = taker.side == "bid"
    for level in st.markets[taker.ticker].book.opposite(taker.side).iter_best_first():
        if (level.price > taker.price) if is_bid else (level.price < taker.price):
            break
        for maker in level.orders.values():
            if maker.user_id == taker.user_id:
                if taker.stp == "taker_at_cross":
                    return total
                continue
            q = maker.remaining
            g = st.groups.get(maker.group_id) if maker.group_id is not None else None
            if g is not None:
                left = allow.setdefault(g.group_id, g.allowance(st.now_ms, window))
                q = min(q, left)
                allow[g.group_id] = left - q
            total += q
            if total >= cap:
                return cap
    return total


def _fill_side(st: State, ctx: Ctx, o: Order, qty: Decimal, price: Decimal, is_taker: bool,
               trade_id: str) -> FillEvent:
    m = st.markets[o.ticker]
    cfg = m.cfg
    acct = st.accounts[o.user_id]
    sub = acct.subaccounts[o.subaccount]
    pos = sub.position(o.ticker)
    before = pos.qty
    fee = fee_for(qty, price, cfg.taker_fee_rate if is_taker else cfg.maker_fee_rate)
    realized, entry = pos.apply_fill(o.side, qty, price, fee)
    sub.cash += realized - fee
    st.fees_collected += fee
    o.fill_count += qty
    o.fill_cost += qty * price
    o.fees_paid += fee
    o.last_update_reason = REASON.TRADE
    o.updated_ts_ms = ctx.now_ms
    m.open_interest += max(pos.qty, ZERO) - max(before, ZERO)
    holders = st.holders[o.ticker]
    key = (o.user_id, o.subaccount)
    if pos.qty == 0:
        holders.pop(key, None)
    else:
        holders[key] = None
    if o.group_id is not None:
        g = st.groups.get(o.group_id)
        if g is not None:
            g.window.append((ctx.now_ms, qty))
    fill = FillEvent(user_id=o.user_id, subaccount=o.subaccount, fill_id=st.ids.uuid(),
                     trade_id=trade_id, order_id=o.order_id, client_order_id=o.client_order_id,
                     ticker=o.ticker, is_taker=is_taker, side=o.side, price=price, count=qty,
                     fee_cost=fee, post_position=pos.qty, entry_price=entry,
                     realized_pnl=realized, order_source="system" if o.source == "system"
                     else "user", ts_ms=ctx.now_ms, order_reason=o.reason)
    acct.fills.append((st.next_seq(), fill))
    if acct.synthetic and len(acct.fills) > MAX_SYNTHETIC_FILLS:
        del acct.fills[: MAX_SYNTHETIC_FILLS // 2]
    return fill


def _execute(st: State, ctx: Ctx, taker: Order, maker: Order, qty: Decimal) -> None:
    price = maker.price
    m = st.markets[taker.ticker]
    side = m.book.side(maker.side)
    side.shrink(maker, qty)
    maker.remaining -= qty
    st.accounts[maker.user_id].subaccounts[maker.subaccount].resting(maker.ticker).add(
        maker.side, -qty, price)
    if maker.remaining == 0:
        side.remove(maker)
    taker.remaining -= qty
    _delta(ctx, maker, -qty, REASON.TRADE)
    trade = PublicTrade(trade_id=st.ids.uuid(), ticker=taker.ticker, price=price, count=qty,
                        taker_side=taker.side, ts_ms=ctx.now_ms)
    seq = st.next_seq()
    m.record_trade(seq, trade)
    st.trades.append((seq, trade))
    ctx.emit(trade)
    ctx.emit(_fill_side(st, ctx, taker, qty, price, True, trade.trade_id))
    ctx.emit(_fill_side(st, ctx, maker, qty, price, False, trade.trade_id))
    ctx.emit(OrderUpdate(order=maker.view()))
    _forget_if_done(st, maker)
    ctx.touch(taker.ticker)


def match(st: State, ctx: Ctx, taker: Order) -> str | None:
    """Match ``taker`` against the opposite side while it crosses.

    Returns the reason the taker must stop and drop its remainder (``SelfTradeCancel``
    or the group-cancel reason), or None when it may rest / be treated per its TIF.
    Self-trade prevention applies between orders of the same ``user_id``, whatever their
    subaccounts (UNCONFIRMED: Kalshi does not say whether subaccounts are separate).
    """
    window = st.config.order_group_window_ms
    book_side = st.markets[taker.ticker].book.opposite(taker.side)
    is_bid = taker.side == "bid"
    tg = st.groups.get(taker.group_id) if taker.group_id else None
    while taker.remaining > 0:
        level = book_side.best()
        if level is None or ((level.price > taker.price) if is_bid
                             else (level.price < taker.price)):
            return None
        maker = next(iter(level.orders.values()))
        if maker.user_id == taker.user_id:
            if taker.stp == "taker_at_cross":
                return REASON.SELF_TRADE
            cancel(st, ctx, maker, REASON.SELF_TRADE)
            continue
        qty = min(taker.remaining, maker.remaining)
        if tg is not None:
            qty = min(qty, tg.allowance(ctx.now_ms, window))
            if qty <= 0:
                trigger_group(st, ctx, tg)
                return REASON.GROUP_CANCEL
        mg = st.groups.get(maker.group_id) if maker.group_id else None
        if mg is not None:
            allow = mg.allowance(ctx.now_ms, window)
            if allow <= 0:
                trigger_group(st, ctx, mg)
                continue
            qty = min(qty, allow)
        _execute(st, ctx, taker, maker, qty)
        if mg is not None and group_full(st, mg, ctx.now_ms):
            trigger_group(st, ctx, mg)
        if tg is not None and group_full(st, tg, ctx.now_ms):
            trigger_group(st, ctx, tg)
            return REASON.GROUP_CANCEL if taker.remaining > 0 else None
    return None
