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

The channel/sid table and the answers to our commands are the base class,
:class:`~.channels.ChannelTable` (``channels.py``); this module is the data path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import BookDesync, DecodeError
from .book import BookStatus, OrderBook
from .channels import (
    BACKFILL_CHANNELS,
    BOOK,
    TERMINAL_ERROR_CODES,
    ChannelState,
    ChannelTable,
    SessionStats,
)
from .codec import DECODE_FAILED as _DECODE_FAILED
from .codec import Unknown, decode_frame
from .codec import decode_known as _decode
from .events import (
    Event,
    FrameError,
    Gap,
    NeedsBackfill,
    Resyncing,
    Routed,
)
from .messages import (
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

__all__ = ["TERMINAL_ERROR_CODES", "ChannelState", "DataSink", "Session", "SessionStats"]

DataSink = Callable[[str, str, Any], None]
"""``sink(channel, ticker, msg)``: where data messages go when the shell routes them."""

_SYNCED = BookStatus.SYNCED
_RESYNCING = BookStatus.RESYNCING


class Session(ChannelTable):
    """Subscriptions, sequencing and books for one logical stream (see module doc).

    Args:
        sink: ``sink(channel, ticker, msg)`` receives every data message (``None``:
            data messages are returned by :meth:`receive_frame` instead).
    """

    def __init__(self, *, sink: DataSink | None = None) -> None:
        super().__init__()
        self.sink = sink
        self._seq_last = self._seq.last_seq  # what the seq rule reads and writes
        self._handlers: dict[type, Callable[[Any], list[Event]]] = {
            t: getattr(self, name) for t, name in _HANDLER_NAMES.items()}

    # --- what the user wants ---------------------------------------------------

    def request_resync(self, tickers: Iterable[str] | None = None, *,
                       reason: str = "requested") -> list[Event]:
        """Ask fresh snapshots for these books (all when ``None``), e.g. after an overflow."""
        ch = self._channels.get(BOOK)
        if ch is None:
            return []
        targets = set(self.books) if tickers is None else set(tickers) & set(self.books)
        return self._resync_books(ch, targets, reason)

    # --- frames from the server --------------------------------------------------

    def receive_frame(self, frame: bytes | str) -> list[Event]:
        """Decode, sequence and apply one text frame; returns what happened.

        Only a frame that does not decode becomes a :class:`FrameError`; any other
        exception from here is a bug of ours and propagates.

        This is the data path, written flat on purpose (each call saved is a few
        percent of the core's cost): the sid gives the channel, then THE seq rule
        (``sequencing.py``) for every sequenced data message, then for a delta the
        one snapshot gate and the book (whose own checks keep its invariants).
        """
        stats = self.stats
        stats.frames += 1
        msg: ServerMessage | Unknown
        try:
            msg = _decode(frame)  # the codec's decoder itself: one call less per frame
        except _DECODE_FAILED:
            try:  # an unknown type or a bad frame: the codec sorts out which
                msg = decode_frame(frame)
            except DecodeError as exc:
                return self._frame_error(exc)
        kind = type(msg)
        if kind is OrderbookDelta:  # the hot path first
            stats.deltas += 1
        elif kind is Trade or kind is OrderGroupUpdates:
            by_type = stats.other_types
            name = _TYPE_NAMES[kind]
            by_type[name] = by_type.get(name, 0) + 1
        else:
            return self._dispatch(msg)
        sequenced: OrderbookDelta | Trade | OrderGroupUpdates = msg  # type: ignore[assignment]
        sid = sequenced.sid
        seq = sequenced.seq
        seq_last = self._seq_last
        last = seq_last.get(sid)
        # THE seq rule (the only copy; sequencing.py states it). A sid with a seq
        # baseline is bound to a channel (both are dropped together), so the
        # in-order case needs no channel lookup.
        if last is not None and seq == last + 1:  # in order
            seq_last[sid] = seq
            events: list[Event] | None = None
        else:
            ch = self._sid_channel.get(sid)
            if ch is None:
                ch = self._unknown_sid(sid, sequenced)
                if ch is None:
                    return []
            events = None
            if seq is None:  # a trade without a seq: nothing to check
                pass
            elif last is None:  # the sid's first sequenced message: the baseline
                seq_last[sid] = seq
            elif seq == last:  # the same frame again
                stats.duplicates += 1
                return []
            else:  # a gap, or backwards: continue from ``seq``, repair the data
                seq_last[sid] = seq
                events = self._gap(ch, sid, last + 1, seq)
                if kind is OrderbookDelta:
                    return events  # the resync's snapshot replaces what it carried
        if kind is not OrderbookDelta:
            ticker = sequenced.msg.market_ticker if kind is Trade else ""  # type: ignore[union-attr]
            return self._emit(self._sid_channel[sid].name, ticker, msg,
                              [] if events is None else events)
        delta: OrderbookDelta = msg  # type: ignore[assignment]
        body = delta.msg
        ticker = body.market_ticker
        book = self.books.get(ticker)
        if book is None or book.status is not _SYNCED:  # the one snapshot gate
            stats.skipped_awaiting_snapshot += 1
            if book is not None and book.status is not _RESYNCING:
                return self._lost_first_snapshot(self._sid_channel[sid], ticker)
            return []
        try:
            book.apply_delta(body.side, body.price_text, body.delta_text)
        except BookDesync as exc:
            stats.desyncs += 1
            return self._resync_books(self._sid_channel[sid], {ticker},
                                      f"desync: {exc.reason}")
        book.last_update = delta
        sink = self.sink
        if sink is None:
            return [delta]
        sink(BOOK, ticker, delta)
        return []

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
        return self._handlers[type(msg)](msg)

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

    def _on_unsequenced(self, msg: Ticker | Fill | UserOrder) -> list[Event]:
        ch = self._channel_for(msg.sid, msg)
        if ch is None:
            return []
        ticker = msg.msg.ticker if isinstance(msg, UserOrder) else msg.msg.market_ticker
        return self._emit(ch.name, ticker, msg, [])

    def _gap(self, ch: ChannelState, sid: int, expected: int, seq: int) -> list[Event]:
        """The seq rule found frames missing on ``sid``: report and repair."""
        self.stats.gaps += 1
        events: list[Event] = [Gap(ch.name, sid, expected, seq)]
        events.extend(self._after_gap(ch, reason=f"seq gap on sid {sid}"))
        return events

    def _after_gap(self, ch: ChannelState, *, reason: str) -> list[Event]:
        if ch.name == BOOK:
            # Books already resyncing are asked again: the lost frame may have been
            # the very snapshot they were waiting for.
            targets = {t for t in self.books if self._carries(ch, t)}
            return list(self._resync_books(ch, targets, reason, force=True))
        if ch.name in BACKFILL_CHANNELS:
            tickers = None if ch.tickers is None else tuple(sorted(ch.tickers))
            return [NeedsBackfill(ch.name, tickers, reason)]
        return []

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


_SEQUENCED_TYPES = frozenset({"orderbook_snapshot", "orderbook_delta", "trade",
                              "order_group_updates"})
_TYPE_NAMES: dict[type, str] = {
    Subscribed: "subscribed", Unsubscribed: "unsubscribed", OkMessage: "ok",
    ErrorMessage: "error", OrderbookSnapshot: "orderbook_snapshot",
    OrderbookDelta: "orderbook_delta", Ticker: "ticker", Trade: "trade", Fill: "fill",
    UserOrder: "user_order", OrderGroupUpdates: "order_group_updates",
}
_HANDLER_NAMES: dict[type, str] = {
    Subscribed: "_on_subscribed", Unsubscribed: "_on_unsubscribed", OkMessage: "_on_ok",
    ErrorMessage: "_on_error", OrderbookSnapshot: "_on_snapshot",
    Ticker: "_on_unsequenced", Fill: "_on_unsequenced", UserOrder: "_on_unsequenced",
}
"""The handler of each other message type, by name: a subclass's override is the one bound.
Deltas, trades and order-group updates take the data path in :meth:`Session.receive_frame`."""
