"""Pre-trade margin calculator: Kite-style order and basket margins (margin-model.md §8).

:class:`MarginCalculator` answers, over one immutable :class:`~.snapshot.MarginSnapshot`
and a :class:`~.model.MarginModel`:

* ``order_margins(orders)`` -- each order **on its own** against the current positions
  (and resting orders): what it costs, and the margin, leverage, liquidation price and
  available balance after it fills (Kite ``POST /margins/orders``);
* ``basket_margins(orders)`` -- ``initial`` (the standalone totals added up), ``final``
  (the whole basket applied at once, with the netting benefit), ``sequential`` (the
  peak requirement when the legs are placed one by one, which is what Kalshi checks:
  the margin API has no batch orders) and ``benefit`` (Kite ``POST /margins/basket``).

Results are JSON-ready dicts in the shapes of margin-model.md §8.5 (money as 4-place
strings, counts as 2-place strings). Choices, each in one named place:

* every figure is valued at one mark per market, chosen by ``mark_source``
  (``MARK_SOURCES``; ``auto`` = the liquidation mark, else settlement, else last --
  the simulator's margin mark; which mark Kalshi uses is UNCONFIRMED, §3.2);
* an order is assumed to fill in full **at its limit price**; liquidity is guessed
  from the snapshot's best bid/ask (``post_only`` -> maker);
* ``total`` = ``max(0, dIM + dROM) + fee + max(0, -slippage)`` with slippage =
  ``signed count x (mark - price)`` (§8.5; the slippage generalises the "immediate
  unrealised" of the opening part to the whole order);
* the "will it be accepted" checks are those of the simulator, shared through
  :mod:`.formulas`: the order counts as resting when placed (``placement_fits``,
  taker fee, [ASSUME]) and notional usage is max(long, short) with orders at their
  price (``notional_usage``, UNCONFIRMED); reduce-only orders skip both;
* ``sequential``: each leg is placed (resting: what the exchange checks) and then
  fills before the next; a basket is ``ok`` when every leg, placed in that sequence,
  passes every check (a leg may fail alone yet fit after a hedge leg); a step needs
  ``max(0, requirement - requirement now)`` plus the fees and adverse slippage so
  far, at placement and after the fill, and ``peak_total`` is the largest step (so
  never below ``final.total``, the last step);
  ``hedge_first`` places exposure-reducing legs first;
* bad input never raises from the per-order calls: each bad order gets
  ``ok: false`` and an ``error`` ``{code, message}``; a basket with a bad order
  reports which and computes no totals (never a partial result).

The order input (fields, limits, typed errors) is :mod:`.order_input`. This module (~740 lines)
stays long on purpose: orders, baskets, the sequential walk, account figures and
the liquidation price all run through the one copy-on-write :class:`~.whatif.Scenario`
and the same checks, so splitting them would split one model of the account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from ...exceptions import InvalidRequest
from ..numbers import ZERO, fmt_count
from .account import MARGIN_MARK_ORDER
from .formulas import MONEY, RateCurve, fee, funding_estimate, notional_usage, placement_fits
from .model import Confidence, MarginModel, MarketModel
from .order_input import (
    MAX_COUNT,
    MAX_PRICE,
    OrderInputError,
    OrderRequest,
    parse_order,
)
from .orders import OrderView
from .snapshot import MarginSnapshot, MarketView
from .whatif import NO_FIGURES, Holding, Pricer, Scenario

__all__ = ["BAND_FRACTION", "BAND_TICKS", "MARK_SOURCES", "MAX_COUNT", "MAX_ORDERS", "MAX_PRICE",
           "MarginCalculator", "OrderInputError", "OrderRequest", "evaluate_request", "parse_order"]

MARK_SOURCES: Mapping[str, tuple[str, ...]] = {
    "auto": MARGIN_MARK_ORDER,
    "liquidation": ("liquidation_mark",),
    "settlement": ("settlement_mark",),
    "reference": ("reference_price",),
    "last": ("last_price",),
}
"""Which ``MarketView`` price values the positions and orders (first one present)."""
_MARK_TS = {"liquidation_mark": "liquidation_mark_ts_ms", "settlement_mark":
            "settlement_mark_ts_ms", "reference_price": "reference_price_ts_ms",
            "last_price": "ts_ms"}
BAND_FRACTION = Decimal("0.2")
BAND_TICKS = 1000
"""Price band (§6): bid >= min(0.8 x best bid, best bid - 1000 ticks); asks mirrored."""
PLACEMENT_FEE_LIQUIDITY = "taker"
"""The placement check covers the taker fee whatever the liquidity ([ASSUME], as the sim)."""
MAX_ORDERS = 10_000
"""Largest request (a guard against an accidental huge file, not an exchange rule)."""
Mode = Literal["full", "compact"]


def _m(x: Decimal) -> str:
    """Dollars to 4 places (half up); never "-0.0000"."""
    q = x.quantize(MONEY, rounding=ROUND_HALF_UP)
    return format(q if q != 0 else abs(q), "f")


def _om(x: Decimal | None) -> str | None:
    return None if x is None or not x.is_finite() else _m(x)


def _ratio(x: Decimal | None) -> str | None:
    if x is None:
        return None
    return "Infinity" if not x.is_finite() else _m(x)


@dataclass(frozen=True, slots=True)
class _Leg:
    """An order as one step of a what-if: its effective count, fee and slippage."""

    order: OrderRequest
    count: Decimal
    liquidity: str
    rate: Decimal
    fee: Decimal
    slippage: Decimal


class MarginCalculator:
    """Order and basket margins over one snapshot (see module doc)."""

    def __init__(self, model: MarginModel, snapshot: MarginSnapshot, *,
                 mark_source: str = "auto") -> None:
        if mark_source not in MARK_SOURCES:
            raise InvalidRequest(f"mark_source must be one of {', '.join(MARK_SOURCES)}, "
                                 f"got {mark_source!r}")
        self.model = model
        self.snapshot = snapshot
        self.mark_source = mark_source
        order = MARK_SOURCES[mark_source]
        self._marks: dict[str, Decimal] = {}
        self._mark_ts: dict[str, int | None] = {}
        for ticker, view in snapshot.markets.items():
            for name in order:
                value = getattr(view, name)
                if value is not None:
                    self._marks[ticker] = value
                    self._mark_ts[ticker] = getattr(view, _MARK_TS[name])
                    break
        self._pricer = Pricer(self._marks, self._curve, self._multiplier)
        self._fallback_curves: dict[str, RateCurve] = {}
        self._bases: dict[tuple[int, bool, bool], Scenario] = {}

    # --- parameters -----------------------------------------------------------

    def _multiplier(self, ticker: str) -> Decimal:
        m = self.model.markets.get(ticker)
        return m.multiplier if m is not None else MarketModel(ticker).multiplier

    def _curve(self, ticker: str, is_long: bool) -> RateCurve:
        m = self.model.markets.get(ticker)
        curve = None if m is None else m.curve(is_long)
        if curve is not None:
            return curve
        # A held market the model cannot price: the rate the snapshot derived (else 0).
        cached = self._fallback_curves.get(ticker)
        if cached is None:
            rate = ZERO
            for acct in self.snapshot.accounts.values():
                p = acct.positions.get(ticker)
                if p is not None and p.mm_rate is not None:
                    rate = p.mm_rate
            cached = self._fallback_curves[ticker] = RateCurve.flat(rate)
        return cached

    def _missing_marks(self, tickers: Iterable[str]) -> list[str]:
        return sorted(t for t in set(tickers) if t not in self._marks)

    # --- scenarios ------------------------------------------------------------

    def _scenario(self, subaccount: int, *, positions: bool, open_orders: bool) -> Scenario:
        """The subaccount as it stands (built once per calculator; callers get a copy)."""
        key = (subaccount, positions, open_orders)
        base = self._bases.get(key)
        if base is None:
            base = self._bases[key] = self._build(subaccount, positions, open_orders)
        return base.copy()

    def _build(self, subaccount: int, positions: bool, open_orders: bool) -> Scenario:
        acct = self.snapshot.account(subaccount)
        holdings: dict[str, Holding] = {}
        if positions:
            for t, p in acct.positions.items():
                if p.count == 0:
                    continue
                cost = p.cost_basis
                if cost is None:  # entry unknown after a gap: value it at the mark (assumed)
                    cost = p.count * self._marks.get(t, ZERO)
                holdings[t] = Holding(qty=p.count, cost=cost)
            if open_orders:
                for o in acct.open_orders.values():
                    if o.remaining_count > 0:
                        holdings.setdefault(o.ticker, Holding()).add_resting(
                            o.side, o.remaining_count, o.price)
        missing = self._missing_marks(holdings)
        if missing:
            raise InvalidRequest(f"no mark price known for {', '.join(missing)} "
                                 f"(mark_source={self.mark_source})")
        return Scenario(self._pricer, acct.cash, holdings)

    def _other_usage(self, subaccount: int, open_orders: bool) -> dict[str, Decimal]:
        """Notional usage per market of the user's other subaccounts (the limit is per user)."""
        out: dict[str, Decimal] = {}
        for number, acct in self.snapshot.accounts.items():
            if number == subaccount:
                continue
            holdings: dict[str, Holding] = {}
            for t, p in acct.positions.items():
                holdings[t] = Holding(qty=p.count)
            if open_orders:
                for o in acct.open_orders.values():
                    holdings.setdefault(o.ticker, Holding()).add_resting(
                        o.side, o.remaining_count, o.price)
            for t, h in holdings.items():
                mark = self._marks.get(t)
                if mark is None:
                    continue
                out[t] = out.get(t, ZERO) + notional_usage(h.qty, mark, h.bid_notional,
                                                           h.ask_notional)
        return out

    def _own_orders(self, subaccount: int, open_orders: bool) -> tuple[OrderView, ...]:
        if not open_orders:
            return ()
        return tuple(self.snapshot.account(subaccount).open_orders.values())

    # --- one order --------------------------------------------------------------

    def _leg(self, order: OrderRequest, state: Scenario) -> _Leg:
        market = self.model.markets[order.ticker]
        view = self.snapshot.markets.get(order.ticker)
        count = order.count
        if order.reduce_only:
            q = state.holding(order.ticker).qty
            room = max(-q if order.side == "bid" else q, ZERO)
            count = min(count, room)
        liquidity = "maker"
        if not order.post_only and view is not None:
            opposite = view.ask if order.side == "bid" else view.bid
            if opposite is not None and (order.price >= opposite if order.side == "bid"
                                         else order.price <= opposite):
                liquidity = "taker"
        rate = market.taker_rate if liquidity == "taker" else market.maker_rate
        mark = self._marks[order.ticker]
        return _Leg(order, count, liquidity, rate, fee(count, order.price, rate),
                    order.sign * count * (mark - order.price))

    def _checks(self, leg: _Leg, state: Scenario, others: Mapping[str, Decimal],
                own: Sequence[OrderView]
                ) -> tuple[dict[str, bool], list[dict[str, str]], Decimal, Decimal | None]:
        """Would the exchange accept ``leg`` now? (checks, errors, user usage after, limit)."""
        o, market = leg.order, self.model.markets[leg.order.ticker]
        view = self.snapshot.markets.get(o.ticker)
        errors: list[dict[str, str]] = []
        band = _band_ok(o, market, view)
        if not band:
            errors.append({"code": "price_band", "message": _band_message(o, market, view)})
        active = market.active
        if not active:
            errors.append({"code": "market_not_active",
                           "message": f"{o.ticker} is {market.status}, not active"})
        crosses = leg.liquidity == "taker" or (o.post_only and view is not None and (
            (o.side == "bid" and view.ask is not None and o.price >= view.ask)
            or (o.side == "ask" and view.bid is not None and o.price <= view.bid)))
        post_ok = not (o.post_only and crosses)
        if not post_ok:
            errors.append({"code": "post_only_cross",
                           "message": "post_only order would cross the book and be cancelled"})
        self_trade = not any(
            r.ticker == o.ticker and r.side != o.side and r.remaining_count > 0
            and (o.price >= r.price if o.side == "bid" else o.price <= r.price) for r in own)
        if not self_trade:
            errors.append({"code": "self_trade", "message": "the order would cross your own "
                           "resting order; self-trade prevention cancels it"})
        reduces = True
        if o.reduce_only and leg.count == 0:
            reduces = False
            errors.append({"code": "reduce_only_nothing",
                           "message": f"reduce_only {o.side} has no {o.ticker} position "
                                      "to reduce: nothing would execute"})
        placed = state.copy()
        placed.rest(o.ticker, o.side, leg.count, o.price)
        before_m, after_m = state.market_usage(o.ticker), placed.market_usage(o.ticker)
        others_total = sum(others.values(), ZERO)
        usage_after = others_total + placed.usage
        limit = self.model.notional_limit
        notional_ok = True
        if not o.reduce_only and after_m > before_m:
            market_limit = self.model.market_limits.get(o.ticker)
            if limit is not None and usage_after > limit:
                notional_ok = False
                errors.append({"code": "notional_limit", "message":
                               f"notional usage {_m(usage_after)} would exceed the limit "
                               f"{_m(limit)}"})
            market_usage = others.get(o.ticker, ZERO) + after_m
            if market_limit is not None and market_usage > market_limit:
                notional_ok = False
                errors.append({"code": "notional_limit", "message":
                               f"{o.ticker} notional usage {_m(market_usage)} would exceed "
                               f"its limit {_m(market_limit)}"})
        fits = True
        if not o.reduce_only:
            check_fee = fee(leg.count, o.price, market.taker_rate
                            if PLACEMENT_FEE_LIQUIDITY == "taker" else leg.rate)
            fits = placement_fits(state.requirement, placed.requirement, placed.available,
                                  check_fee)
            if not fits:
                errors.append({"code": "insufficient_margin", "message":
                               f"available balance {_m(placed.available)} with the order "
                               f"resting would not cover its fee {_m(check_fee)}"})
        checks = {"tick": True, "price_band": band, "reduce_only_tif": True,
                  "market_active": active, "post_only": post_ok, "self_trade": self_trade,
                  "reduces": reduces,
                  "im_fits": fits, "notional_limit": notional_ok}
        return checks, errors, usage_after, limit

    def _evaluate(self, order: OrderRequest, subaccount: int, state: Scenario,
                  others: Mapping[str, Decimal], own: Sequence[OrderView],
                  mode: Mode) -> tuple[dict[str, Any], Decimal]:
        leg = self._leg(order, state)
        checks, errors, usage_after, limit = self._checks(leg, state, others, own)
        after = state.copy()
        realized = after.fill(order.ticker, order.side, leg.count, order.price, leg.fee)
        total = (max(ZERO, after.requirement - state.requirement) + leg.fee
                 + max(ZERO, -leg.slippage))
        ok = all(checks.values())
        if mode == "compact":
            return ({"ticker": order.ticker, "subaccount": subaccount, "total": _m(total),
                     "initial_margin_after": _m(after.im), "maintenance_margin_after":
                     _m(after.mm), "available_balance_after": _m(after.available), "ok": ok},
                    total)
        t = order.ticker
        market = self.model.markets[t]
        h0, h1 = state.holding(t), after.holding(t)
        closing = min(leg.count, abs(h0.qty)) if h0.qty and (h0.qty > 0) != (order.sign > 0) \
            else ZERO
        f0 = state.figs.get(t, NO_FIGURES)
        f1 = after.figs.get(t)
        pos_notional = ZERO if f1 is None else f1.notional
        pos_mm = ZERO if f1 is None else f1.mm
        size = pos_notional if pos_notional > 0 else leg.count * order.price
        size_rate = self._curve(t, h1.qty > 0 if h1.qty else order.side == "bid").rate(size)
        view = self.snapshot.markets.get(t)
        funding_rate = None if view is None else view.funding_rate
        funding_mark = self._funding_mark(t)
        result: dict[str, Any] = {
            "ticker": t, "subaccount": subaccount, "side": order.side,
            "count": fmt_count(leg.count), "price": _m(order.price),
            "notional": _m(leg.count * order.price), "liquidity": leg.liquidity,
            "position": {"before": fmt_count(h0.qty), "after": fmt_count(h1.qty),
                         "opening": fmt_count(leg.count - closing),
                         "closing": fmt_count(closing)},
            "maintenance_margin": _before_after(state.mm, after.mm),
            "initial_margin": _before_after(state.im, after.im),
            "resting_orders_margin": _before_after(state.rom, after.rom),
            "fees": {"rate": format(leg.rate, "f"), "amount": _m(leg.fee)},
            "pnl": {"realised": _m(realized), "unrealised": _m(h1.qty * self._marks[t] - h1.cost),
                    "slippage": _m(leg.slippage)},
            "funding": {"rate_estimate": None if funding_rate is None else format(funding_rate,
                                                                                  "f"),
                        "next_funding_time_ms": None if view is None
                        else view.next_funding_time_ms,
                        "est_payment_next": None if funding_rate is None else
                        _m(funding_estimate(h1.qty, funding_mark, funding_rate))},
            "leverage": {
                "position_before": _ratio(f0.notional / f0.mm) if f0.mm > 0 else None,
                "account_before": _ratio(state.notional / state.mm) if state.mm > 0 else None,
                "position_after": _ratio(pos_notional / pos_mm) if pos_mm > 0 else None,
                "account_after": _ratio(after.notional / after.mm) if after.mm > 0 else None,
                "max_at_size": _ratio(1 / (market.multiplier * size_rate))
                if size_rate > 0 else None,
                "effective_after": _ratio(after.notional / after.equity)
                if after.equity > 0 else None},
            "liquidation_price": {
                "before": _om(state.liquidation_price(t, self.model.liquidation_threshold)),
                "after": _om(after.liquidation_price(t, self.model.liquidation_threshold))},
            "margin_ratio_after": _ratio(after.margin_ratio),
            "equity": _before_after(state.equity, after.equity),
            "available_balance": {"before": _m(state.available), "after": _m(after.available)},
            "notional_risk_limit": {"limit": _om(limit), "usage_after": _m(usage_after),
                                    "ok": checks["notional_limit"]},
            "checks": checks,
            "total": _m(total),
            "ok": ok,
            "errors": errors,
            "basis": self._basis(t, market, None if f1 is None else f1.rate, subaccount),
        }
        return result, total

    def _basis(self, ticker: str, market: MarketModel, rate: Decimal | None,
               subaccount: int) -> dict[str, Any]:
        model = self.model
        acct = self.snapshot.account(subaccount)
        acct_cash: Confidence = "spec" if acct.cash_known else "unknown"
        entry: Confidence = "spec" if all(
            p.cost_basis is not None for p in acct.positions.values()) else "assumed"
        confidence: dict[str, Confidence] = {
            "im_multiplier": market.multiplier_source,
            "mm_rate": market.curve_source,
            "rom": "assumed",
            "fees": market.fee_source,
            "fee_rounding": "assumed",
            "placement_check": "assumed",
            "notional_usage": "assumed" if model.notional_limit is not None else "unknown",
            "liquidation_price": "inferred",
            "mark": "assumed",
            "cash": acct_cash,
            "entry_prices": entry,
        }
        return {"mm_rate": None if rate is None else format(rate.quantize(Decimal("1E-6")), "f"),
                "mm_source": f"{market.curve_source}@{model.markets_ts_ms}",
                "mark": _m(self._marks[ticker]), "mark_source": self.mark_source,
                "mark_ts_ms": self._mark_ts.get(ticker),
                "risk_params_ts_ms": model.risk_params_ts_ms,
                "markets_ts_ms": model.markets_ts_ms, "fees_ts_ms": model.fees_ts_ms,
                "limits_ts_ms": model.limits_ts_ms, "snapshot_ts_ms": self.snapshot.as_of_ms,
                "confidence": confidence}

    # --- public -------------------------------------------------------------------

    def parse(self, orders: Sequence[object]) -> list[OrderRequest | OrderInputError]:
        """Each order parsed, or the error that says what is wrong with it."""
        if isinstance(orders, str | bytes | Mapping) or not isinstance(orders, Sequence):
            raise InvalidRequest("orders must be a list of order objects")
        if len(orders) > MAX_ORDERS:
            raise InvalidRequest(f"too many orders: {len(orders)} (at most {MAX_ORDERS})")
        out: list[OrderRequest | OrderInputError] = []
        for raw in orders:
            try:
                out.append(parse_order(raw, self.model))
            except OrderInputError as exc:
                out.append(exc)
        missing = self._missing_marks(o.ticker for o in out if isinstance(o, OrderRequest))
        if missing:
            out = [OrderInputError("no_mark", f"no mark price known for {o.ticker}")
                   if isinstance(o, OrderRequest) and o.ticker in missing else o for o in out]
        return out

    def order_margins(self, orders: Sequence[object], *, subaccount: int = 0,
                      mode: Mode = "full", consider_open_orders: bool = True
                      ) -> list[dict[str, Any]]:
        """Each order alone against the current positions (and resting orders)."""
        _check_mode(mode)
        _check_subaccount(subaccount)
        parsed = self.parse(orders)
        state = self._scenario(subaccount, positions=True, open_orders=consider_open_orders)
        others = self._other_usage(subaccount, consider_open_orders)
        own = self._own_orders(subaccount, consider_open_orders)
        return [_error(o, raw, subaccount) if isinstance(o, OrderInputError)
                else self._evaluate(o, subaccount, state, others, own, mode)[0]
                for o, raw in zip(parsed, orders, strict=True)]

    def basket_margins(self, orders: Sequence[object], *, subaccount: int = 0,
                       consider_positions: bool = True, consider_open_orders: bool = True,
                       mode: Mode = "full",
                       sequence: Literal["as_given", "hedge_first"] = "as_given"
                       ) -> dict[str, Any]:
        """The basket: ``initial``, ``final``, ``sequential``, ``benefit``, ``orders``."""
        _check_mode(mode)
        _check_subaccount(subaccount)
        if sequence not in ("as_given", "hedge_first"):
            raise InvalidRequest(f"sequence must be as_given or hedge_first, got {sequence!r}")
        parsed = self.parse(orders)
        if not parsed:
            raise InvalidRequest("empty basket: give at least one order")
        state = self._scenario(subaccount, positions=consider_positions,
                               open_orders=consider_positions and consider_open_orders)
        others = self._other_usage(subaccount, consider_open_orders)
        own = self._own_orders(subaccount, consider_positions and consider_open_orders)
        results: list[dict[str, Any]] = []
        totals: list[Decimal] = []
        bad: list[int] = []
        d_im = d_mm = fees = ZERO
        for i, (o, raw) in enumerate(zip(parsed, orders, strict=True)):
            if isinstance(o, OrderInputError):
                results.append(_error(o, raw, subaccount))
                bad.append(i)
                continue
            res, total = self._evaluate(o, subaccount, state, others, own, "full")
            totals.append(total)
            d_im += Decimal(res["initial_margin"]["delta"])
            d_mm += Decimal(res["maintenance_margin"]["delta"])
            fees += Decimal(res["fees"]["amount"])
            results.append(res if mode == "full" else _compact(res))
        if bad:
            return {"ok": False, "error": {"code": "invalid_orders", "message":
                    f"order(s) {', '.join(str(i) for i in bad)} are invalid: nothing computed "
                    "for the basket", "indices": bad},
                    "initial": None, "final": None, "sequential": None, "benefit": None,
                    "orders": results}
        good = [o for o in parsed if isinstance(o, OrderRequest)]
        order_idx = list(range(len(good)))
        if sequence == "hedge_first":
            order_idx.sort(key=lambda i: not _reduces(good[i], state))
        initial_total = sum(totals, ZERO)
        seq, final_state, final_fees, final_slip = self._sequential(good, order_idx, state,
                                                                    others, own)
        final_total = (max(ZERO, final_state.requirement - state.requirement) + final_fees
                       + max(ZERO, -final_slip))
        threshold = self.model.liquidation_threshold
        liq = {t: _om(final_state.liquidation_price(t, threshold))
               for t in sorted({o.ticker for o in good})}
        initial = {"initial_margin": _m(d_im), "maintenance_margin": _m(d_mm),
                   "fees": _m(fees), "total": _m(initial_total)}
        final: dict[str, Any] = {"initial_margin": _m(final_state.im - state.im),
                 "maintenance_margin": _m(final_state.mm - state.mm), "fees": _m(final_fees),
                 "total": _m(final_total)}
        if mode == "full":
            final.update({"im_after": _m(final_state.im), "mm_after": _m(final_state.mm),
                          "rom_after": _m(final_state.rom),
                          "available_balance_after": _m(final_state.available),
                          "margin_ratio_after": _ratio(final_state.margin_ratio),
                          "liquidation_prices_after": liq})
        else:
            seq.pop("steps")
        return {"ok": seq["ok"], "initial": initial,
                "final": final, "sequential": seq, "benefit": _m(initial_total - final_total),
                "orders": results,
                "basis": self._basket_basis(sorted({o.ticker for o in good}), subaccount)}

    def _basket_basis(self, tickers: list[str], subaccount: int) -> dict[str, Any]:
        """What a basket was computed from (also in compact mode, where orders carry none)."""
        model = self.model
        confidence: dict[str, Confidence] = {
            "im_multiplier": _worst(model.markets[t].multiplier_source for t in tickers),
            "mm_rate": _worst(model.markets[t].curve_source for t in tickers),
            "fees": _worst(model.markets[t].fee_source for t in tickers),
            "rom": "assumed", "placement_check": "assumed", "mark": "assumed",
            "cash": "spec" if self.snapshot.account(subaccount).cash_known else "unknown"}
        return {"mark_source": self.mark_source,
                "marks": {t: {"price": _m(self._marks[t]), "ts_ms": self._mark_ts.get(t)}
                          for t in tickers},
                "risk_params_ts_ms": model.risk_params_ts_ms,
                "markets_ts_ms": model.markets_ts_ms, "fees_ts_ms": model.fees_ts_ms,
                "limits_ts_ms": model.limits_ts_ms, "snapshot_ts_ms": self.snapshot.as_of_ms,
                "confidence": confidence}

    def account_margins(self, subaccount: int = 0, *,
                        consider_open_orders: bool = True) -> dict[str, Any]:
        """Per position and per subaccount figures now (``/margin/risk`` + ``/balance``
        field names), valued at this calculator's marks."""
        _check_subaccount(subaccount)
        s = self._scenario(subaccount, positions=True, open_orders=consider_open_orders)
        threshold = self.model.liquidation_threshold
        view_of = self.snapshot.markets.get
        rows = []
        for t in sorted(s.holdings):
            h, f = s.holdings[t], s.figs[t]
            if h.qty == 0:
                continue
            market = self.model.markets.get(t)
            view = view_of(t)
            rate = None if view is None else view.funding_rate
            mult = market.multiplier if market is not None else self._multiplier(t)
            rows.append({
                "market_ticker": t, "position": fmt_count(h.qty), "mark_price": _m(self._marks[t]),
                "entry_price": _m(h.cost / h.qty), "position_notional": _m(f.notional),
                "unrealized_pnl": _m(f.upnl), "maintenance_margin_required": _m(f.mm),
                "initial_margin": _m(f.im), "resting_orders_margin": _m(f.rom),
                "position_leverage": _ratio(f.notional / f.mm) if f.mm > 0 else None,
                "max_leverage_at_size": _ratio(1 / (mult * f.rate)) if f.rate else None,
                "estimated_liquidation_price": _om(s.liquidation_price(t, threshold)),
                "funding_estimate_next": None if rate is None else _m(funding_estimate(
                    h.qty, self._funding_mark(t), rate))})
        ratio = s.margin_ratio
        return {"subaccount": subaccount, "positions": rows,
                "account_equity": _m(s.equity), "maintenance_margin": _m(s.mm),
                "initial_margin": _m(s.im), "resting_orders_margin": _m(s.rom),
                "available_balance": _m(s.available), "total_position_notional": _m(s.notional),
                "account_leverage": _ratio(s.notional / s.mm) if s.mm > 0 else None,
                "margin_ratio": _ratio(ratio),
                "in_liquidation_queue": ratio is not None and ratio >= self.model.queue_threshold,
                "liquidatable": ratio is not None and ratio >= threshold}

    def funding_preview(self, subaccount: int = 0) -> dict[str, Any]:
        """The next funding payment per position at the running estimate (+ received)."""
        acct = self.account_margins(subaccount)
        per = {p["market_ticker"]: p["funding_estimate_next"] for p in acct["positions"]}
        known = [Decimal(v) for v in per.values() if v is not None]
        return {"subaccount": subaccount, "positions": per,
                "total": _m(sum(known, ZERO)), "complete": len(known) == len(per)}

    def liquidation_price(self, ticker: str, subaccount: int = 0, *,
                          hypothetical_orders: Sequence[object] = ()) -> Decimal | None:
        """``ticker``'s liquidation price now, or after ``hypothetical_orders`` fill.

        Raises:
            InvalidRequest: a hypothetical order is invalid.
        """
        s = self._scenario(subaccount, positions=True, open_orders=True)
        for parsed in self.parse(hypothetical_orders):
            if isinstance(parsed, OrderInputError):
                raise parsed
            leg = self._leg(parsed, s)
            s.fill(parsed.ticker, parsed.side, leg.count, parsed.price, leg.fee)
        if ticker not in self._marks:
            return None
        return s.liquidation_price(ticker, self.model.liquidation_threshold)

    def _funding_mark(self, ticker: str) -> Decimal:
        view = self.snapshot.markets.get(ticker)
        if view is not None and view.settlement_mark is not None:
            return view.settlement_mark
        return self._marks[ticker]

    def _sequential(self, legs: list[OrderRequest], order_idx: list[int], start: Scenario,
                    others: Mapping[str, Decimal], own: Sequence[OrderView]
                    ) -> tuple[dict[str, Any], Scenario, Decimal, Decimal]:
        """Place the legs one by one (each fills before the next is placed)."""
        cur = start.copy()
        fees = slip = peak = ZERO
        peak_index = order_idx[0]
        steps: list[dict[str, Any]] = []
        all_fit = True
        for i in order_idx:
            o = legs[i]
            leg = self._leg(o, cur)
            checks, _, _, _ = self._checks(leg, cur, others, own)
            fits = all(checks.values())
            all_fit &= fits
            placed = cur.copy()
            placed.rest(o.ticker, o.side, leg.count, o.price)
            at_place = (max(ZERO, placed.requirement - start.requirement) + fees + leg.fee
                        + max(ZERO, -slip))
            cur.fill(o.ticker, o.side, leg.count, o.price, leg.fee)
            fees += leg.fee
            slip += leg.slippage
            at_fill = max(ZERO, cur.requirement - start.requirement) + fees + max(ZERO, -slip)
            step = max(at_place, at_fill)
            if step > peak or not steps:
                peak, peak_index = step, i
            steps.append({"index": i, "total": _m(step), "fits": fits})
        return ({"order": order_idx, "peak_total": _m(peak), "peak_index": peak_index,
                 "ok": all_fit, "steps": steps}, cur, fees, slip)


