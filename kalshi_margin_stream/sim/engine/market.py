"""Live state of one market: its book, last trade, volumes, marks and funding clock.

Marks (UNCONFIRMED how Kalshi computes them; kept here):

* ``settlement_mark_price`` = median(best bid, best ask, last trade), falling back to the
  reference price when a side or the last trade is missing;
* ``liquidation_mark_price`` = median(best bid, best ask, reference price), same fallback.

Funding: the premium index is ``(mid - reference) / reference``; the estimate is its
time-weighted average since the last funding time, clamped to ``funding_cap`` and zeroed
inside ``funding_deadband`` (market-facts.md §5).
"""

from __future__ import annotations

from collections import deque
from decimal import ROUND_HALF_EVEN, Decimal

from .book import OrderBook
from .config import MarketConfig
from .events import FundingSettled, PublicTrade
from .views import MarketStats, PricePoint

__all__ = ["MarketState", "FUNDING_RATE_QUANTUM"]

ZERO = Decimal(0)
DAY_MS = 24 * 3600 * 1000
MINUTE_MS = 60_000
# Funding rates are JSON numbers on the wire; we keep them to 10 decimal places.
FUNDING_RATE_QUANTUM = Decimal("1E-10")
MAX_TRADES = 200_000
"""Public trades kept for REST paging (older ones age out, like Kalshi's history)."""


class _Bucket:
    __slots__ = ("minute", "count", "notional")

    def __init__(self, minute: int) -> None:
        self.minute = minute
        self.count = ZERO
        self.notional = ZERO


def _median3(a: Decimal, b: Decimal, c: Decimal) -> Decimal:
    return max(min(a, b), min(max(a, b), c))


