"""The streaming client: one socket, local books, margin state, REST behind it.

::

    async with Client(Credentials.from_env(), env="demo") as client:
        async for update in client.subscribe(Books(("KXBTCPERP",))):
            book = client.book("KXBTCPERP")

``Client`` composes the pieces: the Sans-I/O :class:`~.core.session.Session`
(subscriptions, sequencing, books), the :class:`~.router.Router` it hands every
data message to (channel and market already known), the reconnect loop
(:mod:`.runner`: reader, the one writer, the one watchdog) over a transport, the
REST client (reconciliation, backfills, and polling while the socket is down)
and the margin state. This module keeps the lifecycle, the public API and the
reactions to the session's control events. Every background task is created in
one ``asyncio.TaskGroup`` entered by ``__aenter__`` and awaited by ``__aexit__``.
A fatal error (a rejected key) ends every subscription with that error, is
raised by ``wait_connected()`` and again by ``__aexit__``.

Size: close to 500 lines because it is the public surface (each method with the
docstring users read); the data path lives in ``router``/``runner``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

import aiohttp

from ..config import Endpoints, Limits, Timeouts
from ..core.auth import Credentials
from ..core.backoff import Backoff
from ..core.book import BookStatus, OrderBook
from ..core.events import (
    ChannelLost,
    ChannelSubscribed,
    CommandFailed,
    Event,
    FrameError,
    Gap,
    NeedsBackfill,
    Resyncing,
    Routed,
)
from ..core.margin.state import MarginSnapshot, MarginState
from ..core.messages import OrderbookSnapshot, OrderbookSnapshotBody
from ..core.session import Session
from ..exceptions import ClientClosed, CommandRejected, KalshiError
from ..rest import RestClient
from ..rest.ratelimit import RateLimits
from .latency import Histogram, LatencySummary
from .margins import LiveMargins
from .rest_sync import RestSync
from .router import Router
from .runner import ConnectionState, StreamRunner
from .subscriptions import Spec, Stale, Subscription, ticker_of
from .transport import TransportName, make_transport

if TYPE_CHECKING:  # --- recorder hook ---
    from .tap import ManagedTap

__all__ = ["Client", "ClientStats"]

_TIMEOUTS = Timeouts()
_LIMITS = Limits()
PERMANENT_SUBSCRIBE_ERRORS = frozenset({2, 3, 8, 9, 11, 14, 26})
"""Subscribe errors that will not go away by asking again (bad params, auth, limits);
any other (18 timeout, 27 rate, 10/17/25 channel trouble) is retried with backoff."""
_STATE_CHANNELS = frozenset({"fill", "user_orders", "order_group_updates", "ticker"})
"""Channels whose messages also update the margin state."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of the client's counters (see ``Client.statistics``)."""

    state: str
    frames: int
    by_type: dict[str, int]
    decode_errors: int
    unknown: int
    gaps: int
    duplicates: int
    resyncs: int
    desyncs: int
    reconnects: int
    connections: int
    backfills: int
    reconciliations: int
    rest_polls: int
    rest_errors: int
    """REST reads by the background worker that failed (retried on its next round)."""
    subscriptions: dict[str, dict[str, int]]
    """Per subscription (``channel#n``): delivered, missed, overflows, queue high-water mark."""
    data_silences: int
    """Times the books went quiet on a live connection and were resynced in band."""
    processing_us: LatencySummary
    """Time in the core per frame: decode, sequence, apply, route."""
    exchange_to_receive_us: LatencySummary
    """``sending_ts_ms`` → our receive (clock skew included; ms resolution)."""


