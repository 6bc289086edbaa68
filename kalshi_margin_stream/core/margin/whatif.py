"""A mutable what-if copy of one subaccount, re-priced incrementally.

The pre-trade calculator answers "what if these orders filled (or rested)?" many
times per call: each order alone, the whole basket, and every step of the basket
placed leg by leg. A :class:`Scenario` holds cash, the net position and the resting
orders of each market, and keeps per-market figures (notional, unrealised PnL, MM,
IM, resting-orders margin, notional usage) and their sums; a change to one market
re-prices that market only, so a 50-leg basket on a 10-position account costs
about 150 single-market re-pricings instead of 1,500.

Every number comes from :mod:`.formulas` (one implementation each) and everything
is valued at one mark per market (:class:`Pricer`), so the figures are those of the
simulator, which charges by the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..messages import Side
from ..numbers import ZERO
from .formulas import (
    RateCurve,
    fill_position,
    initial_margin,
    liquidation_price,
    maintenance_margin,
    notional_usage,
    resting_orders_margin,
)

__all__ = ["NO_FIGURES", "Figures", "Holding", "Pricer", "Scenario"]

INFINITE = Decimal("Infinity")


@dataclass(slots=True)
class Holding:
    """One market of one subaccount: the net position and the resting orders."""

    qty: Decimal = ZERO
    cost: Decimal = ZERO
    """Signed cost basis (``qty x entry``)."""
    bids: Decimal = ZERO
    asks: Decimal = ZERO
    bid_notional: Decimal = ZERO
    ask_notional: Decimal = ZERO

    def copy(self) -> Holding:
        return Holding(self.qty, self.cost, self.bids, self.asks, self.bid_notional,
                       self.ask_notional)

    def add_resting(self, side: Side, count: Decimal, price: Decimal) -> None:
        if side == "bid":
            self.bids += count
            self.bid_notional += count * price
        else:
            self.asks += count
            self.ask_notional += count * price


@dataclass(frozen=True, slots=True)
class Figures:
    """One market's contribution to the subaccount totals."""

    notional: Decimal
    upnl: Decimal
    mm: Decimal
    im: Decimal
    rom: Decimal
    usage: Decimal
    rate: Decimal | None
    """MM rate at the position's notional (None when flat)."""


NO_FIGURES = Figures(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, None)


@dataclass(frozen=True, slots=True)
class Pricer:
    """Marks and margin parameters: prices one market's holding."""

    marks: Mapping[str, Decimal]
    curve: Callable[[str, bool], RateCurve]
    """``curve(ticker, is_long)`` (the caller guarantees one exists for priced markets)."""
    multiplier: Callable[[str], Decimal]

    def figures(self, ticker: str, h: Holding) -> Figures:
        if h.qty == 0 and h.bids == 0 and h.asks == 0:
            return NO_FIGURES
        mark = self.marks[ticker]
        mult = self.multiplier(ticker)
        notional = upnl = mm = im = ZERO
        rate = None
        if h.qty != 0:
            curve = self.curve(ticker, h.qty > 0)
            notional = abs(h.qty) * mark
            upnl = h.qty * mark - h.cost
            rate = curve.rate(notional)
            mm = maintenance_margin(h.qty, mark, curve)
            im = initial_margin(mm, mult)
        rom = resting_orders_margin(h.qty, h.bids, h.asks, mark,
                                    self.curve(ticker, h.qty >= 0), mult)
        usage = notional_usage(h.qty, mark, h.bid_notional, h.ask_notional)
        return Figures(notional, upnl, mm, im, rom, usage, rate)


