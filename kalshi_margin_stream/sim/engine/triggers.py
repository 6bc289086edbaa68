"""Exit triggers: brackets (stop-loss / take-profit) and trailing stops on positions.

Theory of operation. A trigger watches the market's liquidation mark (``m.mark``).
It is evaluated after every call that touched its market (:func:`evaluate`, hooked
into ``trading.wrap_up`` after liquidations), so it reacts to fills, price moves and
the synthetic flow alike. When a leg is crossed it places a reduce-only IOC
*system* order (``order_source: "system"``, ``order_reason:
"take_profit_stop_loss"``) priced :data:`TRIGGER_SLIPPAGE` through the mark, for
its count (``0`` = the whole position) capped at the position.

Statuses (rest.md §6.9): ``pending_on_entry`` (anchored, waiting for the anchor's
next fill) -> ``active`` -> ``filled`` | ``failed`` (the order filled nothing:
``order_rejected``) | ``canceled`` (``user_canceled``, ``position_closed``,
``position_flipped``, ``entry_not_filled``). An anchored trigger whose anchor still
rests goes back to ``pending_on_entry`` after closing what the anchor had filled.

Choices the spec leaves open are the named constants below (UNCONFIRMED).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Literal

from .errors import Rejection, invalid_parameters, not_found
from .events import Event, OrderUpdate
from .matching import match
from .orders import REASON, Order
from .state import Ctx, State

__all__ = [
    "ANCHOR_UNAVAILABLE",
    "ISOLATED_SUBACCOUNT",
    "MAX_BRACKETS",
    "NO_POSITION",
    "TRIGGER_ORDER_REASON",
    "TRIGGER_SLIPPAGE",
    "ExitTriggerView",
    "Trigger",
    "delete_by_id",
    "delete_triggers",
    "evaluate",
    "live_triggers",
    "set_trigger",
    "update_trigger",
]

ZERO = Decimal(0)
BPS = Decimal(10_000)
Scope = Literal["isolated", "cross"]
Kind = Literal["bracket", "trailing"]

TRIGGER_ORDER_REASON = "take_profit_stop_loss"
# UNCONFIRMED: how Kalshi prices the system order a trigger fires. Like liquidations, an
# IOC this far through the liquidation mark (10%), rounded to the tick.
TRIGGER_SLIPPAGE = Decimal("0.10")
# UNCONFIRMED: the simulator has no isolated-margin mode; "isolated" triggers watch the
# position of subaccount 0 with the isolated rules (one per kind, always the whole position).
ISOLATED_SUBACCOUNT = 0
MAX_BRACKETS = 20
"""Cross positions hold one trailing stop and up to 20 brackets (spec)."""


def NO_POSITION(ticker: str) -> Rejection:  # noqa: N802 - a constant-like factory
    """UNCONFIRMED: setting a trigger without an open position (and no anchor) -> 404."""
    return not_found(f"no open position in {ticker}")


def ANCHOR_UNAVAILABLE() -> Rejection:  # noqa: N802
    return Rejection(409, "anchor_order_unavailable", "anchor order unavailable",
                     "the anchor order is not a resting order of this position")


def _key_used() -> Rejection:
    return Rejection(409, "idempotency_key_already_used", "idempotency key already used")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitTriggerView:
    """A trigger as the REST ``ExitTrigger`` shows it (count ``0`` = whole position)."""

    id: str
    ticker: str
    kind: Kind
    status: str
    count: Decimal
    filled_count: Decimal
    created_ts_ms: int
    updated_ts_ms: int
    status_reason: str | None
    triggered_leg: str | None
    triggered_order_id: str | None
    anchor_order_id: str | None
    client_trigger_id: str | None
    stop_loss_price: Decimal | None
    take_profit_price: Decimal | None
    trail_amount: Decimal | None
    trail_bps: int | None
    watermark_price: Decimal | None
    effective_stop_price: Decimal | None


class Trigger:
    """One trigger's live state; only this module mutates it."""

    __slots__ = ("trigger_id", "user_id", "subaccount", "ticker", "scope", "kind", "status",
                 "count", "filled_count", "created_ms", "updated_ms", "status_reason",
                 "triggered_leg", "triggered_order_id", "anchor_order_id", "anchor_fill",
                 "client_trigger_id", "stop_loss", "take_profit", "trail_amount", "trail_bps",
                 "watermark", "sign")

    def __init__(self, *, trigger_id: str, user_id: str, subaccount: int, ticker: str,
                 scope: Scope, kind: Kind, count: Decimal, now_ms: int) -> None:
        self.trigger_id = trigger_id
        self.user_id = user_id
        self.subaccount = subaccount
        self.ticker = ticker
        self.scope: Scope = scope
        self.kind: Kind = kind
        self.status = "active"
        self.count = count
        self.filled_count = ZERO
        self.created_ms = now_ms
        self.updated_ms = now_ms
        self.status_reason: str | None = None
        self.triggered_leg: str | None = None
        self.triggered_order_id: str | None = None
        self.anchor_order_id: str | None = None
        self.anchor_fill = ZERO
        """The anchor's cumulative fill seen so far (the trigger's size follows it)."""
        self.client_trigger_id: str | None = None
        self.stop_loss: Decimal | None = None
        self.take_profit: Decimal | None = None
        self.trail_amount: Decimal | None = None
        self.trail_bps: int | None = None
        self.watermark: Decimal | None = None
        self.sign = 0
        """+1 protects a long, -1 a short (0: not known yet, pending on entry)."""

    @property
    def live(self) -> bool:
        return self.status in ("pending_on_entry", "active")

    @property
    def partial(self) -> bool:
        return self.count > 0 or self.anchor_order_id is not None \
            or self.client_trigger_id is not None

    def trail(self) -> Decimal | None:
        if self.watermark is None:
            return None
        if self.trail_amount is not None:
            return self.trail_amount
        assert self.trail_bps is not None
        return self.watermark * self.trail_bps / BPS

    def effective_stop(self, tick: Decimal) -> Decimal | None:
        trail = self.trail()
        if trail is None or self.watermark is None:
            return None
        if self.sign >= 0:
            return max(tick, ((self.watermark - trail) / tick).to_integral_value(ROUND_DOWN)
                       * tick)
        return ((self.watermark + trail) / tick).to_integral_value(ROUND_UP) * tick

    def view(self, tick: Decimal) -> ExitTriggerView:
        trailing = self.kind == "trailing"
        return ExitTriggerView(
            id=self.trigger_id, ticker=self.ticker, kind=self.kind, status=self.status,
            count=self.count, filled_count=self.filled_count, created_ts_ms=self.created_ms,
            updated_ts_ms=self.updated_ms, status_reason=self.status_reason,
            triggered_leg=self.triggered_leg, triggered_order_id=self.triggered_order_id,
            anchor_order_id=self.anchor_order_id, client_trigger_id=self.client_trigger_id,
            stop_loss_price=self.stop_loss, take_profit_price=self.take_profit,
            trail_amount=self.trail_amount, trail_bps=self.trail_bps,
            watermark_price=self.watermark if trailing else None,
            effective_stop_price=self.effective_stop(tick) if trailing else None)