class Client:
    """A reconnecting, multiplexed margin WebSocket client (see module docstring).

    Args:
        credentials: API key id and private key; the handshake is always signed.
        env: ``"demo"`` or ``"prod"`` (Kalshi's hosts), unless both URLs are given.
        rest_url, ws_url: explicit endpoints (the local simulator, a proxy).
        transport: ``"aiohttp"`` (default, fastest) or ``"websockets"``.
        timeouts, limits, rate_limits: tunables (``config.py``, ``rest.RateLimits``).
        rest_fallback: poll REST for books and account while the socket is down.
        reconcile: read the account over REST at start, after reconnects, periodically.
        logger: defaults to ``logging.getLogger("kalshi_margin_stream.stream.runner")``.
        recorder: records every raw frame, command and connection event
            (``recording.Recorder``); started on enter, flushed and closed on exit.
    """

    def __init__(self, credentials: Credentials, *, env: Literal["demo", "prod"] = "demo",
                 rest_url: str | None = None, ws_url: str | None = None,
                 transport: TransportName = "aiohttp", timeouts: Timeouts = _TIMEOUTS,
                 limits: Limits = _LIMITS, rate_limits: RateLimits | None = None,
                 rest_fallback: bool = True, reconcile: bool = True,
                 logger: logging.Logger | None = None,
                 recorder: ManagedTap | None = None) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a Credentials (see Credentials.from_env)")
        base = Endpoints.for_env(env)
        self.endpoints = Endpoints(rest_url=rest_url or base.rest_url,
                                   ws_url=ws_url or base.ws_url)
        self.credentials = credentials
        self.timeouts = timeouts
        self.limits = limits
        self.log = logger or logging.getLogger("kalshi_margin_stream.stream.runner")
        self.router = Router(taps={channel: self._apply_state for channel in _STATE_CHANNELS})
        self.session = Session(sink=self.router.deliver)
        self.margin_state = MarginState()
        self.backoff = Backoff(limits.backoff_initial, limits.backoff_max)
        """The one retry policy: reconnects (key ``None``) and resubscribes (by channel)."""
        self._transport_name = transport
        self._rate_limits = rate_limits
        self._rest_fallback = rest_fallback
        self._reconcile = reconcile
        self._stack: AsyncExitStack | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._rest: RestClient | None = None
        self._runner: StreamRunner | None = None
        self._sync: RestSync | None = None
        self._connected = asyncio.Event()
        self._fatal: KalshiError | None = None
        self._closed = False
        self._close_task: asyncio.Future[None] | None = None
        self._entered = False
        self._sub_counter = 0
        self._recorder = recorder

    # --- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("a Client can be entered only once")
        self._entered = True
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            http = await stack.enter_async_context(aiohttp.ClientSession())
            rest_kw: dict[str, Any] = {"base_url": self.endpoints.rest_url, "session": http}
            if self._rate_limits is not None:
                rest_kw["rate_limits"] = self._rate_limits
            self._rest = await stack.enter_async_context(RestClient(self.credentials,
                                                                    **rest_kw))
            transport = make_transport(
                self._transport_name, session=http, connect_timeout=self.timeouts.connect,
                ping_interval=self.timeouts.ping_interval, close_timeout=self.timeouts.close,
                max_message_size=self.limits.max_message_size,
                compression=self.limits.compression)
            self._runner = StreamRunner(
                session=self.session, transport=transport, credentials=self.credentials,
                ws_url=self.endpoints.ws_url, on_events=self._control_all,
                on_state=self._on_state, timeouts=self.timeouts, limits=self.limits,
                logger=self.log, backoff=self.backoff, router=self.router,
                tap=self._recorder)
            if self._recorder is not None:  # --- recorder hook ---
                self._recorder.start()
                stack.push_async_callback(self._recorder.aclose)
            self._sync = RestSync(self._rest, self.session, self.margin_state, self.limits,
                                  logger=self.log, reconcile=self._reconcile,
                                  fallback=self._rest_fallback, deliver=self._deliver_rest)
            self.router.taps["trade"] = self._sync.note_trade
            self._tg = await stack.enter_async_context(asyncio.TaskGroup())
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self._spawn(self._runner.run(), "ws")
        self._spawn(self._sync.run(self._runner), "rest-sync")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()
        if self._fatal is not None and exc is None:
            raise self._fatal

    async def aclose(self) -> None:
        """Close every subscription, the socket and the REST session; idempotent.

        Safe to call from a callback (a task the client owns): the close then goes
        on without waiting for that task, which it cancels, and ``__aexit__`` waits
        for it. A second call, or one interrupted midway, waits for the same close.
        """
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close())
        if asyncio.current_task() in self._tasks:
            return
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._closed = True
        if self._fatal is not None:
            self.router.fail_all(self._fatal)
        else:
            self.router.finish_all()
        for task in self._tasks:
            task.cancel()
        if self._runner is not None:
            await self._runner.close()
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()
        if self._runner is not None:
            self._runner.state = ConnectionState.CLOSED

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        assert self._tg is not None
        task = self._tg.create_task(self._guard(coro), name=name)
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[Any]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _guard(self, coro: Awaitable[None]) -> None:
        """Run a background task; a KalshiError from it is fatal for the client."""
        try:
            await coro
        except KalshiError as exc:
            self._fail(exc)

    def _fail(self, exc: KalshiError) -> None:
        if self._fatal is None:
            self._fatal = exc
            self.log.error("fatal: %s", exc)
        self.router.fail_all(exc)
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self._connected.set()  # wake wait_connected() so it can raise

    def _check_open(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._closed or not self._entered:
            raise ClientClosed("the client is closed" if self._closed
                               else "use 'async with Client(...)' first")

    # --- public API ----------------------------------------------------------------

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the socket is up (raises the fatal error if there is one)."""
        self._check_open()
        async with asyncio.timeout(timeout):
            await self._connected.wait()
        if self._fatal is not None:
            raise self._fatal

    def subscribe(self, spec: Spec[T]) -> Subscription[T]:
        """Start receiving ``spec``'s updates; channels are shared on one socket.

        Consume with ``async for update in sub`` or, a list at a time, with
        ``async for batch in sub.batches()``.
        """
        return self._subscribe(spec, None)

    def _subscribe(self, spec: Spec[T], callback: Callable[[T | Stale], object] | None
                   ) -> Subscription[T]:
        self._check_open()
        sub: Subscription[T] = Subscription(spec, queue=self.limits.queue,
                                            on_close=self._unsubscribe,
                                            on_overflow=self._overflowed, callback=callback)
        self._sub_counter += 1
        sub.name = f"{spec.channel}#{self._sub_counter}"
        self.router.add(sub)
        if spec.channel == "orderbook_delta":
            self._snapshot_for_newcomer(sub)
        self.session.subscribe([spec.channel], tickers=spec.tickers,
                               send_initial_snapshot=spec.channel == "ticker")
        self._wake_writer()
        return sub

    def _snapshot_for_newcomer(self, sub: Subscription[Any]) -> None:
        """Books already streaming send no new snapshot: build one from the local book.

        Its ``seq`` is 0 (made here, not by the exchange); deltas follow as usual.
        """
        ch = self.session.channel("orderbook_delta")
        for ticker in sub.spec.tickers or ():
            book = self.session.books.get(ticker)
            if book is None or book.status not in (BookStatus.SYNCED, BookStatus.REST):
                continue  # its snapshot is on the way and will reach this consumer too
            sub.offer(OrderbookSnapshot(
                sid=ch.sid if ch is not None and ch.sid is not None else 0, seq=0,
                msg=OrderbookSnapshotBody(market_ticker=ticker, bid=book.bids(),
                                          ask=book.asks())), ticker)

    def on(self, spec: Spec[T], callback: Callable[[T | Stale], Awaitable[None] | None]
           ) -> Subscription[T]:
        """Call ``callback`` for each update of ``spec`` (``Stale`` markers included).

        A plain function is called **inline, on the socket reader**, without a
        queue: it must not block (no I/O, no heavy work), since the whole stream
        waits for it; it is the fastest way to react. An ``async def`` callback is
        awaited in a task the client owns, fed by the subscription's bounded queue.
        An exception from the callback ends that subscription (logged; see
        ``Subscription.error``), never the stream.
        """
        if not inspect.iscoroutinefunction(callback):
            return self._subscribe(spec, callback)
        sub = self.subscribe(spec)

        async def pump() -> None:
            async for item in sub:
                try:
                    await callback(item)
                except Exception as exc:
                    self.log.exception("%s: callback failed; subscription ended", sub.name)
                    sub.fail(exc)
                    self._unsubscribe(sub)
                    return

        self._spawn(pump(), f"callback:{spec.channel}")
        return sub

    async def reconcile(self) -> None:
        """Read balance, positions, open orders, fills and groups over REST now.

        The client does this by itself at start, after every reconnect and every
        ``Limits.reconcile_interval``; call it to be sure before a decision.
        """
        self._check_open()
        assert self._sync is not None
        await self._sync.reconcile()

    def book(self, ticker: str) -> OrderBook | None:
        """The local book of ``ticker`` (check ``book.status`` before trusting it)."""
        return self.session.books.get(ticker)

    @property
    def margin(self) -> MarginSnapshot:
        """An immutable snapshot of balances, positions, orders and margin."""
        return self.margin_state.snapshot()

    @property
    def margins(self) -> LiveMargins:
        """Pre-trade order and basket margins on the live state (:mod:`.margins`)."""
        view: LiveMargins | None = getattr(self, "_margins_view", None)
        if view is None:
            view = self._margins_view = LiveMargins(self)
        return view

    @property
    def rest(self) -> RestClient:
        """The REST client sharing this client's HTTP session."""
        self._check_open()
        assert self._rest is not None
        return self._rest

    @property
    def state(self) -> ConnectionState:
        return self._runner.state if self._runner else ConnectionState.DISCONNECTED

    def statistics(self) -> ClientStats:
        s = self.session.stats
        runner, sync = self._runner, self._sync
        subs = {sub.name: {
            "delivered": sub.delivered, "missed": sub.missed_total,
            "overflows": sub.overflows, "high_water": sub.high_water}
            for sub in self.router.all()}
        return ClientStats(
            state=self.state.value, frames=s.frames, by_type=dict(s.by_type),
            decode_errors=s.decode_errors, unknown=s.unknown, gaps=s.gaps,
            duplicates=s.duplicates, resyncs=s.resyncs, desyncs=s.desyncs,
            reconnects=runner.reconnects if runner else 0,
            connections=runner.connections if runner else 0,
            backfills=sync.backfills if sync else 0,
            reconciliations=sync.reconciliations if sync else 0,
            rest_polls=sync.polls if sync else 0, rest_errors=sync.errors if sync else 0,
            subscriptions=subs,
            data_silences=runner.data_silences if runner else 0,
            processing_us=(runner.processing if runner else Histogram()).summary(),
            exchange_to_receive_us=self.router.latency.summary())

    # --- internals ----------------------------------------------------------------

    @property
    def data_silences(self) -> int:
        """Times the books went quiet on a live connection and were resynced in band."""
        return self._runner.data_silences if self._runner else 0

    def _wake_writer(self) -> None:
        if self._runner is not None:
            self._runner.wake()

    def _apply_state(self, msg: Any) -> None:
        """The router's tap for account and ticker channels: the margin state first."""
        self.margin_state.apply_message(msg)

    def _unsubscribe(self, sub: Subscription[Any]) -> None:
        channel = sub.spec.channel
        emptied = self.router.remove(sub)
        if self._closed:
            return
        if emptied:
            self.session.unsubscribe(channel)
        elif channel == "orderbook_delta":
            gone = set(sub.spec.tickers or ()) - self.router.tickers(channel)
            if gone:
                self.session.unsubscribe(channel, tickers=gone)
        self._wake_writer()

    def _overflowed(self, sub: Subscription[Any]) -> None:
        self.log.warning("%s: consumer too slow, queue full", sub.name)
        if sub.spec.channel == "orderbook_delta":
            for event in self.session.request_resync(sub.spec.tickers,
                                                     reason="consumer overflow"):
                # The other consumers of these books lose deltas too: tell them.
                if isinstance(event, Resyncing):
                    self.router.mark_stale(event.channel, event.tickers, event.reason,
                                           skip=sub)
            self._wake_writer()
        elif self._sync is not None and sub.spec.channel in _STATE_CHANNELS - {"ticker"}:
            self._sync.request_backfill(sub.spec.channel, sub.spec.tickers, "consumer overflow")

    def _control_all(self, events: list[Event]) -> None:
        """The session's control events (data messages went to the router already)."""
        for event in events:
            if type(event) is Routed:
                self.router.deliver(event.channel, event.ticker, event.msg)
            else:
                self._control(event)

    def _on_state(self, state: ConnectionState) -> None:
        was_connected = self._connected.is_set() and self._fatal is None
        if state is ConnectionState.CONNECTED:
            self._connected.set()
            if self._sync is not None:
                self._sync.connected()
            return
        if self._fatal is None:
            self._connected.clear()
        if state is ConnectionState.DISCONNECTED and self._sync is not None:
            self._sync.disconnected()
            if was_connected:
                self.router.mark_all_stale("disconnected")

    def _control(self, event: Event) -> None:
        if isinstance(event, Resyncing):
            self.log.info("resync %s %s: %s", event.channel, ",".join(event.tickers),
                          event.reason)
            self.router.mark_stale(event.channel, event.tickers, event.reason)
        elif isinstance(event, ChannelSubscribed):
            self.backoff.reset(("subscribe", event.channel))
        elif isinstance(event, Gap):
            self.log.warning("gap on %s sid %d: expected seq %d, got %d", event.channel,
                             event.sid, event.expected, event.got)
        elif isinstance(event, NeedsBackfill):
            self.router.mark_stale(event.channel, event.tickers, event.reason)
            if self._sync is not None:
                self._sync.request_backfill(event.channel, event.tickers, event.reason)
        elif isinstance(event, ChannelLost):
            self.log.warning("%s sid %d lost: error %d %s", event.channel, event.sid,
                             event.code, event.message)
            if event.channel == "ticker":  # the others get Resyncing / NeedsBackfill
                self.router.mark_stale(event.channel, None, f"error {event.code}")
        elif isinstance(event, CommandFailed):
            self.log.warning("command %s failed: %d %s", event.cmd_id, event.code,
                             event.message)
            if event.command == "subscribe" and event.channel in self.router.routes:
                if event.code in PERMANENT_SUBSCRIBE_ERRORS:
                    err = CommandRejected(event.code, event.message, cmd_id=event.cmd_id)
                    self.router.fail(event.channel, err)
                    self.session.unsubscribe(event.channel)
                else:  # a timeout, a rate limit, a channel error: try again shortly
                    self._spawn(self._resubscribe_later(event.channel),
                                f"resubscribe:{event.channel}")
        elif isinstance(event, FrameError):
            self.log.warning("undecodable frame (%s) at %s: %s", event.type, event.path,
                             event.reason)

    async def _resubscribe_later(self, channel: str) -> None:
        """Subscribe again after the client's backoff (reset once the channel is back)."""
        await asyncio.sleep(self.backoff.next_delay(("subscribe", channel)))
        self.session.retry_subscribe(channel)
        self._wake_writer()

    def _deliver_rest(self, channel: str, msg: Any) -> None:
        """Deliver data that REST produced (backfilled trades) as if it came by socket."""
        self.router.offer(channel, ticker_of(msg), msg)
