"""The gateway's write path: a bounded buffer drained by one task in pipelines.

The gateway's pump calls :meth:`Publisher.publish` synchronously; it never
waits. Entries queue in a bounded ``deque``; the writer task takes up to
``batch`` of them at a time and sends them to Redis in one pipeline: each
stream's run of entries in one Lua call (``XADD ... MAXLEN ~ n`` per entry,
server side: one command instead of hundreds, which halves the gateway's cost),
and each snapshot through a script that adds the entry and records it, with its
entry id, in the market's snapshot key atomically.

When Redis falls behind (the buffer is full, a write fails or times out, Redis
restarted), entries are dropped, never waited for. Each dropped entry still
used up its stream's version, so consumers see the hole; and once the buffer is
half empty again the publisher writes a stale marker on every stream that lost
something and asks the gateway (``on_lost``) for fresh book snapshots, which
consumers resync from. ``dropped`` counts what was lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .connect import raise_if_cancelled
from .entries import SNAPSHOT, STALE, Entry, encode_entry

__all__ = ["Publisher", "PublisherStats"]

_SNAPSHOT_SCRIPT = """
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'id', id, unpack(fields))
return id
"""
"""Add a snapshot entry and store it, with the id it got, in the snapshot key."""

_BATCH_SCRIPT = """
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return i
"""
"""Add a run of entries to one stream in one call (ARGV: maxlen, then per entry the
number of field words and the words): one command instead of one per entry, which
is most of the gateway's cost; one key per call, so it also runs in Redis Cluster."""


@dataclass(frozen=True, slots=True)
class PublisherStats:
    queued: int
    """Entries accepted into the buffer."""
    written: int
    """Entries Redis acknowledged."""
    dropped: int
    """Entries lost: buffer full, or a failed write."""
    stale_markers: int
    batches: int
    errors: int
    """Failed pipelines (connection lost, timeout, Redis error)."""
    buffered: int
    high_water: int


