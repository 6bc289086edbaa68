"""The WebSocket shell: one :class:`Connection` per client, and the :class:`Hub` that fans
exchange events out to them.

Each connection has a bounded send queue drained by its own writer task, so a slow
client never stalls the exchange: when a data frame would overflow the queue, that
frame's subscription is ended with error 25 (as Kalshi does) and the rest of the
connection carries on. Frame faults (drop / duplicate) are applied here, after the
session assigned ``seq``, so a dropped frame leaves a real gap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from ..core.messages import TickerBody
from .faults import FaultState, SimStats
from .feed import FeedItem
from .session import Out, WsSession
from .wire import encode_frame

__all__ = ["Connection", "Hub", "WsLimits"]

log = logging.getLogger("kalshi_margin_stream.sim.ws")


@dataclass(frozen=True, slots=True)
class WsLimits:
    """Per-connection knobs."""

    send_queue: int = 10_000  # data frames queued per connection before error 25
    ping_interval: float = 10.0  # Kalshi pings every 10 s with payload "heartbeat"
    market_limit: int | None = None  # markets per subscription before error 26 (None = no cap)


def _type_of(out: Out) -> str:
    tag = type(out.msg).__struct_config__.tag
    return str(tag)


class Connection:
    """One accepted WebSocket: session state, send queue, writer and pinger."""

    def __init__(self, conn_id: int, key_id: str, session: WsSession,
                 ws: web.WebSocketResponse, request: web.Request, *, limits: WsLimits,
                 faults: FaultState, stats: SimStats) -> None:
        self.conn_id = conn_id
        self.key_id = key_id
        self.session = session
        self._ws = ws
        self._transport = request.transport
        self._limits = limits
        self._faults = faults
        self._stats = stats
        self._queue: deque[tuple[bytes, int | None, str]] = deque()
        self._data_frames = 0
        self._wake = asyncio.Event()
        self._stall_until = 0.0
        self.closed = asyncio.Event()

    @property
    def user_id(self) -> str:
        return self.session.user_id

    # --- delivery (sync, called on the loop) ------------------------------------

    def deliver(self, outs: Iterable[Out]) -> None:
        """Queue messages; apply frame faults and the overflow rule to data frames."""
        now_ms = time.time_ns() // 1_000_000
        for out in outs:
            if out.sid is None:
                self._push(encode_frame(out.msg, now_ms), None, _type_of(out))
                continue
            if not self.session.has(out.sid):
                continue  # the sid died (error 25) earlier in this batch
            if self._data_frames >= self._limits.send_queue:
                self._overflow(out.sid, now_ms)
                continue
            action = self._faults.frame_action(self.conn_id, out.sid)
            if action == "drop":
                continue
            data = encode_frame(out.msg, now_ms)
            self._push(data, out.sid, _type_of(out))
            if action == "duplicate":
                self._push(data, out.sid, _type_of(out))

    def _push(self, data: bytes, sid: int | None, kind: str) -> None:
        if self.closed.is_set():
            return
        self._queue.append((data, sid, kind))
        if sid is not None:
            self._data_frames += 1
        self._wake.set()

    def _overflow(self, sid: int, now_ms: int) -> None:
        err = self.session.kill(sid, 25)
        if err is None:
            return
        self._stats.faults["overflow_error_25"] += 1
        log.warning("conn %d: send queue full, sid %d ended with error 25", self.conn_id, sid)
        self._push(encode_frame(err.msg, now_ms), None, "error")

    def kill_sid(self, sid: int, code: int = 25) -> bool:
        """Fault: end ``sid`` with a terminal error now."""
        err = self.session.kill(sid, code)
        if err is None:
            return False
        self._stats.faults[f"error_{code}_sent"] += 1
        self._push(encode_frame(err.msg, time.time_ns() // 1_000_000), None, "error")
        return True

    def stall(self, seconds: float) -> None:
        """Fault: stop sending (socket stays open) for ``seconds``; frames keep queueing."""
        loop = asyncio.get_running_loop()
        self._stall_until = max(self._stall_until, loop.time() + seconds)
        self._stats.faults["stalls"] += 1

    def abort(self) -> None:
        """Fault: drop the TCP connection without a close frame."""
        self._stats.faults["connections_aborted"] += 1
        if self._transport is not None:
            self._transport.abort()
        self.closed.set()
        self._wake.set()

    # --- tasks --------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the client goes away; owns the writer and pinger tasks."""
        async with asyncio.TaskGroup() as tg:
            writer = tg.create_task(self._writer())
            pinger = tg.create_task(self._pinger())
            try:
                await self._reader()
            finally:
                self.closed.set()
                self._wake.set()
                writer.cancel()
                pinger.cancel()

    async def _reader(self) -> None:
        async for msg in self._ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                self._stats.ws_commands += 1
                self._handle(msg.data)
            elif msg.type == WSMsgType.ERROR:
                break

    def _handle(self, data: str | bytes) -> None:
        try:
            outs = self.session.receive(data)
        except Exception:  # a bug in a handler must not end the connection
            log.exception("conn %d: command handling failed", self.conn_id)
            self._stats.events["command_errors"] += 1
            outs = [self.session.internal_error()]
        self.deliver(outs)

    async def _wait_unstalled(self) -> None:
        loop = asyncio.get_running_loop()
        while (left := self._stall_until - loop.time()) > 0:
            await asyncio.sleep(left)

    async def _writer(self) -> None:
        while not self.closed.is_set():
            await self._wake.wait()
            self._wake.clear()
            await self._wait_unstalled()
            while self._queue and not self.closed.is_set():
                data, sid, kind = self._queue.popleft()
                if sid is not None:
                    self._data_frames -= 1
                    self._stats.frames_by_sid[sid] += 1
                    self._stats.frames_by_conn_sid[(self.conn_id, sid)] += 1
                self._stats.frames_by_type[kind] += 1
                try:
                    await self._ws.send_frame(data, WSMsgType.TEXT)
                except (ConnectionError, RuntimeError):
                    self.closed.set()
                    return
                if self._stall_until > asyncio.get_running_loop().time():
                    await self._wait_unstalled()

    async def _pinger(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(self._limits.ping_interval)
            if self._stall_until > asyncio.get_running_loop().time():
                continue
            try:
                await self._ws.ping(b"heartbeat")
            except (ConnectionError, RuntimeError):
                return

    async def close(self, timeout: float = 1.0) -> None:
        """Close politely (server shutdown); a peer that does not answer is dropped."""
        self.closed.set()
        self._wake.set()
        try:
            async with asyncio.timeout(timeout):
                await self._ws.close()
        except Exception:  # timed out or already broken: drop the TCP connection
            if self._transport is not None:
                self._transport.abort()


class Hub:
    """Every open connection; fans feed items and ticker updates out to them."""

    def __init__(self) -> None:
        self._conns: dict[int, Connection] = {}
        self._next_id = 1

    def new_id(self) -> int:
        cid = self._next_id
        self._next_id += 1
        return cid

    def add(self, conn: Connection) -> None:
        self._conns[conn.conn_id] = conn

    def remove(self, conn: Connection) -> None:
        self._conns.pop(conn.conn_id, None)

    @property
    def connections(self) -> list[Connection]:
        return list(self._conns.values())

    def publish(self, items: Iterable[FeedItem]) -> None:
        items = list(items)
        if not items:
            return
        for conn in list(self._conns.values()):
            outs: list[Out] = []
            for item in items:
                outs.extend(conn.session.on_feed(item))
            if outs:
                conn.deliver(outs)

    def publish_tickers(self, bodies: list[TickerBody]) -> None:
        if not bodies:
            return
        for conn in list(self._conns.values()):
            outs = conn.session.on_tickers(bodies)
            if outs:
                conn.deliver(outs)
