"""Our margin numbers against the exchange's ``/margin/balance``, ``/risk``, ``/positions``.

margin-model.md §8.6: recompute from the exchange's own reads, using the
``mark_price`` ``/margin/risk`` reports, and list every value outside its tolerance:

* identities (must agree): position notional and its total, unrealised PnL, account
  equity (M4: the settled funds equal the sum over subaccounts of equity - our
  UPnL from mark and entry), initial margin (= multiplier x
  reported MM), available balance (= equity - IM - ROM, only when the balance read
  computed it), position and account leverage, ``margin_used`` = MM, ``roe`` --
  $0.0001 per value, $0.0002 for sums, 1e-4 relative for ratios;
* model MM (non-portfolio positions): our curve's MM vs ``maintenance_margin_required``
  -- max($0.0002, 0.5%) (a warning line above 0.5%, "recalibrate" above 1%);
* portfolio positions: ours must be >= reported - $0.0002;
* liquidation price: both null, or within max(5 ticks, 0.25%) (non-portfolio only).

Each mismatch is one :class:`Mismatch` and one line of :meth:`ReconReport.lines`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ..numbers import ZERO
from .formulas import (
    DEFAULT_IM_MULTIPLIER,
    RateCurve,
    initial_margin,
    liquidation_price,
    maintenance_margin,
)
from .model import DEFAULT_TICK, MarginModel

if TYPE_CHECKING:
    from ..rest_models import BalanceResponse, Position, RiskPosition, RiskResponse

__all__ = ["Mismatch", "ReconReport", "Tolerance", "reconcile"]


@dataclass(frozen=True, slots=True)
class Tolerance:
    """margin-model.md §8.6 tolerances."""

    value: Decimal = Decimal("0.0001")
    total: Decimal = Decimal("0.0002")
    ratio_relative: Decimal = Decimal("0.0001")
    mm_absolute: Decimal = Decimal("0.0002")
    mm_relative: Decimal = Decimal("0.005")
    mm_recalibrate: Decimal = Decimal("0.01")
    liq_ticks: int = 5
    liq_relative: Decimal = Decimal("0.0025")


@dataclass(frozen=True, slots=True)
class Mismatch:
    check: str
    """``identity``, ``model_mm``, ``portfolio_mm`` or ``liquidation_price``."""
    subaccount: int
    """-1 for an account-wide figure."""
    ticker: str | None
    field: str
    ours: Decimal | None
    theirs: Decimal | None
    tolerance: Decimal
    severity: str = "error"
    """``error`` (outside tolerance), ``warn`` or ``recalibrate`` (model MM drift)."""

    def line(self) -> str:
        where = ("account" if self.subaccount < 0 else f"sub {self.subaccount}") + (
            f" {self.ticker}" if self.ticker else "")
        diff = ("" if self.ours is None or self.theirs is None
                else f" diff {self.ours - self.theirs:+f}")
        return (f"{self.severity.upper()} {self.check} {where} {self.field}: ours {self.ours} "
                f"theirs {self.theirs}{diff} (tolerance {self.tolerance})")


@dataclass(frozen=True, slots=True)
class ReconReport:
    mismatches: tuple[Mismatch, ...]
    checked: int
    """How many values were compared."""
    implied_offsets: Mapping[int, Decimal] = field(default_factory=dict)
    """Per subaccount with portfolio positions: reported MM / our standalone MM."""

    @property
    def ok(self) -> bool:
        return not any(m.severity in ("error", "recalibrate") for m in self.mismatches)

    def lines(self) -> list[str]:
        """One line per mismatch, then a summary line."""
        out = [m.line() for m in self.mismatches]
        out.append(f"{'OK' if self.ok else 'MISMATCH'}: {self.checked} values checked, "
                   f"{len(self.mismatches)} outside tolerance")
        return out


class _Checker:
    def __init__(self, tol: Tolerance) -> None:
        self.tol = tol
        self.found: list[Mismatch] = []
        self.checked = 0

    def near(self, check: str, sub: int, ticker: str | None, name: str, ours: Decimal | None,
             theirs: Decimal | None, tol: Decimal, *, relative: bool = False) -> None:
        if theirs is None:
            return
        self.checked += 1
        if ours is None:
            self.found.append(Mismatch(check, sub, ticker, name, ours, theirs, tol))
            return
        limit = tol * abs(theirs) if relative else tol
        if abs(ours - theirs) > limit:
            self.found.append(Mismatch(check, sub, ticker, name, ours, theirs, tol))


def reconcile(balance: BalanceResponse, risk: RiskResponse, positions: Iterable[Position],
              model: MarginModel, *, tolerance: Tolerance | None = None) -> ReconReport:
    """Compare (see module doc); the three reads should be taken within ~1 s of each other."""
    tol = tolerance or Tolerance()
    c = _Checker(tol)
    pos_rows = {(p.subaccount, p.market_ticker): p for p in positions}
    risk_rows = {(r.subaccount, r.market_ticker): r for r in risk.positions}
    by_sub: dict[int, list[tuple[str, Decimal, Decimal | None]]] = {}
    offsets: dict[int, Decimal] = {}
    ours_std_total: dict[int, Decimal] = {}
    theirs_portfolio_total: dict[int, Decimal] = {}
    total_notional = total_mm = ZERO
    for (sub, t), r in risk_rows.items():
        mark = r.mark_price
        if mark is None:
            continue
        q = r.position
        notional = abs(q) * mark
        total_notional += notional
        c.near("identity", sub, t, "position_notional", notional, r.position_notional, tol.value)
        mm = r.maintenance_margin_required
        if mm is not None:
            total_mm += mm
            if mm > 0:
                c.near("identity", sub, t, "position_leverage", notional / mm,
                       r.position_leverage, tol.ratio_relative, relative=True)
        p = pos_rows.get((sub, t))
        upnl: Decimal | None = None
        if p is not None and p.entry_price is not None:
            upnl = q * (mark - p.entry_price)
            c.near("identity", sub, t, "unrealized_pnl", upnl, p.unrealized_pnl, tol.value)
            if mm is not None:
                c.near("identity", sub, t, "margin_used", mm, p.margin_used, tol.value)
                if mm > 0 and p.roe is not None and p.unrealized_pnl is not None:
                    c.near("identity", sub, t, "roe", p.unrealized_pnl / mm * 100, p.roe,
                           tol.ratio_relative, relative=True)
        by_sub.setdefault(sub, []).append((t, q, upnl))
        market = model.markets.get(t)
        curve = None if market is None else market.curve(q > 0)
        if curve is None or mm is None:
            continue
        ours_mm = maintenance_margin(q, mark, curve)
        if r.is_portfolio:
            ours_std_total[sub] = ours_std_total.get(sub, ZERO) + ours_mm
            theirs_portfolio_total[sub] = theirs_portfolio_total.get(sub, ZERO) + mm
            continue
        _model_mm(c, sub, t, ours_mm, mm)
        _liquidation(c, model, sub, t, q, mark, p, curve, balance, risk_rows)
    for sub, ours_total in ours_std_total.items():
        theirs = theirs_portfolio_total[sub]
        c.checked += 1
        if ours_total < theirs - tol.mm_absolute:
            c.found.append(Mismatch("portfolio_mm", sub, None, "maintenance_margin", ours_total,
                                    theirs, tol.mm_absolute))
        if ours_total > 0:
            offsets[sub] = theirs / ours_total
    c.near("identity", -1, None, "total_position_notional", total_notional,
           risk.total_position_notional, tol.total)
    if total_mm > 0:
        c.near("identity", -1, None, "account_leverage", total_notional / total_mm,
               risk.account_leverage, tol.ratio_relative, relative=True)
    _balances(c, balance, risk_rows, by_sub, model)
    return ReconReport(tuple(c.found), c.checked, offsets)


def _model_mm(c: _Checker, sub: int, t: str, ours: Decimal, theirs: Decimal) -> None:
    tol = c.tol
    c.checked += 1
    diff = abs(ours - theirs)
    relative = diff / theirs if theirs > 0 else (ZERO if diff == 0 else Decimal(1))
    if diff <= max(tol.mm_absolute, tol.mm_relative * theirs):
        return
    severity = "recalibrate" if relative > tol.mm_recalibrate else "warn"
    c.found.append(Mismatch("model_mm", sub, t, "maintenance_margin_required", ours, theirs,
                            max(tol.mm_absolute, tol.mm_relative * theirs), severity))


def _liquidation(c: _Checker, model: MarginModel, sub: int, t: str, q: Decimal, mark: Decimal,
                 p: Position | None, curve: RateCurve, balance: BalanceResponse,
                 risk_rows: Mapping[tuple[int, str], RiskPosition]) -> None:
    """Only a lone position in its subaccount has the closed form (§3.6)."""
    if sum(1 for s, _ in risk_rows if s == sub) != 1 or p is None or p.entry_price is None:
        return
    entry = next((b for b in balance.subaccount_balances if b.subaccount == sub), None)
    if entry is None or entry.account_equity is None or p.unrealized_pnl is None:
        return
    theirs = risk_rows[(sub, t)].estimated_liquidation_price
    cash = entry.account_equity - p.unrealized_pnl
    ours = liquidation_price(q, q * p.entry_price, cash, curve.rate(abs(q) * mark),
                             model.liquidation_threshold)
    c.checked += 1
    if ours is None and theirs is None:
        return
    market = model.markets.get(t)
    tick = DEFAULT_TICK if market is None else market.tick
    if ours is None or theirs is None or abs(ours - theirs) > max(
            tick * c.tol.liq_ticks, c.tol.liq_relative * theirs):
        c.found.append(Mismatch("liquidation_price", sub, t, "estimated_liquidation_price",
                                ours, theirs, tick * c.tol.liq_ticks))


def _balances(c: _Checker, balance: BalanceResponse,
              risk_rows: Mapping[tuple[int, str], RiskPosition],
              by_sub: Mapping[int, list[tuple[str, Decimal, Decimal | None]]],
              model: MarginModel) -> None:
    tol = c.tol
    cash_total: Decimal | None = ZERO
    for b in balance.subaccount_balances:
        sub = b.subaccount
        if b.account_equity is None or None in [u for _, _, u in by_sub.get(sub, [])]:
            cash_total = None
        rows = [(t, r) for (s, t), r in risk_rows.items() if s == sub]
        mm = sum((r.maintenance_margin_required or ZERO for _, r in rows), ZERO)
        value = sum((abs(r.position) * (r.mark_price or ZERO) for _, r in rows), ZERO)
        c.near("identity", sub, None, "position_value", value, b.position_value, tol.total)
        c.near("identity", sub, None, "maintenance_margin", mm, b.maintenance_margin, tol.total)
        im = sum((initial_margin(r.maintenance_margin_required or ZERO,
                                 model.markets[t].multiplier if t in model.markets
                                 else DEFAULT_IM_MULTIPLIER) for t, r in rows), ZERO)
        c.near("identity", sub, None, "initial_margin", im, b.initial_margin, tol.total)
        upnls = [u for _, _, u in by_sub.get(sub, [])]
        if b.account_equity is not None and None not in upnls:
            if cash_total is not None:
                cash_total += b.account_equity - sum((u or ZERO for u in upnls), ZERO)
            rom = b.resting_orders_margin or ZERO
            if b.available_balance is not None and b.initial_margin is not None and (
                    b.available_balance != 0 or b.account_equity - b.initial_margin - rom == 0):
                c.near("identity", sub, None, "available_balance",
                       b.account_equity - b.initial_margin - rom, b.available_balance, tol.total)
    if cash_total is not None and balance.settled_funds is not None:
        # M4 across subaccounts: settled funds = sum of (equity - our UPnL).
        c.near("identity", -1, None, "settled_funds (= sum of equity - UPnL)", cash_total,
               balance.settled_funds, tol.total)
