"""The reconnect loop: drives a transport and the Sans-I/O session.

Each attempt signs a fresh handshake (Kalshi rejects a reused timestamp), opens
the connection, lets the session queue the subscriptions, then feeds it every
frame and routes what it returns. The loop ends only by cancellation or a fatal
error: a rejected handshake (``AuthError``) is fatal at once, everything else is
retried after a jittered, capped exponential backoff that resets once a
connection has stayed healthy for ``Limits.backoff_reset_after``.

A watchdog closes a connection that went silent (no frame and no ping for
``Timeouts.silence``) or whose books have waited for their snapshots longer than
``Timeouts.resync``; keepalive pings and pongs are the transport's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from enum import StrEnum

from ..config import WS_PATH, Limits, Timeouts
from ..core.auth import Credentials, signing_path
from ..core.backoff import Backoff
from ..core.book import BookStatus
from ..core.events import Event
from ..core.session import Session
from ..exceptions import AuthError, ConnectError, ConnectionLost
from .latency import Histogram
from .tap import FrameTap
from .transport import Connection, Transport

__all__ = ["ConnectionState", "StreamRunner"]


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


class StreamRunner:
    """Owns the connection attempts; calls ``on_events`` for every frame's events."""

    def __init__(self, *, session: Session, transport: Transport, credentials: Credentials,
                 ws_url: str, on_events: Callable[[list[Event]], None],
                 on_state: Callable[[ConnectionState], None], timeouts: Timeouts,
                 limits: Limits, logger: logging.Logger, rng: random.Random | None = None,
                 backoff: Backoff | None = None, tap: FrameTap | None = None) -> None:
        self.session = session
        self.transport = transport
        self.credentials = credentials
        self.ws_url = ws_url
        self.on_events = on_events
        self.on_state = on_state
        self.timeouts = timeouts
        self.limits = limits
        self.log = logger
        self.backoff = backoff or Backoff(limits.backoff_initial, limits.backoff_max, rng=rng)
        self.state = ConnectionState.DISCONNECTED
        self.connections = 0
        self.reconnects = 0
        self.last_frame = 0.0
        """``time.monotonic()`` at which the watchdog last saw new frames."""
        self.resync_since: float | None = None
        self.processing = Histogram()
        """Microseconds in the core per frame (decode, sequence, apply, route); one in 16."""
        self._conn: Connection | None = None
        self.tap = tap
        """Sees raw frames, sent commands, connection events (``stream/tap.py``)."""

    def _set_state(self, state: ConnectionState) -> None:
        self.state = state
        self.on_state(state)

    async def run(self) -> None:
        """Connect, serve, reconnect; returns only by cancellation, raises ``AuthError``."""
        while True:
            self._set_state(ConnectionState.CONNECTING)
            try:
                conn = await self._open()
            except ConnectError as exc:
                delay = self.backoff.next_delay()
                self.log.info("connect failed (%s); retrying in %.2fs", exc, delay)
                if self.tap is not None:  # --- tap ---
                    self.tap.event(self.connections + 1, time.time_ns(), "connect_failed",
                                   str(exc))
                self._set_state(ConnectionState.DISCONNECTED)
                await asyncio.sleep(delay)
                continue
            opened = time.monotonic()
            try:
                await self._serve(conn)
            except ConnectionLost as exc:
                self.log.info("connection lost: %s", exc)
            finally:
                self._conn = None
                self.session.connection_lost()
                if self.tap is not None:  # --- tap ---
                    self.tap.event(self.connections, time.time_ns(), "disconnected", None)
                self._set_state(ConnectionState.DISCONNECTED)
                await asyncio.shield(conn.close())
            if time.monotonic() - opened >= self.limits.backoff_reset_after:
                self.backoff.reset()
            self.reconnects += 1
            delay = self.backoff.next_delay()
            self.log.info("reconnecting in %.2fs", delay)
            await asyncio.sleep(delay)

    async def _open(self) -> Connection:
        ts = time.time_ns() // 1_000_000
        headers = self.credentials.headers("GET", signing_path(self.ws_url) or WS_PATH, ts)
        try:
            conn = await self.transport.connect(self.ws_url, headers)
        except AuthError:
            self.log.error("websocket handshake rejected: check the key id and private key")
            raise
        self.connections += 1
        return conn

    async def _serve(self, conn: Connection) -> None:
        session = self.session
        self._conn = conn
        self.last_frame = time.monotonic()
        self.resync_since = None
        session.connection_opened()
        if self.tap is not None:  # --- tap ---
            self.tap.event(self.connections, time.time_ns(), "connected", self.ws_url)
        self._set_state(ConnectionState.CONNECTED)
        self.log.info("connected to %s", self.ws_url)
        await self._flush(conn)
        watchdog = asyncio.ensure_future(self._watchdog(conn))
        try:
            await self._read(conn)
        finally:
            watchdog.cancel()
            try:
                await watchdog
            except asyncio.CancelledError:
                pass

    async def _read(self, conn: Connection) -> None:
        session = self.session
        receive = session.receive_frame
        on_events = self.on_events
        recv = conn.recv
        perf = time.perf_counter_ns
        record = self.processing.record
        queued = session.outbox  # the live list: checking it allocates nothing
        n = 0
        tap, conn_id, now_ns = self.tap, self.connections, time.time_ns
        while True:
            frame = await recv()
            if tap is not None:  # --- tap ---
                tap.frame(conn_id, now_ns(), frame)
            n += 1
            if n & 15:
                events = receive(frame)
                if events:
                    on_events(events)
            else:  # time one frame in sixteen
                t0 = perf()
                events = receive(frame)
                if events:
                    on_events(events)
                record((perf() - t0) // 1000)
            if queued:
                await self._flush(conn)

    async def _flush(self, conn: Connection) -> None:
        for data in self.session.data_to_send():
            if self.tap is not None:  # --- tap ---
                self.tap.event(self.connections, time.time_ns(), "sent", data.decode())
            await conn.send(data)

    async def send_pending(self) -> None:
        """Write commands the session queued outside a frame (new subscriptions...)."""
        conn = self._conn
        if conn is None:
            return
        try:
            await self._flush(conn)
        except ConnectionLost:
            pass  # the reader sees the same loss and reconnects

    async def _watchdog(self, conn: Connection) -> None:
        silence = self.timeouts.silence
        resync = self.timeouts.resync
        limits = [t for t in (silence, resync) if t]
        if not limits:
            return
        period = min(limits) / 4
        frames = self.session.stats.frames
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            if self.session.stats.frames != frames:  # counted by the session: no clock
                frames = self.session.stats.frames  # read per frame on the hot path
                self.last_frame = now
            alive = max(self.last_frame, conn.last_ping)
            if silence and self.session.channels and now - alive > silence:
                self.log.warning("no frame and no ping for %.1fs: reconnecting", now - alive)
                await conn.close()
                return
            if resync:
                waiting = any(b.status is not BookStatus.SYNCED
                              for b in self.session.books.values())
                if not waiting:
                    self.resync_since = None
                elif self.resync_since is None:
                    self.resync_since = now
                elif now - self.resync_since > resync:
                    self.log.warning("snapshots not received within %.1fs: reconnecting",
                                     resync)
                    await conn.close()
                    return

    async def close(self) -> None:
        conn = self._conn
        if conn is not None:
            await conn.close()
