"""Order and order-group endpoints, with the reconcile lookups that make retries safe.

Each write names its :class:`~.retry.Op` kind and, where the policy asks for it,
a *reconcile* coroutine that looks the order up after an ambiguous failure and
answers "the effect is there" (a result) or "it is not" (``None``, so the same
request may go out again). See :mod:`.retry` for the table.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

from ..core.rest_models import (
    AmendOrderResponse,
    CancelOrderResponse,
    CreateOrderGroupRequest,
    CreateOrderGroupResponse,
    CreateOrderRequest,
    CreateOrderResponse,
    DecreaseOrderResponse,
    EmptyResponse,
    MarginOrder,
    OrderGroup,
    OrderGroupDetail,
    OrderGroupsResponse,
    OrderResponse,
    OrdersResponse,
    UpdateOrderGroupLimitRequest,
)
from ..exceptions import HTTPStatusError, InvalidRequest
from .base import RestBase, path_segment
from .retry import Op
from .validate import check_amend, check_count, check_create, check_decrease

__all__ = ["OrderApi"]

_ZERO = Decimal("0.00")


def _is_not_found(exc: HTTPStatusError) -> bool:
    return exc.status == 404


def _same_order(order: MarginOrder, body: CreateOrderRequest) -> bool:
    """Is the order we found the one we sent (not a stranger reusing the id)?"""
    return (order.ticker == body.ticker and order.side == body.side
            and order.price == body.price
            and order.fill_count + order.remaining_count <= body.count)


class OrderApi(RestBase):
    """Orders (§6.3) and order groups (§6.4)."""

    # --- reads ---------------------------------------------------------------

    async def get_order(self, order_id: str, *, timeout: float | None = None) -> MarginOrder:
        """``GET /margin/orders/{id}`` (404 ``not_found`` for unknown or aged-out orders)."""
        path = f"/margin/orders/{path_segment(order_id, 'order_id')}"
        resp = await self._call(Op.READ, "GET", path, OrderResponse, timeout=timeout)
        return resp.order

    async def list_orders(self, *, ticker: str | None = None, status: str | None = None,
                          min_ts: int | None = None, max_ts: int | None = None,
                          subaccount: int | None = None, limit: int | None = None,
                          cursor: str | None = None,
                          timeout: float | None = None) -> OrdersResponse:
        """One page of ``GET /margin/orders`` (``min_ts``/``max_ts`` Unix seconds).

        The server does not validate ``status``: filter the results yourself.
        """
        params = {"ticker": ticker, "status": status, "min_ts": min_ts, "max_ts": max_ts,
                  "subaccount": subaccount, "limit": limit, "cursor": cursor}
        return await self._call(Op.READ, "GET", "/margin/orders", OrdersResponse,
                                params=params, timeout=timeout)

    async def iter_orders(self, *, ticker: str | None = None, status: str | None = None,
                          min_ts: int | None = None, max_ts: int | None = None,
                          subaccount: int | None = None, limit: int | None = None,
                          timeout: float | None = None) -> AsyncIterator[MarginOrder]:
        """Every order over every page (``limit`` is the page size)."""
        params = {"ticker": ticker, "status": status, "min_ts": min_ts, "max_ts": max_ts,
                  "subaccount": subaccount, "limit": limit}
        async for page in self._pages("/margin/orders", OrdersResponse, params,
                                      lambda p: p.cursor, timeout=timeout):
            for order in page.orders:
                yield order

    async def find_order(self, client_order_id: str, *, ticker: str | None = None,
                         subaccount: int | None = None,
                         timeout: float | None = None) -> MarginOrder | None:
        """The order carrying ``client_order_id`` (filtered client-side), or ``None``."""
        async for order in self.iter_orders(ticker=ticker, subaccount=subaccount,
                                            timeout=timeout):
            if order.client_order_id == client_order_id:
                return order
        return None

    async def _lookup(self, order_id: str, timeout: float | None) -> MarginOrder | None:
        """The order, or ``None`` when the server no longer knows it (finished, aged out)."""
        try:
            return await self.get_order(order_id, timeout=timeout)
        except HTTPStatusError as exc:
            if _is_not_found(exc):
                return None
            raise

    # --- writes --------------------------------------------------------------

    async def create_order(
        self, ticker: str, side: str, count: Decimal | str | int, price: Decimal | str | int,
        *, time_in_force: str = "good_till_canceled",
        self_trade_prevention_type: str = "taker_at_cross",
        client_order_id: str | None = None, post_only: bool | None = None,
        reduce_only: bool | None = None, cancel_order_on_pause: bool | None = None,
        expiration_time: int | None = None, subaccount: int | None = None,
        order_group_id: str | None = None, market_version: int | None = None,
        timeout: float | None = None,
    ) -> CreateOrderResponse:
        """Place a limit order (``POST /margin/orders``); safe to retry, never doubled.

        ``client_order_id`` is generated (uuid4) before the first attempt when not
        given and reused on every retry; after an ambiguous failure the order is
        looked up by that id before anything is resent.

        Raises:
            InvalidRequest: bad side, count, price or flags (nothing was sent).
            HTTPStatusError: the exchange refused the order (409 ``order_already_exists``
                when *you* reused an id).
        """
        cid = client_order_id if client_order_id is not None else str(uuid.uuid4())
        body = check_create(
            ticker=ticker, side=side, count=count, price=price, client_order_id=cid,
            time_in_force=time_in_force, self_trade_prevention_type=self_trade_prevention_type,
            market=self.markets.get(ticker), expiration_time=expiration_time,
            post_only=post_only, cancel_order_on_pause=cancel_order_on_pause,
            reduce_only=reduce_only, subaccount=subaccount, order_group_id=order_group_id,
            market_version=market_version)

        async def reconcile() -> CreateOrderResponse | None:
            order = await self.find_order(cid, ticker=ticker, subaccount=subaccount,
                                          timeout=timeout)
            if order is None or not _same_order(order, body):
                return None
            self.log.info("order %s (client id %s) was already placed", order.order_id, cid)
            return CreateOrderResponse(order_id=order.order_id, client_order_id=cid,
                                       fill_count=order.fill_count,
                                       remaining_count=order.remaining_count)

        return await self._call(Op.CREATE_ORDER, "POST", "/margin/orders", CreateOrderResponse,
                                body=body, timeout=timeout, reconcile=reconcile)

    async def cancel_order(self, order_id: str, *, subaccount: int | None = None,
                           timeout: float | None = None) -> CancelOrderResponse:
        """Cancel what rests of an order (``DELETE /margin/orders/{id}``).

        If the answer was lost and a lookup shows nothing rests any more, the cancel
        counts as done; ``reduced_by`` is then reported as ``0.00`` because the
        server's own count was lost (read ``fill_count`` from :meth:`get_order`).
        """
        path = f"/margin/orders/{path_segment(order_id, 'order_id')}"

        async def reconcile() -> CancelOrderResponse | None:
            order = await self._lookup(order_id, timeout)
            if order is not None and order.is_resting:
                return None
            return CancelOrderResponse(order_id=order_id, reduced_by=_ZERO,
                                       client_order_id=order.client_order_id if order else None)

        return await self._call(Op.CONFIRMABLE, "DELETE", path, CancelOrderResponse,
                                params={"subaccount": subaccount}, timeout=timeout,
                                reconcile=reconcile)

    async def cancel_all_orders(self, *, subaccount: int | None = None,
                                timeout: float | None = None) -> None:
        """``DELETE /margin/orders`` (omit ``subaccount`` = every subaccount). Idempotent."""
        await self._call(Op.IDEMPOTENT, "DELETE", "/margin/orders", EmptyResponse,
                         params={"subaccount": subaccount}, timeout=timeout)

    async def decrease_order(self, order_id: str, *,
                             reduce_by: Decimal | str | int | None = None,
                             reduce_to: Decimal | str | int | None = None,
                             subaccount: int | None = None,
                             timeout: float | None = None) -> DecreaseOrderResponse:
        """Shrink an order, keeping its queue place: exactly one of ``reduce_by``/``reduce_to``.

        ``reduce_to`` is confirmable (retried after a lookup); ``reduce_by`` is not,
        so an ambiguous failure of a ``reduce_by`` is raised, never resent.
        """
        path = f"/margin/orders/{path_segment(order_id, 'order_id')}/decrease"
        body = check_decrease(reduce_by, reduce_to)
        target = body.reduce_to

        async def reconcile() -> DecreaseOrderResponse | None:
            order = await self._lookup(order_id, timeout)
            if order is None:
                return DecreaseOrderResponse(order_id=order_id, remaining_count=_ZERO)
            if target is not None and order.remaining_count <= target:
                return DecreaseOrderResponse(order_id=order_id,
                                             remaining_count=order.remaining_count,
                                             client_order_id=order.client_order_id)
            return None

        op = Op.CONFIRMABLE if target is not None else Op.UNSAFE
        return await self._call(op, "POST", path, DecreaseOrderResponse, body=body,
                                params={"subaccount": subaccount}, timeout=timeout,
                                reconcile=reconcile)

    async def amend_order(self, order_id: str, *, ticker: str, side: str,
                          price: Decimal | str | int, count: Decimal | str | int,
                          client_order_id: str | None = None,
                          updated_client_order_id: str | None = None,
                          expiration_time: int | None = None, subaccount: int | None = None,
                          timeout: float | None = None) -> AmendOrderResponse:
        """Change price, total size (``count`` = filled + resting) or expiry of an order."""
        path = f"/margin/orders/{path_segment(order_id, 'order_id')}/amend"
        body = check_amend(ticker=ticker, side=side, price=price, count=count,
                           market=self.markets.get(ticker), client_order_id=client_order_id,
                           updated_client_order_id=updated_client_order_id,
                           expiration_time=expiration_time)

        async def reconcile() -> AmendOrderResponse | None:
            order = await self._lookup(order_id, timeout)
            if order is None or order.price != body.price \
                    or order.fill_count + order.remaining_count != body.count:
                return None
            return AmendOrderResponse(order_id=order_id, client_order_id=order.client_order_id,
                                      remaining_count=order.remaining_count,
                                      fill_count=order.fill_count)

        return await self._call(Op.CONFIRMABLE, "POST", path, AmendOrderResponse, body=body,
                                params={"subaccount": subaccount}, timeout=timeout,
                                reconcile=reconcile)

    # --- order groups --------------------------------------------------------

    async def create_order_group(self, contracts_limit: int | Decimal | str, *,
                                 subaccount: int | None = None,
                                 exchange_index: int | None = None,
                                 timeout: float | None = None) -> CreateOrderGroupResponse:
        """A group capping contracts matched over a rolling 15 s (an int goes as
        ``contracts_limit``, a Decimal/str as ``contracts_limit_fp``). Not retried when
        ambiguous: a second group could be made."""
        if isinstance(contracts_limit, int) and not isinstance(contracts_limit, bool):
            if contracts_limit < 1:
                raise InvalidRequest(f"contracts_limit must be >= 1, not {contracts_limit}")
            body = CreateOrderGroupRequest(contracts_limit=contracts_limit,
                                           subaccount=subaccount, exchange_index=exchange_index)
        else:
            body = CreateOrderGroupRequest(
                contracts_limit_fp=check_count(contracts_limit, name="contracts_limit"),
                subaccount=subaccount, exchange_index=exchange_index)
        return await self._call(Op.UNSAFE, "POST", "/margin/order_groups/create",
                                CreateOrderGroupResponse, body=body, timeout=timeout)

    async def list_order_groups(self, *, subaccount: int | None = None,
                                timeout: float | None = None) -> list[OrderGroup]:
        resp = await self._call(Op.READ, "GET", "/margin/order_groups", OrderGroupsResponse,
                                params={"subaccount": subaccount}, timeout=timeout)
        return resp.order_groups

    def _group_path(self, group_id: str, suffix: str = "") -> str:
        return f"/margin/order_groups/{path_segment(group_id, 'order_group_id')}{suffix}"

    async def get_order_group(self, order_group_id: str, *, subaccount: int | None = None,
                              timeout: float | None = None) -> OrderGroupDetail:
        return await self._call(Op.READ, "GET", self._group_path(order_group_id),
                                OrderGroupDetail, params={"subaccount": subaccount},
                                timeout=timeout)

    async def delete_order_group(self, order_group_id: str, *, subaccount: int | None = None,
                                 timeout: float | None = None) -> None:
        """Delete the group and cancel its orders."""
        await self._call(Op.UNSAFE, "DELETE", self._group_path(order_group_id), EmptyResponse,
                         params={"subaccount": subaccount}, timeout=timeout)

    async def trigger_order_group(self, order_group_id: str, *, subaccount: int | None = None,
                                  timeout: float | None = None) -> None:
        """Kill switch: cancel the group's orders and block new ones until reset."""
        await self._call(Op.IDEMPOTENT, "PUT", self._group_path(order_group_id, "/trigger"),
                         EmptyResponse, params={"subaccount": subaccount}, timeout=timeout)

    async def reset_order_group(self, order_group_id: str, *, subaccount: int | None = None,
                                timeout: float | None = None) -> None:
        """Clear the group's rolling counter and triggered state."""
        await self._call(Op.IDEMPOTENT, "PUT", self._group_path(order_group_id, "/reset"),
                         EmptyResponse, params={"subaccount": subaccount}, timeout=timeout)

    async def update_order_group_limit(self, order_group_id: str,
                                       contracts_limit: int | Decimal | str, *,
                                       subaccount: int | None = None,
                                       timeout: float | None = None) -> None:
        """``PUT /margin/order_groups/{id}/limit`` (triggers at once if already exceeded)."""
        if isinstance(contracts_limit, int) and not isinstance(contracts_limit, bool):
            if contracts_limit < 1:
                raise InvalidRequest(f"contracts_limit must be >= 1, not {contracts_limit}")
            body = UpdateOrderGroupLimitRequest(contracts_limit=contracts_limit)
        else:
            body = UpdateOrderGroupLimitRequest(
                contracts_limit_fp=check_count(contracts_limit, name="contracts_limit"))
        await self._call(Op.IDEMPOTENT, "PUT", self._group_path(order_group_id, "/limit"),
                         EmptyResponse, body=body, params={"subaccount": subaccount},
                         timeout=timeout)
