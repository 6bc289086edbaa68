"""REST routes for exit triggers (rest.md §6.9) and the FCM member endpoints. All signed.

The trigger logic is the engine's (:mod:`.engine.triggers`); FCM state (subtraders,
their initial-margin caps, the member's own notional limit) is kept here in
:class:`FcmBook`, since the simulated exchange trades no subtraders: ``current_im``
is therefore ``0`` and ``notional_limits`` is empty unless scripted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from aiohttp import web

from ..core.numbers import fmt_count, fmt_dollars
from .engine.errors import Rejection, invalid_parameters, not_found
from .engine.triggers import ExitTriggerView, Kind, Scope
from .rest_common import (
    STATE_KEY,
    USER_KEY,
    BadRequest,
    body_decimal,
    body_int,
    body_str,
    json_body,
    json_response,
    query_int,
    query_str,
)
from .rest_views import rfc3339
from .state import SimState

__all__ = ["FcmBook", "add_routes", "trigger_json"]

_KINDS = ("bracket", "trailing")
ASSET_CLASSES = ("Crypto", "Equities", "Metals")
_SUFFIX_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _ctx(request: web.Request) -> tuple[SimState, str]:
    return request.app[STATE_KEY], str(request[USER_KEY])


def trigger_json(t: ExitTriggerView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id, "ticker": t.ticker, "kind": t.kind, "status": t.status,
        "count": fmt_count(t.count), "filled_count": fmt_count(t.filled_count),
        "created_time": rfc3339(t.created_ts_ms), "updated_time": rfc3339(t.updated_ts_ms)}
    for name in ("status_reason", "triggered_leg", "triggered_order_id", "anchor_order_id",
                 "client_trigger_id", "trail_bps"):
        value = getattr(t, name)
        if value is not None:
            out[name] = value
    for name in ("stop_loss_price", "take_profit_price", "trail_amount", "watermark_price",
                 "effective_stop_price"):
        value = getattr(t, name)
        if value is not None:
            out[name] = fmt_dollars(value)
    return out


def _kind(text: str | None) -> Kind | None:
    if text is not None and text not in _KINDS:
        raise BadRequest({"msg": f"Invalid value for parameter kind: {text!r}"})
    return cast("Kind | None", text)


def _subaccount(request: web.Request) -> int:
    return query_int(request, "subaccount", default=0, lo=0, hi=63) or 0


def _set(scope: Scope) -> Any:
    async def handler(request: web.Request) -> web.Response:
        state, user = _ctx(request)
        body = await json_body(request)
        allowed = {"kind", "stop_loss_price", "take_profit_price", "trail_amount",
                   "trail_bps"}
        if scope == "cross":
            allowed |= {"count", "anchor_order_id", "client_trigger_id"}
        extra = set(body) - allowed
        if extra:
            raise invalid_parameters(f"unknown field(s) {', '.join(sorted(extra))}")
        kind = body_str(body, "kind") or "bracket"
        if kind not in _KINDS:
            raise invalid_parameters("kind must be bracket or trailing")
        view, events = state.exchange.set_exit_trigger(
            user, scope=scope, ticker=request.match_info["ticker"],
            kind=cast(Kind, kind), subaccount=_subaccount(request) if scope == "cross" else 0,
            stop_loss_price=body_decimal(body, "stop_loss_price"),
            take_profit_price=body_decimal(body, "take_profit_price"),
            trail_amount=body_decimal(body, "trail_amount"),
            trail_bps=body_int(body, "trail_bps"), count=body_decimal(body, "count"),
            anchor_order_id=body_str(body, "anchor_order_id"),
            client_trigger_id=body_str(body, "client_trigger_id"), now_ms=state.now_ms())
        state.apply(events)
        return json_response(trigger_json(view))
    return handler


def _get(scope: Scope) -> Any:
    async def handler(request: web.Request) -> web.Response:
        state, user = _ctx(request)
        rows = state.exchange.exit_triggers(
            user, scope=scope, ticker=request.match_info["ticker"],
            subaccount=_subaccount(request) if scope == "cross" else 0,
            kind=_kind(query_str(request, "kind")))
        return json_response({"exit_triggers": [trigger_json(t) for t in rows]})
    return handler


def _delete(scope: Scope) -> Any:
    async def handler(request: web.Request) -> web.Response:
        state, user = _ctx(request)
        events = state.exchange.delete_exit_triggers(
            user, scope=scope, ticker=request.match_info["ticker"],
            subaccount=_subaccount(request) if scope == "cross" else 0,
            kind=_kind(query_str(request, "kind")),
            trigger_id=request.match_info.get("trigger_id"), now_ms=state.now_ms())
        state.apply(events)
        return web.Response(status=204)
    return handler


async def update_trigger(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    sl, tp = body_decimal(body, "stop_loss_price"), body_decimal(body, "take_profit_price")
    if sl is None and tp is None:
        raise invalid_parameters("give stop_loss_price and/or take_profit_price")
    view, events = state.exchange.update_exit_trigger(
        user, ticker=request.match_info["ticker"], trigger_id=request.match_info["trigger_id"],
        subaccount=_subaccount(request), stop_loss_price=sl, take_profit_price=tp,
        now_ms=state.now_ms())
    state.apply(events)
    return json_response(trigger_json(view))


# --- FCM ------------------------------------------------------------------------


@dataclass
class FcmBook:
    """What FCM members set: subtraders, IM caps by scope, their own notional limit."""

    subtraders: dict[str, str] = field(default_factory=dict)
    """subtrader id -> owning FCM user id."""
    caps: dict[tuple[str, str | None, str | None], Decimal] = field(default_factory=dict)
    """(subtrader, market_ticker, asset_class) -> im_cap."""
    member_limits: dict[str, Decimal] = field(default_factory=dict)
    notional_limits: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)
    """Admin-set (scripted) notional limits: (subtrader, market_ticker) -> limit."""


FCM_KEY = web.AppKey("fcm", FcmBook)


def _cap_amount(body: dict[str, Any], name: str) -> Decimal:
    value = body_decimal(body, name, required=True)
    assert value is not None
    if value < 0 or value != value.quantize(Decimal("0.0001")):
        raise invalid_parameters(f"{name} must be >= 0 with at most 4 decimal places")
    return value


def _owned(book: FcmBook, user: str, subtrader_id: str | None) -> str:
    if not subtrader_id:
        raise BadRequest({"msg": "Query argument subtrader_id is required, but not found"})
    if book.subtraders.get(subtrader_id) != user:
        raise not_found(f"subtrader {subtrader_id}")
    return subtrader_id


def _scope(market_ticker: str | None, asset_class: str | None) -> None:
    if market_ticker is not None and asset_class is not None:
        raise invalid_parameters("market_ticker and asset_class are mutually exclusive")
    if asset_class is not None and asset_class not in ASSET_CLASSES:
        raise invalid_parameters(f"asset_class must be one of {', '.join(ASSET_CLASSES)}")


async def create_subtrader(request: web.Request) -> web.Response:
    _, user = _ctx(request)
    book = request.app[FCM_KEY]
    body = await json_body(request)
    suffix = body_str(body, "subtrader_suffix", required=True) or ""
    if not 1 <= len(suffix) <= 16 or not set(suffix) <= _SUFFIX_CHARS:
        raise invalid_parameters("subtrader_suffix must match ^[A-Za-z0-9]{1,16}$")
    subtrader_id = f"{user}_{suffix}"
    if subtrader_id in book.subtraders:
        raise Rejection(409, "subtrader_already_exists", "subtrader already exists")
    book.subtraders[subtrader_id] = user
    return json_response({"subtrader_id": subtrader_id}, 201)


async def get_risk_controls(request: web.Request) -> web.Response:
    _, user = _ctx(request)
    book = request.app[FCM_KEY]
    subtrader = _owned(book, user, query_str(request, "subtrader_id"))
    market, asset = query_str(request, "market_ticker"), query_str(request, "asset_class")
    _scope(market, asset)
    controls = [{"subtrader_id": s, "im_cap": fmt_dollars(cap), "current_im": "0.0000",
                 **({"market_ticker": m} if m else {}), **({"asset_class": a} if a else {})}
                for (s, m, a), cap in sorted(book.caps.items(), key=lambda kv: str(kv[0]))
                if s == subtrader and (market is None or m == market)
                and (asset is None or a == asset)]
    limits = [{"subtrader_id": s, "notional_value_risk_limit": fmt_dollars(v),
               "current_notional": "0.0000", **({"market_ticker": m} if m else {})}
              for (s, m), v in sorted(book.notional_limits.items(),
                                      key=lambda kv: kv[0][1] or "")
              if s == subtrader]
    return json_response({"risk_controls": controls, "notional_limits": limits})


async def put_risk_controls(request: web.Request) -> web.Response:
    _, user = _ctx(request)
    book = request.app[FCM_KEY]
    body = await json_body(request)
    subtrader = _owned(book, user, body_str(body, "subtrader_id", required=True))
    market, asset = body_str(body, "market_ticker"), body_str(body, "asset_class")
    _scope(market, asset)
    book.caps[(subtrader, market, asset)] = _cap_amount(body, "im_cap")
    return json_response({})


async def delete_risk_controls(request: web.Request) -> web.Response:
    _, user = _ctx(request)
    book = request.app[FCM_KEY]
    subtrader = _owned(book, user, query_str(request, "subtrader_id"))
    market, asset = query_str(request, "market_ticker"), query_str(request, "asset_class")
    _scope(market, asset)
    book.caps.pop((subtrader, market, asset), None)
    return json_response({})


async def put_member_limit(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    book = request.app[FCM_KEY]
    body = await json_body(request)
    limit = _cap_amount(body, "notional_value_risk_limit")
    ceiling = state.exchange.notional_risk_limit(user).default_notional_value_risk_limit
    if limit > ceiling:
        raise invalid_parameters(f"notional_value_risk_limit is above the Kalshi-set limit "
                                 f"{fmt_dollars(ceiling)}")
    book.member_limits[user] = limit
    return json_response({})


async def delete_member_limit(request: web.Request) -> web.Response:
    _, user = _ctx(request)
    request.app[FCM_KEY].member_limits.pop(user, None)
    return json_response({})


def add_routes(app: web.Application, prefix: str) -> None:
    app[FCM_KEY] = FcmBook()
    r = app.router
    scopes: tuple[Scope, ...] = ("isolated", "cross")
    for scope in scopes:
        path = f"{prefix}/margin/{scope}/positions/{{ticker}}/exit_trigger"
        r.add_put(path, _set(scope))
        r.add_get(path, _get(scope))
        r.add_delete(path, _delete(scope))
    by_id = f"{prefix}/margin/cross/positions/{{ticker}}/exit_trigger/{{trigger_id}}"
    r.add_put(by_id, update_trigger)
    r.add_delete(by_id, _delete("cross"))
    r.add_post(prefix + "/margin/fcm/subtraders", create_subtrader)
    r.add_get(prefix + "/margin/fcm/subtraders/risk_controls", get_risk_controls)
    r.add_put(prefix + "/margin/fcm/subtraders/risk_controls", put_risk_controls)
    r.add_delete(prefix + "/margin/fcm/subtraders/risk_controls", delete_risk_controls)
    r.add_put(prefix + "/margin/fcm/notional_risk_limit", put_member_limit)
    r.add_delete(prefix + "/margin/fcm/notional_risk_limit", delete_member_limit)
