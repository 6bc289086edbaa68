"""One-shot pre-trade margins over REST: read what the calculator needs, then compute.

::

    async with RestClient(credentials, env="demo") as rest:
        reads = await read_margin_inputs(rest)
        print(reads.calculator().basket_margins(orders))
        print("\\n".join(reads.reconcile().lines()))

:func:`read_margin_inputs` makes eight reads through the client (so its token
buckets and retries apply): risk parameters, markets, fee tiers, notional risk
limit, then positions, balance, risk and resting orders stamped with the time they
were sent. ``/margin/balance`` costs 5 tokens (50 with ``compute_available_balance``,
which is off by default); the rest cost the default read price. The account reads
go last and back to back so they are within about a second of each other, as
reconciliation needs (margin-model.md §8.6).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..core.margin.calculator import MarginCalculator, Mode, evaluate_request
from ..core.margin.model import MarginModel
from ..core.margin.reconcile import ReconReport, Tolerance, reconcile
from ..core.margin.snapshot import MarginSnapshot
from ..core.margin.state import MarginState
from ..core.messages import FundingRate, TickerBody
from ..core.rest_models import (
    BalanceResponse,
    FeeTiers,
    MarginMarket,
    MarginOrder,
    NotionalRiskLimit,
    Position,
    RiskParameters,
    RiskResponse,
)
from ..exceptions import HTTPStatusError
from .client import RestClient

__all__ = ["MAX_FUNDING_READS", "MarginReads", "StaticInputs", "basket_margins",
           "build_margin_reads", "order_margins", "read_margin_inputs", "read_static_inputs",
           "reconcile_account", "request_tickers"]


MAX_FUNDING_READS = 20
"""At most this many funding-estimate reads per one-shot (distinct tickers of the orders)."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class MarginReads:
    """The REST reads of one round, the model and the snapshot built from them."""

    model: MarginModel
    snapshot: MarginSnapshot
    balance: BalanceResponse
    risk: RiskResponse
    positions: list[Position]

    def calculator(self, *, mark_source: str = "auto") -> MarginCalculator:
        return MarginCalculator(self.model, self.snapshot, mark_source=mark_source)

    def evaluate(self, body: object, kind: Literal["orders", "basket"], *,
                 subaccount: int | None = None, mode: Mode | None = None) -> Any:
        """A §8.5 JSON request answered (see :func:`~..core.margin.calculator.evaluate_request`)."""
        return evaluate_request(self.model, self.snapshot, body, kind, subaccount=subaccount,
                                mode=mode)

    def reconcile(self, *, tolerance: Tolerance | None = None) -> ReconReport:
        return reconcile(self.balance, self.risk, self.positions, self.model,
                         tolerance=tolerance)


@dataclass(frozen=True, slots=True)
class StaticInputs:
    """The slow-moving reads of the model (§8.2), stamped with when they were sent."""

    params: RiskParameters
    markets: list[MarginMarket]
    fee_tiers: FeeTiers | None
    notional_limit: NotionalRiskLimit | None
    as_of_ms: int


async def read_static_inputs(rest: RestClient) -> StaticInputs:
    """Risk parameters, markets, fee tiers and the notional risk limit (four reads)."""
    as_of_ms = _now_ms()
    params = await rest.get_risk_parameters()
    markets = await rest.list_markets()
    fee_tiers: FeeTiers | None
    limit: NotionalRiskLimit | None
    try:
        fee_tiers = await rest.get_fee_tiers()
    except HTTPStatusError:  # not every account may read it: fees are then assumed
        fee_tiers = None
    try:
        limit = await rest.get_notional_risk_limit()
    except HTTPStatusError:  # the notional check is then skipped (tagged "unknown")
        limit = None
    return StaticInputs(params, markets, fee_tiers, limit, as_of_ms)


