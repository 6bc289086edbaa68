"""``client.margins``: the pre-trade calculator on a running client's live margin state.

::

    async with Client(credentials) as client:
        await client.reconcile()
        quote = await client.margins.orders([{"ticker": "KXBTCPERP", "side": "bid",
                                              "count": "10", "price": "8.0962"}])
        basket = await client.margins.basket(orders, mode="compact")

Positions, resting orders, cash and marks come from ``client.margin`` (the live
snapshot, kept current by the socket and REST reconciliation) at the moment of the
call. The slow-moving inputs -- risk parameters, market specs and leverage curves,
fee tiers and the notional risk limit -- are read over REST on first use and again
after ``REFRESH_S`` (margin-model.md §8.2 polls them every 5 minutes): four reads,
through the client's rate limiter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..core.margin.calculator import MarginCalculator, Mode
from ..core.margin.model import MarginModel
from ..core.margin.reconcile import ReconReport, Tolerance, reconcile
from ..rest.margins import read_static_inputs

if TYPE_CHECKING:
    from .client import Client

__all__ = ["REFRESH_S", "LiveMargins"]

REFRESH_S = 300.0
"""Seconds before risk parameters, markets, fee tiers and limits are read again."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class LiveMargins:
    """Order and basket margins on ``client.margin`` (see module doc)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._model: MarginModel | None = None
        self._loaded = 0.0
        self._lock = asyncio.Lock()

    async def model(self, *, refresh: bool = False) -> MarginModel:
        """The static inputs, read now if never read, stale, or ``refresh``."""
        async with self._lock:
            if self._model is None or refresh or time.monotonic() - self._loaded > REFRESH_S:
                static = await read_static_inputs(self._client.rest)
                self._model = MarginModel.from_exchange(
                    risk_parameters=static.params, markets=static.markets,
                    fee_tiers=static.fee_tiers, notional_limit=static.notional_limit,
                    as_of_ms=static.as_of_ms)
                self._loaded = time.monotonic()
            return self._model

    async def calculator(self, *, mark_source: str = "auto") -> MarginCalculator:
        """A calculator over the live snapshot as it is now."""
        model = await self.model()
        return MarginCalculator(model, self._client.margin_state.snapshot(_now_ms()),
                                mark_source=mark_source)

    async def orders(self, orders: Sequence[object], *, subaccount: int = 0,
                     mode: Mode = "full", consider_open_orders: bool = True
                     ) -> list[dict[str, Any]]:
        """Each order alone against the live positions and resting orders."""
        calc = await self.calculator()
        return calc.order_margins(orders, subaccount=subaccount, mode=mode,
                                  consider_open_orders=consider_open_orders)

    async def basket(self, orders: Sequence[object], *, subaccount: int = 0,
                     consider_positions: bool = True, consider_open_orders: bool = True,
                     mode: Mode = "full",
                     sequence: Literal["as_given", "hedge_first"] = "as_given"
                     ) -> dict[str, Any]:
        """The basket (``initial``/``final``/``sequential``/``benefit``/``orders``)."""
        calc = await self.calculator()
        return calc.basket_margins(orders, subaccount=subaccount, mode=mode,
                                   consider_positions=consider_positions,
                                   consider_open_orders=consider_open_orders, sequence=sequence)

    async def reconcile(self, *, tolerance: Tolerance | None = None) -> ReconReport:
        """The exchange's balance, risk and positions against our formulas (§8.6)."""
        model = await self.model()
        rest = self._client.rest
        positions = await rest.get_positions()
        balance = await rest.get_balance(compute_available_balance=True)
        risk = await rest.get_risk()
        return reconcile(balance, risk, positions, model, tolerance=tolerance)
