"""The channel/sid table of the session and the command side of the protocol.

One server subscription per channel: Kalshi merges a second ``subscribe`` of a
channel into the existing one, so the table keeps exactly one sid per channel
and changes its market set with ``update_subscription`` (``add_markets`` /
``delete_markets``). This module holds what the user *wants* (a
:class:`ChannelState` per channel), what the current connection *has* (sids,
pending commands, the per-sid ``seq`` tracker, which every sid change must
update), and the answers to our commands: ``subscribed``, ``unsubscribed``,
``ok``, ``error`` (with the fallback to ``unsubscribe`` + ``subscribe`` when an
update is refused, and the resubscription after terminal errors 10, 17, 25).

The data path (sequencing, books, resync, delivery) is :class:`~.session.Session`,
which builds on :class:`ChannelTable`. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .book import BookStatus, OrderBook
from .commands import CommandQueue, Pending
from .events import (
    ChannelLost,
    ChannelSubscribed,
    ChannelUnsubscribed,
    CommandFailed,
    Event,
    MarketsUpdated,
    NeedsBackfill,
    Resyncing,
    SubscriptionsListed,
)
from .messages import (
    CHANNELS,
    ErrorMessage,
    OkMessage,
    Subscribed,
    Unsubscribed,
)
from .sequencing import SeqTracker

__all__ = ["BOOK", "TERMINAL_ERROR_CODES", "ChannelState", "ChannelTable", "SessionStats"]

BOOK = "orderbook_delta"
TERMINAL_ERROR_CODES = frozenset({10, 17, 25})
"""Error codes after which a subscription is dead and must be re-made."""
BACKFILL_CHANNELS = frozenset({"trade", "order_group_updates"})
"""Sequenced channels whose gaps only REST can repair."""
_RECOVERABLE_COMMANDS = frozenset({"get_snapshot", "add_markets", "delete_markets"})


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


@dataclass(slots=True)
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


class ChannelTable:
    """Wanted channels, their sids, and the commands in flight (see module doc)."""

    passive = False
    """True for :class:`~.replay.PassiveSession` (no commands, adopts what it sees)."""

    def __init__(self) -> None:
        self.books: dict[str, OrderBook] = {}
        self.stats = SessionStats()
        self.connected = False
        self._channels: dict[str, ChannelState] = {}
        self._sid_channel: dict[int, ChannelState] = {}
        self._seq = SeqTracker()
        self._commands = CommandQueue(enabled=not self.passive)

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
        elif ch.name in BACKFILL_CHANNELS or ch.name in {"fill", "user_orders"}:
            tickers = None if ch.tickers is None else tuple(sorted(ch.tickers))
            events.append(NeedsBackfill(ch.name, tickers, f"error {code}"))
        if self.connected:
            self._send_subscribe([ch.name], ch.tickers, ch.send_initial_snapshot)
        return events

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
