"""Margin maths per margin-model.md §8.3, as pure functions of one subaccount.

* ``MM_i = round4_up(N_i x m_i(N_i))`` with ``N_i = |q_i| x mark_i``
  (rounded up: reproduces the demo's 0.8259 for 0.82581);
* ``IM_i = round4_half_up(MM_i x multiplier_i)`` (from the rounded MM: 0.8259 x 1.3 -> 1.0737);
* ``ROM_i = max(0, max(IM(q+B), IM(q-A)) - IM(q))`` with B/A the resting bid/ask sizes,
  priced at the mark (ASSUMED in the spec; kept as the one formula here);
* ``equity = cash + sum(q x mark - C)``; ``available = equity - IM - ROM``;
* ``margin ratio = MM / equity`` (M10: queue at 0.91, liquidate at 1.0);
* notional usage per market = max(long side, short side) with positions at the mark and
  resting orders at their limit price (rest.md §6.6).

The mark used for all of this is the market's liquidation mark (``MARGIN_MARK``).
Every formula is the client's own (:mod:`kalshi_margin_stream.core.margin.formulas`),
so the simulator charges exactly what the pre-trade calculator predicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ...core.margin import formulas
from ...core.margin.formulas import (
    initial_margin,
    maintenance_margin,
    notional_usage,
    resting_orders_margin,
)
from .config import MarketConfig
from .ledger import Subaccount

__all__ = ["mm_for", "im_for", "rom_for", "Summary", "summarize", "market_usage",
           "liquidation_price", "INFINITE_RATIO"]

ZERO = Decimal(0)
INFINITE_RATIO = Decimal("Infinity")
# Which of the market's marks margin, PnL and liquidation use (UNCONFIRMED, margin-model.md §9).
MARGIN_MARK = "liquidation_mark_price"


def mm_for(cfg: MarketConfig, qty: Decimal, mark: Decimal) -> Decimal:
    return maintenance_margin(qty, mark, cfg.curve)


def im_for(cfg: MarketConfig, qty: Decimal, mark: Decimal) -> Decimal:
    return initial_margin(mm_for(cfg, qty, mark), cfg.initial_margin_multiplier)


def rom_for(cfg: MarketConfig, qty: Decimal, bids: Decimal, asks: Decimal,
            mark: Decimal) -> Decimal:
    return resting_orders_margin(qty, bids, asks, mark, cfg.curve, cfg.initial_margin_multiplier)


@dataclass(frozen=True, slots=True)
class Summary:
    cash: Decimal
    position_value: Decimal
    unrealized: Decimal
    equity: Decimal
    mm: Decimal
    im: Decimal
    rom: Decimal

    @property
    def available(self) -> Decimal:
        return self.equity - self.im - self.rom

    @property
    def requirement(self) -> Decimal:
        return self.im + self.rom

    @property
    def margin_ratio(self) -> Decimal | None:
        if self.mm == 0:
            return None
        if self.equity <= 0:
            return INFINITE_RATIO
        return self.mm / self.equity


def summarize(sub: Subaccount, configs: Mapping[str, MarketConfig],
              marks: Mapping[str, Decimal], *,
              extra: tuple[str, str, Decimal] | None = None) -> Summary:
    """Margin numbers of one subaccount; ``extra = (ticker, side, qty)`` adds a
    hypothetical resting order (pre-trade check)."""
    pv = upnl = mm = im = rom = ZERO
    tickers = set(sub.positions) | set(sub.exposure)
    if extra is not None:
        tickers.add(extra[0])
    for t in tickers:
        cfg = configs[t]
        mark = marks[t]
        pos = sub.positions.get(t)
        q = ZERO if pos is None else pos.qty
        if pos is not None and q != 0:
            pv += abs(q) * mark
            upnl += q * mark - pos.cost
            mm += mm_for(cfg, q, mark)
            im += im_for(cfg, q, mark)
        exp = sub.exposure.get(t)
        bids = ZERO if exp is None else exp.bid_qty
        asks = ZERO if exp is None else exp.ask_qty
        if extra is not None and extra[0] == t:
            if extra[1] == "bid":
                bids += extra[2]
            else:
                asks += extra[2]
        rom += rom_for(cfg, q, bids, asks, mark)
    return Summary(cash=sub.cash, position_value=pv, unrealized=upnl, equity=sub.cash + upnl,
                   mm=mm, im=im, rom=rom)


def market_usage(sub: Subaccount, ticker: str, mark: Decimal, *,
                 extra: tuple[str, Decimal, Decimal] | None = None) -> Decimal:
    """Notional usage of one market: ``extra = (side, qty, price)`` adds an order."""
    pos = sub.positions.get(ticker)
    q = ZERO if pos is None else pos.qty
    exp = sub.exposure.get(ticker)
    bid_n = ZERO if exp is None else exp.bid_notional
    ask_n = ZERO if exp is None else exp.ask_notional
    if extra is not None:
        if extra[0] == "bid":
            bid_n += extra[1] * extra[2]
        else:
            ask_n += extra[1] * extra[2]
    return notional_usage(q, mark, bid_n, ask_n)


def liquidation_price(cfg: MarketConfig, qty: Decimal, cost: Decimal, cash: Decimal,
                      threshold: Decimal, mark: Decimal) -> Decimal | None:
    """Price at which a single-position subaccount's MM/equity reaches ``threshold``.

    The rate is taken at the current notional; None when there is no positive solution
    (margin-model.md §3.6).
    """
    if qty == 0:
        return None
    return formulas.liquidation_price(qty, cost, cash, cfg.mm_rate(abs(qty) * mark), threshold)