class Publisher:
    """Bounded, pipelined writes of stream entries (see module docstring).

    Args:
        redis: the client to write with (its ``socket_timeout`` bounds a stalled write).
        epoch: this gateway run's id, stamped on every entry.
        maxlen: approximate ``MAXLEN`` of every stream.
        buffer: entries held while Redis is slow; beyond that they are dropped.
        batch: entries per pipeline.
        on_lost: called with the streams that lost entries, after their stale marker.
    """

    def __init__(self, redis: aioredis.Redis, *, epoch: str, maxlen: int, buffer: int = 50_000,
                 batch: int = 512, on_lost: Callable[[list[str]], None] | None = None,
                 logger: logging.Logger | None = None) -> None:
        if maxlen < 1 or buffer < 2 or batch < 1:
            raise ValueError("maxlen, buffer and batch must be positive (buffer >= 2)")
        self.redis = redis
        self.epoch = epoch
        self.maxlen = maxlen
        self.capacity = buffer
        self.batch = batch
        self.on_lost = on_lost
        self.log = logger or logging.getLogger("kalshi_margin_stream.fanout")
        self._buf: deque[tuple[str, dict[str, str | bytes], str | None]] = deque()
        self._wake = asyncio.Event()
        self._versions: dict[str, int] = {}
        self._lost: dict[str, int] = {}
        self._script = redis.register_script(_SNAPSHOT_SCRIPT)
        self._batch_script = redis.register_script(_BATCH_SCRIPT)
        self.queued = self.written = self.dropped = self.stale_markers = 0
        self.batches = self.errors = self.high_water = 0
        self.last_error = ""
        self._inflight = 0
        self._stopping = False

    # --- the pump's side (synchronous, never waits) -----------------------------------

    def publish(self, stream: str, kind: str, *, frame: bytes = b"", ts_ms: int | None = None,
                sending_ts_ms: int | None = None, reason: str = "",
                snapshot_key: str | None = None, received_us: int | None = None) -> bool:
        """Queue one entry; ``False`` if it was dropped (the stream is then repaired)."""
        version = self._versions.get(stream, 0) + 1
        self._versions[stream] = version
        if len(self._buf) >= self.capacity:
            self._drop(stream, 1)
            return False
        entry = Entry(kind=kind, epoch=self.epoch, version=version,
                      received_us=received_us if received_us is not None
                      else time.time_ns() // 1000,
                      frame=frame, ts_ms=ts_ms, sending_ts_ms=sending_ts_ms, reason=reason)
        self._buf.append((stream, encode_entry(entry),
                          snapshot_key if kind == SNAPSHOT else None))
        self.queued += 1
        if len(self._buf) > self.high_water:
            self.high_water = len(self._buf)
        self._wake.set()
        return True

    def lose_everything(self, reason: str) -> None:
        """Redis lost data (a restart, a failover): repair every stream written so far."""
        self.log.warning("redis lost data (%s): republishing snapshots", reason)
        for stream in self._versions:
            self._lost.setdefault(stream, 0)
        self._wake.set()

    def _drop(self, stream: str, n: int) -> None:
        self.dropped += n
        self._lost[stream] = self._lost.get(stream, 0) + n

    def repair_if_room(self) -> None:
        """Repair the streams that lost entries once the buffer is half empty.

        The gateway calls this between two updates (never between updating its
        mirror books and publishing), so a republished snapshot is exactly the
        state after every entry queued before it.
        """
        if self._lost and len(self._buf) <= self.capacity // 2:
            self._repair()

    def _repair(self) -> None:
        """Stale marker on each stream that lost entries, then fresh snapshots (on_lost)."""
        lost, self._lost = self._lost, {}
        for stream, n in lost.items():
            self.stale_markers += 1
            self.publish(stream, STALE, reason=f"gateway could not write {n} entries"
                         if n else "redis lost data")
        if self.on_lost is not None:
            self.on_lost(list(lost))

    # --- the writer task --------------------------------------------------------------

    async def run(self) -> None:
        """Drain the buffer until :meth:`stop` (then what is left is dropped, counted)."""
        backoff = 0.05
        while not self._stopping:
            if not self._buf:
                if self._lost:
                    self._repair()
                    continue
                self._wake.clear()
                await self._wake.wait()
                continue
            n = min(self.batch, len(self._buf))
            items = [self._buf.popleft() for _ in range(n)]
            self._inflight = n
            try:
                await self._write(items)
            except (RedisError, OSError, TimeoutError) as exc:
                raise_if_cancelled()
                self._inflight = 0
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                for stream, _, _ in items:
                    self._drop(stream, 1)
                self.log.warning("redis write failed (%s); %d entries lost", self.last_error,
                                 n)
                self._wake.clear()
                try:  # back off, but wake at once for stop()
                    async with asyncio.timeout(backoff):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                backoff = min(1.0, backoff * 2)
                continue
            self._inflight = 0
            backoff = 0.05
            self.written += n
            self.batches += 1
        left = len(self._buf)
        if left:  # stopped before Redis took them (gateway.aclose drains first, bounded)
            self._buf.clear()
            self.dropped += left
            self.log.warning("publisher stopped with %d entries unwritten", left)

    async def _write(self, items: list[tuple[str, dict[str, str | bytes], str | None]]
                     ) -> None:
        """One pipeline: per stream, runs of entries in one script call; snapshots in order."""
        runs: dict[str, list[str | bytes | int]] = {}
        async with self.redis.pipeline(transaction=False) as pipe:  # reset even on errors
            for stream, fields, snap_key in items:
                if snap_key is None:
                    run = runs.setdefault(stream, [self.maxlen])
                    run.append(2 * len(fields))
                    for name, value in fields.items():
                        run.extend((name, value))
                    continue
                pending = runs.pop(stream, None)  # what came before the snapshot goes first
                if pending is not None:
                    await self._batch_script(keys=[stream], args=pending, client=pipe)
                args: list[str | bytes | int] = [self.maxlen]
                for name, value in fields.items():
                    args.extend((name, value))
                await self._script(keys=[stream, snap_key], args=args, client=pipe)
            for stream, run in runs.items():
                await self._batch_script(keys=[stream], args=run, client=pipe)
            await pipe.execute()

    def stop(self) -> None:
        """Make :meth:`run` return after the write in flight (never mid-write)."""
        self._stopping = True
        self._wake.set()

    async def drain(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until the buffer is empty; True if it is."""
        try:
            async with asyncio.timeout(timeout):
                while self._buf or self._inflight or self._lost:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            return False
        return True

    def statistics(self) -> PublisherStats:
        return PublisherStats(queued=self.queued, written=self.written, dropped=self.dropped,
                              stale_markers=self.stale_markers, batches=self.batches,
                              errors=self.errors, buffered=len(self._buf),
                              high_water=self.high_water)


