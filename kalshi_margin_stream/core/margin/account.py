"""One subaccount's numbers (margin-model.md §8.3), computed from plain inputs.

Choices kept here, one place each:

* ``UPNL_MARK_ORDER``: unrealised PnL, equity and funding use the settlement mark
  ("used for settlement and funding"), falling back to the liquidation mark, then
  the last trade. Which mark ``/margin/risk`` really uses is UNKNOWN (§3.2).
* ``MARGIN_MARK_ORDER``: notional, MM, IM, resting-orders margin, margin ratio and
  liquidation use the liquidation mark ("mark price used for liquidation"), falling
  back to the settlement mark, then the last trade.
* ``AVAILABLE_SOURCE``: available balance is our own ``equity - IM - ROM`` (M5),
  live with every mark; the exchange's figure (only with the 50-token
  ``compute_available_balance=true`` read) is shown beside it, not used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..numbers import ZERO
from .formulas import (
    RateCurve,
    funding_estimate,
    initial_margin,
    liquidation_price,
    maintenance_margin,
    resting_orders_margin,
    tidy,
)
from .ledger import PositionLedger
from .orders import OrderView
from .snapshot import AccountView, MarketView, PositionView, frozen_map

if TYPE_CHECKING:
    from ..rest_models import SubaccountBalance

__all__ = ["AVAILABLE_SOURCE", "MARGIN_MARK_ORDER", "UPNL_MARK_ORDER", "CashBase", "Pricing",
           "build_account", "pick_mark"]

UPNL_MARK_ORDER = ("settlement_mark", "liquidation_mark", "last_price")
MARGIN_MARK_ORDER = ("liquidation_mark", "settlement_mark", "last_price")
AVAILABLE_SOURCE = "model"
"""``model``: equity - IM - ROM computed here; the REST value is in ``AccountView.exchange``."""
INFINITE = Decimal("Infinity")


@dataclass(frozen=True, slots=True)
class CashBase:
    """Cash a REST balance read gave, and when."""

    cash: Decimal
    as_of_ms: int
    exchange: SubaccountBalance | None = None


@dataclass(frozen=True, slots=True)
class Pricing:
    """Per-market margin parameters: a rate curve per side and the IM multiplier."""

    curve: Callable[[str, bool], RateCurve | None]
    """``curve(ticker, is_long)``."""
    multiplier: Callable[[str], Decimal]
    liquidation_threshold: Decimal


def pick_mark(market: MarketView | None, order: tuple[str, ...]) -> Decimal | None:
    """The first mark of ``order`` the market has."""
    if market is None:
        return None
    for name in order:
        value: Decimal | None = getattr(market, name)
        if value is not None:
            return value
    return None


def build_account(sub: int, ledgers: Mapping[str, PositionLedger], orders: Iterable[OrderView],
                  markets: Mapping[str, MarketView], pricing: Pricing,
                  cash_base: CashBase | None) -> AccountView:
    """Every figure of one subaccount; sums skip what is not computable (``complete`` says)."""
    open_orders = {o.order_id: o for o in orders}
    bids: dict[str, Decimal] = {}
    asks: dict[str, Decimal] = {}
    for o in open_orders.values():
        side = bids if o.side == "bid" else asks
        side[o.ticker] = side.get(o.ticker, ZERO) + o.remaining_count

    realized = fees = ZERO
    if cash_base is None:
        cash = ZERO
    else:
        cash = cash_base.cash
    for ledger in ledgers.values():
        realized += ledger.realized
        fees += ledger.fees
        if cash_base is not None:
            cash += ledger.cash_delta(cash_base.as_of_ms)
    if cash_base is None:
        cash = realized - fees

    live = {t: lg for t, lg in ledgers.items() if lg.qty != 0}
    complete = True
    positions: dict[str, PositionView] = {}
    upnl = notional = mm = im = margin_upnl = ZERO
    for ticker, lg in live.items():
        view = _position(sub, ticker, lg, markets.get(ticker), pricing,
                         cash if cash_base is not None and len(live) == 1 else None)
        positions[ticker] = view
        if view.unrealized_pnl is None or view.maintenance_margin is None:
            complete = False
        upnl += view.unrealized_pnl or ZERO
        notional += view.notional or ZERO
        mm += view.maintenance_margin or ZERO
        im += view.initial_margin or ZERO
        if view.margin_mark is not None and lg.cost is not None:
            margin_upnl += lg.qty * view.margin_mark - lg.cost

    rom = ZERO
    for ticker in set(bids) | set(asks):
        mark = pick_mark(markets.get(ticker), MARGIN_MARK_ORDER)
        held = ledgers.get(ticker)
        qty = ZERO if held is None else held.qty
        curve = pricing.curve(ticker, qty >= 0)
        if mark is None or curve is None:
            complete = False
            continue
        rom += resting_orders_margin(qty, bids.get(ticker, ZERO), asks.get(ticker, ZERO), mark,
                                     curve, pricing.multiplier(ticker))

    equity = cash + upnl
    margin_equity = cash + margin_upnl
    ratio: Decimal | None = None
    if mm > 0:
        ratio = mm / margin_equity if margin_equity > 0 else INFINITE
    return AccountView(
        subaccount=sub, cash=_t(cash), cash_known=cash_base is not None,
        cash_as_of_ms=None if cash_base is None else cash_base.as_of_ms,
        positions=frozen_map(positions), open_orders=frozen_map(open_orders),
        unrealized_pnl=_t(upnl), equity=_t(equity), total_notional=_t(notional),
        maintenance_margin=mm, initial_margin=im, resting_orders_margin=rom,
        margin_used=im + rom, available_balance=_t(equity - im - rom),
        margin_equity=_t(margin_equity), margin_ratio=ratio,
        liquidation_buffer=tidy(margin_equity - pricing.liquidation_threshold * mm)
        if live else None,
        account_leverage=notional / mm if mm > 0 else None,
        realized_pnl=_t(realized), fees=_t(fees), complete=complete and cash_base is not None,
        exchange=None if cash_base is None else cash_base.exchange,
        exchange_as_of_ms=None if cash_base is None else cash_base.as_of_ms)


def _t(value: Decimal) -> Decimal:
    return tidy(value) or value


def _position(sub: int, ticker: str, lg: PositionLedger, market: MarketView | None,
              pricing: Pricing, lone_cash: Decimal | None) -> PositionView:
    q, cost = lg.qty, lg.cost
    mark = pick_mark(market, UPNL_MARK_ORDER)
    margin_mark = pick_mark(market, MARGIN_MARK_ORDER)
    curve = pricing.curve(ticker, q > 0)
    notional = None if margin_mark is None else abs(q) * margin_mark
    mm = im = rate = lev = liq = None
    if notional is not None and margin_mark is not None and curve is not None:
        rate = curve.rate(notional)
        mm = maintenance_margin(q, margin_mark, curve)
        im = initial_margin(mm, pricing.multiplier(ticker))
        lev = notional / mm if mm > 0 else None
        if lone_cash is not None and cost is not None:
            liq = liquidation_price(q, cost, lone_cash, rate, pricing.liquidation_threshold)
    upnl = None if mark is None or cost is None else q * mark - cost
    funding = None
    if market is not None and market.funding_rate is not None and mark is not None:
        funding = funding_estimate(q, mark, market.funding_rate)
    return PositionView(
        subaccount=sub, ticker=ticker, count=q, entry_price=tidy(lg.entry_price),
        cost_basis=tidy(cost), mark=mark, margin_mark=margin_mark, notional=tidy(notional),
        unrealized_pnl=tidy(upnl), maintenance_margin=mm, initial_margin=im, mm_rate=rate,
        leverage=lev, liquidation_price=liq, funding_estimate=tidy(funding),
        realized_pnl=_t(lg.realized), fees=_t(lg.fees), gaps=lg.gaps,
        baseline_ms=lg.base_as_of_ms)
