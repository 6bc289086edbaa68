"""Margin formulas of margin-model.md §3 and §8.3 as small pure functions.

Every rounding rule and every inferred ([INF]) or assumed ([ASSUME]) formula the
margin state relies on lives here, each behind one named constant, so changing a
choice after a demo experiment is a one-line edit:

* ``MM_i = round4_up(N_i x m_i(N_i))`` with ``N_i = |q_i| x mark`` (rounding up
  reproduces the demo's reported 0.8259 for 0.82581; margin-model.md §3.2);
* ``IM_i = round4_half_up(MM_i x multiplier)`` (M1: 0.8259 x 1.3 -> 1.0737);
* the MM rate ``m(N)`` comes from the market's ``leverage_estimates`` curve:
  ``m = 1 / (L(N) x multiplier)`` (M8, [INF]), linear in N between the published
  points and extrapolated linearly from the two nearest points outside them;
* resting-orders margin ``ROM_i = max(0, max(IM(q+B), IM(q-A)) - IM(q))`` with B/A
  the resting bid/ask counts, priced at the margin mark (§3.5, [ASSUME]; the same
  formula as the simulator);
* liquidation price: the closed form of §3.6 ([INF]), other positions held fixed;
* fees ``count x price x rate`` rounded up to 4 places per fill (UNCONFIRMED);
* a fill's effect on a position's signed cost basis (the ledgers' accounting);
* notional-limit usage per market and the order-placement margin check (rest.md
  §6.6, margin-model.md §3.6, [ASSUME]) -- the simulator and the pre-trade
  calculator both call these, so a prediction and the simulator cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import TYPE_CHECKING, Literal

from ..numbers import ZERO

if TYPE_CHECKING:
    from ..rest_models import MarginMarket

__all__ = [
    "COST_ROUNDING",
    "DEFAULT_IM_MULTIPLIER",
    "FEE_ROUNDING",
    "LEVERAGE_NOTIONALS",
    "LEVERAGE_PLACES",
    "IM_ROUNDING",
    "MM_ROUNDING",
    "MONEY",
    "OrderStatus",
    "RateCurve",
    "derive_status",
    "fee",
    "fill_position",
    "funding_estimate",
    "initial_margin",
    "liquidation_price",
    "maintenance_margin",
    "market_curve",
    "notional_usage",
    "placement_fits",
    "resting_orders_margin",
    "tidy",
]

MONEY = Decimal("0.0001")
"""Dollar results (MM, IM, cost removed on a partial close) are kept to 4 places."""
MM_ROUNDING = ROUND_UP
"""MM rounds away from zero (UNCONFIRMED; fits the one demo observation, §3.2)."""
IM_ROUNDING = ROUND_HALF_UP
"""IM = MM x multiplier rounds half up (fits 1.07367 -> 1.0737)."""
COST_ROUNDING = ROUND_HALF_EVEN
"""Cost basis removed by a partial close, to 4 places (UNCONFIRMED, as the simulator)."""
FEE_ROUNDING = ROUND_UP
"""Fee per fill = count x price x rate rounded up to 4 places (UNCONFIRMED; reproduces
the docs' example 3 @ 8.0962 x 0.0012 = 0.02914632 -> 0.0292)."""
LEVERAGE_NOTIONALS = ("1000", "10000", "100000", "1000000")
"""Dollar notionals at which markets publish ``leverage_estimates`` (rest.md §6.2)."""
LEVERAGE_PLACES = Decimal("0.0001")
"""Published leverage estimates carry 4 places (the demo's ``5.8990``)."""
DEFAULT_IM_MULTIPLIER = Decimal("1.3")
"""Used only until ``/margin/risk_parameters`` has been read (the production value)."""

OrderStatus = Literal["resting", "executed", "canceled", "closed"]
"""``closed``: finished, outcome unknown (vanished from REST open orders)."""

_CANCEL_REASONS = frozenset({"Decrease", "MarginCancel", "SelfTradeCancel", "ExpiryCancel",
                             "PostOnlyCrossCancel", "ReduceOnlyCancel"})


@dataclass(frozen=True, slots=True)
class RateCurve:
    """MM rate as a function of notional: sorted ``(notional, rate)`` points (at least one)."""

    points: tuple[tuple[Decimal, Decimal], ...]

    @classmethod
    def from_leverage(cls, estimates: Mapping[str, Decimal] | None,
                      single: Decimal | None, multiplier: Decimal) -> RateCurve | None:
        """A curve from ``leverage_estimates`` (or the single ``leverage_estimate``).

        None when nothing usable is published (no estimates, zero leverage or multiplier).
        """
        if not multiplier.is_finite() or multiplier <= 0:
            return None
        points: dict[Decimal, Decimal] = {}
        for key, lev in (estimates or {}).items():
            try:
                notional = Decimal(key)
            except ArithmeticError:
                continue
            if notional.is_finite() and lev.is_finite() and notional > 0 and lev > 0:
                points[notional] = Decimal(1) / (lev * multiplier)
        if not points and single is not None and single.is_finite() and single > 0:
            points[Decimal(1)] = Decimal(1) / (single * multiplier)
        if not points:
            return None
        return cls(tuple(sorted(points.items())))

    @classmethod
    def flat(cls, rate: Decimal) -> RateCurve:
        """A constant rate (e.g. observed on ``/margin/risk``: MM / notional)."""
        return cls(((Decimal(1), rate),))

    def rate(self, notional: Decimal) -> Decimal:
        """The MM rate at ``notional``: linear between points, linear beyond them, never < 0."""
        pts = self.points
        if len(pts) == 1:
            return pts[0][1]
        i = 1
        while i < len(pts) - 1 and notional > pts[i][0]:
            i += 1
        (n0, r0), (n1, r1) = pts[i - 1], pts[i]
        rate = r0 + (r1 - r0) * (notional - n0) / (n1 - n0)
        return max(rate, ZERO)


def market_curve(spec: MarginMarket, is_long: bool, multiplier: Decimal) -> RateCurve | None:
    """A market's MM rate curve for one side: the side's ``long_/short_leverage_estimates``,
    else ``leverage_estimates``, else the single ``leverage_estimate`` (M8, [INF])."""
    sided = spec.long_leverage_estimates if is_long else spec.short_leverage_estimates
    for estimates, single in ((sided, None), (spec.leverage_estimates, spec.leverage_estimate)):
        curve = RateCurve.from_leverage(estimates, single, multiplier)
        if curve is not None:
            return curve
    return None


def tidy(value: Decimal | None) -> Decimal | None:
    """The same value written with 4 places when it has no more (``6.332900`` -> ``6.3329``).

    Products of 2-place counts and 4-place prices carry 6 places of which the last
    are zeros; this only changes how a value prints, never the value.
    """
    if value is None or not value.is_finite():
        return value
    try:
        short = value.quantize(MONEY)
    except ArithmeticError:
        return value
    return short if short == value else value


def maintenance_margin(qty: Decimal, mark: Decimal, curve: RateCurve) -> Decimal:
    """MM of a signed position at ``mark`` (0 when flat)."""
    if qty == 0:
        return ZERO
    notional = abs(qty) * mark
    return (notional * curve.rate(notional)).quantize(MONEY, rounding=MM_ROUNDING)


def initial_margin(mm: Decimal, multiplier: Decimal) -> Decimal:
    """IM from an already rounded MM (M1)."""
    return (mm * multiplier).quantize(MONEY, rounding=IM_ROUNDING)


def resting_orders_margin(qty: Decimal, bids: Decimal, asks: Decimal, mark: Decimal,
                          curve: RateCurve, multiplier: Decimal) -> Decimal:
    """Worst-side extra IM if every resting order of one market filled ([ASSUME], §3.5)."""
    if bids == 0 and asks == 0:
        return ZERO

    def im(q: Decimal) -> Decimal:
        return initial_margin(maintenance_margin(q, mark, curve), multiplier)

    return max(ZERO, max(im(qty + bids), im(qty - asks)) - im(qty))


def liquidation_price(qty: Decimal, cost: Decimal, cash: Decimal, rate: Decimal,
                      threshold: Decimal) -> Decimal | None:
    """Mark at which ``equity = threshold x MM`` for a lone position ([INF], §3.6).

    ``cost`` is the signed cost basis (``qty x entry``); the rate is held constant.
    None when flat or when no positive price solves it (the exchange omits it too).
    """
    if qty == 0:
        return None
    # cash + q*P - cost = T * |q| * P * m   =>   P = (cost - cash) / (q - T*|q|*m)
    denominator = qty - threshold * abs(qty) * rate
    if denominator == 0:
        return None
    price = (cost - cash) / denominator
    if price <= 0:
        return None
    return price.quantize(MONEY, rounding=ROUND_HALF_UP)


def fee(count: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """Fee of one fill in dollars (§5): notional x rate, rounded per ``FEE_ROUNDING``."""
    return (count * price * rate).quantize(MONEY, rounding=FEE_ROUNDING)


def fill_position(qty: Decimal, cost: Decimal, signed_count: Decimal,
                  price: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """A fill's effect on a position: ``(qty', cost', realised PnL)``.

    ``cost`` is the signed cost basis. Adding moves it by ``price x signed count``;
    closing ``k`` of ``|q|`` removes ``cost x k/|q|`` (all of it when flat, else 4
    places per ``COST_ROUNDING``) and realises ``sign(q) x k x price - removed``; the
    part of a flip beyond zero opens at ``price``.
    """
    if qty == 0 or (qty > 0) == (signed_count > 0):
        return qty + signed_count, cost + signed_count * price, ZERO
    size = abs(qty)
    k = min(abs(signed_count), size)
    removed = cost if k == size else (cost * k / size).quantize(MONEY, rounding=COST_ROUNDING)
    realized = (k if qty > 0 else -k) * price - removed
    cost -= removed
    new_qty = qty + signed_count
    if abs(signed_count) > size:
        cost = new_qty * price
    if new_qty == 0:
        cost = ZERO
    return new_qty, cost, realized


def notional_usage(qty: Decimal, mark: Decimal, bid_notional: Decimal,
                   ask_notional: Decimal) -> Decimal:
    """Notional-limit usage of one market: the larger of the long and the short side.

    Positions count at the mark, resting orders at their limit price (UNCONFIRMED:
    how Kalshi measures usage is not published, margin-model.md §2.5).
    """
    long_side = max(qty, ZERO) * mark + bid_notional
    short_side = max(-qty, ZERO) * mark + ask_notional
    return max(long_side, short_side)


def placement_fits(requirement_before: Decimal, requirement_after: Decimal,
                   available_after: Decimal, fee_estimate: Decimal) -> bool:
    """The margin check when an order is placed ([ASSUME], margin-model.md §3.6).

    The order counts as resting (so its margin is resting-orders margin at the mark);
    it fits if it does not raise the requirement (IM + ROM), or if the available
    balance with it still covers its taker fee.
    """
    return requirement_after <= requirement_before or available_after - fee_estimate >= 0


def funding_estimate(qty: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """Expected next funding payment, + received / - paid: ``-q x mark x rate`` ([INF], §4).

    Not capped or dead-banded: the rate given is the exchange's running estimate.
    """
    return -qty * mark * rate


def derive_status(fill_count: Decimal, remaining: Decimal, reason: str | None,
                  previous: tuple[Decimal, Decimal] | None) -> OrderStatus:
    """An order's status from its counts, as rest.md §6.3 says (there is no status field).

    ``remaining > 0`` is resting. A finished order is ``executed`` when its last
    event was a trade: ``last_update_reason == "Trade"``, or, without a reason, when
    the new fills consumed everything that rested before (``previous`` = the last
    known ``(fill_count, remaining_count)``) or, for a first-seen order, when it
    filled at all (an IOC that filled). Otherwise it was ``canceled``.
    """
    if remaining > 0:
        return "resting"
    if reason == "Trade":
        return "executed"
    if reason in _CANCEL_REASONS:
        return "canceled"
    if previous is None:
        return "executed" if fill_count > 0 else "canceled"
    prev_fill, prev_remaining = previous
    return "executed" if prev_remaining > 0 and fill_count - prev_fill >= prev_remaining \
        else "canceled"