class Scenario:
    """One subaccount under hypothetical fills and orders (see module doc)."""

    __slots__ = ("cash", "holdings", "figs", "pricer", "notional", "upnl", "mm", "im", "rom",
                 "usage", "fees", "realized", "_owned")

    def __init__(self, pricer: Pricer, cash: Decimal, holdings: dict[str, Holding]) -> None:
        self.pricer = pricer
        self.cash = cash
        self.holdings = holdings
        self.figs: dict[str, Figures] = {t: pricer.figures(t, h) for t, h in holdings.items()}
        self.notional = sum((f.notional for f in self.figs.values()), ZERO)
        self.upnl = sum((f.upnl for f in self.figs.values()), ZERO)
        self.mm = sum((f.mm for f in self.figs.values()), ZERO)
        self.im = sum((f.im for f in self.figs.values()), ZERO)
        self.rom = sum((f.rom for f in self.figs.values()), ZERO)
        self.usage = sum((f.usage for f in self.figs.values()), ZERO)
        self.fees = ZERO
        self.realized = ZERO
        self._owned: set[str] = set(holdings)
        """Holdings this scenario may change in place (copies share the others)."""

    def copy(self) -> Scenario:
        """An independent scenario; holdings are copied only when one of them changes."""
        new = Scenario.__new__(Scenario)
        new.pricer = self.pricer
        new.cash = self.cash
        new.holdings = dict(self.holdings)
        new._owned = set()
        self._owned = set()  # shared now: both sides copy before writing
        new.figs = dict(self.figs)
        new.notional, new.upnl, new.mm = self.notional, self.upnl, self.mm
        new.im, new.rom, new.usage = self.im, self.rom, self.usage
        new.fees, new.realized = self.fees, self.realized
        return new

    # --- totals -------------------------------------------------------------

    @property
    def equity(self) -> Decimal:
        return self.cash + self.upnl

    @property
    def requirement(self) -> Decimal:
        """IM + resting-orders margin: what ``available`` subtracts from equity."""
        return self.im + self.rom

    @property
    def available(self) -> Decimal:
        return self.equity - self.im - self.rom

    @property
    def margin_ratio(self) -> Decimal | None:
        """MM / equity (M10); Infinity when equity <= 0 < MM; None without MM."""
        if self.mm == 0:
            return None
        equity = self.equity
        return self.mm / equity if equity > 0 else INFINITE

    def holding(self, ticker: str) -> Holding:
        h = self.holdings.get(ticker)
        return h if h is not None else Holding()

    def market_usage(self, ticker: str) -> Decimal:
        f = self.figs.get(ticker)
        return ZERO if f is None else f.usage

    # --- changes ------------------------------------------------------------

    def fill(self, ticker: str, side: Side, count: Decimal, price: Decimal,
             fee: Decimal) -> Decimal:
        """Book a fill at ``price`` paying ``fee``; returns the realised PnL."""
        h = self._writable(ticker)
        signed = count if side == "bid" else -count
        h.qty, h.cost, realized = fill_position(h.qty, h.cost, signed, price)
        self.cash += realized - fee
        self.fees += fee
        self.realized += realized
        self._reprice(ticker, h)
        return realized

    def rest(self, ticker: str, side: Side, count: Decimal, price: Decimal) -> None:
        """Add a resting order (what the exchange checks when the order is placed)."""
        h = self._writable(ticker)
        h.add_resting(side, count, price)
        self._reprice(ticker, h)

    def _writable(self, ticker: str) -> Holding:
        h = self.holdings.get(ticker)
        if h is None:
            h = Holding()
        elif ticker not in self._owned:
            h = h.copy()
        self.holdings[ticker] = h
        self._owned.add(ticker)
        return h

    def _reprice(self, ticker: str, h: Holding) -> None:
        old = self.figs.get(ticker, NO_FIGURES)
        new = self.pricer.figures(ticker, h)
        self.figs[ticker] = new
        self.notional += new.notional - old.notional
        self.upnl += new.upnl - old.upnl
        self.mm += new.mm - old.mm
        self.im += new.im - old.im
        self.rom += new.rom - old.rom
        self.usage += new.usage - old.usage

    # --- liquidation --------------------------------------------------------

    def liquidation_price(self, ticker: str, threshold: Decimal) -> Decimal | None:
        """Mark of ``ticker`` at which equity = threshold x MM, other marks held (§3.6)."""
        h = self.holdings.get(ticker)
        f = self.figs.get(ticker)
        if h is None or h.qty == 0 or f is None or f.rate is None:
            return None
        others_upnl = self.upnl - f.upnl
        others_mm = self.mm - f.mm
        effective_cash = self.cash + others_upnl - threshold * others_mm
        return liquidation_price(h.qty, h.cost, effective_cash, f.rate, threshold)
