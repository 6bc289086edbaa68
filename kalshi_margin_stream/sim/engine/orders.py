"""The engine's mutable order record and the ``last_update_reason`` values it uses.

Reasons Kalshi documents (rest.md §3.3); the ones the spec leaves open are named
constants here so the choice lives in one place.
"""

from __future__ import annotations

from decimal import Decimal

from .views import OrderView, SelfTradePrevention, Side, TimeInForce

__all__ = ["Order", "REASON"]

ZERO = Decimal(0)


class REASON:
    """``last_update_reason`` values."""

    NEW = ""
    TRADE = "Trade"
    AMEND = "Amend"
    DECREASE = "Decrease"
    # A user cancel shows up as "Decrease" (cancel = decrease to zero; observed on demo).
    CANCEL = "Decrease"
    SELF_TRADE = "SelfTradeCancel"
    POST_ONLY = "PostOnlyCrossCancel"
    REDUCE_ONLY = "ReduceOnlyCancel"
    EXPIRY = "ExpiryCancel"
    # The demo (June 2026, fixtures orders__list_all) reported "Decrease" for IOC bids that
    # died unfilled at creation and for grouped orders cancelled by a group trigger, so we
    # use it for the unfilled rest of an IOC/FOK and for group cancels (INFERRED).
    IOC_REMAINDER = "Decrease"
    GROUP_CANCEL = "Decrease"
    # UNCONFIRMED: pause (cancel_order_on_pause) and liquidation cancels are exchange-side
    # cancels; Kalshi's enum has MarginCancel for those.
    PAUSE_CANCEL = "MarginCancel"
    LIQUIDATION_CANCEL = "MarginCancel"


class Order:
    """One order's live state. Only the engine mutates it; the world sees :meth:`view`."""

    __slots__ = (
        "order_id", "user_id", "subaccount", "client_order_id", "ticker", "side", "price",
        "initial_count", "fill_count", "remaining", "time_in_force", "stp", "post_only",
        "reduce_only", "cancel_on_pause", "expiration_ts_ms", "group_id", "source", "reason",
        "created_ts_ms", "updated_ts_ms", "last_update_reason", "fill_cost", "fees_paid", "seq",
        "synthetic",
    )

    def __init__(self, *, order_id: str, user_id: str, subaccount: int, client_order_id: str,
                 ticker: str, side: Side, price: Decimal, count: Decimal,
                 time_in_force: TimeInForce, stp: SelfTradePrevention, post_only: bool,
                 reduce_only: bool, cancel_on_pause: bool, expiration_ts_ms: int | None,
                 group_id: str | None, source: str, reason: str | None, now_ms: int,
                 seq: int, synthetic: bool) -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.subaccount = subaccount
        self.client_order_id = client_order_id
        self.ticker = ticker
        self.side: Side = side
        self.price = price
        self.initial_count = count
        self.fill_count = ZERO
        self.remaining = count
        self.time_in_force: TimeInForce = time_in_force
        self.stp: SelfTradePrevention = stp
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.cancel_on_pause = cancel_on_pause
        self.expiration_ts_ms = expiration_ts_ms
        self.group_id = group_id
        self.source = source
        self.reason = reason
        self.created_ts_ms = now_ms
        self.updated_ts_ms = now_ms
        self.last_update_reason = REASON.NEW
        self.fill_cost = ZERO
        self.fees_paid = ZERO
        self.seq = seq
        self.synthetic = synthetic

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id,
            user_id=self.user_id,
            client_order_id=self.client_order_id,
            ticker=self.ticker,
            side=self.side,
            price=self.price,
            initial_count=self.initial_count,
            fill_count=self.fill_count,
            remaining_count=self.remaining,
            last_update_reason=self.last_update_reason,
            created_ts_ms=self.created_ts_ms,
            last_update_ts_ms=self.updated_ts_ms,
            subaccount=self.subaccount,
            time_in_force=self.time_in_force,
            self_trade_prevention_type=self.stp,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            cancel_order_on_pause=self.cancel_on_pause,
            expiration_ts_ms=self.expiration_ts_ms,
            order_group_id=self.group_id,
            order_source="system" if self.source == "system" else "user",
            order_reason=self.reason,
            fill_cost=self.fill_cost,
            fees_paid=self.fees_paid,
        )
