"""Open orders and order groups, from WS snapshots and REST reads.

Orders (websocket.md §6.5, rest.md §6.3): every ``user_order`` message is a full
snapshot of one order. Late or duplicated snapshots must never undo newer ones,
so a snapshot is applied only if

* its ``fill_count`` is not below the one we hold (fills only ever grow), and
* with an equal ``fill_count``, it is not older by ``last_updated_ts_ms``.

An order with ``remaining_count == 0`` is finished: it leaves the open set and its
id goes into a bounded memory of finished orders, so a late resting snapshot of it
cannot bring it back. REST ``GET /margin/orders`` replaces the open set (it is the
authority for what rests: the socket has been seen to drop ``user_order``), with
the same no-going-back rule and keeping orders the socket reported after the REST
read was made.

Order groups (§6.6): ``created``/``limit_updated`` set the limit, ``triggered``
and ``reset`` flip the triggered flag, ``deleted`` removes the group.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..messages import OrderGroupBody, Side, UserOrderBody
from .formulas import OrderStatus, derive_status

if TYPE_CHECKING:  # the REST models are only read here; importing them pulls in aiohttp
    from ..rest_models import MarginOrder, OrderGroup

__all__ = ["GroupView", "GroupTracker", "OrderTracker", "OrderView", "MAX_FINISHED_KEPT"]

MAX_FINISHED_KEPT = 10_000
"""How many finished order ids are remembered against resurrection."""


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order as we last saw it (immutable; also the snapshot's element)."""

    order_id: str
    ticker: str
    side: Side
    price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    status: OrderStatus
    subaccount: int = 0
    client_order_id: str | None = None
    order_group_id: str | None = None
    last_update_reason: str | None = None
    updated_ms: int | None = None
    order_source: str | None = None

    @classmethod
    def from_ws(cls, body: UserOrderBody, previous: OrderView | None) -> OrderView:
        prev = None if previous is None else (previous.fill_count, previous.remaining_count)
        return cls(order_id=body.order_id, ticker=body.ticker, side=body.side, price=body.price,
                   fill_count=body.fill_count, remaining_count=body.remaining_count,
                   status=derive_status(body.fill_count, body.remaining_count,
                                        body.last_update_reason, prev),
                   subaccount=body.subaccount_number or 0,
                   client_order_id=body.client_order_id, order_group_id=body.order_group_id,
                   last_update_reason=body.last_update_reason,
                   updated_ms=body.last_updated_ts_ms or body.created_ts_ms,
                   order_source=body.order_source)

    @classmethod
    def from_rest(cls, order: MarginOrder, previous: OrderView | None,
                  subaccount: int | None) -> OrderView:
        prev = None if previous is None else (previous.fill_count, previous.remaining_count)
        sub = order.subaccount if order.subaccount is not None else subaccount
        return cls(order_id=order.order_id, ticker=order.ticker, side=order.side,
                   price=order.price, fill_count=order.fill_count,
                   remaining_count=order.remaining_count,
                   status=derive_status(order.fill_count, order.remaining_count,
                                        order.last_update_reason, prev),
                   subaccount=sub or 0, client_order_id=order.client_order_id,
                   order_group_id=order.order_group_id,
                   last_update_reason=order.last_update_reason,
                   updated_ms=order.last_update_time_ms or order.created_time_ms,
                   order_source=order.order_source)


def _older(new: OrderView, old: OrderView) -> bool:
    """True when ``new`` must not replace ``old``."""
    if new.fill_count != old.fill_count:
        return new.fill_count < old.fill_count
    if new.updated_ms is not None and old.updated_ms is not None:
        return new.updated_ms < old.updated_ms
    return False


