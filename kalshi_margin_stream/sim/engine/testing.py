"""Small builders for engine tests and scenarios: a one-market exchange and terse orders.

Kept in the package (not under tests/) because the suite imports test helpers by module
path (``--import-mode=importlib``); the server tests may use them too.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from .config import ExchangeConfig, MarketConfig
from .events import Event
from .exchange import Exchange
from .results import OrderResult
from .views import SelfTradePrevention, Side, TimeInForce

__all__ = ["D", "T0", "BIG", "market", "exchange", "order", "of_type"]

D = Decimal
E = TypeVar("E")
T0 = 1_788_500_000_000  # 2026-09-04T05:33:20Z: between funding times (04:00 / 12:00 UTC)
BIG = D("1000000000")

_coids = itertools.count(1)


def market(ticker: str = "TEST", **kw: Any) -> MarketConfig:
    """A plain market (reference 10.0000, tick 0.0001) with ``kw`` overrides."""
    base = MarketConfig(ticker=ticker, title=ticker, contract_size=D("1"),
                        initial_reference_price=D("10.0000"))
    return replace(base, **kw)


def exchange(*markets: MarketConfig, seed: int = 1, **kw: Any) -> Exchange:
    """An exchange at ``T0`` over ``markets`` (default: one ``TEST`` market)."""
    cfg = replace(ExchangeConfig(markets=markets or (market(),)), **kw)
    return Exchange(cfg, seed=seed, now_ms=T0)


def order(ex: Exchange, user: str, side: Side, count: str | int, price: str, *,
          tif: TimeInForce = "good_till_canceled", ticker: str = "TEST",
          coid: str | None = None, stp: SelfTradePrevention = "taker_at_cross",
          now_ms: int = T0, **kw: Any) -> OrderResult:
    """Place an order with terse arguments (``coid`` None -> a fresh id)."""
    return ex.create_order(user, ticker=ticker,
                           client_order_id=f"c-{next(_coids)}" if coid is None else coid,
                           side=side, count=D(count), price=D(price), time_in_force=tif,
                           self_trade_prevention_type=stp, now_ms=now_ms, **kw)


def of_type(events: list[Event], cls: type[E]) -> list[E]:
    """The events of one type, in order."""
    return [e for e in events if isinstance(e, cls)]
