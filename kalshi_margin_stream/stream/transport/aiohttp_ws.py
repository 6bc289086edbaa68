"""The default transport: aiohttp's ``ClientSession.ws_connect``.

Chosen for receive speed: from a pre-framed loopback sender it takes 2.5-3.5x the
frames per second of ``websockets`` (bare receive, 260-430k/s against 93-155k/s on
the 2-core reference machine; ``benchmarks/README.md`` has the current figures). It
shares the REST client's ``ClientSession`` (one connection pool, one DNS cache).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from ...exceptions import AuthError, ConnectError, ConnectionLost

__all__ = ["AiohttpConnection", "AiohttpTransport"]

_TEXT = aiohttp.WSMsgType.TEXT
_BINARY = aiohttp.WSMsgType.BINARY
_PING = aiohttp.WSMsgType.PING
_PONG = aiohttp.WSMsgType.PONG


class AiohttpConnection:
    """An open aiohttp WebSocket."""

    __slots__ = ("_ws", "_close_timeout", "last_ping")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, close_timeout: float) -> None:
        self._ws = ws
        self._close_timeout = close_timeout
        self.last_ping = 0.0
        """``time.monotonic()`` of the newest ping or pong from the server."""

    async def recv(self) -> bytes | str:
        receive = self._ws.receive
        while True:
            msg = await receive()
            kind = msg.type
            if kind is _TEXT:
                data: str = msg.data
                return data
            if kind is _PING:  # answered here (autoping is off) so liveness can see it
                self.last_ping = time.monotonic()
                try:
                    await self._ws.pong(msg.data)
                except (ConnectionError, RuntimeError, aiohttp.ClientError) as exc:
                    raise ConnectionLost(f"pong failed: {exc}") from exc
                continue
            if kind is _PONG:
                self.last_ping = time.monotonic()
                continue
            if kind is _BINARY:
                raw: bytes = msg.data
                return raw
            if kind is aiohttp.WSMsgType.ERROR:
                raise ConnectionLost(f"websocket error: {msg.data!r}")
            raise ConnectionLost(f"websocket closed (code {self._ws.close_code})")

    async def send(self, data: bytes) -> None:
        try:
            await self._ws.send_str(data.decode())
        except (ConnectionError, RuntimeError, aiohttp.ClientError) as exc:
            raise ConnectionLost(f"send failed: {exc}") from exc

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._ws.close(), self._close_timeout)
        except (TimeoutError, ConnectionError, RuntimeError, aiohttp.ClientError):
            pass


class AiohttpTransport:
    """Opens aiohttp WebSocket connections on a shared ``ClientSession``."""

    def __init__(self, session: aiohttp.ClientSession, *, connect_timeout: float | None,
                 ping_interval: float | None, close_timeout: float, max_message_size: int,
                 compression: bool) -> None:
        self._session = session
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._close_timeout = close_timeout
        self._max_size = max_message_size
        self._compress = 15 if compression else 0

    async def connect(self, url: str, headers: dict[str, str]) -> AiohttpConnection:
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._session.ws_connect(
                    url, headers=headers, heartbeat=self._ping_interval, autoping=False,
                    compress=self._compress, max_msg_size=self._max_size)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise AuthError("websocket handshake rejected", status=exc.status) from None
            raise ConnectError(f"websocket handshake failed: HTTP {exc.status}") from None
        except TimeoutError:
            raise ConnectError(
                f"websocket connect timed out after {self._connect_timeout}s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectError(f"websocket connect failed: {exc}") from exc
        return AiohttpConnection(ws, self._close_timeout)
