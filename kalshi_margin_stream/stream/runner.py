"""The reconnect loop: drives a transport and the Sans-I/O session.

Each attempt signs a fresh handshake (Kalshi rejects a reused timestamp), opens
the connection, lets the session queue the subscriptions, then feeds it every
frame. The session hands data messages straight to its sink (the router); the
control events it returns go to ``on_events``. The loop ends only by
cancellation or a fatal error: a rejected handshake (``AuthError``) is fatal at
once, everything else is retried after the client's one :class:`Backoff`
(jittered, capped, reset once a connection stayed healthy for
``Limits.backoff_reset_after``).

Per connection there are exactly three tasks: the reader (this loop), **one
writer** (the only task that sends: commands leave in the order the session
queued them, whoever asked — the reader after a gap, the user subscribing, the
watchdog), and **one watchdog**, which reads the session's counters a few times
per limit (no clock read per frame) and

* closes a connection that went silent (no frame and no ping for ``Timeouts.silence``);
* closes it when books waited for their snapshots longer than ``Timeouts.resync``;
* resyncs the books in band when no book data came for ``Timeouts.data_silence``
  on a live connection (a subscription the server silently stopped feeding).

The runner also holds the one sampling counter: one frame in sixteen is timed
(core processing) and its data message's exchange latency is recorded.
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
from .router import Router
from .tap import FrameTap
from .transport import Connection, Transport

__all__ = ["ConnectionState", "StreamRunner"]

_SAMPLE_MASK = 15
"""One frame in sixteen is timed and its latency recorded: percentiles stay sound."""
_YIELD_MASK = 127
"""The reader yields to the event loop at least once every 128 frames."""


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


class StreamRunner:
    """Owns the connection attempts, the writer and the watchdog (see module doc)."""

    def __init__(self, *, session: Session, transport: Transport, credentials: Credentials,
                 ws_url: str, on_events: Callable[[list[Event]], None],
                 on_state: Callable[[ConnectionState], None], timeouts: Timeouts,
                 limits: Limits, logger: logging.Logger, rng: random.Random | None = None,
                 backoff: Backoff | None = None, router: Router | None = None,
                 tap: FrameTap | None = None) -> None:
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
        self.router = router
        self.state = ConnectionState.DISCONNECTED
        self.connections = 0
        self.reconnects = 0
        self.data_silences = 0
        """Times the books went quiet on a live connection and were resynced in band."""
        self.last_frame = 0.0
        """``time.monotonic()`` at which the watchdog last saw new frames."""
        self.resync_since: float | None = None
        self.processing = Histogram()
        """Microseconds in the core per frame (decode, sequence, apply, route); one in 16."""
        self._conn: Connection | None = None
        self._send_wanted = asyncio.Event()
        self.tap = tap
        """Sees raw frames, sent commands, connection events (``stream/tap.py``)."""

    def _set_state(self, state: ConnectionState) -> None:
        self.state = state
        self.on_state(state)

    def wake(self) -> None:
        """Ask the writer to send what the session queued (cheap; call it freely)."""
        self._send_wanted.set()

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
        self._conn = conn
        self.last_frame = time.monotonic()
        self.resync_since = None
        self.session.connection_opened()
        if self.tap is not None:  # --- tap ---
            self.tap.event(self.connections, time.time_ns(), "connected", self.ws_url)
        self._set_state(ConnectionState.CONNECTED)
        self.log.info("connected to %s", self.ws_url)
        self._send_wanted.set()
        helpers = [asyncio.ensure_future(self._write(conn)),
                   asyncio.ensure_future(self._watchdog(conn))]
        failed: list[BaseException] = []

        def helper_done(task: asyncio.Future[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                failed.append(task.exception())  # type: ignore[arg-type]
                conn_close = asyncio.ensure_future(conn.close())  # ends the reader
                helpers.append(conn_close)

        for task in helpers:
            task.add_done_callback(helper_done)
        try:
            await self._read(conn)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            if failed:
                raise failed[0]

    async def _read(self, conn: Connection) -> None:
        session = self.session
        receive = session.receive_frame
        on_events = self.on_events
        recv = conn.recv
        perf = time.perf_counter_ns
        record = self.processing.record
        router = self.router
        queued = session.outbox  # the live list: checking it allocates nothing
        wake = self._send_wanted.set
        n = 0
        tap, conn_id, now_ns = self.tap, self.connections, time.time_ns
        while True:
            frame = await recv()
            if tap is not None:  # --- tap ---
                tap.frame(conn_id, now_ns(), frame)
            n += 1
            if n & _SAMPLE_MASK:
                events = receive(frame)
                if events:
                    on_events(events)
            else:  # the one sampling counter: time this frame, record its latency
                if router is not None:
                    router.sample = True
                t0 = perf()
                events = receive(frame)
                if events:
                    on_events(events)
                record((perf() - t0) // 1000)
                if not n & _YIELD_MASK:
                    # A transport with frames buffered returns them without waiting:
                    # let consumers, the writer and the watchdog run now and then.
                    await asyncio.sleep(0)
            if queued:
                wake()

    async def _write(self, conn: Connection) -> None:
        """The connection's only sender: commands leave in the order they were queued."""
        wanted = self._send_wanted
        session = self.session
        tap, conn_id = self.tap, self.connections
        try:
            while True:
                await wanted.wait()
                wanted.clear()
                for data in session.data_to_send():
                    if tap is not None:  # --- tap ---
                        tap.event(conn_id, time.time_ns(), "sent", data.decode())
                    await conn.send(data)
        except ConnectionLost as exc:
            self.log.info("send failed: %s", exc)
            await conn.close()  # the reader sees the loss and reconnects

    async def _watchdog(self, conn: Connection) -> None:
        timeouts = self.timeouts
        silence, resync, quiet = timeouts.silence, timeouts.resync, timeouts.data_silence
        limits = [t for t in (silence, resync, quiet) if t]
        if not limits:
            return
        period = min(limits) / 4
        stats = self.session.stats
        frames = stats.frames
        book_frames, book_since = -1, time.monotonic()
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            if stats.frames != frames:  # counted by the session: no clock read per frame
                frames = stats.frames
                self.last_frame = now
            alive = max(self.last_frame, conn.last_ping)
            if silence and self.session.channels and now - alive > silence:
                self.log.warning("no frame and no ping for %.1fs: reconnecting", now - alive)
                await conn.close()
                return
            if resync and self._snapshots_overdue(now, resync):
                self.log.warning("snapshots not received within %.1fs: reconnecting", resync)
                await conn.close()
                return
            if quiet:
                count = stats.deltas + stats.other_types.get("orderbook_snapshot", 0)
                if count != book_frames:
                    book_frames, book_since = count, now
                elif now - book_since > quiet and self.session.books:
                    self.data_silences += 1
                    self.log.warning("no book data for %.1fs: resyncing the books",
                                     now - book_since)
                    book_since = now
                    events = self.session.request_resync(reason="data silence")
                    if events:
                        self.on_events(events)
                    self._send_wanted.set()

    def _snapshots_overdue(self, now: float, limit: float) -> bool:
        waiting = any(b.status is not BookStatus.SYNCED for b in self.session.books.values())
        if not waiting:
            self.resync_since = None
        elif self.resync_since is None:
            self.resync_since = now
        elif now - self.resync_since > limit:
            return True
        return False

    async def close(self) -> None:
        conn = self._conn
        if conn is not None:
            await conn.close()
