"""Everything the exchange holds, in one place, plus the per-call event collector."""

from __future__ import annotations

import heapq
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from .config import ExchangeConfig, MarketConfig
from .errors import invalid_parameters, not_found
from .events import Event, PublicTrade, TickerUpdate
from .ledger import Account, Subaccount
from .market import MAX_TRADES, MarketState
from .orders import Order

if TYPE_CHECKING:
    from .triggers import Trigger

__all__ = ["IdGen", "State", "Ctx", "Group"]

ZERO = Decimal(0)


class IdGen:
    """UUID-shaped ids from a seeded generator: same seed, same ids."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


class Group:
    """An order group: contracts matched in a rolling window are capped at ``limit``."""

    __slots__ = ("group_id", "user_id", "subaccount", "limit", "exchange_index", "triggered",
                 "orders", "window")

    def __init__(self, group_id: str, user_id: str, subaccount: int, limit: Decimal,
                 exchange_index: int) -> None:
        self.group_id = group_id
        self.user_id = user_id
        self.subaccount = subaccount
        self.limit = limit
        self.exchange_index = exchange_index
        self.triggered = False
        self.orders: dict[str, None] = {}
        """Ids of the group's resting orders (insertion-ordered set)."""
        self.window: list[tuple[int, Decimal]] = []

    def used(self, now_ms: int, window_ms: int) -> Decimal:
        cutoff = now_ms - window_ms
        if self.window and self.window[0][0] <= cutoff:
            self.window = [w for w in self.window if w[0] > cutoff]
        return sum((w[1] for w in self.window), ZERO)

    def allowance(self, now_ms: int, window_ms: int) -> Decimal:
        return max(ZERO, self.limit - self.used(now_ms, window_ms))


@dataclass
class Ctx:
    """Collects the events of one call and which markets it touched."""

    now_ms: int
    events: list[Event] = field(default_factory=list)
    touched: dict[str, None] = field(default_factory=dict)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def touch(self, ticker: str) -> None:
        self.touched[ticker] = None


class State:
    def __init__(self, config: ExchangeConfig, seed: int, now_ms: int) -> None:
        self.config = config
        self.ids = IdGen(seed)
        self.now_ms = now_ms
        self.markets: dict[str, MarketState] = {
            m.ticker: MarketState(m, now_ms) for m in config.markets}
        self.configs: dict[str, MarketConfig] = {m.ticker: m for m in config.markets}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.groups: dict[str, Group] = {}
        self.trading_active = True
        self.exchange_active = True
        self.fees_collected = ZERO
        self.funding_residual = ZERO
        self.deposits = ZERO
        self.seq = 0
        self.expiries: list[tuple[int, int, str]] = []
        # Non-synthetic (user, subaccount) pairs with a position, per market (liquidation scan).
        self.holders: dict[str, dict[tuple[str, int], None]] = {t: {} for t in self.markets}
        self.transfers: dict[tuple[str, str], str] = {}
        """(user, client_transfer_id) -> transfer_id of intra-exchange transfers."""
        self.liquidated: dict[tuple[str, int], int] = {}
        """Last liquidation time per (user, subaccount): throttles retries on thin books."""
        self.exit_triggers: dict[str, Trigger] = {}
        """Exit triggers by id, live and finished (see :mod:`.triggers`)."""
        self.live_exit_triggers: dict[str, Trigger] = {}
        """The live ones only (pending or active): what evaluation walks."""
        self.exit_trigger_keys: dict[tuple[str, str], str] = {}
        """(user, client_trigger_id) -> trigger id: replays return the original."""
        self.trades: deque[tuple[int, PublicTrade]] = deque(maxlen=MAX_TRADES)
        """All markets' public trades, oldest first (REST ``trades`` without a ticker)."""

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def tick(self, now_ms: int) -> None:
        """Clocks never go backwards: a stale ``now_ms`` is treated as the current time."""
        if now_ms > self.now_ms:
            self.now_ms = now_ms

    # ------------------------------------------------------------------ lookups
    def account(self, user_id: str) -> Account:
        acct = self.accounts.get(user_id)
        if acct is None:
            raise not_found(f"user {user_id}")
        return acct

    def subaccount(self, user_id: str, number: int) -> Subaccount:
        sub = self.account(user_id).subaccounts.get(number)
        if sub is None:
            raise invalid_parameters(f"subaccount {number} does not exist")
        return sub

    def market(self, ticker: str) -> MarketState:
        m = self.markets.get(ticker)
        if m is None:
            raise not_found(f"market {ticker}")
        return m

    def marks(self) -> dict[str, Decimal]:
        return {t: m.mark for t, m in self.markets.items()}

    def add_expiry(self, order: Order) -> None:
        if order.expiration_ts_ms is not None:
            heapq.heappush(self.expiries, (order.expiration_ts_ms, order.seq, order.order_id))

    def finish(self, ctx: Ctx) -> list[Event]:
        """Refresh marks of touched markets and append their ticker updates."""
        for t in ctx.touched:
            m = self.markets[t]
            m.update_marks(ctx.now_ms)
            m.accumulate(ctx.now_ms)
            if m.ticker_changed():
                ctx.emit(TickerUpdate(stats=m.stats(ctx.now_ms)))
        ctx.touched.clear()
        return ctx.events