_TRUST: tuple[Confidence, ...] = ("spec", "observed", "inferred", "assumed", "unknown")


def _worst(tags: Iterable[Confidence]) -> Confidence:
    """The least confident of several tags."""
    return max(tags, key=_TRUST.index, default="unknown")


def _reduces(order: OrderRequest, state: Scenario) -> bool:
    q = state.holding(order.ticker).qty
    return q != 0 and (q > 0) != (order.side == "bid")


def _before_after(before: Decimal, after: Decimal) -> dict[str, str]:
    return {"before": _m(before), "after": _m(after), "delta": _m(after - before)}


def _compact(full: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticker": full["ticker"], "subaccount": full["subaccount"], "total": full["total"],
            "initial_margin_after": full["initial_margin"]["after"],
            "maintenance_margin_after": full["maintenance_margin"]["after"],
            "available_balance_after": full["available_balance"]["after"], "ok": full["ok"]}


def _error(exc: OrderInputError, raw: object, subaccount: int) -> dict[str, Any]:
    ticker = raw.get("ticker") if isinstance(raw, Mapping) else None
    return {"ticker": ticker if isinstance(ticker, str) else None, "subaccount": subaccount,
            "ok": False, "error": {"code": exc.code, "message": exc.message}}


def _check_mode(mode: str) -> None:
    if mode not in ("full", "compact"):
        raise InvalidRequest(f"mode must be full or compact, got {mode!r}")


