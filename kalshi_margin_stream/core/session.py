"""The Sans-I/O protocol session of the margin WebSocket.

Theory of operation
-------------------
A :class:`Session` lives as long as the client and outlives connections. It
holds what the user *wants* (one wanted market set per channel) and what the
current connection *has* (sids, per-sid ``seq``, pending commands), and it owns
the local order books. It never does I/O: the shell feeds it frames with
:meth:`receive_frame`, tells it about connections with
:meth:`connection_opened` / :meth:`connection_lost`, and writes whatever
:meth:`data_to_send` returns.

One server subscription per channel. Kalshi merges a second ``subscribe`` of a
channel into the existing one, so the session keeps exactly one sid per channel
and changes its market set with ``update_subscription`` (``add_markets`` /
``delete_markets``). Fanning one channel out to several consumers is the
client's job.

Sequencing (see ``sequencing.py``). For ``orderbook_delta`` sids:

* a gap (or a backwards ``seq``) marks every book of the sid ``RESYNCING`` and
  queues one ``update_subscription``/``get_snapshot`` for those markets (again
  for a book already waiting: the lost frame may have been its snapshot); deltas
  of a market are discarded until its snapshot arrives;
* a delta for a book that never got its first snapshot means that snapshot was
  lost: the market is resynced the same way;
* a book update that cannot be applied (negative level, crossed book) resyncs
  that market alone, the same way;
* if the server rejects ``get_snapshot`` (or ``add_markets``/``delete_markets``)
  the session falls back to ``unsubscribe`` + ``subscribe`` (a new sid, fresh
  snapshots).

For ``trade`` and ``order_group_updates`` a gap cannot be repaired over the
socket: the session emits :class:`NeedsBackfill` and the shell reads REST.

UNCONFIRMED (websocket.md §7, §10): the ``seq`` of a snapshot sent for
``get_snapshot``. The session takes any snapshot's ``seq`` as the sid's new
baseline; a snapshot that jumps *forward* past a missing number also resyncs the
other synced books of the sid, since the missing frame may have been theirs.

Terminal errors 10, 17 and 25 on a sid kill the subscription: books go
``RESYNCING`` and a new ``subscribe`` is queued. A lost connection voids every
sid and marks every book ``STALE``; :meth:`connection_opened` queues the full
resubscription.

Delivery. Every data message is checked against the sid it came on, so the
session already knows its channel and market: with a ``sink`` the session hands
each data message to ``sink(channel, ticker, msg)`` (the shell's router) and
returns only the control events (a data message that follows control events of
the same frame comes back after them as :class:`Routed`, to keep the order);
without one (tests, replays) data messages are returned in the event list like
everything else.

Errors. Only the peer's mistakes become :class:`FrameError` (a frame that does
not decode) or a resync (a value a book cannot take, e.g. ``"NaN"``: the book
raises :class:`BookDesync`). Our own ``TypeError``/``ValueError`` propagate:
they are bugs, not traffic.

The replay (passive) mode is its own small class, :class:`~.replay.PassiveSession`.

Size: this module is over 400 lines because the command answers and the data
path share the sid table and the books; splitting them would put one state
machine in two files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import BookDesync, DecodeError
from .book import BookStatus, OrderBook
from .codec import Unknown, decode_frame
from .commands import CommandQueue, Pending
from .events import (
    ChannelLost,
    ChannelSubscribed,
    ChannelUnsubscribed,
    CommandFailed,
    Event,
    FrameError,
    Gap,
    MarketsUpdated,
    NeedsBackfill,
    Resyncing,
    Routed,
    SubscriptionsListed,
)
from .messages import (
    CHANNELS,
    ErrorMessage,
    Fill,
    OkMessage,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderGroupUpdates,
    ServerMessage,
    Subscribed,
    Ticker,
    Trade,
    Unsubscribed,
    UserOrder,
)
from .sequencing import ACCEPT, DUPLICATE, SeqTracker

__all__ = ["TERMINAL_ERROR_CODES", "ChannelState", "DataSink", "Session", "SessionStats"]

DataSink = Callable[[str, str, Any], None]
"""``sink(channel, ticker, msg)``: where data messages go when the shell routes them."""

BOOK = "orderbook_delta"
_SYNCED = BookStatus.SYNCED
_RESYNCING = BookStatus.RESYNCING
TERMINAL_ERROR_CODES = frozenset({10, 17, 25})
"""Error codes after which a subscription is dead and must be re-made."""
_BACKFILL_CHANNELS = frozenset({"trade", "order_group_updates"})


@dataclass
class ChannelState:
    """One channel's wanted markets and its current server subscription."""

    name: str
    tickers: set[str] | None
    """Wanted markets; ``None`` = every market (where the channel allows it)."""
    send_initial_snapshot: bool = False
    sid: int | None = None
    subscribing: bool = False
    """A ``subscribe`` is in flight."""
    snapshot_pending: set[str] = field(default_factory=set)
    """Markets whose ``get_snapshot`` answer is awaited."""


