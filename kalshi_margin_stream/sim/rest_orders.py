"""REST routes for orders and order groups (rest.md §6.3, §6.4).

Each handler validates the request's shape, calls the engine with the exchange clock,
publishes the resulting events to the WebSocket sessions, and answers in Kalshi's
format (201 for creates, 204 for cancel-all).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, cast

from aiohttp import web

from ..core.numbers import fmt_count, fmt_dollars
from .engine.errors import invalid_parameters
from .engine.results import OrderResult
from .engine.views import SelfTradePrevention, Side, TimeInForce
from .rest_common import (
    STATE_KEY,
    USER_KEY,
    Handler,
    body_bool,
    body_decimal,
    body_int,
    body_str,
    json_body,
    json_response,
    query_int,
    query_str,
)
from .rest_views import group_json, order_json
from .state import SimState

__all__ = ["add_routes"]

_SIDES = ("bid", "ask")
_TIFS = ("fill_or_kill", "good_till_canceled", "immediate_or_cancel")
_STPS = ("taker_at_cross", "maker")


def _ctx(request: web.Request) -> tuple[SimState, str]:
    return request.app[STATE_KEY], str(request[USER_KEY])


def _enum(body: dict[str, Any], name: str, allowed: tuple[str, ...], *,
          required: bool = True) -> str | None:
    value = body_str(body, name, required=required)
    if value is not None and value not in allowed:
        raise invalid_parameters(f"{name} must be one of {', '.join(allowed)}")
    return value


def _subaccount(request: web.Request, *, default: int | None = 0) -> int | None:
    return query_int(request, "subaccount", default=default, lo=0, hi=63)


def _order_answer(result: OrderResult, *, with_counts: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"order_id": result.order.order_id}
    if result.order.client_order_id:
        out["client_order_id"] = result.order.client_order_id
    if with_counts:
        out["fill_count"] = fmt_count(result.fill_count)
        out["remaining_count"] = fmt_count(result.remaining_count)
    if result.fill_count > 0 and result.average_fill_price is not None:
        out["average_fill_price"] = fmt_dollars(result.average_fill_price)
        if result.average_fee_paid is not None:
            out["average_fee_paid"] = fmt_dollars(result.average_fee_paid)
    return out


async def create_order(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    ticker = body_str(body, "ticker", required=True)
    client_order_id = body_str(body, "client_order_id", required=True)
    side = _enum(body, "side", _SIDES)
    count = body_decimal(body, "count", required=True)
    price = body_decimal(body, "price", required=True)
    tif = _enum(body, "time_in_force", _TIFS)
    stp = _enum(body, "self_trade_prevention_type", _STPS)
    expiration = body_int(body, "expiration_time")
    subaccount = body_int(body, "subaccount")
    if subaccount is not None and subaccount < 0:
        raise invalid_parameters("subaccount must be >= 0")
    assert ticker is not None and client_order_id is not None and count is not None
    assert price is not None
    if not client_order_id:
        raise invalid_parameters("client_order_id is required")
    result = state.exchange.create_order(
        user, ticker=ticker, client_order_id=client_order_id, side=cast(Side, side),
        count=count, price=price, time_in_force=cast(TimeInForce, tif),
        self_trade_prevention_type=cast(SelfTradePrevention, stp),
        post_only=bool(body_bool(body, "post_only")),
        reduce_only=bool(body_bool(body, "reduce_only")),
        subaccount=subaccount or 0,
        order_group_id=body_str(body, "order_group_id") or None,
        expiration_ts_ms=None if expiration is None else expiration * 1000,
        cancel_order_on_pause=bool(body_bool(body, "cancel_order_on_pause")),
        market_version=body_int(body, "market_version") or None,
        now_ms=state.now_ms())
    state.apply(result.events)
    return json_response(_order_answer(result), 201)


async def list_orders(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    min_ts = query_int(request, "min_ts", lo=0)
    max_ts = query_int(request, "max_ts", lo=0)
    page = state.exchange.list_orders(
        user, ticker=query_str(request, "ticker"), status=query_str(request, "status"),
        subaccount=_subaccount(request, default=None),
        min_ts_ms=None if min_ts is None else min_ts * 1000,
        max_ts_ms=None if max_ts is None else max_ts * 1000,
        limit=query_int(request, "limit", default=10000, lo=1, hi=10000) or 10000,
        cursor=query_str(request, "cursor"))
    return json_response({"orders": [order_json(o) for o in page.items], "cursor": page.cursor})


async def cancel_all(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    events = state.exchange.cancel_all_orders(user, subaccount=_subaccount(request, default=None),
                                              now_ms=state.now_ms())
    state.apply(events)
    return web.Response(status=204)


async def get_order(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    order = state.exchange.get_order(user, request.match_info["order_id"])
    return json_response({"order": order_json(order)})


async def cancel_order(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    result = state.exchange.cancel_order(user, request.match_info["order_id"],
                                         subaccount=_subaccount(request) or 0,
                                         now_ms=state.now_ms())
    state.apply(result.events)
    out: dict[str, Any] = {"order_id": result.order.order_id,
                           "reduced_by": fmt_count(result.reduced_by)}
    if result.order.client_order_id:
        out["client_order_id"] = result.order.client_order_id
    return json_response(out)


async def decrease_order(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    reduce_by = body_decimal(body, "reduce_by")
    reduce_to = body_decimal(body, "reduce_to")
    if (reduce_by is None) == (reduce_to is None):
        raise invalid_parameters("exactly one of reduce_by or reduce_to is required")
    result = state.exchange.decrease_order(user, request.match_info["order_id"],
                                           reduce_by=reduce_by, reduce_to=reduce_to,
                                           subaccount=_subaccount(request) or 0,
                                           now_ms=state.now_ms())
    state.apply(result.events)
    out: dict[str, Any] = {"order_id": result.order.order_id,
                           "remaining_count": fmt_count(result.remaining_count)}
    if result.order.client_order_id:
        out["client_order_id"] = result.order.client_order_id
    return json_response(out)


async def amend_order(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    ticker = body_str(body, "ticker", required=True)
    side = _enum(body, "side", _SIDES)
    price = body_decimal(body, "price", required=True)
    count = body_decimal(body, "count", required=True)
    expiration = body_int(body, "expiration_time")
    if expiration is not None and expiration < 0:
        raise invalid_parameters("expiration_time must be >= 0")
    assert ticker is not None and price is not None and count is not None
    result = state.exchange.amend_order(
        user, request.match_info["order_id"], ticker=ticker, side=cast(Side, side),
        price=price, count=count, subaccount=_subaccount(request) or 0,
        updated_client_order_id=body_str(body, "updated_client_order_id") or None,
        expiration_ts_ms=None if expiration is None else expiration * 1000,
        now_ms=state.now_ms())
    state.apply(result.events)
    return json_response(_order_answer(result))


# --- order groups -----------------------------------------------------------------


def _contracts_limit(body: dict[str, Any]) -> Decimal:
    whole = body_int(body, "contracts_limit")
    fp = body_decimal(body, "contracts_limit_fp")
    if whole is None and fp is None:
        raise invalid_parameters("contracts_limit or contracts_limit_fp is required")
    if whole is not None and fp is not None and Decimal(whole) != fp:
        raise invalid_parameters("contracts_limit and contracts_limit_fp differ")
    limit = fp if fp is not None else Decimal(whole or 0)
    if not Decimal(1) <= limit <= Decimal(1_000_000):
        raise invalid_parameters("contracts_limit must be between 1 and 1000000")
    return limit


async def create_group(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    subaccount = body_int(body, "subaccount") or 0
    index = body_int(body, "exchange_index") or 0
    result = state.exchange.create_order_group(user, contracts_limit=_contracts_limit(body),
                                               subaccount=subaccount, exchange_index=index,
                                               now_ms=state.now_ms())
    state.apply(result.events)
    return json_response({"order_group_id": result.group.order_group_id,
                          "subaccount": result.group.subaccount,
                          "exchange_index": result.group.exchange_index}, 201)


async def list_groups(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    groups = state.exchange.list_order_groups(user, subaccount=_subaccount(request, default=None))
    return json_response({"order_groups": [group_json(g) for g in groups]})


async def get_group(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    g = state.exchange.get_order_group(user, request.match_info["group_id"],
                                       subaccount=_subaccount(request, default=None))
    return json_response({"is_auto_cancel_enabled": g.is_auto_cancel_enabled,
                          "contracts_limit_fp": fmt_count(g.contracts_limit),
                          "orders": list(g.order_ids), "exchange_index": g.exchange_index})


GroupAction = Literal["delete", "reset", "trigger", "limit"]


def _group_action(action: GroupAction) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        state, user = _ctx(request)
        gid = request.match_info["group_id"]
        sub = _subaccount(request, default=None)
        now = state.now_ms()
        ex = state.exchange
        if action == "delete":
            events = ex.delete_order_group(user, gid, subaccount=sub, now_ms=now)
        elif action == "reset":
            await json_body(request, required=False)
            events = ex.reset_order_group(user, gid, subaccount=sub, now_ms=now)
        elif action == "trigger":
            await json_body(request, required=False)
            events = ex.trigger_order_group(user, gid, subaccount=sub, now_ms=now)
        else:
            limit = _contracts_limit(await json_body(request))
            events = ex.update_order_group_limit(user, gid, contracts_limit=limit,
                                                 subaccount=sub, now_ms=now)
        state.apply(events)
        return json_response({})
    handler.__name__ = f"group_{action}"
    return handler


def add_routes(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_post(prefix + "/margin/orders", create_order)
    r.add_get(prefix + "/margin/orders", list_orders)
    r.add_delete(prefix + "/margin/orders", cancel_all)
    r.add_get(prefix + "/margin/orders/{order_id}", get_order)
    r.add_delete(prefix + "/margin/orders/{order_id}", cancel_order)
    r.add_post(prefix + "/margin/orders/{order_id}/decrease", decrease_order)
    r.add_post(prefix + "/margin/orders/{order_id}/amend", amend_order)
    r.add_get(prefix + "/margin/order_groups", list_groups)
    r.add_post(prefix + "/margin/order_groups/create", create_group)
    r.add_get(prefix + "/margin/order_groups/{group_id}", get_group)
    r.add_delete(prefix + "/margin/order_groups/{group_id}", _group_action("delete"))
    r.add_put(prefix + "/margin/order_groups/{group_id}/reset", _group_action("reset"))
    r.add_put(prefix + "/margin/order_groups/{group_id}/trigger", _group_action("trigger"))
    r.add_put(prefix + "/margin/order_groups/{group_id}/limit", _group_action("limit"))
