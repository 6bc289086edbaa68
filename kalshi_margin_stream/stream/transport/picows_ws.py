"""The fast transport: picows (``pip install kalshi-margin-stream[fast]``).

picows parses frames in Cython and calls a listener for each one, with no task
and no future per frame; it ships binary wheels, so no compiler is needed. It is
frame-level, so this module does what aiohttp and websockets do for us:

* fragmented messages (a text frame without ``fin``, then ``CONTINUATION``
  frames) are joined, within ``Limits.max_message_size``;
* pings are answered here (auto-pong is off so the liveness watchdog sees
  them: ``last_ping``); our own keepalive pings are picows' auto-ping, which
  closes a connection whose pong does not come within half the interval;
* a close frame from the server is answered and ends the connection.

Received messages wait in a ``deque`` for the reader; if the reader falls
behind by ``_PAUSE_AT`` frames, reading from the socket pauses until it caught
up (TCP flow control, as aiohttp's read-ahead limit does). picows has no
permessage-deflate: asking for compression is refused with ``ValueError``.

picows' exceptions become ours here and nowhere else (see ``transport/__init__``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSInvalidStatusError,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)

from ...exceptions import AuthError, ConnectError, ConnectionLost

__all__ = ["PicowsConnection", "PicowsTransport"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_PING = WSMsgType.PING
_PONG = WSMsgType.PONG
_CLOSE = WSMsgType.CLOSE
_PAUSE_AT = 8192
"""Frames waiting for the reader before the socket stops being read."""
_RESUME_AT = 1024


class PicowsConnection(WSListener):
    """One picows connection: the listener picows calls, and our ``Connection``."""

    def __init__(self, max_message_size: int, close_timeout: float) -> None:
        self._max_size = max_message_size
        self._close_timeout = close_timeout
        self._transport: WSTransport | None = None
        self._frames: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._parts: list[bytes] | None = None
        self._part_size = 0
        self._paused = False
        self._lost: str | None = None
        self.last_ping = 0.0
        """``time.monotonic()`` of the newest ping or pong from the server."""

    # --- picows calls these (on the event loop, synchronously) -------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is _TEXT or kind is _BINARY:
            if frame.fin and self._parts is None:
                self._push(frame.get_payload_as_bytes())
            else:
                self._start_message(frame)
        elif kind is _CONTINUATION:
            self._continue_message(frame)
        elif kind is _PING:
            self.last_ping = time.monotonic()
            transport.send_pong(frame.get_payload_as_bytes())
        elif kind is _PONG:
            self.last_ping = time.monotonic()
        elif kind is _CLOSE:
            code = frame.get_close_code()
            self._end(f"websocket closed (code {code.value})")
            if not transport.is_close_frame_sent:
                transport.send_close(code if code is not WSCloseCode.NO_INFO
                                     else WSCloseCode.OK)
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._end("websocket disconnected")

    # --- fragmented messages ----------------------------------------------------

    def _start_message(self, frame: WSFrame) -> None:
        if self._parts is not None:
            self._protocol_error("a new message began inside a fragmented one")
            return
        self._parts, self._part_size = [], 0
        self._continue_message(frame, first=True)

    def _continue_message(self, frame: WSFrame, *, first: bool = False) -> None:
        parts = self._parts
        if parts is None or (not first and frame.msg_type is not _CONTINUATION):
            self._protocol_error("a continuation frame outside a fragmented message")
            return
        self._part_size += frame.payload_size
        if self._part_size > self._max_size:
            self._protocol_error(f"message over {self._max_size} bytes",
                                 WSCloseCode.MESSAGE_TOO_BIG)
            return
        parts.append(frame.get_payload_as_bytes())
        if frame.fin:
            self._parts = None
            self._push(b"".join(parts))

    def _protocol_error(self, reason: str,
                        code: WSCloseCode = WSCloseCode.PROTOCOL_ERROR) -> None:
        self._parts = None
        self._end(f"websocket protocol error: {reason}")
        transport = self._transport
        if transport is not None:
            transport.send_close(code)
            transport.disconnect()

    # --- the queue between picows and the reader ---------------------------------

    def _push(self, data: bytes) -> None:
        frames = self._frames
        frames.append(data)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(frames) >= _PAUSE_AT and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.underlying_transport.pause_reading()

    def _end(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- our Connection protocol ----------------------------------------------------

    async def recv(self) -> bytes | str:
        frames = self._frames
        while not frames:
            if self._lost is not None:
                raise ConnectionLost(self._lost)
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        if self._paused and len(frames) <= _RESUME_AT and self._transport is not None:
            self._paused = False
            self._transport.underlying_transport.resume_reading()
        return frames.popleft()

    async def send(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or self._lost is not None or transport.is_disconnected:
            raise ConnectionLost(f"send failed: {self._lost or 'not connected'}")
        try:
            transport.send(_TEXT, data)
        except (WSError, OSError, RuntimeError) as exc:
            raise ConnectionLost(f"send failed: {exc}") from exc

    async def close(self) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            if not transport.is_disconnected:
                if not transport.is_close_frame_sent:
                    transport.send_close(WSCloseCode.OK)
                try:
                    await asyncio.wait_for(transport.wait_disconnected(), self._close_timeout)
                except TimeoutError:
                    transport.disconnect(graceful=False)
                    await transport.wait_disconnected()
        except (WSError, OSError, RuntimeError):
            pass
        self._end("websocket closed by us")


class PicowsTransport:
    """Opens picows connections."""

    def __init__(self, *, connect_timeout: float | None, ping_interval: float | None,
                 close_timeout: float, max_message_size: int, compression: bool) -> None:
        if compression:
            raise ValueError("the picows transport has no permessage-deflate; "
                             "use transport='aiohttp' for compression")
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._close_timeout = close_timeout
        self._max_size = max_message_size

    async def connect(self, url: str, headers: dict[str, str]) -> PicowsConnection:
        ping = self._ping_interval
        listener = PicowsConnection(self._max_size, self._close_timeout)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await ws_connect(
                    lambda: listener, url, extra_headers=headers,
                    websocket_handshake_timeout=self._connect_timeout,
                    enable_auto_ping=ping is not None, auto_ping_idle_timeout=ping or 10.0,
                    auto_ping_reply_timeout=(ping or 10.0) / 2, enable_auto_pong=False,
                    max_frame_size=self._max_size, logger_name="kalshi_margin_stream")
        except WSInvalidStatusError as exc:
            status = int(exc.response.status) if exc.response is not None else 0
            if status in (401, 403):
                raise AuthError("websocket handshake rejected", status=status) from None
            raise ConnectError(f"websocket handshake failed: HTTP {status}") from None
        except TimeoutError:
            raise ConnectError(
                f"websocket connect timed out after {self._connect_timeout}s") from None
        except (WSError, OSError) as exc:
            raise ConnectError(f"websocket connect failed: {exc}") from exc
        return listener
