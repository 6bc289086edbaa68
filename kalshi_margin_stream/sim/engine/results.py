"""Return values of the engine's mutating calls: the answer plus the events, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .events import Event
from .views import OrderGroupView, OrderView

__all__ = ["OrderResult", "CancelResult", "GroupResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderResult:
    """Answer to create / amend / decrease.

    ``fill_count``/``remaining_count`` are the order's totals after the call;
    ``filled_now`` is what this call matched. ``average_fill_price`` and
    ``average_fee_paid`` (per contract, over all the order's fills; fee rounded to 4 dp)
    are None when the order has no fills.
    """

    order: OrderView
    fill_count: Decimal
    remaining_count: Decimal
    filled_now: Decimal
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelResult:
    """Answer to cancel: ``reduced_by`` = contracts that were still resting."""

    order: OrderView
    reduced_by: Decimal
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupResult:
    """Answer to create-order-group."""

    group: OrderGroupView
    events: list[Event] = field(default_factory=list)
