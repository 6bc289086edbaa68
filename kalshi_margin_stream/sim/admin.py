"""The ``/_sim/...`` admin routes: the fault controls over HTTP, loopback peers only.

Each route takes a small JSON body and answers ``{"ok": true, ...}``; bad input gets
400 ``{"error": "..."}`` and a non-loopback peer 403. ``GET /_sim/stats`` returns
the counters.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import msgspec
from aiohttp import web

from .controls import Controls
from .engine.errors import Rejection
from .faults import RestFaultKind
from .state import SimState

__all__ = ["ADMIN_PREFIX", "add_routes", "is_loopback"]

ADMIN_PREFIX = "/_sim"


def is_loopback(remote: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (also IPv4-mapped); anything else is refused."""
    if not remote:
        return False
    try:
        addr = ipaddress.ip_address(remote)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


def _reply(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    data = msgspec.json.decode(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _int(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    return value


def _opt_int(body: dict[str, Any], name: str) -> int | None:
    return None if body.get(name) is None else _int(body, name)


def _num(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _opt_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


Action = Callable[[Controls, SimState, dict[str, Any]], dict[str, Any]]


def _price(c: Controls, s: SimState, b: dict[str, Any]) -> dict[str, Any]:
    ticker = _opt_str(b, "ticker")
    price = b.get("price")
    if not ticker or not isinstance(price, str):
        raise ValueError("ticker (string) and price (decimal string) are required")
    try:
        c.move_price(ticker, Decimal(price))
    except InvalidOperation:
        raise ValueError("price must be a decimal string") from None
    return {}


def _fail_rest(c: Controls, s: SimState, b: dict[str, Any]) -> dict[str, Any]:
    kind = str(b.get("kind", ""))
    then = b.get("then", "drop")
    if then not in ("answer", "drop"):
        raise ValueError("then must be 'answer' or 'drop'")
    c.fail_rest(cast(RestFaultKind, kind), _int(b, "n", 1),
                hang_s=_num(b, "hang_s") if "hang_s" in b else 0.0, then=then)
    return {}


def _flow(c: Controls, *, pause: bool) -> dict[str, Any]:
    if pause:
        c.pause_flow()
    else:
        c.resume_flow()
    return {"paused": c.flow_paused}


def _advance(c: Controls, b: dict[str, Any]) -> float:
    seconds = _num(b, "seconds")
    c.advance_clock(seconds)
    return seconds


def _frames(arm: Callable[..., None], b: dict[str, Any]) -> int:
    n = _int(b, "n", 1)
    arm(_int(b, "sid"), n, conn_id=_opt_int(b, "conn_id"))
    return n


ACTIONS: dict[str, Action] = {
    "flow/pause": lambda c, s, b: _flow(c, pause=True),
    "flow/resume": lambda c, s, b: _flow(c, pause=False),
    "price": _price,
    "clock/advance": lambda c, s, b: {"advanced_s": _advance(c, b)},
    "frames/drop": lambda c, s, b: {"armed": _frames(c.drop_frames, b)},
    "frames/duplicate": lambda c, s, b: {"armed": _frames(c.duplicate_frames, b)},
    "connections/close": lambda c, s, b: {"closed": c.close_connections(_opt_str(b, "key_id"))},
    "connections/stall": lambda c, s, b: {"stalled": c.stall_connections(
        _num(b, "seconds"), _opt_str(b, "key_id"))},
    "sid/error": lambda c, s, b: {"hits": c.send_sid_error(
        _int(b, "sid"), code=_int(b, "code", 25), conn_id=_opt_int(b, "conn_id"))},
    "rest/fail": _fail_rest,
}


def _guard(fn: Callable[[web.Request], Awaitable[web.Response]]
           ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def wrapped(request: web.Request) -> web.Response:
        if not is_loopback(request.remote):
            return _reply({"error": "admin routes are loopback-only"}, 403)
        return await fn(request)
    return wrapped


def add_routes(app: web.Application, controls: Controls, state: SimState) -> None:
    async def stats(request: web.Request) -> web.Response:
        return _reply(state.stats.as_dict())

    async def act(request: web.Request) -> web.Response:
        action = ACTIONS.get(request.match_info["action"])
        if action is None:
            return _reply({"error": "unknown admin action"}, 404)
        try:
            extra = action(controls, state, await _body(request))
        except (ValueError, msgspec.DecodeError) as exc:
            return _reply({"error": str(exc)}, 400)
        except Rejection as rej:
            return _reply({"error": rej.body()}, rej.http_status)
        return _reply({"ok": True, **extra})

    app.router.add_get(ADMIN_PREFIX + "/stats", _guard(stats))
    app.router.add_post(ADMIN_PREFIX + "/{action:.+}", _guard(act))
