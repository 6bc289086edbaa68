"""Seeded synthetic order flow from other participants.

Simulated makers keep both sides of every book stocked around the reference price (never
crossing the other side), takers send IOC orders through the spread now and then, resting
orders get cancelled at random, and the reference price drifts by a small mean-reverting
random walk. All choices come from one ``random.Random(seed)`` and the exchange's own
seeded ids, so the same seeds and the same calls give the same event stream.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from .errors import Rejection
from .events import Event, OrderUpdate
from .exchange import Exchange
from .views import Side

__all__ = ["SyntheticFlow", "SYNTHETIC_CASH"]

SYNTHETIC_CASH = Decimal("1000000000.0000")
SIZES = (1, 1, 2, 3, 5, 8, 10, 20, 25, 50, 100, 250, 617)
TAKE_SIZES = (1, 1, 2, 3, 5, 10, 20, 50)
# Action weights: place a resting order, cancel one, take liquidity, move the reference.
WEIGHTS = (("place", 50), ("cancel", 32), ("take", 14), ("drift", 4))
MEAN_REVERSION = 0.002


class _Resting:
    """Synthetic resting orders of one (market, side), with O(1) random removal."""

    __slots__ = ("ids", "index")

    def __init__(self) -> None:
        self.ids: list[tuple[str, str]] = []  # (order_id, user_id)
        self.index: dict[str, int] = {}

    def add(self, order_id: str, user_id: str) -> None:
        if order_id not in self.index:
            self.index[order_id] = len(self.ids)
            self.ids.append((order_id, user_id))

    def discard(self, order_id: str) -> None:
        i = self.index.pop(order_id, None)
        if i is None:
            return
        last = self.ids.pop()
        if i < len(self.ids):
            self.ids[i] = last
            self.index[last[0]] = i

    def __len__(self) -> int:
        return len(self.ids)


class SyntheticFlow:
    """Drives simulated participants on an :class:`Exchange`.

    Args:
        exchange: the exchange to trade on (participants are added as synthetic users).
        seed: seeds this flow's choices (independent of the exchange's id seed).
        tickers: markets to animate (default: every active market).
        levels: target number of resting price levels per side (50-300 realistic).
        makers: simulated market makers per market.
        takers: simulated aggressive traders per market.
        drift_bps: standard deviation of one reference-price step, in basis points.
    """

    def __init__(self, exchange: Exchange, seed: int = 0, *,
                 tickers: Sequence[str] | None = None, levels: int = 150, makers: int = 3,
                 takers: int = 2, drift_bps: float = 0.5) -> None:
        if levels < 1 or makers < 1 or takers < 1:
            raise ValueError("levels, makers and takers must be >= 1")
        self._ex = exchange
        self._rng = random.Random(seed)
        self._seed = seed
        self._levels = levels
        self._drift = drift_bps / 10_000
        self.tickers = list(tickers) if tickers else [
            m.ticker for m in exchange.markets() if m.status == "active"]
        for t in self.tickers:
            exchange.market(t)  # 404 Rejection for an unknown ticker
        self._makers = [exchange.add_user(cash=SYNTHETIC_CASH, synthetic=True)
                        for _ in range(makers)]
        self._takers = [exchange.add_user(cash=SYNTHETIC_CASH, synthetic=True)
                        for _ in range(takers)]
        self._ids = set(self._makers) | set(self._takers)
        self._anchor = {t: exchange.market(t).reference_price.price for t in self.tickers}
        self._ticks = {t: exchange.tick_size(t) for t in self.tickers}
        self._resting: dict[tuple[str, str], _Resting] = {
            (t, s): _Resting() for t in self.tickers for s in ("bid", "ask")}
        self._n = 0
        self.actions = 0
        self.rejected = 0
        """Synthetic orders the exchange refused (e.g. a band edge); counted, never hidden."""

    @property
    def participant_ids(self) -> list[str]:
        return self._makers + self._takers

    # ------------------------------------------------------------------ helpers
    def _coid(self) -> str:
        self._n += 1
        return f"synth-{self._seed}-{self._n}"

    def _track(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, OrderUpdate) and ev.order.user_id in self._ids:
                o = ev.order
                bucket = self._resting[(o.ticker, o.side)]
                if o.remaining_count > 0:
                    bucket.add(o.order_id, o.user_id)
                else:
                    bucket.discard(o.order_id)

    def _place(self, ticker: str, side: Side, distance: int, now_ms: int) -> list[Event]:
        bid, ask, ref = self._ex.best_prices(ticker)
        tick = self._ticks[ticker]
        price = ref - distance * tick if side == "bid" else ref + distance * tick
        if side == "bid" and ask is not None:
            price = min(price, ask - tick)
        if side == "ask" and bid is not None:
            price = max(price, bid + tick)
        price = (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick
        if price <= 0:
            return []
        user = self._rng.choice(self._makers)
        count = Decimal(self._rng.choice(SIZES))
        return self._submit(user, ticker, side, count, price, "good_till_canceled", now_ms)

    def _submit(self, user: str, ticker: str, side: Side, count: Decimal, price: Decimal,
                tif: str, now_ms: int) -> list[Event]:
        try:
            res = self._ex.create_order(
                user, ticker=ticker, client_order_id=self._coid(), side=side, count=count,
                price=price, time_in_force="good_till_canceled" if tif == "good_till_canceled"
                else "immediate_or_cancel", now_ms=now_ms)
        except Rejection:
            self.rejected += 1
            return []
        self._track(res.events)
        return res.events

    def _cancel(self, ticker: str, side: Side, now_ms: int) -> list[Event]:
        bucket = self._resting[(ticker, side)]
        if not bucket:
            return []
        order_id, user = bucket.ids[self._rng.randrange(len(bucket))]
        try:
            res = self._ex.cancel_order(user, order_id, now_ms=now_ms)
        except Rejection:
            bucket.discard(order_id)
            return []
        self._track(res.events)
        return res.events

    def _take(self, ticker: str, now_ms: int) -> list[Event]:
        bid, ask, _ = self._ex.best_prices(ticker)
        side: Side = "bid" if self._rng.random() < 0.5 else "ask"
        best = ask if side == "bid" else bid
        if best is None:
            return []
        tick = self._ticks[ticker]
        through = self._rng.randrange(0, 4) * tick
        price = best + through if side == "bid" else best - through
        if price <= 0:
            return []
        count = Decimal(self._rng.choice(TAKE_SIZES))
        user = self._rng.choice(self._takers)
        return self._submit(user, ticker, side, count, price, "immediate_or_cancel", now_ms)

    def _drift_price(self, ticker: str, now_ms: int) -> list[Event]:
        _, _, ref = self._ex.best_prices(ticker)
        tick = self._ticks[ticker]
        anchor = self._anchor[ticker]
        step = self._rng.gauss(0.0, self._drift) + MEAN_REVERSION * float((anchor - ref) / ref)
        new = ref * (1 + Decimal(repr(round(step, 10))))
        new = max(tick, (new / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick)
        if new == ref:
            return []
        return self._ex.move_price(ticker, new, now_ms=now_ms)

    # ------------------------------------------------------------------ public
    def seed_books(self, now_ms: int) -> list[Event]:
        """Fill every book to about ``levels`` levels per side (call once at start)."""
        events: list[Event] = []
        for t in self.tickers:
            for i in range(self._levels):
                for side in ("bid", "ask"):
                    events += self._place(t, side, 1 + i + self._rng.randrange(0, 2), now_ms)
        return events

    def step(self, now_ms: int, actions: int = 1) -> list[Event]:
        """Perform ``actions`` random participant actions (place, cancel, take, drift)."""
        events: list[Event] = []
        names = [w[0] for w in WEIGHTS]
        weights = [w[1] for w in WEIGHTS]
        for _ in range(actions):
            self.actions += 1
            ticker = self._rng.choice(self.tickers)
            action = self._rng.choices(names, weights)[0]
            side: Side = "bid" if self._rng.random() < 0.5 else "ask"
            if action == "place" and len(self._resting[(ticker, side)]) > 2 * self._levels:
                action = "cancel"
            if action == "cancel" and len(self._resting[(ticker, side)]) < self._levels // 2:
                action = "place"
            if action == "place":
                distance = 1 + int(self._rng.expovariate(2.0 / self._levels))
                events += self._place(ticker, side, distance, now_ms)
            elif action == "cancel":
                events += self._cancel(ticker, side, now_ms)
            elif action == "take":
                events += self._take(ticker, now_ms)
            else:
                events += self._drift_price(ticker, now_ms)
        return events
