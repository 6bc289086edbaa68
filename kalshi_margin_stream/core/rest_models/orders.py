"""Orders and order groups (rest.md §6.3, §6.4)."""

from __future__ import annotations

from decimal import Decimal

from .common import (
    LastUpdateReason,
    RestModel,
    SelfTradePrevention,
    Side,
    TimeInForce,
    ms_or_none,
)

__all__ = [
    "AmendOrderRequest",
    "AmendOrderResponse",
    "CancelOrderResponse",
    "CreateOrderGroupRequest",
    "CreateOrderGroupResponse",
    "CreateOrderRequest",
    "CreateOrderResponse",
    "DecreaseOrderRequest",
    "DecreaseOrderResponse",
    "MarginOrder",
    "OrderGroup",
    "OrderGroupDetail",
    "OrderGroupsResponse",
    "OrderResponse",
    "OrdersResponse",
    "UpdateOrderGroupLimitRequest",
]

# --- orders (§6.3) ---------------------------------------------------------


class CreateOrderRequest(RestModel, frozen=True):
    """``POST /margin/orders``. ``expiration_time`` is Unix seconds."""

    ticker: str
    client_order_id: str
    side: Side
    count: Decimal
    price: Decimal
    time_in_force: TimeInForce
    self_trade_prevention_type: SelfTradePrevention
    market_id: str | None = None
    expiration_time: int | None = None
    post_only: bool | None = None
    cancel_order_on_pause: bool | None = None
    reduce_only: bool | None = None
    subaccount: int | None = None
    order_group_id: str | None = None
    market_version: int | None = None


class CreateOrderResponse(RestModel, frozen=True):
    order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    client_order_id: str | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None


class MarginOrder(RestModel, frozen=True):
    """An order as ``GET /margin/orders`` shows it. There is no status field: see ``is_resting``."""

    order_id: str
    ticker: str
    side: Side
    price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    user_id: str | None = None
    client_order_id: str | None = None
    last_update_reason: LastUpdateReason | None = None
    expiration_time: str | None = None
    created_time: str | None = None
    last_update_time: str | None = None
    self_trade_prevention_type: SelfTradePrevention | None = None
    cancel_order_on_pause: bool | None = None
    order_group_id: str | None = None
    order_source: str | None = None
    order_reason: str | None = None
    subaccount: int | None = None

    @property
    def is_resting(self) -> bool:
        """True while some of the order still rests on the book."""
        return self.remaining_count > 0

    @property
    def created_time_ms(self) -> int | None:
        return ms_or_none(self.created_time)

    @property
    def last_update_time_ms(self) -> int | None:
        return ms_or_none(self.last_update_time)

    @property
    def expiration_time_ms(self) -> int | None:
        return ms_or_none(self.expiration_time)


class OrderResponse(RestModel, frozen=True):
    order: MarginOrder


class OrdersResponse(RestModel, frozen=True):
    orders: list[MarginOrder] = []
    cursor: str | None = None


class CancelOrderResponse(RestModel, frozen=True):
    order_id: str
    reduced_by: Decimal
    client_order_id: str | None = None


class DecreaseOrderRequest(RestModel, frozen=True):
    """Exactly one of ``reduce_by`` / ``reduce_to``."""

    reduce_by: Decimal | None = None
    reduce_to: Decimal | None = None


class DecreaseOrderResponse(RestModel, frozen=True):
    order_id: str
    remaining_count: Decimal
    client_order_id: str | None = None


class AmendOrderRequest(RestModel, frozen=True):
    """``count`` is the new *total* size; ``expiration_time`` Unix seconds (``0`` clears)."""

    side: Side
    price: Decimal
    count: Decimal
    ticker: str | None = None
    market_id: str | None = None
    client_order_id: str | None = None
    updated_client_order_id: str | None = None
    expiration_time: int | None = None


class AmendOrderResponse(RestModel, frozen=True):
    order_id: str
    client_order_id: str | None = None
    remaining_count: Decimal | None = None
    fill_count: Decimal | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None


# --- order groups (§6.4) ---------------------------------------------------


class CreateOrderGroupRequest(RestModel, frozen=True):
    contracts_limit: int | None = None
    contracts_limit_fp: Decimal | None = None
    subaccount: int | None = None
    exchange_index: int | None = None


class CreateOrderGroupResponse(RestModel, frozen=True):
    order_group_id: str
    subaccount: int | None = None
    exchange_index: int | None = None


class OrderGroup(RestModel, frozen=True):
    id: str
    is_auto_cancel_enabled: bool | None = None
    contracts_limit_fp: Decimal | None = None
    exchange_index: int | None = None


class OrderGroupsResponse(RestModel, frozen=True):
    """The demo answered ``{}`` with no groups: a missing list is empty."""

    order_groups: list[OrderGroup] = []


class OrderGroupDetail(RestModel, frozen=True):
    """``GET /margin/order_groups/{id}``."""

    is_auto_cancel_enabled: bool | None = None
    contracts_limit_fp: Decimal | None = None
    orders: list[str] = []
    exchange_index: int | None = None


class UpdateOrderGroupLimitRequest(RestModel, frozen=True):
    contracts_limit: int | None = None
    contracts_limit_fp: Decimal | None = None