def _check_subaccount(subaccount: object) -> None:
    if isinstance(subaccount, bool) or not isinstance(subaccount, int) \
            or not 0 <= subaccount <= 63:
        raise InvalidRequest(f"subaccount must be an integer 0-63, got {subaccount!r}")


def _band_ok(o: OrderRequest, market: MarketModel, view: MarketView | None) -> bool:
    if view is None:
        return True
    span = market.tick * BAND_TICKS
    if o.side == "bid":
        bb = view.bid
        return bb is None or o.price >= min(bb * (1 - BAND_FRACTION), bb - span)
    ba = view.ask
    return ba is None or o.price <= max(ba * (1 + BAND_FRACTION), ba + span)


def _band_message(o: OrderRequest, market: MarketModel, view: MarketView | None) -> str:
    assert view is not None
    span = market.tick * BAND_TICKS
    if o.side == "bid":
        assert view.bid is not None
        floor = min(view.bid * (1 - BAND_FRACTION), view.bid - span)
        return (f"bid {o.price} is below the price band: bids must be >= {_m(floor)} "
                f"(best bid {view.bid})")
    assert view.ask is not None
    cap = max(view.ask * (1 + BAND_FRACTION), view.ask + span)
    return f"ask {o.price} is above the price band: asks must be <= {_m(cap)} (best ask {view.ask})"