# --- requests ---------------------------------------------------------------------


def _on_tick(value: Decimal, tick: Decimal, name: str) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise invalid_parameters(f"{name} must be positive")
    if value % tick != 0:
        raise invalid_parameters(f"{name} {value} is not on the tick {tick}")
    return value


def _set_legs(t: Trigger, tick: Decimal, *, stop_loss: Decimal | None,
              take_profit: Decimal | None, trail_amount: Decimal | None,
              trail_bps: int | None) -> None:
    if t.kind == "bracket":
        if trail_amount is not None or trail_bps is not None:
            raise invalid_parameters("trail_amount/trail_bps are for kind trailing")
        if stop_loss is None and take_profit is None:
            raise invalid_parameters("a bracket needs stop_loss_price and/or take_profit_price")
        t.stop_loss = None if stop_loss is None else _on_tick(stop_loss, tick,
                                                              "stop_loss_price")
        t.take_profit = None if take_profit is None else _on_tick(take_profit, tick,
                                                                  "take_profit_price")
        return
    if stop_loss is not None or take_profit is not None:
        raise invalid_parameters("stop_loss_price/take_profit_price are for kind bracket")
    if (trail_amount is None) == (trail_bps is None):
        raise invalid_parameters("a trailing stop needs exactly one of trail_amount or "
                                 "trail_bps")
    if trail_bps is not None and not 1 <= trail_bps <= 9999:
        raise invalid_parameters("trail_bps must be 1..9999")
    if trail_amount is not None and (not trail_amount.is_finite() or trail_amount <= 0):
        raise invalid_parameters("trail_amount must be positive")
    t.trail_amount, t.trail_bps = trail_amount, trail_bps


