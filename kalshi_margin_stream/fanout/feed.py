"""The consumer side: the direct client's API, fed from the gateway's Redis streams.

::

    async with RemoteFeed("redis://host:6379/0") as feed:
        async for update in feed.subscribe(Books(("KXBTCPERP",))):
            book = feed.book("KXBTCPERP")   # rebuilt with the core's OrderBook

Recovery (the one place it lives)
---------------------------------
Each book stream is followed with its epoch and version (see ``entries.py``).
The book is marked ``RESYNCING`` and subscribers get a :class:`Stale` marker
when data was lost, detected as:

* a version that is not the previous one plus one: entries trimmed by
  ``MAXLEN`` before we read them, or dropped by a gateway that Redis could not
  keep up with, or lost in a Redis restart or failover;
* an entry of a new epoch that is not a snapshot: the gateway restarted;
* a stale marker entry: the gateway's own client lost data (gap, reconnect);
* a failing Redis connection, or the gateway's heartbeat key expiring.

The book then comes back from the market's snapshot key (``kms:snap:{T}``,
same epoch only) and the stream is re-read from the entry id the snapshot was
taken at; if that snapshot cannot bridge the hole, the feed waits for the next
snapshot entry on the stream (the gateway writes one on every resync, after
every loss and every ``snapshot_interval``). Deltas are never applied to a book
that missed something, so a wrong book is never shown as synced.

Consumer groups (``group=``/``consumer=``): updates are then read with
``XREADGROUP`` and acknowledged (``XACK``) once handed to the subscription, so
siblings share the work (each entry goes to one of them; a restarted consumer
first gets back its unacknowledged entries). Books are still rebuilt from every
entry by a plain reader, so ``feed.book()`` is whole in every sibling.

Size: about 700 lines because the recovery above is one state machine shared by
the plain reader, the group reader and the heartbeat watch; split across modules,
its rules would be read (and changed) in pieces.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from redis.exceptions import RedisError, ResponseError

from ..core.book import BookStatus, OrderBook
from ..core.messages import OrderbookDelta, OrderbookSnapshot
from ..exceptions import BookDesync, ClientClosed, DecodeError
from ..stream.latency import Histogram, LatencySummary
from ..stream.subscriptions import Spec, Stale, Subscription, ticker_of
from .connect import open_redis, raise_if_cancelled, sleep_unless, stop_tasks
from .entries import (
    SNAPSHOT,
    STALE,
    Entry,
    apply_to_book,
    book_snapshot,
    decode_entry,
    decode_message,
)
from .names import MARKET_STREAMS, StreamNames

__all__ = ["FeedStats", "RemoteFeed"]

T = TypeVar("T")
_ERRORS = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class FeedStats:
    entries: int
    """Stream entries read (all kinds)."""
    gaps: int
    """Holes seen in a stream's versions (trimmed, dropped or lost entries)."""
    epochs: int
    """Gateway restarts seen (a new epoch)."""
    resyncs: int
    """Times a book was marked stale and rebuilt."""
    key_snapshots: int
    """Books restored from a snapshot key."""
    stream_snapshots: int
    """Snapshot entries applied."""
    stale_markers: int
    """Stale entries the gateway wrote."""
    heartbeat_expiries: int
    redis_errors: int
    decode_errors: int
    acked: int
    """Entries acknowledged to the consumer group."""
    claimed: int
    """Entries taken over from a sibling that left them unacknowledged."""
    subscriptions: dict[str, dict[str, int]]
    gateway_to_consumer_us: LatencySummary
    """Gateway receive → handled here (same-host clocks; across hosts, their skew too)."""


class _Track:
    """What the reader knows about one stream."""

    __slots__ = ("stream", "channel", "ticker", "epoch", "version", "awaiting", "tried_id")

    def __init__(self, stream: str, channel: str, ticker: str) -> None:
        self.stream = stream
        self.channel = channel
        self.ticker = ticker
        self.epoch: str | None = None
        self.version: int | None = None
        self.awaiting = channel == "orderbook_delta"
        self.tried_id: bytes | None = None
        """The snapshot key entry id last restored from (not tried twice for one hole)."""


