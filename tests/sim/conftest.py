"""Fixtures for simulator tests: a running simulator and raw protocol clients.

The clients use only the official protocol (aiohttp for REST, ``websockets`` for the
socket) plus our signer, like any third-party client would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.sim import Simulator
from kalshi_margin_stream.sim.testing import running_simulator, signed_headers, ws_headers

MARKETS = ["KXBTCPERP", "KXETHPERP"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(markets=MARKETS) as s:
        yield s


class Rest:
    """A signed REST caller (aiohttp) for one credential."""

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


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def rest(http: aiohttp.ClientSession, sim: Simulator) -> Rest:
    return Rest(http, sim, sim.credentials)


class Ws:
    """A raw WebSocket client that collects frames and waits on predicates."""

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
    conn = await connect(sim.ws_url, additional_headers=ws_headers(c), open_timeout=5)
    return Ws(conn)


@pytest.fixture
async def ws(sim: Simulator) -> AsyncIterator[Ws]:
    client = await open_ws(sim)
    try:
        yield client
    finally:
        await client.conn.close()