class MarketState:
    def __init__(self, cfg: MarketConfig, now_ms: int) -> None:
        self.cfg = cfg
        self.book = OrderBook()
        self.status = cfg.status
        self.last_price: Decimal | None = None
        self.last_trade_size = ZERO
        self.volume = ZERO
        self.volume_notional = ZERO
        self.open_interest = ZERO
        self._minutes: deque[_Bucket] = deque()
        self._v24 = ZERO
        self._n24 = ZERO
        self.reference = PricePoint(cfg.initial_reference_price, now_ms)
        self.settlement_mark = PricePoint(cfg.initial_reference_price, now_ms)
        self.liquidation_mark = PricePoint(cfg.initial_reference_price, now_ms)
        self.trades: deque[tuple[int, PublicTrade]] = deque(maxlen=MAX_TRADES)
        self.funding_history: list[FundingSettled] = []
        self.ts_ms = now_ms
        # Funding accumulator.
        self.interval_start_ms = self.last_funding_time(now_ms)
        self._premium = ZERO
        self._premium_ts = now_ms
        self._premium_integral = ZERO
        self._integral_ms = 0
        self.funding_estimate = ZERO
        self.funding_ts_ms = now_ms
        self._last_ticker_key: tuple[object, ...] | None = None

    # ------------------------------------------------------------------ funding clock
    def last_funding_time(self, now_ms: int) -> int:
        i, off = self.cfg.funding_interval_ms, self.cfg.funding_offset_ms
        return ((now_ms - off) // i) * i + off

    def next_funding_time(self, now_ms: int) -> int:
        return self.last_funding_time(now_ms) + self.cfg.funding_interval_ms

    def premium_index(self) -> Decimal:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        ref = self.reference.price
        if bid is None or ask is None or ref <= 0:
            return ZERO
        return (bid + ask) / 2 / ref - 1

    def accumulate(self, now_ms: int) -> None:
        """Integrate the premium held since the last sample up to ``now_ms``."""
        if now_ms > self._premium_ts:
            dt = now_ms - self._premium_ts
            self._premium_integral += self._premium * dt
            self._integral_ms += dt
            self._premium_ts = now_ms
        self._premium = self.premium_index()
        self.funding_estimate = self._clamp(self._twap())
        self.funding_ts_ms = now_ms

    def _twap(self) -> Decimal:
        if self._integral_ms <= 0:
            return self._premium
        return self._premium_integral / self._integral_ms

    def _clamp(self, rate: Decimal) -> Decimal:
        cap, band = self.cfg.funding_cap, self.cfg.funding_deadband
        rate = max(-cap, min(cap, rate))
        if abs(rate) < band:
            return ZERO
        return rate.quantize(FUNDING_RATE_QUANTUM, rounding=ROUND_HALF_EVEN)

    def settle_funding(self, funding_time_ms: int) -> FundingSettled:
        """Close the interval ending at ``funding_time_ms``; returns the settled rate."""
        self.accumulate(funding_time_ms)
        rate = self._clamp(self._twap())
        rec = FundingSettled(ticker=self.cfg.ticker, funding_time_ms=funding_time_ms,
                             funding_rate=rate, mark_price=self.settlement_mark.price)
        self.funding_history.append(rec)
        self.interval_start_ms = funding_time_ms
        self._premium_integral = ZERO
        self._integral_ms = 0
        self.funding_estimate = self._clamp(self._premium)
        return rec

    # ------------------------------------------------------------------ trades, marks
    def record_trade(self, seq: int, trade: PublicTrade) -> None:
        self.trades.append((seq, trade))
        self.last_price = trade.price
        self.last_trade_size = trade.count
        notional = trade.count * trade.price
        self.volume += trade.count
        self.volume_notional += notional
        minute = trade.ts_ms // MINUTE_MS
        if not self._minutes or self._minutes[-1].minute != minute:
            self._minutes.append(_Bucket(minute))
        bucket = self._minutes[-1]
        bucket.count += trade.count
        bucket.notional += notional
        self._v24 += trade.count
        self._n24 += notional
        self.ts_ms = trade.ts_ms

    def volume_24h(self, now_ms: int) -> tuple[Decimal, Decimal]:
        """Contracts and notional traded in the last 24 h (minute buckets, running sums)."""
        oldest = (now_ms - DAY_MS) // MINUTE_MS
        while self._minutes and self._minutes[0].minute <= oldest:
            gone = self._minutes.popleft()
            self._v24 -= gone.count
            self._n24 -= gone.notional
        return self._v24, self._n24

    def update_marks(self, now_ms: int) -> None:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        ref = self.reference.price
        if bid is not None and ask is not None:
            last = self.last_price if self.last_price is not None else ref
            settle = _median3(bid, ask, last)
            liq = _median3(bid, ask, ref)
        else:
            settle = liq = ref
        if settle != self.settlement_mark.price:
            self.settlement_mark = PricePoint(settle, now_ms)
        if liq != self.liquidation_mark.price:
            self.liquidation_mark = PricePoint(liq, now_ms)

    @property
    def mark(self) -> Decimal:
        return self.liquidation_mark.price

    def ticker_key(self) -> tuple[object, ...]:
        bids, asks = self.book.bids.best(), self.book.asks.best()
        return (None if bids is None else (bids.price, bids.total),
                None if asks is None else (asks.price, asks.total),
                self.last_price, self.volume, self.reference.price,
                self.settlement_mark.price, self.liquidation_mark.price, self.status,
                self.interval_start_ms)

    def ticker_changed(self) -> bool:
        """True once per change of the ticker-worthy state (then remembered)."""
        key = self.ticker_key()
        if key == self._last_ticker_key:
            return False
        self._last_ticker_key = key
        return True

    def stats(self, now_ms: int) -> MarketStats:
        bids, asks = self.book.bids.best(), self.book.asks.best()
        v24, n24 = self.volume_24h(now_ms)
        return MarketStats(
            config=self.cfg,
            status=self.status,
            price=self.last_price,
            bid=None if bids is None else bids.price,
            ask=None if asks is None else asks.price,
            bid_size=ZERO if bids is None else bids.total,
            ask_size=ZERO if asks is None else asks.total,
            last_trade_size=self.last_trade_size,
            volume=self.volume,
            volume_notional=self.volume_notional,
            volume_24h=v24,
            volume_24h_notional=n24,
            open_interest=self.open_interest,
            open_interest_notional=self.open_interest * self.settlement_mark.price,
            reference_price=self.reference,
            settlement_mark_price=self.settlement_mark,
            liquidation_mark_price=self.liquidation_mark,
            funding_rate=self.funding_estimate,
            next_funding_time_ms=self.next_funding_time(now_ms),
            funding_ts_ms=self.funding_ts_ms,
            ts_ms=self.ts_ms,
        )