def live_triggers(st: State, user_id: str, scope: Scope, subaccount: int, ticker: str,
                  kind: Kind | None = None) -> list[Trigger]:
    return [t for t in st.live_exit_triggers.values()
            if t.user_id == user_id and t.scope == scope
            and t.subaccount == subaccount and t.ticker == ticker
            and kind in (None, t.kind)]


def set_trigger(st: State, ctx: Ctx, user_id: str, *, scope: Scope, ticker: str,
                subaccount: int, kind: Kind, stop_loss: Decimal | None,
                take_profit: Decimal | None, trail_amount: Decimal | None,
                trail_bps: int | None, count: Decimal | None = None,
                anchor_order_id: str | None = None,
                client_trigger_id: str | None = None) -> Trigger:
    """Create, replace or (with a replayed ``client_trigger_id``) return a trigger."""
    m = st.market(ticker)
    sub = st.subaccount(user_id, subaccount)
    tick = m.cfg.tick_size
    appends = count is not None or anchor_order_id is not None
    if client_trigger_id is not None:
        if not appends:
            raise invalid_parameters("client_trigger_id is only accepted with count or "
                                     "anchor_order_id")
        if len(client_trigger_id) > 64:
            raise invalid_parameters("client_trigger_id is longer than 64 characters")
        known = st.exit_trigger_keys.get((user_id, client_trigger_id))
        if known is not None:
            old = st.exit_triggers[known]
            if (old.scope, old.subaccount, old.ticker) != (scope, subaccount, ticker):
                raise _key_used()
            return old
    elif appends:
        raise invalid_parameters("client_trigger_id is required with count or anchor_order_id")
    if count is not None and anchor_order_id is not None:
        raise invalid_parameters("count and anchor_order_id are mutually exclusive")
    if anchor_order_id is not None and kind != "bracket":
        raise invalid_parameters("anchor_order_id is for brackets only")
    qty = sub.qty(ticker)
    anchor: Order | None = None
    if anchor_order_id is not None:
        anchor = st.orders.get(anchor_order_id)
        if anchor is None or anchor.user_id != user_id or anchor.ticker != ticker \
                or anchor.subaccount != subaccount or anchor.remaining <= 0:
            raise ANCHOR_UNAVAILABLE()
    elif qty == 0:
        raise NO_POSITION(ticker)
    if count is not None and (count <= 0 or count != count.to_integral_value()):
        raise invalid_parameters("count must be a positive whole number of contracts")
    live = live_triggers(st, user_id, scope, subaccount, ticker, kind)
    t: Trigger | None = None
    if not appends:
        whole = [x for x in live if not x.partial]
        if kind == "bracket" and len(whole) < len(live):
            raise invalid_parameters("partial or anchored brackets already cover part of "
                                     "the position")
        t = whole[0] if whole else None
    else:
        if len(live) >= MAX_BRACKETS:
            raise invalid_parameters(f"a position holds at most {MAX_BRACKETS} brackets")
        if count is not None:
            used = sum((x.count - x.filled_count for x in live if x.count > 0), ZERO)
            if used + count > abs(qty):
                raise invalid_parameters("the triggers' counts do not fit the position")
    fresh = t is None
    if t is None:
        t = Trigger(trigger_id=st.ids.uuid(), user_id=user_id, subaccount=subaccount,
                    ticker=ticker, scope=scope, kind=kind, count=count or ZERO,
                    now_ms=ctx.now_ms)
    # Validate the legs on a scratch copy so a refused request changes nothing.
    probe = Trigger(trigger_id="", user_id=user_id, subaccount=subaccount, ticker=ticker,
                    scope=scope, kind=kind, count=ZERO, now_ms=ctx.now_ms)
    _set_legs(probe, tick, stop_loss=stop_loss, take_profit=take_profit,
              trail_amount=trail_amount, trail_bps=trail_bps)
    _set_legs(t, tick, stop_loss=stop_loss, take_profit=take_profit,
              trail_amount=trail_amount, trail_bps=trail_bps)
    t.updated_ms = ctx.now_ms
    if anchor is not None:
        t.anchor_order_id = anchor.order_id
        t.status = "pending_on_entry"
        t.sign = 1 if anchor.side == "bid" else -1
    else:
        t.sign = 1 if qty > 0 else -1
    if kind == "trailing" and t.watermark is None:
        t.watermark = m.mark  # "since creation": a replaced trailing stop keeps its peak
    if fresh:
        st.exit_triggers[t.trigger_id] = t
        st.live_exit_triggers[t.trigger_id] = t
        if client_trigger_id is not None:
            t.client_trigger_id = client_trigger_id
            st.exit_trigger_keys[(user_id, client_trigger_id)] = t.trigger_id
    ctx.touch(ticker)
    return t


