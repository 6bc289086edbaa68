"""Time-driven changes: order expiry, funding settlement, scenario price moves, pauses."""

from __future__ import annotations

import heapq
from decimal import ROUND_HALF_EVEN, Decimal

from .errors import invalid_parameters
from .events import Event, FundingPayment
from .ledger import MONEY
from .matching import cancel
from .orders import REASON
from .state import Ctx, State
from .trading import wrap_up
from .views import PricePoint

__all__ = ["advance_to", "catch_up", "move_price", "set_trading_active", "set_market_status",
           "FUNDING_ROUNDING"]

MARKET_STATUSES = ("active", "inactive", "closed")

# UNCONFIRMED: funding payment = -quantity x settlement mark x rate, rounded half-even to
# 4 dp per position; the rounding dust is the exchange's (ledger ``funding_residual``).
FUNDING_ROUNDING = ROUND_HALF_EVEN
# At most this many overdue funding times are settled in one go; older ones are skipped
# (an exchange created with a stale clock must not replay years of intervals).
MAX_FUNDING_CATCHUP = 30


def _expire(st: State, ctx: Ctx) -> None:
    while st.expiries and st.expiries[0][0] <= ctx.now_ms:
        exp, _, oid = heapq.heappop(st.expiries)
        o = st.orders.get(oid)
        if o is not None and o.remaining > 0 and o.expiration_ts_ms == exp:
            cancel(st, ctx, o, REASON.EXPIRY)


def _settle_funding(st: State, ctx: Ctx) -> None:
    for ticker, m in st.markets.items():
        interval = m.cfg.funding_interval_ms
        overdue = (ctx.now_ms - m.interval_start_ms) // interval
        if overdue > MAX_FUNDING_CATCHUP:
            m.interval_start_ms += (overdue - MAX_FUNDING_CATCHUP) * interval
        while m.interval_start_ms + interval <= ctx.now_ms:
            t = m.interval_start_ms + m.cfg.funding_interval_ms
            rec = m.settle_funding(t)
            ctx.emit(rec)
            if rec.funding_rate == 0:
                continue
            for user_id, number in list(st.holders[ticker]):
                acct = st.accounts[user_id]
                sub = acct.subaccounts[number]
                qty = sub.qty(ticker)
                if qty == 0:
                    continue
                amount = (-qty * rec.mark_price * rec.funding_rate).quantize(
                    MONEY, rounding=FUNDING_ROUNDING)
                sub.cash += amount
                st.funding_residual -= amount
                pay = FundingPayment(user_id=user_id, subaccount=number, ticker=ticker,
                                     funding_time_ms=t, funding_rate=rec.funding_rate,
                                     mark_price=rec.mark_price, quantity=qty, amount=amount)
                if not acct.synthetic:
                    acct.funding.append(pay)
                ctx.emit(pay)
            ctx.touch(ticker)


def _due(st: State, now_ms: int) -> bool:
    if st.expiries and st.expiries[0][0] <= now_ms:
        return True
    return any(m.interval_start_ms + m.cfg.funding_interval_ms <= now_ms
               for m in st.markets.values())


def catch_up(st: State, now_ms: int) -> list[Event]:
    """Run what the clock owes (expiries, funding) before a request at ``now_ms``, so an
    order never matches an expired order and funding never sees a later book. Cheap when
    nothing is due."""
    if not _due(st, now_ms):
        st.tick(now_ms)
        return []
    return advance_to(st, now_ms)


def advance_to(st: State, now_ms: int) -> list[Event]:
    st.tick(now_ms)
    ctx = Ctx(st.now_ms)
    _expire(st, ctx)
    _settle_funding(st, ctx)
    for m in st.markets.values():
        m.accumulate(ctx.now_ms)
    ctx.touched.update({t: None for t in st.markets})
    return wrap_up(st, ctx)


def move_price(st: State, ticker: str, new_reference: Decimal, now_ms: int) -> list[Event]:
    m = st.market(ticker)
    if not isinstance(new_reference, Decimal) or not new_reference.is_finite() \
            or new_reference <= 0:
        raise invalid_parameters(f"reference price must be a positive decimal: {new_reference}")
    st.tick(now_ms)
    ctx = Ctx(st.now_ms)
    m.accumulate(ctx.now_ms)
    m.reference = PricePoint(new_reference, ctx.now_ms)
    ctx.touch(ticker)
    return wrap_up(st, ctx)


def set_trading_active(st: State, active: bool, now_ms: int) -> list[Event]:
    st.tick(now_ms)
    ctx = Ctx(st.now_ms)
    st.trading_active = active
    if not active:
        for o in [o for o in st.orders.values() if o.remaining > 0 and o.cancel_on_pause]:
            cancel(st, ctx, o, REASON.PAUSE_CANCEL)
    ctx.touched.update({t: None for t in st.markets})
    return wrap_up(st, ctx)


def set_market_status(st: State, ticker: str, status: str, now_ms: int) -> list[Event]:
    m = st.market(ticker)
    if status not in MARKET_STATUSES:
        raise invalid_parameters(f"status must be one of {', '.join(MARKET_STATUSES)}")
    st.tick(now_ms)
    ctx = Ctx(st.now_ms)
    m.status = status
    ctx.touch(ticker)
    return wrap_up(st, ctx)