class OrderTracker:
    """Open orders by id plus a bounded memory of finished ones."""

    def __init__(self, max_finished: int = MAX_FINISHED_KEPT) -> None:
        self.open: dict[str, OrderView] = {}
        self.finished: OrderedDict[str, OrderView] = OrderedDict()
        self._max_finished = max_finished
        self.stale = 0
        """Snapshots refused because they would move an order backwards."""

    def known(self, order_id: str) -> OrderView | None:
        return self.open.get(order_id) or self.finished.get(order_id)

    def apply(self, view: OrderView) -> bool:
        """Apply one full snapshot; False when it is stale (and then nothing changes)."""
        done = self.finished.get(view.order_id)
        if done is not None:
            # Never resurrect; only a final snapshot with more fills may still correct it.
            if view.remaining_count > 0 or view.fill_count <= done.fill_count:
                self.stale += 1
                return False
            self._finish(view)
            return True
        current = self.open.get(view.order_id)
        if current is not None and _older(view, current):
            self.stale += 1
            return False
        if view.remaining_count > 0:
            self.open[view.order_id] = view
        else:
            self.open.pop(view.order_id, None)
            self._finish(view)
        return True

    def replace_open(self, views: Iterable[OrderView], as_of_ms: int,
                     subaccount: int | None) -> None:
        """Adopt a REST read of the open orders (of one subaccount, or all when None).

        Orders we hold that REST does not list are finished (outcome unknown:
        ``closed``) unless the socket told us about them after ``as_of_ms``.
        """
        listed: set[str] = set()
        for view in views:
            listed.add(view.order_id)
            self.apply(view)
        for order_id, view in list(self.open.items()):
            if order_id in listed or (subaccount is not None and view.subaccount != subaccount):
                continue
            if view.updated_ms is not None and view.updated_ms > as_of_ms:
                continue
            del self.open[order_id]
            self._finish(replace(view, remaining_count=Decimal(0), status="closed"))

    def _finish(self, view: OrderView) -> None:
        self.finished[view.order_id] = view
        self.finished.move_to_end(view.order_id)
        while len(self.finished) > self._max_finished:
            self.finished.popitem(last=False)


@dataclass(frozen=True, slots=True)
class GroupView:
    """One order group (immutable; also the snapshot's element)."""

    order_group_id: str
    contracts_limit: Decimal | None = None
    triggered: bool = False
    updated_ms: int | None = None
    is_auto_cancel_enabled: bool | None = None


class GroupTracker:
    """Order groups by id, from ``order_group_updates`` and ``GET /margin/order_groups``."""

    def __init__(self) -> None:
        self.groups: dict[str, GroupView] = {}
        self._deleted: OrderedDict[str, int | None] = OrderedDict()
        """Deleted group ids (bounded) with the deletion time: late events cannot revive them."""
        self.unknown_events = 0

    def apply(self, body: OrderGroupBody) -> bool:
        """Apply one event; False when unknown, older than the group's state, or on a
        deleted group (a ``created`` newer than the deletion starts it afresh)."""
        gid = body.order_group_id
        kind = body.event_type
        if gid in self._deleted:
            deleted_ms = self._deleted[gid]
            if kind != "created" or deleted_ms is None or body.ts_ms is None \
                    or body.ts_ms <= deleted_ms:
                return False
        group = self.groups.get(gid) or GroupView(gid)
        if group.updated_ms is not None and body.ts_ms is not None \
                and body.ts_ms < group.updated_ms:
            return False
        if kind in ("created", "limit_updated"):
            group = replace(group, contracts_limit=body.contracts_limit_fp, updated_ms=body.ts_ms)
            if kind == "created":
                self._deleted.pop(gid, None)
                group = replace(group, triggered=False)
        elif kind == "triggered":
            group = replace(group, triggered=True, updated_ms=body.ts_ms)
        elif kind == "reset":
            group = replace(group, triggered=False, updated_ms=body.ts_ms)
        elif kind == "deleted":
            self.groups.pop(gid, None)
            self._deleted[gid] = body.ts_ms
            while len(self._deleted) > MAX_FINISHED_KEPT:
                self._deleted.popitem(last=False)
            return True
        else:
            self.unknown_events += 1
            return False
        self.groups[gid] = group
        return True

    def replace_all(self, groups: Iterable[OrderGroup]) -> None:
        """Adopt a REST list (REST has no triggered flag: the socket's is kept)."""
        fresh: dict[str, GroupView] = {}
        for g in groups:
            old = self.groups.get(g.id)
            fresh[g.id] = GroupView(g.id, contracts_limit=g.contracts_limit_fp,
                                    triggered=False if old is None else old.triggered,
                                    updated_ms=None if old is None else old.updated_ms,
                                    is_auto_cancel_enabled=g.is_auto_cancel_enabled)
            self._deleted.pop(g.id, None)
        self.groups = fresh