class RemoteFeed:
    """Subscriptions and books fed by a :class:`~.gateway.Gateway` (see module docstring).

    Args:
        redis_url: the gateway's Redis.
        prefix: the gateway's stream prefix.
        group, consumer: read updates as ``consumer`` of the consumer group ``group``.
        claim_idle_ms: in a group, entries another consumer left unacknowledged this
            long (it died) are claimed (``XAUTOCLAIM``) and delivered here.
        queue: per-subscription queue (the direct client's delivery policy applies).
        batch: entries per read; block_ms: how long one read waits for data.
        heartbeat_check: seconds between heartbeat checks.
        redis_timeout: bound on one Redis command.
    """

    def __init__(self, redis_url: str, *, prefix: str = "kms", group: str | None = None,
                 consumer: str | None = None, queue: int = 1024, batch: int = 1000,
                 block_ms: int = 100, heartbeat_check: float = 0.5,
                 redis_timeout: float = 2.0, claim_idle_ms: int = 30_000,
                 logger: logging.Logger | None = None) -> None:
        if (group is None) != (consumer is None):
            raise ValueError("give both group and consumer, or neither")
        self.names = StreamNames(prefix)
        self.group = group
        self.consumer = consumer
        self.claim_idle_ms = claim_idle_ms
        self.queue = queue
        self.batch = batch
        self.block_ms = block_ms
        self.heartbeat_check = heartbeat_check
        self.log = logger or logging.getLogger("kalshi_margin_stream.fanout")
        self._cmd = open_redis(redis_url, timeout=redis_timeout)
        self._rd = open_redis(redis_url, timeout=redis_timeout + block_ms / 1000)
        self._grp = (open_redis(redis_url, timeout=redis_timeout + block_ms / 1000)
                     if group else None)
        self.books: dict[str, OrderBook] = {}
        self.health: dict[str, Any] | None = None
        """The gateway's last heartbeat (epoch, statistics), ``None`` while it is missing."""
        self._tracks: dict[str, _Track] = {}
        self._cursors: dict[str, bytes] = {}
        self._group_streams: dict[str, bytes] = {}
        self._need_key: set[str] = set()
        self._routes: dict[str, list[Subscription[Any]]] = {}
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._health_checked = asyncio.Event()
        """Set once the heartbeat was first looked at: snapshot keys are judged by it."""
        self._tasks: list[asyncio.Task[None]] = []
        self._entered = self._closed = False
        self._redis_down = False
        self._latency = Histogram()
        self._sub_counter = 0
        self.entries = self.gaps = self.epochs = self.resyncs = self.key_snapshots = 0
        self.stream_snapshots = self.stale_markers = self.heartbeat_expiries = 0
        self.redis_errors = self.decode_errors = self.acked = self.claimed = 0

    # --- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("a RemoteFeed can be entered only once")
        self._entered = True
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._reader(), name="feed-reader"),
                       loop.create_task(self._watch_heartbeat(), name="feed-heartbeat")]
        if self.group is not None:
            self._tasks.append(loop.create_task(self._group_reader(), name="feed-group"))
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End every subscription, stop reading, close the connections; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._changed.set()
        self._stop.set()
        for subs in self._routes.values():
            for sub in subs:
                sub._finish(None)
        # The readers stop by themselves within one BLOCK; cancelling a read mid-reply
        # is kept as the fallback (redis-py then drops that connection).
        tasks, self._tasks = self._tasks, []
        await stop_tasks(tasks, grace=self.block_ms / 1000 + 1.0, log=self.log)
        for client in (self._cmd, self._rd, self._grp):
            if client is not None:
                await client.aclose()

    # --- public API (the direct client's) ---------------------------------------------

    def subscribe(self, spec: Spec[T]) -> Subscription[T]:
        """Start receiving ``spec``'s updates from the gateway's streams."""
        if self._closed or not self._entered:
            raise ClientClosed("the feed is closed" if self._closed
                               else "use 'async with RemoteFeed(...)' first")
        tickers = spec.tickers
        if spec.channel in MARKET_STREAMS and not tickers:
            markets = (self.health or {}).get("markets")
            if not markets:
                raise ValueError(f"{type(spec).__name__} needs market tickers here (no gateway "
                                 "heartbeat to read its markets from)")
            tickers = tuple(markets)
        sub: Subscription[T] = Subscription(spec, queue=self.queue, on_close=self._unsubscribe,
                                            on_overflow=self._overflowed)
        self._sub_counter += 1
        sub.name = f"{spec.channel}#{self._sub_counter}"
        streams = ([self.names.stream(spec.channel, t) for t in tickers or ()]
                   if spec.channel in MARKET_STREAMS else [self.names.stream(spec.channel)])
        for stream, ticker in zip(streams, tickers or ("",) * len(streams), strict=True):
            self._routes.setdefault(stream, []).append(sub)
            track = self._tracks.get(stream)
            if track is None:
                track = self._tracks[stream] = _Track(stream, spec.channel, ticker)
                if spec.channel == "orderbook_delta":
                    self.books[ticker] = OrderBook(ticker)
                    self._need_key.add(stream)
                else:
                    self._cursors[stream] = b"$"
            elif spec.channel == "orderbook_delta":
                book = self.books[ticker]
                if book.status is BookStatus.SYNCED and self.group is None:
                    snap: Any = book_snapshot(book)
                    sub.offer(snap, ticker)  # the newcomer's snapshot
            if self.group is not None:
                self._group_streams.setdefault(stream, b"0")
        self._changed.set()
        return sub

    def on(self, spec: Spec[T], callback: Callable[[T | Stale], Awaitable[None] | None]
           ) -> Subscription[T]:
        """Call ``callback`` for each update of ``spec`` (in a task the feed owns)."""
        sub = self.subscribe(spec)

        async def pump() -> None:
            async for item in sub:
                result = callback(item)
                if isinstance(result, Awaitable):
                    await result

        self._tasks.append(asyncio.get_running_loop().create_task(
            pump(), name=f"feed-callback:{spec.channel}"))
        return sub

    def book(self, ticker: str) -> OrderBook | None:
        """The rebuilt book of ``ticker`` (check ``book.status`` before trusting it)."""
        return self.books.get(ticker)

    @property
    def gateway_alive(self) -> bool:
        """The gateway's heartbeat key is present."""
        return self.health is not None

    def statistics(self) -> FeedStats:
        subs = {getattr(sub, "name", sub.spec.channel): {
            "delivered": sub.delivered, "missed": sub.missed_total,
            "overflows": sub.overflows, "high_water": sub.high_water}
            for group in self._routes.values() for sub in group}
        return FeedStats(entries=self.entries, gaps=self.gaps, epochs=self.epochs,
                         resyncs=self.resyncs, key_snapshots=self.key_snapshots,
                         stream_snapshots=self.stream_snapshots,
                         stale_markers=self.stale_markers,
                         heartbeat_expiries=self.heartbeat_expiries,
                         redis_errors=self.redis_errors, decode_errors=self.decode_errors,
                         acked=self.acked, claimed=self.claimed, subscriptions=subs,
                         gateway_to_consumer_us=self._latency.summary())

    # --- subscriptions ---------------------------------------------------------------

    def _unsubscribe(self, sub: Subscription[Any]) -> None:
        for stream, group in list(self._routes.items()):
            if sub in group:
                group.remove(sub)
            if not group and not self._closed:
                del self._routes[stream]
                self._tracks.pop(stream, None)
                self._cursors.pop(stream, None)
                self._group_streams.pop(stream, None)
                self._need_key.discard(stream)  # its book stays readable (no longer updated)

    def _overflowed(self, sub: Subscription[Any]) -> None:
        """A slow consumer missed updates: give it its books again from the local copy."""
        if sub.spec.channel != "orderbook_delta":
            return
        for ticker in sub.spec.tickers or ():
            book = self.books.get(ticker)
            if book is not None and book.status is BookStatus.SYNCED:
                sub.offer(book_snapshot(book), ticker)

    def _deliver(self, stream: str, msg: Any, ticker: str) -> None:
        for sub in self._routes.get(stream, ()):
            if not ticker or sub.spec.wants(ticker):  # Fills(("T",)) on the account stream
                sub.offer(msg, ticker)

    def _stale(self, stream: str, tickers: tuple[str, ...] | None, reason: str) -> None:
        for sub in self._routes.get(stream, ()):
            sub.mark_stale(tickers, reason)

    # --- the reader ------------------------------------------------------------------

    async def _reader(self) -> None:
        backoff = 0.05
        await self._health_checked.wait()
        while not self._closed:
            if self._need_key:
                await self._restore_from_keys()
            if b"$" in self._cursors.values() and not await self._resolve_new_cursors():
                await self._sleep(backoff)
                continue
            if not self._cursors:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                cursors: Any = dict(self._cursors)
                reply: Any = await self._rd.xread(cursors, count=self.batch,
                                             block=self.block_ms)
            except _ERRORS as exc:
                raise_if_cancelled()
                self._redis_failed(exc)
                await self._sleep(backoff)
                backoff = min(1.0, backoff * 2)
                continue
            backoff = 0.05
            self._redis_down = False
            for raw_stream, items in reply or ():
                stream = raw_stream.decode() if isinstance(raw_stream, bytes) else raw_stream
                track = self._tracks.get(stream)
                if track is None:
                    continue
                for entry_id, fields in items:
                    self._cursors[stream] = entry_id
                    self._handle(track, entry_id, fields)
            await asyncio.sleep(0)

    async def _resolve_new_cursors(self) -> bool:
        """Pin each new stream's start at its current last entry (``$`` is not reusable:
        it would skip whatever arrives between two reads)."""
        for stream, cursor in list(self._cursors.items()):
            if cursor != b"$":
                continue
            try:
                last: Any = await self._cmd.xrevrange(stream, count=1)
            except _ERRORS as exc:
                raise_if_cancelled()
                self._redis_failed(exc)
                return False
            if self._cursors.get(stream) == b"$":
                self._cursors[stream] = last[0][0] if last else b"0-0"
        return True

    def _redis_failed(self, exc: BaseException) -> None:
        self.redis_errors += 1
        if self._redis_down:
            return
        self._redis_down = True
        self.log.warning("redis read failed: %s", exc)
        for track in self._tracks.values():
            self._lose(track, f"redis unavailable: {type(exc).__name__}", use_key=True,
                       tell_group=True)

    def _decode(self, fields: dict[bytes, bytes]) -> Entry | None:
        try:
            entry = decode_entry(fields)
        except DecodeError as exc:
            self.decode_errors += 1
            self.log.warning("bad stream entry: %s", exc)
            return None
        self.entries += 1
        self._latency.record(time.time_ns() // 1000 - entry.received_us)
        return entry

    def _handle(self, track: _Track, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        entry = self._decode(fields)
        if entry is None:
            if track.channel == "orderbook_delta":
                self._lose(track, "undecodable entry", use_key=True)
            return
        if track.channel == "orderbook_delta":
            self._handle_book(track, entry)
        else:
            self._handle_other(track, entry)

    def _handle_book(self, track: _Track, entry: Entry) -> None:
        book = self.books[track.ticker]
        if entry.kind == SNAPSHOT:
            self._apply_snapshot(track, entry, book)
            return
        if entry.epoch != track.epoch or (track.version is not None
                                          and entry.version != track.version + 1):
            if entry.epoch != track.epoch and track.epoch is not None:
                self.epochs += 1
                reason = "gateway restarted"
            else:
                reason = "missed stream entries"
            known = track.epoch is not None
            track.epoch, track.version = entry.epoch, entry.version
            if known:
                self.gaps += 1
            # a newcomer still looking for its first snapshot has tried the key already
            self._lose(track, reason, use_key=known)
            return
        track.version = entry.version
        if entry.kind == STALE:
            self.stale_markers += 1
            self._lose(track, entry.reason, use_key=False)
            return
        if track.awaiting:
            return
        try:
            msg = decode_message(entry)
            if type(msg) is not OrderbookDelta:
                raise DecodeError("book stream entry is not a book message", path="f")
            apply_to_book(book, msg)
        except (DecodeError, BookDesync) as exc:
            self._lose(track, f"bad book entry: {exc}", use_key=True)
            return
        if self.group is None:
            self._deliver(track.stream, msg, track.ticker)

    def _apply_snapshot(self, track: _Track, entry: Entry, book: OrderBook,
                        from_key: bool = False) -> bool:
        try:
            msg = decode_message(entry)
            if type(msg) is not OrderbookSnapshot:
                raise DecodeError("snapshot entry is not a book snapshot", path="f")
            apply_to_book(book, msg)
        except (DecodeError, BookDesync) as exc:
            self._lose(track, f"bad snapshot entry: {exc}", use_key=False)
            return False
        if track.epoch is not None and entry.epoch != track.epoch and not from_key:
            self.epochs += 1
        track.epoch, track.version, track.awaiting = entry.epoch, entry.version, False
        self._need_key.discard(track.stream)  # restored: the key is not needed any more
        if self.health is None:  # whole, but no live gateway keeps it current
            book.status = BookStatus.STALE
        if from_key:
            self.key_snapshots += 1
        else:
            self.stream_snapshots += 1
        if self.group is None:
            self._deliver(track.stream, msg, track.ticker)
        return True

    def _lose(self, track: _Track, reason: str, *, use_key: bool,
              tell_group: bool = False) -> None:
        """The book of ``track`` missed something: stale until a snapshot restores it.

        In a consumer group, the siblings learn of a loss from the gateway's stale
        entries (one of them gets each); ``tell_group`` is for what each of them
        must hear itself (Redis or the gateway's heartbeat gone).
        """
        if tell_group and self.group is not None and track.channel == "orderbook_delta":
            self._stale(track.stream, (), f"{reason} ({track.ticker})")
        if track.channel != "orderbook_delta":
            self._stale(track.stream, (track.ticker,) if track.ticker else None, reason)
            return
        if use_key:
            self._need_key.add(track.stream)
        if track.awaiting:
            return
        track.awaiting = True
        self.resyncs += 1
        book = self.books[track.ticker]
        book.status = BookStatus.RESYNCING
        self.log.info("book %s stale: %s", track.ticker, reason)
        if self.group is None:
            self._stale(track.stream, (track.ticker,), reason)

    async def _restore_from_keys(self) -> None:
        """Restore each waiting book from its snapshot key, and re-read from there."""
        for stream in list(self._need_key):
            track = self._tracks.get(stream)
            if track is None or not track.awaiting:
                self._need_key.discard(stream)
                continue
            try:
                raw: Any = await self._cmd.hgetall(self.names.snapshot(track.ticker))
            except _ERRORS as exc:
                raise_if_cancelled()
                self._redis_failed(exc)
                return  # try again after the next read
            self._need_key.discard(stream)
            fields: dict[bytes, bytes] = dict(raw)
            entry_id = fields.pop(b"id", None) if fields else None
            try:
                entry: Entry | None = decode_entry(fields) if fields else None
            except DecodeError:
                self.decode_errors += 1
                entry = None
            alive = self._current_epoch()  # only the live gateway's snapshot is current
            usable = (entry is not None and entry_id is not None and entry.kind == SNAPSHOT
                      and entry_id != track.tried_id and alive is not None
                      and entry.epoch == alive)
            if not usable:
                if stream not in self._cursors:  # a newcomer without a usable key
                    self._cursors[stream] = b"0-0"
                continue  # wait for the next snapshot entry on the stream
            assert entry is not None and entry_id is not None
            if self._apply_snapshot(track, entry, self.books[track.ticker], from_key=True):
                track.tried_id = entry_id
                self._cursors[stream] = entry_id

    def _current_epoch(self) -> str | None:
        health = self.health
        epoch = health.get("epoch") if health else None
        return epoch if isinstance(epoch, str) else None

    def _handle_other(self, track: _Track, entry: Entry) -> None:
        if (track.epoch == entry.epoch and track.version is not None
                and entry.version != track.version + 1):
            self.gaps += 1
            self._stale(track.stream, (track.ticker,) if track.ticker else None,
                        f"missed {entry.version - track.version - 1} entries")
        elif track.epoch is not None and entry.epoch != track.epoch:
            self.epochs += 1
        track.epoch, track.version = entry.epoch, entry.version
        if entry.kind == STALE:
            self.stale_markers += 1
            if self.group is None:
                self._stale(track.stream, (track.ticker,) if track.ticker else None,
                            entry.reason)
            return
        if self.group is not None:
            return
        try:
            msg = decode_message(entry)
        except DecodeError as exc:
            self.decode_errors += 1
            self._stale(track.stream, None, f"undecodable entry: {exc}")
            return
        self._deliver(track.stream, msg, ticker_of(msg))

    # --- consumer group ------------------------------------------------------------------

    async def _group_reader(self) -> None:
        """``XREADGROUP``: first this consumer's unacknowledged entries, then new ones;
        now and then, entries a dead sibling left pending (``XAUTOCLAIM``)."""
        assert self._grp is not None and self.group is not None and self.consumer is not None
        created: set[str] = set()
        backoff = 0.05
        claim_every = max(0.05, self.claim_idle_ms / 2000)
        next_claim = time.monotonic() + claim_every
        while not self._closed:
            streams = dict(self._group_streams)
            if not streams:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                for stream in streams.keys() - created:
                    try:
                        await self._grp.xgroup_create(stream, self.group, id="$", mkstream=True)
                    except ResponseError as exc:
                        if "BUSYGROUP" not in str(exc):
                            raise
                    created.add(stream)
                wanted: Any = streams
                reply: Any = await self._grp.xreadgroup(self.group, self.consumer, wanted,
                                                        count=self.batch, block=self.block_ms)
                for raw_stream, items in reply or ():
                    stream = (raw_stream.decode() if isinstance(raw_stream, bytes)
                              else raw_stream)
                    if streams[stream] != b">" and not items:
                        self._group_streams[stream] = b">"  # pending ones are done
                        continue
                    ids = await self._deliver_and_ack(stream, items)
                    if streams[stream] != b">" and ids:
                        self._group_streams[stream] = ids[-1]
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + claim_every
                    for stream in created:
                        await self._claim(stream)
            except ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis lost the group (restart): create it again
                    created.clear()
                    continue
                self._group_failed(exc, created)
                await self._sleep(backoff)
                backoff = min(1.0, backoff * 2)
                continue
            except _ERRORS as exc:
                raise_if_cancelled()
                self._group_failed(exc, created)
                await self._sleep(backoff)
                backoff = min(1.0, backoff * 2)
                continue
            backoff = 0.05
            await asyncio.sleep(0)

    def _group_failed(self, exc: BaseException, created: set[str]) -> None:
        self.redis_errors += 1
        created.clear()
        self.log.warning("redis group read failed: %s", exc)

    async def _deliver_and_ack(self, stream: str, items: Any) -> list[bytes]:
        """Hand entries to the subscriptions, then acknowledge them (after, not before)."""
        assert self._grp is not None and self.group is not None
        ids: list[bytes] = []
        for entry_id, fields in items:
            if fields:  # a pending entry trimmed since comes back empty
                self._group_deliver(stream, fields)
            ids.append(entry_id)
        if ids:
            await self._grp.xack(stream, self.group, *ids)
            self.acked += len(ids)
        return ids

    async def _claim(self, stream: str) -> None:
        """Take over the entries a sibling read but never acknowledged (it died)."""
        assert self._grp is not None and self.group is not None and self.consumer is not None
        start: Any = b"0-0"
        for _ in range(100):  # bounded: at most 100 pages a round
            reply: Any = await self._grp.xautoclaim(stream, self.group, self.consumer,
                                                    self.claim_idle_ms, start_id=start,
                                                    count=self.batch)
            start, items = reply[0], reply[1]
            self.claimed += len(items)
            await self._deliver_and_ack(stream, items)
            if start in (b"0-0", "0-0"):
                return

    def _group_deliver(self, stream: str, fields: dict[bytes, bytes]) -> None:
        entry = self._decode(fields)
        if entry is None:
            return
        track = self._tracks.get(stream)
        if track is None:
            return
        if entry.kind == STALE:
            # Siblings share the entries: the marker names the market in its reason and
            # leaves the book deltas flowing (a snapshot may go to a sibling).
            self._stale(stream, () if track.channel == "orderbook_delta" else None,
                        f"{entry.reason} ({track.ticker or track.channel})")
            return
        try:
            msg = decode_message(entry)
        except DecodeError:
            self.decode_errors += 1
            return
        self._deliver(stream, msg, ticker_of(msg))

    # --- gateway health --------------------------------------------------------------------

    async def _watch_heartbeat(self) -> None:
        while not self._closed:
            try:
                raw = await self._cmd.get(self.names.heartbeat)
            except _ERRORS:
                raise_if_cancelled()
                raw = None
                self.redis_errors += 1
            health = None
            if raw is not None:
                try:
                    value = json.loads(raw)
                    health = value if isinstance(value, dict) else None
                except ValueError:
                    health = None
            before = self.health
            self.health = health
            if health is None and before is not None:
                self.heartbeat_expiries += 1
                self.log.warning("gateway heartbeat expired")
                for track in self._tracks.values():
                    self._lose(track, "gateway heartbeat expired", use_key=False,
                               tell_group=True)
            elif health is not None and (before is None
                                         or before.get("epoch") != health.get("epoch")):
                for track in self._tracks.values():
                    if track.channel != "orderbook_delta":
                        continue
                    book = self.books[track.ticker]
                    if track.awaiting:
                        self._need_key.add(track.stream)
                    elif book.status is BookStatus.STALE:
                        if track.epoch == health.get("epoch"):  # nothing missed: live again
                            book.status = BookStatus.SYNCED
                        else:
                            self._lose(track, "gateway restarted", use_key=True)
            self._health_checked.set()
            await self._sleep(self.heartbeat_check)

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self._stop, seconds)