_REQUEST_KEYS = frozenset({"subaccount", "mode", "consider_positions", "consider_open_orders",
                           "mark_source", "orders", "sequence"})


def evaluate_request(model: MarginModel, snapshot: MarginSnapshot, body: object,
                     kind: Literal["orders", "basket"], *, subaccount: int | None = None,
                     mode: Mode | None = None) -> Any:
    """The JSON-in/JSON-out entry (margin-model.md §8.5): ``body`` is the request object
    (or a bare list of orders); ``subaccount``/``mode`` override the body's.

    Raises:
        InvalidRequest: the request itself is malformed (not an object/list, unknown
            keys, bad mode, subaccount or mark source, an empty basket).
    """
    if isinstance(body, list):
        body = {"orders": body}
    if not isinstance(body, Mapping):
        raise InvalidRequest("the request must be an object with \"orders\" or a list of orders")
    unknown = sorted(str(k) for k in body if k not in _REQUEST_KEYS)
    if unknown:
        raise InvalidRequest(f"unknown request field(s): {', '.join(unknown)}")
    if "orders" not in body:
        raise InvalidRequest("the request has no \"orders\"")
    sub = body.get("subaccount", 0) if subaccount is None else subaccount
    _check_subaccount(sub)
    chosen = body.get("mode", "full") if mode is None else mode
    _check_mode(chosen)
    flags = {}
    for key in ("consider_positions", "consider_open_orders"):
        value = body.get(key, True)
        if not isinstance(value, bool):
            raise InvalidRequest(f"{key} must be true or false, got {value!r}")
        flags[key] = value
    calc = MarginCalculator(model, snapshot, mark_source=str(body.get("mark_source", "auto")))
    orders = body["orders"]
    if kind == "orders":
        return calc.order_margins(orders, subaccount=sub, mode=chosen,
                                  consider_open_orders=flags["consider_open_orders"])
    return calc.basket_margins(orders, subaccount=sub, mode=chosen,
                               consider_positions=flags["consider_positions"],
                               consider_open_orders=flags["consider_open_orders"],
                               sequence=body.get("sequence", "as_given"))