async def read_margin_inputs(rest: RestClient, *, compute_available_balance: bool = False,
                             funding_tickers: Iterable[str] = ()) -> MarginReads:
    """Read everything once and build the model and the account snapshot.

    ``funding_tickers``: markets whose funding estimate to read too (one read each; the
    funding preview of an order needs its market's).
    """
    static = await read_static_inputs(rest)
    sent = _now_ms()
    positions = await rest.get_positions()
    balance = await rest.get_balance(compute_available_balance=compute_available_balance)
    risk = await rest.get_risk()
    orders_sent = _now_ms()
    orders = [o async for o in rest.iter_orders(status="resting")]
    funding = []
    for ticker in sorted(set(funding_tickers)):
        est = await rest.get_funding_estimate(ticker)
        if est.funding_rate is not None:
            funding.append(TickerBody(market_ticker=ticker, funding_rate=FundingRate(
                rate=est.funding_rate, next_funding_time_ms=est.next_funding_time_ms,
                ts_ms=est.computed_time_ms)))
    return build_margin_reads(params=static.params, markets=static.markets,
                              fee_tiers=static.fee_tiers, notional_limit=static.notional_limit,
                              positions=positions, balance=balance, risk=risk, orders=orders,
                              static_ms=static.as_of_ms, account_ms=sent,
                              orders_ms=orders_sent, now_ms=_now_ms(), funding=funding)


def build_margin_reads(*, params: RiskParameters, markets: list[MarginMarket],
                       fee_tiers: FeeTiers | None, notional_limit: NotionalRiskLimit | None,
                       positions: list[Position], balance: BalanceResponse, risk: RiskResponse,
                       orders: list[MarginOrder], static_ms: int, account_ms: int,
                       orders_ms: int, now_ms: int,
                       funding: Iterable[TickerBody] = ()) -> MarginReads:
    """The model and snapshot from REST bodies (read over the wire or built in tests)."""
    state = MarginState()
    state.set_markets(markets)
    state.set_risk_parameters(params)
    state.reconcile_risk(risk)
    state.reconcile_positions(positions, as_of_ms=account_ms)
    state.reconcile_balance(balance, as_of_ms=account_ms)
    state.reconcile_orders(orders, as_of_ms=orders_ms)
    for body in funding:
        state.apply_ticker(body)
    model = MarginModel.from_exchange(risk_parameters=params, markets=markets,
                                      fee_tiers=fee_tiers, notional_limit=notional_limit,
                                      risk=risk, as_of_ms=static_ms)
    return MarginReads(model, state.snapshot(now_ms), balance, risk, positions)


def request_tickers(orders: object) -> list[str]:
    """The distinct market tickers a request names, first seen first, at most
    :data:`MAX_FUNDING_READS` (whatever else is wrong with the request)."""
    if isinstance(orders, Mapping):
        orders = orders.get("orders")
    if not isinstance(orders, Sequence) or isinstance(orders, str | bytes):
        return []
    named = dict.fromkeys(o["ticker"] for o in orders
                          if isinstance(o, Mapping) and isinstance(o.get("ticker"), str))
    return list(named)[:MAX_FUNDING_READS]


async def order_margins(rest: RestClient, orders: Sequence[object], *, subaccount: int = 0,
                        mode: Mode = "full", consider_open_orders: bool = True
                        ) -> list[dict[str, Any]]:
    """Each order alone against the account as REST shows it now."""
    reads = await read_margin_inputs(rest, funding_tickers=request_tickers(orders))
    return reads.calculator().order_margins(orders, subaccount=subaccount, mode=mode,
                                            consider_open_orders=consider_open_orders)


async def basket_margins(rest: RestClient, orders: Sequence[object], *, subaccount: int = 0,
                         consider_positions: bool = True, mode: Mode = "full"
                         ) -> dict[str, Any]:
    """The basket against the account as REST shows it now."""
    reads = await read_margin_inputs(rest, funding_tickers=request_tickers(orders))
    return reads.calculator().basket_margins(orders, subaccount=subaccount, mode=mode,
                                             consider_positions=consider_positions)


async def reconcile_account(rest: RestClient, *,
                            tolerance: Tolerance | None = None) -> ReconReport:
    """Our numbers against ``/margin/balance``, ``/risk`` and ``/positions`` (§8.6)."""
    reads = await read_margin_inputs(rest, compute_available_balance=True)
    return reads.reconcile(tolerance=tolerance)
