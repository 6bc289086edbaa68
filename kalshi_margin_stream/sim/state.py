"""Everything the simulator's handlers share: exchange, clock, hub, keys, faults, counters.

:class:`SimState` is synchronous; the asyncio parts (server, flow and ticker loops,
connections) hold one and call :meth:`SimState.apply` with the events of every engine
call, which is the only path from the engine to the sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ..core.messages import OrderbookSnapshotBody, TickerBody
from .adapter import feed_items, snapshot_body, ticker_body
from .auth import KeyRegistry
from .engine import Exchange
from .engine.events import Event, FundingPayment, FundingSettled, LiquidationTriggered
from .engine.views import MarketStats
from .faults import FaultState, SimStats
from .ratelimit import RateLimiter
from .ws import Hub

__all__ = ["SimState"]


class SimState:
    """Shared simulator state; also the :class:`~.feed.MarketView` of every WS session."""

    def __init__(self, exchange: Exchange, *, limiter: RateLimiter) -> None:
        self.exchange = exchange
        self.keys = KeyRegistry()
        self.stats = SimStats()
        self.faults = FaultState(self.stats)
        self.hub = Hub()
        self.limiter = limiter
        self.clock_offset_ms = 0
        self._dirty: dict[str, MarketStats] = {}
        self._tickers = [m.ticker for m in exchange.config.markets]
        self.listeners: list[Callable[[list[Event]], None]] = []
        """Extra consumers of every engine event batch (the FIX acceptor)."""

    # --- clock ------------------------------------------------------------------

    def now_ms(self) -> int:
        """Exchange time: wall clock plus the offset that ``advance_clock`` accumulated."""
        return time.time_ns() // 1_000_000 + self.clock_offset_ms

    @staticmethod
    def wall_ms() -> int:
        """Real wall-clock ms: what request signatures are checked against (clients sign
        with their own clock, which ``advance_clock`` does not move)."""
        return time.time_ns() // 1_000_000

    def advance_clock(self, ms: int) -> None:
        """Jump exchange time forward (funding, expiries, liquidations run at once)."""
        if ms < 0:
            raise ValueError("the clock only moves forward")
        self.clock_offset_ms += ms
        self.stats.faults["clock_advanced"] += 1
        self.apply(self.exchange.advance_to(self.now_ms()))

    # --- events -> sockets ----------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> None:
        """Fan one engine call's events out to the sessions; remember ticker changes."""
        events = list(events)
        items, tickers = feed_items(events)
        self._dirty.update(tickers)
        for ev in events:
            if isinstance(ev, FundingSettled):
                self.stats.events["funding_settlements"] += 1
            elif isinstance(ev, FundingPayment):
                self.stats.events["funding_payments"] += 1
            elif isinstance(ev, LiquidationTriggered):
                self.stats.events["liquidations"] += 1
        self.hub.publish(items)
        for listener in self.listeners:
            listener(events)

    def take_dirty_tickers(self) -> list[TickerBody]:
        """Ticker payloads of the markets that changed since the last call (coalesced)."""
        dirty, self._dirty = self._dirty, {}
        return [ticker_body(s) for s in dirty.values()]

    # --- MarketView ------------------------------------------------------------------

    def market_tickers(self) -> list[str]:
        return list(self._tickers)

    def book_snapshot(self, ticker: str) -> OrderbookSnapshotBody:
        return snapshot_body(self.exchange.orderbook(ticker))

    def ticker_body(self, ticker: str) -> TickerBody:
        return ticker_body(self.exchange.market(ticker))
