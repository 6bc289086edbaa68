"""The alternative transport: the ``websockets`` library (asyncio implementation)."""

from __future__ import annotations

import asyncio
import time

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from ...exceptions import AuthError, ConnectError, ConnectionLost

__all__ = ["WebsocketsConnection", "WebsocketsTransport"]


class _Connection(ClientConnection):
    """Stamps every ping or pong from the server, for the liveness watchdog."""

    last_ping = 0.0

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode in (Opcode.PING, Opcode.PONG):
            self.last_ping = time.monotonic()
        super().process_event(event)


class WebsocketsConnection:
    """An open ``websockets`` connection."""

    __slots__ = ("_ws",)

    def __init__(self, ws: _Connection) -> None:
        self._ws = ws

    @property
    def last_ping(self) -> float:
        """``time.monotonic()`` of the newest ping or pong from the server."""
        return self._ws.last_ping

    async def recv(self) -> bytes | str:
        try:
            return await self._ws.recv()
        except ConnectionClosed as exc:
            raise ConnectionLost(f"websocket closed: {exc}") from None

    async def send(self, data: bytes) -> None:
        try:
            await self._ws.send(data.decode())
        except ConnectionClosed as exc:
            raise ConnectionLost(f"send failed: {exc}") from None

    async def close(self) -> None:
        try:
            await self._ws.close()
        except (ConnectionError, RuntimeError):
            pass


class WebsocketsTransport:
    """Opens ``websockets`` connections."""

    def __init__(self, *, connect_timeout: float | None, ping_interval: float | None,
                 close_timeout: float, max_message_size: int, compression: bool) -> None:
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._close_timeout = close_timeout
        self._max_size = max_message_size
        self._compression = "deflate" if compression else None

    async def connect(self, url: str, headers: dict[str, str]) -> WebsocketsConnection:
        ping_timeout = None if self._ping_interval is None else self._ping_interval / 2
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await connect(
                    url, additional_headers=headers, compression=self._compression,
                    max_size=self._max_size, ping_interval=self._ping_interval,
                    ping_timeout=ping_timeout, close_timeout=self._close_timeout,
                    open_timeout=None, max_queue=1024, create_connection=_Connection)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthError("websocket handshake rejected", status=status) from None
            raise ConnectError(f"websocket handshake failed: HTTP {status}") from None
        except TimeoutError:
            raise ConnectError(
                f"websocket connect timed out after {self._connect_timeout}s") from None
        except (InvalidHandshake, OSError) as exc:
            raise ConnectError(f"websocket connect failed: {exc}") from exc
        assert isinstance(ws, _Connection)
        return WebsocketsConnection(ws)
