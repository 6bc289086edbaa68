"""Order groups: create, trigger (kill switch), reset, delete, update limit, views."""

from __future__ import annotations

from decimal import Decimal

from .errors import invalid_parameters, not_found
from .events import Event, OrderGroupEvent
from .ledger import Account
from .matching import cancel, group_full, trigger_group
from .orders import REASON
from .results import GroupResult
from .state import Ctx, Group, State
from .trading import wrap_up
from .views import OrderGroupView

__all__ = ["create", "get", "view", "trigger", "reset", "delete", "update_limit",
           "MAX_GROUPS_PER_USER"]

MAX_GROUPS_PER_USER = 25_000
MAX_LIMIT = Decimal(1_000_000)


def _check_limit(limit: Decimal) -> None:
    if not isinstance(limit, Decimal) or not limit.is_finite():
        raise invalid_parameters("contracts_limit must be a number")
    if limit < 1 or limit > MAX_LIMIT or limit != limit.to_integral_value():
        raise invalid_parameters("contracts_limit must be a whole number from 1 to 1000000")


def view(st: State, g: Group) -> OrderGroupView:
    return OrderGroupView(order_group_id=g.group_id, user_id=g.user_id, subaccount=g.subaccount,
                          contracts_limit=g.limit, exchange_index=g.exchange_index,
                          is_auto_cancel_enabled=True, triggered=g.triggered,
                          order_ids=list(g.orders),
                          window_count=g.used(st.now_ms, st.config.order_group_window_ms))


def get(st: State, user_id: str, group_id: str, subaccount: int | None) -> Group:
    g = st.groups.get(group_id)
    if g is None or g.user_id != user_id or subaccount not in (None, g.subaccount):
        raise not_found(f"order group {group_id}")
    return g


def create(st: State, acct: Account, *, contracts_limit: Decimal, subaccount: int,
           exchange_index: int, now_ms: int) -> GroupResult:
    _check_limit(contracts_limit)
    st.subaccount(acct.user_id, subaccount)
    if exchange_index < 0 or exchange_index > 100:
        raise invalid_parameters("exchange_index must be 0..100")
    if sum(1 for g in st.groups.values() if g.user_id == acct.user_id) >= MAX_GROUPS_PER_USER:
        raise invalid_parameters("too many order groups")
    g = Group(st.ids.uuid(), acct.user_id, subaccount, contracts_limit, exchange_index)
    st.groups[g.group_id] = g
    ctx = Ctx(now_ms)
    ctx.emit(OrderGroupEvent(user_id=g.user_id, subaccount=subaccount, event_type="created",
                             order_group_id=g.group_id, ts_ms=now_ms,
                             contracts_limit=contracts_limit))
    return GroupResult(group=view(st, g), events=wrap_up(st, ctx))


def trigger(st: State, g: Group, now_ms: int) -> list[Event]:
    ctx = Ctx(now_ms)
    trigger_group(st, ctx, g)
    return wrap_up(st, ctx)


def reset(st: State, g: Group, now_ms: int) -> list[Event]:
    g.triggered = False
    g.window.clear()
    ctx = Ctx(now_ms)
    ctx.emit(OrderGroupEvent(user_id=g.user_id, subaccount=g.subaccount, event_type="reset",
                             order_group_id=g.group_id, ts_ms=now_ms))
    return wrap_up(st, ctx)


def delete(st: State, g: Group, now_ms: int) -> list[Event]:
    ctx = Ctx(now_ms)
    for oid in list(g.orders):
        o = st.orders.get(oid)
        if o is not None and o.remaining > 0:
            cancel(st, ctx, o, REASON.GROUP_CANCEL)
    del st.groups[g.group_id]
    ctx.emit(OrderGroupEvent(user_id=g.user_id, subaccount=g.subaccount, event_type="deleted",
                             order_group_id=g.group_id, ts_ms=now_ms))
    return wrap_up(st, ctx)


def update_limit(st: State, g: Group, contracts_limit: Decimal, now_ms: int) -> list[Event]:
    _check_limit(contracts_limit)
    g.limit = contracts_limit
    ctx = Ctx(now_ms)
    ctx.emit(OrderGroupEvent(user_id=g.user_id, subaccount=g.subaccount,
                             event_type="limit_updated", order_group_id=g.group_id,
                             ts_ms=now_ms, contracts_limit=contracts_limit))
    if group_full(st, g, now_ms):
        trigger_group(st, ctx, g)
    return wrap_up(st, ctx)
