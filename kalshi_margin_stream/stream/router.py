"""Who gets which message: the consumer lists of every channel.

The session already knows each data message's channel (from its sid) and market,
and hands it here as ``deliver(channel, ticker, msg)`` — the session's ``sink``.
The router is synchronous and does no I/O: it runs on the socket reader, never
waits, and is unit-tested without a socket. Per message it

* records one exchange → receive latency when the runner asked for a sample
  (one frame in sixteen: the runner holds the one sampling counter);
* gives the message to the channel's *tap* (the margin state for account and
  ticker channels, the REST sync for trades) before any consumer sees it, so a
  consumer reading ``client.margin`` in reaction sees the update applied;
* offers it to each subscription of the channel whose market filter wants it.

Control (``Stale`` markers, failing or finishing every subscription) also goes
through here, so the lists have one owner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .latency import Histogram
from .subscriptions import Subscription

__all__ = ["Router"]

Tap = Callable[[Any], None]


class Router:
    """The subscriptions of each channel and the taps that see every message."""

    __slots__ = ("routes", "taps", "latency", "sample")

    def __init__(self, *, taps: dict[str, Tap] | None = None,
                 latency: Histogram | None = None) -> None:
        self.routes: dict[str, list[Subscription[Any]]] = {}
        self.taps: dict[str, Tap] = dict(taps or {})
        self.latency = latency if latency is not None else Histogram()
        """``sending_ts_ms`` → our receive, microseconds (clock skew included)."""
        self.sample = False
        """Set by the runner: record the latency of the next data message."""

    # --- the consumer lists -----------------------------------------------------

    def add(self, sub: Subscription[Any]) -> None:
        self.routes.setdefault(sub.spec.channel, []).append(sub)

    def remove(self, sub: Subscription[Any]) -> bool:
        """Drop ``sub``; True when its channel has no consumer left."""
        channel = sub.spec.channel
        group = self.routes.get(channel, [])
        if sub in group:
            group.remove(sub)
        if group:
            return False
        self.routes.pop(channel, None)
        return True

    def subscriptions(self, channel: str) -> list[Subscription[Any]]:
        return self.routes.get(channel, [])

    def all(self) -> list[Subscription[Any]]:
        return [sub for group in self.routes.values() for sub in group]

    def tickers(self, channel: str) -> set[str]:
        """The markets still wanted by the consumers of ``channel``."""
        return set().union(*(s.spec.tickers or () for s in self.routes.get(channel, ())))

    # --- the data path --------------------------------------------------------------

    def deliver(self, channel: str, ticker: str, msg: Any) -> None:
        """The session's sink: one data message of ``channel`` about ``ticker``."""
        if self.sample:
            self.sample = False
            sent = msg.sending_ts_ms
            if sent is not None:
                self.latency.record(time.time_ns() // 1000 - sent * 1000)
        tap = self.taps.get(channel)
        if tap is not None:
            tap(msg)
        subs = self.routes.get(channel)
        if subs:
            for sub in subs:
                wanted = sub.wanted
                if wanted is None or not ticker or ticker in wanted:
                    sub.offer(msg, ticker)

    def offer(self, channel: str, ticker: str, msg: Any) -> None:
        """Give a message to the consumers only (data REST produced: no taps)."""
        for sub in self.routes.get(channel, ()):
            wanted = sub.wanted
            if wanted is None or not ticker or ticker in wanted:
                sub.offer(msg, ticker)

    # --- control ----------------------------------------------------------------------

    def mark_stale(self, channel: str, tickers: tuple[str, ...] | None, reason: str, *,
                   skip: Subscription[Any] | None = None) -> None:
        """A ``Stale`` marker to every consumer of ``channel`` that wants these markets."""
        for sub in self.routes.get(channel, ()):
            if sub is skip:
                continue
            if tickers is None or sub.wanted is None or not sub.wanted.isdisjoint(tickers):
                sub.mark_stale(tickers, reason)

    def mark_all_stale(self, reason: str) -> None:
        for sub in self.all():
            sub.mark_stale(None, reason)

    def fail(self, channel: str, error: BaseException) -> list[Subscription[Any]]:
        """End every consumer of ``channel`` with ``error``; returns them."""
        subs = self.routes.pop(channel, [])
        for sub in subs:
            sub.fail(error)
        return subs

    def fail_all(self, error: BaseException) -> None:
        for sub in self.all():
            sub.fail(error)

    def finish_all(self) -> None:
        for sub in self.all():
            sub._finish(None)
