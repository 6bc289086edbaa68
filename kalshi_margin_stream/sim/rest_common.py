"""REST plumbing shared by the route modules: the middleware and request parsing.

The middleware runs, in order: forced faults (429/500/timeout), authentication for
private routes, the per-key token buckets, the handler; it maps
:class:`~.engine.errors.Rejection` and :class:`BadRequest` to Kalshi's bodies and
counts every answer by status. Kalshi uses three error shapes (rest.md §4): nested
``{"error": {...}}`` (engine rejections), flat ``{"code", "message"}``
(``invalid_content_type``) and bare ``{"msg": ...}`` (query validation).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware

from ..core.numbers import to_decimal
from .auth import AuthFailure, authenticate
from .engine.errors import Rejection, invalid_parameters
from .ratelimit import request_cost
from .rest_views import ENCODER
from .state import SimState

__all__ = [
    "API_PREFIX",
    "BadRequest",
    "Handler",
    "INTERNAL_ERROR_BODY",
    "MAX_INTEGER_DIGITS",
    "RATE_LIMITED_BODY",
    "STATE_KEY",
    "PUBLIC_KEY",
    "USER_KEY",
    "body_bool",
    "body_decimal",
    "body_int",
    "body_str",
    "json_body",
    "json_response",
    "make_middleware",
    "query_bool",
    "query_int",
    "query_str",
    "public",
]

log = logging.getLogger("kalshi_margin_stream.sim.rest")

API_PREFIX = "/trade-api/v2"
STATE_KEY = web.AppKey("sim_state", SimState)
USER_KEY = web.RequestKey("sim_user_id", str)
PUBLIC_KEY = "sim_public"

RATE_LIMITED_BODY: dict[str, object] = {"error": "too many requests"}
INTERNAL_ERROR_BODY: dict[str, object] = {
    "error": {"code": "internal_server_error", "message": "internal server error"}}
INVALID_CONTENT_TYPE_BODY: dict[str, object] = {
    "code": "invalid_content_type", "message": "invalid_content_type"}
# Kalshi's body for unparseable JSON was not captured: we send the nested shape with
# code "invalid_parameters" like other malformed input (UNCONFIRMED).
BAD_JSON_DETAILS = "invalid JSON body"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """A 400 with a given body shape (flat or bare), raised by the parse helpers."""

    def __init__(self, body: dict[str, object], status: int = 400) -> None:
        super().__init__(str(body))
        self.body = body
        self.status = status


def json_response(data: object, status: int = 200) -> web.Response:
    return web.Response(body=ENCODER.encode(data), status=status,
                        content_type="application/json")


def public(handler: Handler) -> Handler:
    """Mark a route as public: no signature needed (rest.md §2)."""
    setattr(handler, PUBLIC_KEY, True)  # noqa: B010 - a marker attribute on a function
    return handler


# --- request bodies --------------------------------------------------------------


async def json_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object body; Kalshi wants a JSON content type even for empty bodies."""
    if request.content_type != "application/json":
        if not required and not request.can_read_body:
            return {}
        raise BadRequest(INVALID_CONTENT_TYPE_BODY)
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise invalid_parameters(BAD_JSON_DETAILS) from None
    if not isinstance(data, dict):
        raise invalid_parameters("the JSON body must be an object")
    return data