def _find(st: State, user_id: str, scope: Scope, subaccount: int, ticker: str,
          trigger_id: str) -> Trigger:
    t = st.exit_triggers.get(trigger_id)
    if t is None or not t.live or (t.user_id, t.scope, t.subaccount, t.ticker) != (
            user_id, scope, subaccount, ticker):
        raise not_found(f"exit trigger {trigger_id}")
    if t.kind != "bracket":
        raise invalid_parameters("trailing stops are not addressed by id; use kind=trailing")
    return t


def update_trigger(st: State, ctx: Ctx, user_id: str, *, ticker: str, subaccount: int,
                   trigger_id: str, stop_loss: Decimal | None,
                   take_profit: Decimal | None) -> Trigger:
    t = _find(st, user_id, "cross", subaccount, ticker, trigger_id)
    tick = st.market(ticker).cfg.tick_size
    _set_legs(t, tick, stop_loss=stop_loss, take_profit=take_profit, trail_amount=None,
              trail_bps=None)
    t.updated_ms = ctx.now_ms
    ctx.touch(ticker)
    return t


def _finish(st: State, t: Trigger, status: str, reason: str | None, now_ms: int) -> None:
    st.live_exit_triggers.pop(t.trigger_id, None)
    t.status = status
    t.status_reason = reason
    t.updated_ms = now_ms


def delete_triggers(st: State, ctx: Ctx, user_id: str, *, scope: Scope, ticker: str,
                    subaccount: int, kind: Kind | None) -> None:
    """Cancel the live triggers of one position slot (none live is fine)."""
    st.market(ticker)
    st.account(user_id)
    for t in live_triggers(st, user_id, scope, subaccount, ticker, kind):
        _finish(st, t, "canceled", "user_canceled", ctx.now_ms)


def delete_by_id(st: State, ctx: Ctx, user_id: str, *, ticker: str, subaccount: int,
                 trigger_id: str) -> None:
    t = _find(st, user_id, "cross", subaccount, ticker, trigger_id)
    _finish(st, t, "canceled", "user_canceled", ctx.now_ms)


# --- evaluation -------------------------------------------------------------------


def _leg_crossed(t: Trigger, mark: Decimal, tick: Decimal) -> str | None:
    long = t.sign > 0
    if t.kind == "trailing":
        assert t.watermark is not None
        if (mark > t.watermark) if long else (mark < t.watermark):
            t.watermark = mark
        stop = t.effective_stop(tick)
        if stop is not None and ((mark <= stop) if long else (mark >= stop)):
            return "stop_loss"
        return None
    if t.stop_loss is not None and ((mark <= t.stop_loss) if long else (mark >= t.stop_loss)):
        return "stop_loss"
    if t.take_profit is not None and ((mark >= t.take_profit) if long
                                      else (mark <= t.take_profit)):
        return "take_profit"
    return None


