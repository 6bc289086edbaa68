"""Pre-trade checks (notional limit, margin) and liquidation."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal

from ...core.margin.formulas import placement_fits
from .errors import notional_risk_limit_exceeded
from .events import LiquidationTriggered, OrderUpdate
from .ledger import Account, Subaccount, fee_for
from .margin import market_usage, summarize
from .matching import cancel, match
from .orders import REASON, Order
from .state import Ctx, State
from .views import Side

__all__ = ["pretrade_check", "user_usage", "check_liquidations", "LIQUIDATION_SLIPPAGE"]

ZERO = Decimal(0)
# Liquidation orders are IOC at the liquidation mark -/+ 10% (UNCONFIRMED: Kalshi does not
# publish how its system orders are priced).
LIQUIDATION_SLIPPAGE = Decimal("0.10")
# A subaccount whose liquidation order found too little liquidity is retried at most once
# per this many ms (so a thin book does not make every call re-liquidate).
LIQUIDATION_RETRY_MS = 1_000


def user_usage(st: State, acct: Account) -> dict[str, Decimal]:
    """Notional usage per market summed over the user's subaccounts."""
    out: dict[str, Decimal] = {}
    for sub in acct.subaccounts.values():
        for t in set(sub.positions) | set(sub.exposure):
            u = market_usage(sub, t, st.markets[t].mark)
            if u:
                out[t] = out.get(t, ZERO) + u
    return out


def pretrade_check(st: State, acct: Account, sub: Subaccount, ticker: str, side: Side,
                   count: Decimal, price: Decimal) -> None:
    """Refuse an order that would raise usage over the notional limit or need margin the
    subaccount does not have (both answer 400 ``NOTIONAL_RISK_LIMIT_EXCEEDED``)."""
    if acct.synthetic:
        return
    m = st.markets[ticker]
    mark = m.mark
    before_m = market_usage(sub, ticker, mark)
    after_m = market_usage(sub, ticker, mark, extra=(side, count, price))
    if after_m > before_m:
        usage = user_usage(st, acct)
        total = sum(usage.values(), ZERO) - before_m + after_m
        market_total = usage.get(ticker, ZERO) - before_m + after_m
        if total > acct.notional_limit:
            raise notional_risk_limit_exceeded("notional risk limit exceeded")
        per_market = acct.market_limits.get(ticker)
        if per_market is not None and market_total > per_market:
            raise notional_risk_limit_exceeded("market notional risk limit exceeded")
    marks = st.marks()
    before = summarize(sub, st.configs, marks)
    after = summarize(sub, st.configs, marks, extra=(ticker, side, count))
    fee = fee_for(count, price, m.cfg.taker_fee_rate)
    if not placement_fits(before.requirement, after.requirement, after.available, fee):
        raise notional_risk_limit_exceeded("insufficient margin")


def _liquidate(st: State, ctx: Ctx, acct: Account, sub: Subaccount, ratio: Decimal) -> None:
    ctx.emit(LiquidationTriggered(user_id=acct.user_id, subaccount=sub.number,
                                  margin_ratio=ratio, ts_ms=ctx.now_ms))
    for oid in list(acct.resting):
        o = st.orders.get(oid)
        if o is not None and o.subaccount == sub.number and o.remaining > 0:
            cancel(st, ctx, o, REASON.LIQUIDATION_CANCEL)
    for ticker, pos in list(sub.positions.items()):
        if pos.qty == 0:
            continue
        m = st.markets[ticker]
        tick = m.cfg.tick_size
        side: Side = "ask" if pos.qty > 0 else "bid"
        if side == "ask":
            raw = m.mark * (1 - LIQUIDATION_SLIPPAGE)
            price = max(tick, (raw / tick).to_integral_value(rounding=ROUND_UP) * tick)
        else:
            raw = m.mark * (1 + LIQUIDATION_SLIPPAGE)
            price = (raw / tick).to_integral_value(rounding=ROUND_DOWN) * tick
        o = Order(order_id=st.ids.uuid(), user_id=acct.user_id, subaccount=sub.number,
                  client_order_id="", ticker=ticker, side=side, price=price,
                  count=abs(pos.qty), time_in_force="immediate_or_cancel",
                  stp="taker_at_cross", post_only=False, reduce_only=True,
                  cancel_on_pause=False, expiration_ts_ms=None, group_id=None,
                  source="system", reason="liquidation", now_ms=ctx.now_ms,
                  seq=st.next_seq(), synthetic=acct.synthetic)
        st.orders[o.order_id] = o
        acct.order_seqs.append(o.seq)
        acct.orders.append(o.order_id)
        stop = match(st, ctx, o)
        if o.remaining > 0:
            o.remaining = ZERO
            o.last_update_reason = stop or REASON.IOC_REMAINDER
        o.updated_ts_ms = ctx.now_ms
        ctx.emit(OrderUpdate(order=o.view()))


def check_liquidations(st: State, ctx: Ctx, tickers: list[str]) -> None:
    """Liquidate every real subaccount holding one of ``tickers`` whose MM/equity reached
    the threshold (once per call each)."""
    threshold = st.config.liquidation_margin_ratio_threshold
    seen: dict[tuple[str, int], None] = {}
    for t in tickers:
        for key in st.holders[t]:
            seen[key] = None
    if not seen:
        return
    marks = st.marks()
    for user_id, number in seen:
        acct = st.accounts[user_id]
        if acct.synthetic:
            continue
        last = st.liquidated.get((user_id, number))
        if last is not None and ctx.now_ms - last < LIQUIDATION_RETRY_MS:
            continue
        sub = acct.subaccounts[number]
        ratio = summarize(sub, st.configs, marks).margin_ratio
        if ratio is not None and ratio >= threshold:
            st.liquidated[(user_id, number)] = ctx.now_ms
            _liquidate(st, ctx, acct, sub, ratio)