@dataclass
class SessionStats:
    """Counters kept by the session (the client adds transport-level ones)."""

    frames: int = 0
    deltas: int = 0
    """``orderbook_delta`` frames (counted apart: the hot path skips the dict)."""
    other_types: dict[str, int] = field(default_factory=dict)
    decode_errors: int = 0
    unknown: int = 0
    duplicates: int = 0
    gaps: int = 0
    resyncs: int = 0
    desyncs: int = 0
    orphans: int = 0
    """Frames for a sid we do not (or no longer) know."""
    skipped_awaiting_snapshot: int = 0
    """Deltas of a market that was waiting for its fresh snapshot."""
    channel_losses: int = 0

    @property
    def by_type(self) -> dict[str, int]:
        """Frames per message ``type``."""
        counts = dict(self.other_types)
        if self.deltas:
            counts["orderbook_delta"] = self.deltas
        return counts


class Session:
    """Subscriptions, sequencing and books for one logical stream (see module doc).

    Args:
        sink: ``sink(channel, ticker, msg)`` receives every data message (``None``:
            data messages are returned by :meth:`receive_frame` instead).
    """

    passive = False
    """True for :class:`~.replay.PassiveSession` (no commands, adopts what it sees)."""

    def __init__(self, *, sink: DataSink | None = None) -> None:
        self.books: dict[str, OrderBook] = {}
        self.stats = SessionStats()
        self.connected = False
        self.sink = sink
        self._channels: dict[str, ChannelState] = {}
        self._sid_channel: dict[int, ChannelState] = {}
        self._seq = SeqTracker()
        self._check_seq = self._seq.check
        self._commands = CommandQueue(enabled=not self.passive)

    # --- what the user wants ---------------------------------------------------

    def subscribe(self, channels: Sequence[str], *, tickers: Iterable[str] | None = None,
                  send_initial_snapshot: bool = False) -> None:
        """Want ``channels`` for ``tickers`` (``None`` = every market).

        Raises:
            ValueError: an unknown channel, or ``orderbook_delta`` without markets.
        """
        wanted = None if tickers is None else set(tickers)
        for name in channels:
            if name not in CHANNELS:
                raise ValueError(f"unknown channel {name!r}; expected one of {CHANNELS}")
            if name == BOOK and not wanted:
                raise ValueError("orderbook_delta needs at least one market ticker")
        fresh: list[str] = []
        for name in channels:
            ch = self._channels.get(name)
            if ch is None:
                ch = self._channels[name] = ChannelState(
                    name, None if wanted is None else set(wanted), send_initial_snapshot)
                fresh.append(name)
            elif ch.tickers is not None:
                if wanted is None:
                    ch.tickers = None
                    self._resubscribe(ch)
                else:
                    added = wanted - ch.tickers
                    ch.tickers |= added
                    self._update_markets(ch, "add_markets", added)
            if name == BOOK and wanted:
                for t in wanted:
                    self.books.setdefault(t, OrderBook(t))
        if fresh and self.connected:
            self._send_subscribe(fresh, wanted, send_initial_snapshot)

    def unsubscribe(self, channel: str, *, tickers: Iterable[str] | None = None) -> None:
        """Stop ``channel`` entirely, or only for ``tickers``."""
        ch = self._channels.get(channel)
        if ch is None:
            return
        if tickers is not None and ch.tickers is not None:
            gone = set(tickers) & ch.tickers
            ch.tickers -= gone
            if ch.tickers:
                self._update_markets(ch, "delete_markets", gone)
                self._drop_books(gone)
                return
        del self._channels[channel]
        if channel == BOOK:
            self._drop_books(set(self.books))
        if ch.sid is not None:
            # Frames still in flight for this sid are counted as orphans, not delivered.
            self._sid_channel.pop(ch.sid, None)
            self._seq.forget(ch.sid)
            if self.connected:
                self._commands.unsubscribe(ch.sid, channel)

    def request_resync(self, tickers: Iterable[str] | None = None, *,
                       reason: str = "requested") -> list[Event]:
        """Ask fresh snapshots for these books (all when ``None``), e.g. after an overflow."""
        ch = self._channels.get(BOOK)
        if ch is None:
            return []
        targets = set(self.books) if tickers is None else set(tickers) & set(self.books)
        return self._resync_books(ch, targets, reason)

    def retry_subscribe(self, channel: str) -> None:
        """Subscribe ``channel`` again after the server refused it for a passing reason."""
        ch = self._channels.get(channel)
        if ch is not None and ch.sid is None and not ch.subscribing and self.connected:
            self._send_subscribe([channel], ch.tickers, ch.send_initial_snapshot)

    def list_subscriptions(self) -> int:
        """Queue ``list_subscriptions``; returns the command id."""
        return self._commands.list_subscriptions()

    def channel(self, name: str) -> ChannelState | None:
        """The state of one channel, if wanted."""
        return self._channels.get(name)

    @property
    def channels(self) -> tuple[str, ...]:
        """The wanted channels."""
        return tuple(self._channels)

    # --- connection lifecycle --------------------------------------------------

    def connection_opened(self) -> None:
        """A new connection is up: queue the subscription of every wanted channel."""
        self.connected = True
        self._reset_connection_state()
        groups: dict[tuple[frozenset[str] | None, bool], list[str]] = {}
        for ch in self._channels.values():
            key = (None if ch.tickers is None else frozenset(ch.tickers),
                   ch.send_initial_snapshot)
            groups.setdefault(key, []).append(ch.name)
        for (tickers, initial), names in groups.items():
            self._send_subscribe(names, None if tickers is None else set(tickers), initial)

    def connection_lost(self) -> None:
        """The connection is gone: every sid is void, every book stale."""
        self.connected = False
        self._reset_connection_state()
        for book in self.books.values():
            book.status = BookStatus.STALE

    def _reset_connection_state(self) -> None:
        self._sid_channel.clear()
        self._seq.reset()
        self._commands.reset()
        for ch in self._channels.values():
            ch.sid = None
            ch.subscribing = False
            ch.snapshot_pending.clear()

    @property
    def outbox(self) -> list[bytes]:
        """The frames waiting to be sent, as a live list: truthy when there is work."""
        return self._commands.outbox

    def data_to_send(self) -> list[bytes]:
        """Frames queued for the server, oldest first (and forget them)."""
        return self._commands.take()

    # --- frames from the server --------------------------------------------------

    def receive_frame(self, frame: bytes | str) -> list[Event]:
        """Decode, sequence and apply one text frame; returns what happened.

        Only a frame that does not decode becomes a :class:`FrameError`; any other
        exception from here is a bug of ours and propagates.
        """
        stats = self.stats
        stats.frames += 1
        try:
            msg = decode_frame(frame)
        except DecodeError as exc:
            return self._frame_error(exc)
        if type(msg) is OrderbookDelta:  # the hot path first
            stats.deltas += 1
            return self._on_delta(msg)
        return self._dispatch(msg)

    def _emit(self, channel: str, ticker: str, msg: Any, events: list[Event]) -> list[Event]:
        """Hand a data message to the sink, or append it after ``events`` (see ``Routed``)."""
        sink = self.sink
        if sink is None:
            events.append(msg)
        elif events:
            events.append(Routed(channel, ticker, msg))
        else:
            sink(channel, ticker, msg)
        return events

    def _dispatch(self, msg: ServerMessage | Unknown) -> list[Event]:
        stats = self.stats
        if type(msg) is Unknown:
            stats.unknown += 1
            by_type = stats.other_types
            by_type[msg.type] = by_type.get(msg.type, 0) + 1
            return [msg]
        by_type = stats.other_types
        name = _TYPE_NAMES[type(msg)]
        by_type[name] = by_type.get(name, 0) + 1
        return _HANDLERS[type(msg)](self, msg)

    def _frame_error(self, exc: DecodeError) -> list[Event]:
        self.stats.decode_errors += 1
        events: list[Event] = [FrameError(exc.reason, exc.path, exc.type, exc.sid)]
        ch = self._sid_channel.get(exc.sid) if exc.sid is not None else None
        if ch is not None and exc.type in _SEQUENCED_TYPES:
            # A sequenced frame we could not read is a lost frame: repair like a gap.
            events.extend(self._after_gap(ch, reason=f"undecodable {exc.type} frame"))
        return events

    def _channel_for(self, sid: int, msg: ServerMessage) -> ChannelState | None:
        ch = self._sid_channel.get(sid)
        if ch is None:
            return self._unknown_sid(sid, msg)
        return ch

    def _unknown_sid(self, sid: int, msg: ServerMessage) -> ChannelState | None:
        """A data frame for a sid we do not (or no longer) know: an orphan."""
        self.stats.orphans += 1
        return None

    def _on_delta(self, msg: OrderbookDelta) -> list[Event]:
        sid = msg.sid
        ch = self._sid_channel.get(sid)
        if ch is None:
            ch = self._unknown_sid(sid, msg)
            if ch is None:
                return []
        verdict = self._check_seq(sid, msg.seq)  # the one seq rule (sequencing.py)
        if verdict:
            return self._not_in_order(ch, sid, msg.seq, verdict)
        body = msg.msg
        ticker = body.market_ticker
        book = self.books.get(ticker)
        if book is None or book.status is not _SYNCED:  # the one snapshot gate
            self.stats.skipped_awaiting_snapshot += 1
            if book is not None and book.status is not _RESYNCING:
                return self._lost_first_snapshot(ch, ticker)
            return []
        try:
            book.apply_delta(body.side, body.price_text, body.delta_text)
        except BookDesync as exc:
            self.stats.desyncs += 1
            return self._resync_books(ch, {ticker}, f"desync: {exc.reason}")
        book.last_update = msg
        sink = self.sink
        if sink is None:
            return [msg]
        sink(BOOK, ticker, msg)
        return []

    def _lost_first_snapshot(self, ch: ChannelState, ticker: str) -> list[Event]:
        """The server sends a market's snapshot before its deltas: a delta for a book
        still waiting for its first snapshot means that snapshot was lost."""
        return self._resync_books(ch, {ticker}, "delta before snapshot")

    def _on_snapshot(self, msg: OrderbookSnapshot) -> list[Event]:
        ch = self._channel_for(msg.sid, msg)
        if ch is None:
            return []
        events: list[Event] = []
        ticker = msg.msg.market_ticker
        expected = self._seq.expected(msg.sid)
        answer = ticker in ch.snapshot_pending  # the reply to our get_snapshot
        if expected is not None and not answer and msg.seq < expected:
            if msg.seq == expected - 1:
                self.stats.duplicates += 1
                return []
            # An older snapshot than the stream we hold: backwards, repair like a gap.
            self.stats.gaps += 1
            events.append(Gap(ch.name, msg.sid, expected, msg.seq))
            events.extend(self._after_gap(ch, reason=f"snapshot went back on sid {msg.sid}"))
            return events
        self._seq.rebase(msg.sid, msg.seq)
        if expected is not None and msg.seq > expected:
            self.stats.gaps += 1
            others = {t for t, b in self.books.items()
                      if t != ticker and b.status is BookStatus.SYNCED
                      and self._carries(ch, t)}
            events.append(Gap(ch.name, msg.sid, expected, msg.seq))
            if others:
                events.extend(self._resync_books(ch, others, "gap before a snapshot"))
        book = self.books.get(ticker)
        if book is None:
            if not self._takes_new_book(ch, ticker):
                self.stats.orphans += 1
                return events
            book = self.books[ticker] = OrderBook(ticker)
        try:
            book.apply_snapshot(msg.msg.bid, msg.msg.ask)
        except BookDesync as exc:
            self.stats.desyncs += 1
            book.status = BookStatus.RESYNCING
            events.extend(self._resync_books(ch, {ticker}, f"bad snapshot: {exc.reason}",
                                             force=True))
            return events
        book.last_update = msg
        ch.snapshot_pending.discard(ticker)
        pending = self._commands.pending(msg.id)
        if pending is not None and pending.kind == "get_snapshot" and not ch.snapshot_pending:
            self._commands.resolve(msg.id)
        return self._emit(BOOK, ticker, msg, events)

    def _takes_new_book(self, ch: ChannelState, ticker: str) -> bool:
        """Whether a snapshot of a market without a book creates one."""
        return self._carries(ch, ticker)

    def _on_sequenced(self, msg: Trade | OrderGroupUpdates) -> list[Event]:
        ch = self._channel_for(msg.sid, msg)
        if ch is None:
            return []
        events: list[Event] = []
        if msg.seq is not None:
            verdict = self._check_seq(msg.sid, msg.seq)
            if verdict == DUPLICATE:
                self.stats.duplicates += 1
                return events
            if verdict != ACCEPT:
                events = self._not_in_order(ch, msg.sid, msg.seq, verdict)
        ticker = msg.msg.market_ticker if type(msg) is Trade else ""
        return self._emit(ch.name, ticker, msg, events)

    def _on_unsequenced(self, msg: Ticker | Fill | UserOrder) -> list[Event]:
        ch = self._channel_for(msg.sid, msg)
        if ch is None:
            return []
        ticker = msg.msg.ticker if isinstance(msg, UserOrder) else msg.msg.market_ticker
        return self._emit(ch.name, ticker, msg, [])

    def _not_in_order(self, ch: ChannelState, sid: int, seq: int, verdict: int) -> list[Event]:
        if verdict == DUPLICATE:
            self.stats.duplicates += 1
            return []
        self.stats.gaps += 1
        events: list[Event] = [Gap(ch.name, sid, self._seq.gap_expected, seq)]
        events.extend(self._after_gap(ch, reason=f"seq gap on sid {sid}"))
        return events

    def _after_gap(self, ch: ChannelState, *, reason: str) -> list[Event]:
        if ch.name == BOOK:
            # Books already resyncing are asked again: the lost frame may have been
            # the very snapshot they were waiting for.
            targets = {t for t in self.books if self._carries(ch, t)}
            return list(self._resync_books(ch, targets, reason, force=True))
        if ch.name in _BACKFILL_CHANNELS:
            tickers = None if ch.tickers is None else tuple(sorted(ch.tickers))
            return [NeedsBackfill(ch.name, tickers, reason)]
        return []

    # --- responses ------------------------------------------------------------------

    def _on_subscribed(self, msg: Subscribed) -> list[Event]:
        name, sid = msg.msg.channel, msg.msg.sid
        pending = self._commands.pending(msg.id)
        ch = self._channels.get(name)
        if ch is None or pending is None:
            # A subscription we no longer want (unsubscribed while in flight): end it,
            # and only it: the same command may have subscribed channels still wanted.
            self._answered(pending, msg.id, name)
            if self.connected:
                self._commands.unsubscribe(sid, name)
            return []
        self._answered(pending, msg.id, name)
        self._bind(ch, sid)
        sent = set(pending.tickers) if pending is not None and pending.tickers else None
        events: list[Event] = [ChannelSubscribed(name, sid)]
        # Markets wanted while the subscribe was in flight.
        if ch.tickers is not None and sent is not None:
            self._update_markets(ch, "add_markets", ch.tickers - sent)
            self._update_markets(ch, "delete_markets", sent - ch.tickers)
        return events

    def _answered(self, pending: Pending | None, cmd_id: int | None, channel: str) -> None:
        """One channel of a (possibly multi-channel) subscribe got its answer."""
        if pending is None:
            return
        pending.channels = tuple(c for c in pending.channels if c != channel)
        if not pending.channels:
            self._commands.resolve(cmd_id)

    def _bind(self, ch: ChannelState, sid: int) -> None:
        if ch.sid is not None:
            self._sid_channel.pop(ch.sid, None)
            self._seq.forget(ch.sid)
        ch.sid = sid
        ch.subscribing = False
        self._sid_channel[sid] = ch

    def _on_unsubscribed(self, msg: Unsubscribed) -> list[Event]:
        ch = self._sid_channel.pop(msg.sid, None)
        self._seq.forget(msg.sid)
        self._commands.resolve(msg.id)
        if ch is None:
            return []
        if ch.sid == msg.sid:
            ch.sid = None
        return [ChannelUnsubscribed(ch.name, msg.sid)]

    def _on_ok(self, msg: OkMessage) -> list[Event]:
        pending = self._commands.resolve(msg.id)
        body = msg.msg
        if isinstance(body, list):
            return [SubscriptionsListed(tuple(body))]
        if pending is None or not pending.channels:
            return []
        ch = self._channels.get(pending.channels[0])
        if ch is None:
            return []
        if pending.kind == "get_snapshot":
            # Some servers acknowledge get_snapshot; the snapshots themselves follow.
            return []
        if body is not None and body.market_tickers is not None:
            return [MarketsUpdated(ch.name, tuple(body.market_tickers))]
        return []

    def _on_error(self, msg: ErrorMessage) -> list[Event]:
        code, text = msg.msg.code, msg.msg.msg
        pending = self._commands.resolve(msg.id)
        if msg.sid is not None and code in TERMINAL_ERROR_CODES:
            ch = self._sid_channel.get(msg.sid)
            if ch is not None:
                return self._channel_dead(ch, msg.sid, code, text)
        if pending is None or not pending.channels:
            return [CommandFailed(None, msg.id, code, text)]
        events: list[Event] = [CommandFailed(name, msg.id, code, text, pending.kind)
                               for name in pending.channels]
        ch = self._channels.get(pending.channels[0])
        if ch is not None and pending.kind in _RECOVERABLE_COMMANDS:
            # Fallback: a brand-new subscription brings fresh snapshots / the full set.
            events.extend(self._resubscribe(ch))
        elif pending.kind == "subscribe":
            for name in pending.channels:
                state = self._channels.get(name)
                if state is not None:
                    state.subscribing = False
        return events

    def _channel_dead(self, ch: ChannelState, sid: int, code: int, text: str) -> list[Event]:
        self.stats.channel_losses += 1
        self._sid_channel.pop(sid, None)
        self._seq.forget(sid)
        ch.sid = None
        events: list[Event] = [ChannelLost(ch.name, sid, code, text)]
        if ch.name == BOOK:
            targets = {t for t in self.books if self._carries(ch, t)}
            for t in targets:
                self.books[t].status = BookStatus.RESYNCING
            self.stats.resyncs += 1
            events.append(Resyncing(ch.name, tuple(sorted(targets)), f"error {code}"))
        elif ch.name in _BACKFILL_CHANNELS or ch.name in {"fill", "user_orders"}:
            tickers = None if ch.tickers is None else tuple(sorted(ch.tickers))
            events.append(NeedsBackfill(ch.name, tickers, f"error {code}"))
        if self.connected:
            self._send_subscribe([ch.name], ch.tickers, ch.send_initial_snapshot)
        return events

    # --- actions ---------------------------------------------------------------------

    def _resync_books(self, ch: ChannelState, tickers: set[str], reason: str, *,
                      force: bool = False) -> list[Event]:
        targets = {t for t in tickers
                   if force or self.books[t].status is not BookStatus.RESYNCING}
        if not targets:
            return []
        for t in targets:
            self.books[t].status = BookStatus.RESYNCING
        self.stats.resyncs += 1
        names = tuple(sorted(targets))
        if self.connected and ch.sid is not None:
            ch.snapshot_pending |= targets
            self._commands.update("get_snapshot", ch.sid, ch.name, names)
        return [Resyncing(ch.name, names, reason)]

    def _resubscribe(self, ch: ChannelState) -> list[Event]:
        """Unsubscribe the current sid (if any) and subscribe afresh."""
        if not self.connected:
            return []
        if ch.sid is not None:
            old = ch.sid
            self._sid_channel.pop(old, None)
            self._seq.forget(old)
            ch.sid = None
            self._commands.unsubscribe(old, ch.name)
        events: list[Event] = []
        if ch.name == BOOK:
            targets = {t for t in self.books if self._carries(ch, t)}
            for t in targets:
                self.books[t].status = BookStatus.RESYNCING
            ch.snapshot_pending.clear()
            if targets:
                events.append(Resyncing(ch.name, tuple(sorted(targets)), "resubscribe"))
        self._send_subscribe([ch.name], ch.tickers, ch.send_initial_snapshot)
        return events

    def _update_markets(self, ch: ChannelState, action: str, tickers: set[str]) -> None:
        if not tickers or not self.connected or ch.sid is None:
            return  # applied by the subscribe in flight or the next connection
        self._commands.update(action, ch.sid, ch.name, tuple(sorted(tickers)))

    def _send_subscribe(self, channels: Sequence[str], tickers: set[str] | None,
                        send_initial_snapshot: bool) -> None:
        if self.passive or not self.connected:
            return
        for name in channels:
            self._channels[name].subscribing = True
        self._commands.subscribe(channels, None if tickers is None else tuple(sorted(tickers)),
                                 send_initial_snapshot)

    def _drop_books(self, tickers: set[str]) -> None:
        for t in tickers:
            self.books.pop(t, None)

    @staticmethod
    def _carries(ch: ChannelState, ticker: str) -> bool:
        return ch.tickers is None or ticker in ch.tickers


_RECOVERABLE_COMMANDS = frozenset({"get_snapshot", "add_markets", "delete_markets"})
_SEQUENCED_TYPES = frozenset({"orderbook_snapshot", "orderbook_delta", "trade",
                              "order_group_updates"})
_TYPE_NAMES: dict[type, str] = {
    Subscribed: "subscribed", Unsubscribed: "unsubscribed", OkMessage: "ok",
    ErrorMessage: "error", OrderbookSnapshot: "orderbook_snapshot",
    OrderbookDelta: "orderbook_delta", Ticker: "ticker", Trade: "trade", Fill: "fill",
    UserOrder: "user_order", OrderGroupUpdates: "order_group_updates",
}
_HANDLERS: dict[type, Callable[[Session, Any], list[Event]]] = {
    Subscribed: Session._on_subscribed, Unsubscribed: Session._on_unsubscribed,
    OkMessage: Session._on_ok, ErrorMessage: Session._on_error,
    OrderbookSnapshot: Session._on_snapshot, OrderbookDelta: Session._on_delta,
    Ticker: Session._on_unsequenced, Fill: Session._on_unsequenced,
    UserOrder: Session._on_unsequenced, Trade: Session._on_sequenced,
    OrderGroupUpdates: Session._on_sequenced,
}