def _fire(st: State, ctx: Ctx, t: Trigger, leg: str, qty: Decimal) -> None:
    m = st.markets[t.ticker]
    acct = st.accounts[t.user_id]
    tick = m.cfg.tick_size
    if t.anchor_order_id is not None or t.anchor_fill > 0:
        want = t.anchor_fill - t.filled_count
    elif t.count > 0:
        want = t.count - t.filled_count
    else:
        want = abs(qty)
    size = min(want, abs(qty))
    side: Literal["bid", "ask"] = "ask" if t.sign > 0 else "bid"
    if side == "ask":
        price = max(tick, (m.mark * (1 - TRIGGER_SLIPPAGE) / tick).to_integral_value(ROUND_UP)
                    * tick)
    else:
        price = (m.mark * (1 + TRIGGER_SLIPPAGE) / tick).to_integral_value(ROUND_DOWN) * tick
    o = Order(order_id=st.ids.uuid(), user_id=t.user_id, subaccount=t.subaccount,
              client_order_id="", ticker=t.ticker, side=side, price=price, count=size,
              time_in_force="immediate_or_cancel", stp="taker_at_cross", post_only=False,
              reduce_only=True, cancel_on_pause=False, expiration_ts_ms=None, group_id=None,
              source="system", reason=TRIGGER_ORDER_REASON, now_ms=ctx.now_ms,
              seq=st.next_seq(), synthetic=acct.synthetic)
    st.orders[o.order_id] = o
    acct.order_seqs.append(o.seq)
    acct.orders.append(o.order_id)
    stop = match(st, ctx, o) if size > 0 else None
    if o.remaining > 0:
        o.remaining = ZERO
        o.last_update_reason = stop or REASON.IOC_REMAINDER
    o.updated_ts_ms = ctx.now_ms
    ctx.emit(OrderUpdate(order=o.view()))
    ctx.touch(t.ticker)
    t.triggered_leg = leg
    t.triggered_order_id = o.order_id
    t.filled_count += o.fill_count
    t.updated_ms = ctx.now_ms
    if o.fill_count == 0:
        _finish(st, t, "failed", "order_rejected", ctx.now_ms)
    elif t.anchor_order_id is not None:
        t.status = "pending_on_entry"
    elif o.fill_count >= want or o.fill_count >= abs(qty):
        _finish(st, t, "filled", None, ctx.now_ms)


def _step(st: State, ctx: Ctx, t: Trigger) -> bool:
    """Advance one trigger; True when it placed an order."""
    if t.anchor_order_id is not None:
        anchor = st.orders.get(t.anchor_order_id)
        fill = anchor.fill_count if anchor is not None else t.anchor_fill
        if fill > t.anchor_fill:
            t.anchor_fill = fill
            t.count = fill
            t.updated_ms = ctx.now_ms
            if t.status == "pending_on_entry":
                t.status = "active"
        if anchor is None or anchor.remaining <= 0:
            t.anchor_order_id = None  # the anchor is terminal: cleared (spec)
            if t.anchor_fill == 0:
                _finish(st, t, "canceled", "entry_not_filled", ctx.now_ms)
                return False
            if t.status == "pending_on_entry":
                _finish(st, t, "filled", None, ctx.now_ms)
                return False
    if t.status != "active":
        return False
    m = st.markets[t.ticker]
    qty = st.accounts[t.user_id].subaccounts[t.subaccount].qty(t.ticker)
    if qty == 0:
        _finish(st, t, "canceled", "position_closed", ctx.now_ms)
        return False
    if (qty > 0) != (t.sign > 0):
        _finish(st, t, "canceled", "position_flipped", ctx.now_ms)
        return False
    leg = _leg_crossed(t, m.mark, m.cfg.tick_size)
    if leg is None:
        return False
    _fire(st, ctx, t, leg, qty)
    return True


def evaluate(st: State, ctx: Ctx, tickers: list[str]) -> list[Event]:
    """Advance every live trigger on ``tickers``; repeats while a trigger fired (its fill
    may close or flip positions other triggers protect)."""
    if not st.live_exit_triggers:
        return ctx.events
    watched = set(tickers)
    for _ in range(MAX_BRACKETS + 2):
        fired = False
        for t in list(st.live_exit_triggers.values()):
            if t.live and t.ticker in watched:
                fired = _step(st, ctx, t) or fired
        if not fired:
            break
        st.finish(ctx)
    return ctx.events
