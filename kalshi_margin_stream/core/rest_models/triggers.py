"""Exit triggers (rest.md §6.9): stop-loss / take-profit brackets and trailing stops.

The exchange watches the liquidation mark and, when a leg is crossed, places a
reduce-only *system* order (``order_source: "system"``, ``order_reason:
"take_profit_stop_loss"``). Statuses are not monotonic: an order-anchored trigger
goes back to ``pending_on_entry`` after closing what its anchor had filled.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from .common import RestModel, rfc3339_to_ms

__all__ = [
    "EXIT_TRIGGER_ORDER_REASON",
    "ExitTrigger",
    "ExitTriggerKind",
    "ExitTriggerLeg",
    "ExitTriggerReason",
    "ExitTriggerStatus",
    "ExitTriggersResponse",
    "SetCrossExitTriggerRequest",
    "SetIsolatedExitTriggerRequest",
    "UpdateExitTriggerRequest",
]

ExitTriggerKind = Literal["bracket", "trailing"]
ExitTriggerStatus = Literal["pending_on_entry", "active", "filled", "failed", "canceled",
                            "unknown"]
ExitTriggerLeg = Literal["stop_loss", "take_profit"]
ExitTriggerReason = Literal["user_canceled", "position_closed", "entry_not_filled",
                            "order_rejected", "position_flipped"]

EXIT_TRIGGER_ORDER_REASON = "take_profit_stop_loss"
"""``order_reason`` of the orders a trigger fires (rest.md §3.3)."""


class ExitTrigger(RestModel, frozen=True):
    """One trigger; ``count`` ``0`` means the whole position."""

    id: str
    ticker: str
    kind: ExitTriggerKind
    status: ExitTriggerStatus
    count: Decimal
    filled_count: Decimal
    created_time: str
    updated_time: str
    status_reason: ExitTriggerReason | None = None
    triggered_leg: ExitTriggerLeg | None = None
    triggered_order_id: str | None = None
    anchor_order_id: str | None = None
    client_trigger_id: str | None = None
    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_bps: int | None = None
    watermark_price: Decimal | None = None
    effective_stop_price: Decimal | None = None

    @property
    def is_live(self) -> bool:
        return self.status in ("pending_on_entry", "active")

    @property
    def created_time_ms(self) -> int:
        return rfc3339_to_ms(self.created_time)

    @property
    def updated_time_ms(self) -> int:
        return rfc3339_to_ms(self.updated_time)


class ExitTriggersResponse(RestModel, frozen=True):
    """``GetExitTriggersResponse``: the live triggers of one position slot."""

    exit_triggers: list[ExitTrigger] = []


class SetIsolatedExitTriggerRequest(RestModel, frozen=True):
    kind: ExitTriggerKind | None = None
    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_bps: int | None = None


class SetCrossExitTriggerRequest(RestModel, frozen=True):
    """``count`` / ``anchor_order_id`` append a trigger (and need ``client_trigger_id``)."""

    kind: ExitTriggerKind | None = None
    count: Decimal | None = None
    anchor_order_id: str | None = None
    client_trigger_id: str | None = None
    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_bps: int | None = None


class UpdateExitTriggerRequest(RestModel, frozen=True):
    """A leg left out is cleared; at least one is required."""

    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