def body_str(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_parameters(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise invalid_parameters(f"{name} must be a string")
    return value


MAX_INTEGER_DIGITS = 12
"""[ASSUME] Digits before the point a request's decimal may have: larger values would
overflow the engine's 28-digit Decimal maths (a 500, or a stored trigger no read can
render), so they are refused as invalid_parameters."""


def body_decimal(body: dict[str, Any], name: str, *, required: bool = False) -> Decimal | None:
    """A fixed-point string field (``"10"``, ``"8.0961"``); never quantized here."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_parameters(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise invalid_parameters(f"{name} must be a fixed-point decimal string")
    try:
        number = to_decimal(value)
    except ValueError:
        raise invalid_parameters(f"{name}: not a decimal number") from None
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise invalid_parameters(f"{name}: too large")
    return number


def body_int(body: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_parameters(f"{name} is required")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_parameters(f"{name} must be an integer")
    return value


def body_bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid_parameters(f"{name} must be a boolean")
    return value


# --- query strings (errors in the bare {"msg": ...} shape) -----------------------------


def query_str(request: web.Request, name: str, *, required: bool = False) -> str | None:
    value = request.query.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest({"msg": f"Query argument {name} is required, but not found"})
        return None
    return value


def query_int(request: web.Request, name: str, *, default: int | None = None,
              lo: int | None = None, hi: int | None = None) -> int | None:
    text = query_str(request, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest({"msg": f"Invalid format for parameter {name}: "
                                 f"{text!r} is not an integer"}) from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadRequest({"msg": f"Invalid value for parameter {name}: {value} is out of "
                                 f"range [{lo}, {hi}]"})
    return value


def query_bool(request: web.Request, name: str) -> bool:
    text = query_str(request, name)
    if text is None:
        return False
    if text.lower() not in ("true", "false", "1", "0"):
        raise BadRequest({"msg": f"Invalid format for parameter {name}: {text!r} "
                                 "is not a boolean"})
    return text.lower() in ("true", "1")


# --- middleware -------------------------------------------------------------------


_DROPPED = web.Response(status=599)
"""Placeholder returned after the connection was aborted; it is never written."""


def _drop_connection(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


async def _forced_fault(state: SimState, request: web.Request) -> web.StreamResponse | None:
    fault = state.faults.next_rest_fault()
    if fault is None:
        return None
    if fault.kind == "429":
        return json_response(RATE_LIMITED_BODY, 429)
    if fault.kind == "500":
        if request.path == API_PREFIX + "/margin/exchange/status":
            # Documented: the status endpoint answers 5xx with an ExchangeStatus body.
            return json_response({"exchange_active": False, "trading_active": False}, 500)
        return json_response(INTERNAL_ERROR_BODY, 500)
    await asyncio.sleep(fault.hang_s)
    if fault.then == "drop":
        _drop_connection(request)
        return _DROPPED
    return None


def make_middleware(state: SimState) -> Middleware:
    """The REST middleware for ``/trade-api/v2`` routes (admin and WS pass through)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        response = await _serve(state, request, handler)
        if response is _DROPPED:
            state.stats.rest_by_status[0] += 1  # connection dropped without an answer
            return web.Response(status=504)  # the transport is closed: never written
        state.stats.rest_by_status[response.status] += 1
        return response

    return middleware


async def _serve(state: SimState, request: web.Request, handler: Handler) -> web.StreamResponse:
    forced = await _forced_fault(state, request)
    if forced is not None:
        return forced
    match_info = request.match_info
    http_exc = match_info.http_exception
    if http_exc is not None:
        code = "not_found" if http_exc.status == 404 else "method_not_allowed"
        return json_response({"error": {"code": code, "message": code.replace("_", " ")}},
                             http_exc.status)
    route_handler = getattr(match_info, "handler", None)
    is_public = bool(getattr(route_handler, PUBLIC_KEY, False))
    key_id = ""
    if not is_public:
        result = authenticate(state.keys, request.headers, request.method, request.path,
                              state.wall_ms())
        if isinstance(result, AuthFailure):
            return json_response(result.body, result.status)
        key_id = result.key_id
        request[USER_KEY] = result.user_id
    bucket, cost = _cost(request)
    loop = asyncio.get_running_loop()
    if not state.limiter.allow(key_id or request.remote or "", bucket, cost, loop.time()):
        state.stats.events["rate_limited"] += 1
        return json_response(RATE_LIMITED_BODY, 429)
    try:
        return await handler(request)
    except Rejection as rej:
        return json_response(rej.body(), rej.http_status)
    except BadRequest as bad:
        return json_response(bad.body, bad.status)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(INTERNAL_ERROR_BODY, 500)


def _cost(request: web.Request) -> tuple[str, int]:
    path = request.path[len(API_PREFIX):]
    return request_cost(request.method, path, dict(request.query))
