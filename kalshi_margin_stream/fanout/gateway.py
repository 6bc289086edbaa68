"""The gateway: one Kalshi connection, published to Redis Streams for many consumers.

::

    async with Client(creds) as client, Gateway(client, "redis://host:6379/0",
                                                 channels=["orderbook_delta", "trade"],
                                                 markets=["KXBTCPERP"]):
        await asyncio.Event().wait()

The gateway subscribes through the client's public API (so it keeps every
reconnect/resync behaviour of the client), keeps its own mirror of each book
(built from the very messages it publishes, so a periodic snapshot is exactly
consistent with the entries before it) and hands entries to the
:class:`~.publisher.Publisher`, which never makes it wait. A heartbeat key with a
TTL carries the epoch and the statistics; it also watches Redis's ``run_id`` so
a restarted or failed-over Redis (whose snapshots may be gone or old) gets fresh
snapshots at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from redis.exceptions import RedisError

from ..core.book import BookStatus, OrderBook
from ..core.messages import CHANNELS, OrderbookDelta, OrderbookSnapshot
from ..exceptions import BookDesync
from ..stream.client import Client, ClientStats
from ..stream.specs import SPECS
from ..stream.subscriptions import Stale, Subscription, ticker_of
from .connect import open_redis, raise_if_cancelled, sleep_unless, stop_tasks
from .entries import MESSAGE, SNAPSHOT, STALE, apply_to_book, book_snapshot, encode_message
from .entries import exchange_ts_ms as _exchange_ts
from .names import MARKET_STREAMS, StreamNames
from .publisher import Publisher, PublisherStats

__all__ = ["Gateway", "GatewayStats", "SPECS", "new_epoch"]


def new_epoch() -> str:
    """A fresh gateway-run id: start time (ms, hex) and 32 random bits."""
    return f"{time.time_ns() // 1_000_000:x}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class GatewayStats:
    epoch: str
    published: int
    """Updates handed to the publisher (messages, snapshots, stale markers)."""
    snapshots: int
    """Book snapshots published (the exchange's, periodic ones, repairs)."""
    upstream_stale: int
    """Stale markers the client delivered (gaps, reconnects...), passed on."""
    mirror_desyncs: int
    redis_restarts: int
    """Times Redis was seen with a new run_id (restart, failover)."""
    heartbeat_errors: int
    publisher: PublisherStats
    client: ClientStats


class Gateway:
    """Publish a client's updates to Redis Streams (see module docstring).

    Args:
        client: an entered :class:`~.stream.client.Client` (the gateway subscribes on it).
        redis_url: where to publish.
        channels: channels to publish (``orderbook_delta``, ``trade``, ``ticker``, ``fill``,
            ``user_orders``, ``order_group_updates``).
        markets: market tickers (required for ``orderbook_delta``).
        prefix: stream name prefix (one per account).
        maxlen: approximate ``MAXLEN`` of each stream (size it from the message rate:
            README, "Fan-out").
        buffer, batch: the publisher's bounded buffer and pipeline size.
        snapshot_interval: seconds between periodic book snapshots.
        heartbeat_interval, heartbeat_ttl: the health key's refresh and expiry (seconds).
        redis_timeout: bound on one Redis round trip (a stalled Redis drops entries after it).
    """

    def __init__(self, client: Client, redis_url: str, *, channels: Sequence[str],
                 markets: Sequence[str] | None = None, prefix: str = "kms",
                 maxlen: int = 100_000, buffer: int = 50_000, batch: int = 512,
                 snapshot_interval: float = 5.0, heartbeat_interval: float = 1.0,
                 heartbeat_ttl: float | None = None, redis_timeout: float = 2.0,
                 epoch: str | None = None, logger: logging.Logger | None = None) -> None:
        bad = [c for c in channels if c not in CHANNELS]
        if bad or not channels:
            raise ValueError(f"unknown channels {bad}: choose among {', '.join(CHANNELS)}"
                             if bad else "give at least one channel")
        if "orderbook_delta" in channels and not markets:
            raise ValueError("orderbook_delta needs markets")
        if snapshot_interval <= 0 or heartbeat_interval <= 0:
            raise ValueError("intervals must be > 0")
        if epoch is not None and (not epoch or not epoch.isprintable() or " " in epoch):
            raise ValueError(f"bad epoch {epoch!r}: printable, no spaces")
        self.client = client
        self.redis_url = redis_url
        self.channels = tuple(dict.fromkeys(channels))
        self.markets = tuple(dict.fromkeys(markets or ()))
        self.names = StreamNames(prefix)
        self.epoch = epoch or new_epoch()
        self.snapshot_interval = snapshot_interval
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_ttl = heartbeat_ttl or 3 * heartbeat_interval
        self.log = logger or logging.getLogger("kalshi_margin_stream.fanout")
        self.redis = open_redis(redis_url, timeout=redis_timeout)
        self.publisher = Publisher(self.redis, epoch=self.epoch, maxlen=maxlen, buffer=buffer,
                                   batch=batch, on_lost=self._republish, logger=self.log)
        self.mirror: dict[str, OrderBook] = {t: OrderBook(t) for t in self.markets}
        self._book_stream = {self.names.book(t): t for t in self.markets}
        self._subs: list[Subscription[Any]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._run_id: str | None = None
        self._stop = asyncio.Event()
        self._failed = asyncio.Event()
        self.failure: BaseException | None = None
        """Why a subscription's pump ended (the client's fatal error, a bug): the gateway
        then stops heartbeating, so consumers see it dead instead of quiet."""
        self.redis_timeout = redis_timeout
        self.published = self.snapshots = self.upstream_stale = 0
        self.mirror_desyncs = self.redis_restarts = self.heartbeat_errors = 0

    async def __aenter__(self) -> Self:
        markets = self.markets or None
        for channel in self.channels:
            spec = SPECS[channel](markets if channel in MARKET_STREAMS else None)
            self._subs.append(self.client.subscribe(spec))
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self.publisher.run(), name="fanout-writer"),
                       loop.create_task(self._heartbeat(), name="fanout-heartbeat")]
        if "orderbook_delta" in self.channels:
            self._tasks.append(loop.create_task(self._periodic_snapshots(),
                                                name="fanout-snapshots"))
        self._tasks += [loop.create_task(self._pump(sub), name=f"fanout-{sub.spec.channel}")
                        for sub in self._subs]
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self, drain_timeout: float = 2.0) -> None:
        """Stop publishing: flush what is buffered (bounded), remove the heartbeat."""
        try:
            for sub in self._subs:
                await sub.aclose()
            await self.publisher.drain(drain_timeout)
        finally:  # the loops stop and the pool closes even if the client failed
            self._stop.set()
            self.publisher.stop()
            tasks, self._tasks = self._tasks, []
            # Each loop ends after its Redis call in flight (bounded by redis_timeout);
            # cancelling mid-call stays the fallback.
            await stop_tasks(tasks, grace=self.redis_timeout + 0.5, log=self.log)
            try:
                async with asyncio.timeout(drain_timeout):
                    await self.redis.delete(self.names.heartbeat)
            except (RedisError, OSError, TimeoutError):
                pass
            await self.redis.aclose()

    # --- the pump (one task per subscription; never waits on Redis) ------------------

    async def wait_failed(self) -> BaseException:
        """Return once a pump has failed (see :attr:`failure`)."""
        await self._failed.wait()
        assert self.failure is not None
        return self.failure

    async def _pump(self, sub: Subscription[Any]) -> None:
        try:
            await self._pump_items(sub)
        except Exception as exc:  # noqa: BLE001 - owned here: said, and the gateway stops
            self.log.error("publishing %s stopped: %r", sub.spec.channel, exc)
            if self.failure is None:
                self.failure = exc
            self._failed.set()
            self._stop.set()  # no more heartbeats: consumers see a dead gateway

    async def _pump_items(self, sub: Subscription[Any]) -> None:
        channel = sub.spec.channel
        publisher = self.publisher
        async for item in sub:
            publisher.repair_if_room()
            if isinstance(item, Stale):
                self._on_stale(channel, item)
                continue
            msg: Any = item
            if channel == "orderbook_delta":
                self._on_book(msg)
            else:
                self.published += 1
                publisher.publish(self.names.stream(channel, ticker_of(msg)), MESSAGE,
                                  frame=encode_message(msg), ts_ms=_exchange_ts(msg),
                                  sending_ts_ms=msg.sending_ts_ms)

    def _on_book(self, msg: OrderbookSnapshot | OrderbookDelta) -> None:
        ticker = msg.msg.market_ticker
        book = self.mirror.get(ticker)
        if book is None:
            return
        is_snapshot = type(msg) is OrderbookSnapshot
        if not is_snapshot and book.status is not BookStatus.SYNCED:
            return  # the client's fresh snapshot is on its way and supersedes it
        try:
            apply_to_book(book, msg)
        except BookDesync as exc:  # the client accepted it: should not happen
            self.mirror_desyncs += 1
            book.status = BookStatus.RESYNCING
            # Consumers wait for the next snapshot the client delivers (its next resync).
            self._publish_stale(ticker, f"gateway mirror desync: {exc.reason}")
            return
        self.published += 1
        stream = self.names.book(ticker)
        if is_snapshot:
            self.snapshots += 1
            self.publisher.publish(stream, SNAPSHOT, frame=encode_message(msg),
                                   sending_ts_ms=msg.sending_ts_ms,
                                   snapshot_key=self.names.snapshot(ticker))
        else:
            assert type(msg) is OrderbookDelta
            self.publisher.publish(stream, MESSAGE, frame=encode_message(msg),
                                   ts_ms=msg.msg.ts_ms, sending_ts_ms=msg.sending_ts_ms)

    def _on_stale(self, channel: str, stale: Stale) -> None:
        self.upstream_stale += 1
        if channel == "orderbook_delta":
            for ticker in stale.tickers or self.markets:
                book = self.mirror.get(ticker)
                if book is not None:
                    book.status = BookStatus.RESYNCING
                    self._publish_stale(ticker, stale.reason)
        elif channel in MARKET_STREAMS:
            for ticker in stale.tickers or self.markets:
                self.publisher.publish(self.names.stream(channel, ticker), STALE,
                                       reason=stale.reason)
        else:
            self.publisher.publish(self.names.stream(channel), STALE, reason=stale.reason)

    def _publish_stale(self, ticker: str, reason: str) -> None:
        self.publisher.publish(self.names.book(ticker), STALE, reason=reason)

    def publish_snapshot(self, ticker: str) -> bool:
        """Publish the mirror of ``ticker`` as a snapshot now (False if it is not synced)."""
        book = self.mirror.get(ticker)
        if book is None or book.status is not BookStatus.SYNCED:
            return False
        self.snapshots += 1
        self.published += 1
        self.publisher.publish(self.names.book(ticker), SNAPSHOT,
                               frame=encode_message(book_snapshot(book)),
                               snapshot_key=self.names.snapshot(ticker))
        return True

    def _republish(self, streams: list[str]) -> None:
        """The publisher lost entries of these streams: fresh snapshots for the books."""
        for stream in streams:
            ticker = self._book_stream.get(stream)
            if ticker is not None:
                self.publish_snapshot(ticker)

    async def _periodic_snapshots(self) -> None:
        while not self._stop.is_set():
            await self._sleep(self.snapshot_interval)
            self.publisher.repair_if_room()
            for ticker in self.markets:
                self.publish_snapshot(ticker)

    # --- health -------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        while not self._stop.is_set():
            try:
                info = await self.redis.info("server")
                run_id = str(info.get("run_id", ""))
                if self._run_id is not None and run_id != self._run_id:
                    self.redis_restarts += 1
                    self.publisher.lose_everything(f"redis run_id {run_id[:8]}")
                self._run_id = run_id
                await self.redis.set(self.names.heartbeat, self._health_json(),
                                     px=int(self.heartbeat_ttl * 1000))
            except (RedisError, OSError, TimeoutError) as exc:
                raise_if_cancelled()
                self.heartbeat_errors += 1
                self.log.debug("heartbeat failed: %s", exc)
            await self._sleep(self.heartbeat_interval)

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self._stop, seconds)

    def _health_json(self) -> bytes:
        stats = self.statistics()
        body = {"epoch": self.epoch, "ts_ms": time.time_ns() // 1_000_000,
                "channels": list(self.channels), "markets": list(self.markets),
                "interval_s": self.heartbeat_interval, **dataclasses.asdict(stats)}
        return json.dumps(body, default=str).encode()

    def statistics(self) -> GatewayStats:
        return GatewayStats(epoch=self.epoch, published=self.published,
                            snapshots=self.snapshots, upstream_stale=self.upstream_stale,
                            mirror_desyncs=self.mirror_desyncs,
                            redis_restarts=self.redis_restarts,
                            heartbeat_errors=self.heartbeat_errors,
                            publisher=self.publisher.statistics(),
                            client=self.client.statistics())
