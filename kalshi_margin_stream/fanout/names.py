"""Where the gateway writes in Redis: stream and key names, in one place.

Each market's streams and its snapshot key share the Redis Cluster hash tag
``{TICKER}``, so they live in one slot: the gateway writes a snapshot entry and
its snapshot key in one atomic script even in cluster mode.

======================  ============================================
``kms:book:{T}``        book entries of market ``T`` (snapshots, deltas, stale markers)
``kms:snap:{T}``        hash: the newest book snapshot of ``T`` and the entry id it was taken at
``kms:trade:{T}``       public trades of ``T``
``kms:ticker:{T}``      ticker updates of ``T``
``kms:fill``            your fills
``kms:order``           your order updates
``kms:group``           your order-group events
``kms:gateway``         heartbeat (JSON, expires with a TTL): epoch and statistics
======================  ============================================
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACCOUNT_STREAMS", "MARKET_STREAMS", "StreamNames"]

MARKET_STREAMS: dict[str, str] = {"orderbook_delta": "book", "trade": "trade",
                                  "ticker": "ticker"}
"""Channels with one stream per market, and the stream's kind in its name."""
ACCOUNT_STREAMS: dict[str, str] = {"fill": "fill", "user_orders": "order",
                                   "order_group_updates": "group"}
"""Channels with one stream for the whole account."""


@dataclass(frozen=True, slots=True)
class StreamNames:
    """Names under one prefix (one prefix per gateway, i.e. per account)."""

    prefix: str = "kms"

    def __post_init__(self) -> None:
        if not self.prefix or any(c in self.prefix for c in "{} \n"):
            raise ValueError(f"bad stream prefix {self.prefix!r}")

    def stream(self, channel: str, ticker: str = "") -> str:
        """The stream of ``channel`` (and ``ticker`` for a market channel)."""
        kind = MARKET_STREAMS.get(channel)
        if kind is not None:
            if not ticker:
                raise ValueError(f"channel {channel} needs a market ticker")
            return f"{self.prefix}:{kind}:{{{ticker}}}"
        kind = ACCOUNT_STREAMS.get(channel)
        if kind is None:
            raise ValueError(f"unknown channel {channel!r}")
        return f"{self.prefix}:{kind}"

    def book(self, ticker: str) -> str:
        return self.stream("orderbook_delta", ticker)

    def snapshot(self, ticker: str) -> str:
        return f"{self.prefix}:snap:{{{ticker}}}"

    @property
    def heartbeat(self) -> str:
        return f"{self.prefix}:gateway"
