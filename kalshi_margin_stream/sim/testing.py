"""Helpers for other test packages: a running simulator and a signed raw client.

::

    from kalshi_margin_stream.sim.testing import running_simulator

    async with running_simulator(markets=["KXBTCPERP"], rate=0) as sim:
        ...  # sim.rest_url, sim.ws_url, sim.credentials

Defaults suit tests: no background flow (drive it with ``sim.step_flow``), fast
tickers (0.05 s), generous rate limits unless asked otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import msgspec

from ..core.auth import Credentials
from ..core.rest_models import (
    BalanceResponse,
    FeeTiers,
    MarginMarket,
    NotionalRiskLimit,
    OrdersResponse,
    PositionsResponse,
    RiskParameters,
    RiskResponse,
)
from ..rest.margins import MarginReads, build_margin_reads
from . import rest_views as views
from .engine import Exchange
from .server import WS_PATH, Simulator

T = TypeVar("T")

if TYPE_CHECKING:  # the [websockets] extra; imported when a raw client is opened
    from websockets.asyncio.client import ClientConnection

__all__ = [
    "TEST_DEFAULTS",
    "engine_margin_reads",
    "Rest",
    "Ws",
    "open_ws",
    "running_simulator",
    "signed_headers",
    "ws_headers",
]

TEST_DEFAULTS: dict[str, Any] = {
    "seed": 7,
    "rate": 0.0,
    "ticker_interval": 0.05,
    "levels": 20,
}


@asynccontextmanager
async def running_simulator(**kwargs: Any) -> AsyncIterator[Simulator]:
    """A started :class:`Simulator` on 127.0.0.1 and a free port; closed on exit."""
    options = {**TEST_DEFAULTS, **kwargs}
    async with Simulator(**options) as sim:
        yield sim


def engine_margin_reads(exchange: Exchange, user_id: str, *,
                        now_ms: int | None = None) -> MarginReads:
    """What :func:`~..rest.margins.read_margin_inputs` would read from this exchange, built
    in process through the REST JSON the server would send (no sockets, no clock)."""
    now = exchange.now_ms if now_ms is None else now_ms

    def wire(obj: Any, model: type[T]) -> T:
        return msgspec.json.decode(views.ENCODER.encode(obj), type=model)

    markets = [wire(views.market_json(s), MarginMarket) for s in exchange.markets()]
    orders = wire({"orders": [views.order_json(o) for o in exchange.list_orders(
        user_id, status="resting").items]}, OrdersResponse).orders
    positions = wire({"positions": [views.position_json(p) for p in exchange.positions(
        user_id)]}, PositionsResponse).positions
    return build_margin_reads(
        params=wire(views.risk_parameters_json(exchange.risk_parameters()), RiskParameters),
        markets=markets,
        fee_tiers=wire(views.fee_tiers_json(exchange.fee_tiers()), FeeTiers),
        notional_limit=wire(views.notional_json(exchange.notional_risk_limit(user_id)),
                            NotionalRiskLimit),
        positions=positions,
        balance=wire(views.balance_json(exchange.balance(user_id), compute_available=True),
                     BalanceResponse),
        risk=wire(views.risk_json(exchange.risk(user_id)), RiskResponse), orders=orders,
        static_ms=now, account_ms=now, orders_ms=now, now_ms=now)


def signed_headers(credentials: Credentials, method: str, path: str, *,
                   timestamp_ms: int | None = None) -> dict[str, str]:
    """The three ``KALSHI-ACCESS-*`` headers for one request (``path`` may be a full URL)."""
    ts = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    return credentials.headers(method, path, ts)


def ws_headers(credentials: Credentials, *, timestamp_ms: int | None = None) -> dict[str, str]:
    """Handshake headers for the margin WebSocket."""
    return signed_headers(credentials, "GET", WS_PATH, timestamp_ms=timestamp_ms)


class Rest:
    """A signed REST caller (plain aiohttp) for one credential: ``(status, json)``."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator,
                 creds: Credentials | None) -> None:
        self.session = session
        self.sim = sim
        self.creds = creds

    async def call(self, method: str, path: str, body: Any = None, *, sign: bool = True,
                   headers: dict[str, str] | None = None, raw: bytes | None = None,
                   ) -> tuple[int, Any]:
        url = self.sim.rest_url + path
        hdrs = dict(headers or {})
        if sign and self.creds is not None:
            hdrs.update(signed_headers(self.creds, method, url))
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        async with self.session.request(method, url, data=data, headers=hdrs) as resp:
            text = await resp.read()
            return resp.status, (json.loads(text) if text else None)


class Ws:
    """A raw ``websockets`` client that keeps every frame and waits on predicates."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.frames: list[dict[str, Any]] = []
        self._next_id = 1

    async def send(self, cmd: str, params: dict[str, Any] | None = None) -> int:
        cid = self._next_id
        self._next_id += 1
        obj: dict[str, Any] = {"id": cid, "cmd": cmd}
        if params is not None:
            obj["params"] = params
        await self.conn.send(json.dumps(obj))
        return cid

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            raw = await self.conn.recv()
        frame: dict[str, Any] = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(self, pred: Callable[[dict[str, Any]], bool],
                    timeout: float = 5.0) -> dict[str, Any]:
        """Read frames until one matches; returns it (all frames are kept)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if pred(frame):
                    return frame

    async def seen(self, pred: Callable[[dict[str, Any]], bool],
                   timeout: float = 5.0) -> dict[str, Any]:
        """Like :meth:`until`, but a frame already received also counts."""
        for frame in self.frames:
            if pred(frame):
                return frame
        return await self.until(pred, timeout)

    async def subscribe(self, channels: list[str], **params: Any) -> dict[str, int]:
        """Subscribe and return ``{channel: sid}`` once every ack arrived."""
        cid = await self.send("subscribe", {"channels": channels, **params})
        sids: dict[str, int] = {}
        while len(sids) < len(channels):
            f = await self.until(lambda f: f.get("id") == cid
                                 and f["type"] in ("subscribed", "error"))
            assert f["type"] == "subscribed", f
            sids[f["msg"]["channel"]] = f["msg"]["sid"]
        return sids


async def open_ws(sim: Simulator, creds: Credentials | None = None) -> Ws:
    c = creds or sim.credentials
    assert c is not None
    from websockets.asyncio.client import connect

    # max_queue=None: a test that stops reading must not block the closing handshake.
    conn = await connect(sim.ws_url, additional_headers=ws_headers(c), open_timeout=5,
                         max_queue=None, close_timeout=2)
    return Ws(conn)
