"""One hypothetical order of a pre-trade margin request: its fields and their checks.

Kept apart from :mod:`.calculator` (the what-if maths): this module only turns the
§8.5 JSON of one order into an exact :class:`OrderRequest` or a typed
:class:`OrderInputError` with a ``code`` (margin-model.md §8.5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...exceptions import InvalidRequest
from ..messages import Side
from .model import MarginModel

__all__ = ["MAX_COUNT", "MAX_PRICE", "TIFS", "OrderInputError", "OrderRequest", "parse_order"]

MAX_COUNT = Decimal(10) ** 9
MAX_PRICE = Decimal(10) ** 9
"""Largest count and price accepted (guards, not exchange rules): every product of them
stays well inside Decimal's 28 digits, so the maths never raises InvalidOperation."""
TIFS = ("good_till_canceled", "immediate_or_cancel", "fill_or_kill")
_COUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_PRICE = re.compile(r"[0-9]+(\.[0-9]{1,4})?")
_ORDER_KEYS = frozenset({"ticker", "side", "count", "price", "time_in_force", "post_only",
                         "reduce_only", "client_order_id", "self_trade_prevention_type",
                         "order_group_id", "expiration_time", "market_version", "subaccount"})


class OrderInputError(InvalidRequest):
    """One order of a request is malformed; ``code`` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One hypothetical order (the fields of ``POST /margin/orders`` that matter)."""

    ticker: str
    side: Side
    count: Decimal
    price: Decimal
    time_in_force: str = "good_till_canceled"
    post_only: bool = False
    reduce_only: bool = False

    @property
    def sign(self) -> int:
        return 1 if self.side == "bid" else -1


def _exact(value: object, pattern: re.Pattern[str], what: str, places: int,
           limit: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise OrderInputError(f"invalid_{what}", f"{what} must be a decimal string like "
                              f"\"{'10' if what == 'count' else '6.3600'}\", not "
                              f"{type(value).__name__} {value!r}")
    text = value if isinstance(value, str) else str(value)
    if not pattern.fullmatch(text.strip()):
        raise OrderInputError(f"invalid_{what}", f"{what} {text!r} is not a plain decimal with at "
                              f"most {places} places (no sign, no exponent)")
    number = Decimal(text.strip())
    if number <= 0:
        raise OrderInputError(f"invalid_{what}", f"{what} must be positive, got {text!r}")
    if number > limit:
        raise OrderInputError(f"invalid_{what}", f"{what} {text!r} is above {limit:,}")
    return number


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise OrderInputError("invalid_flag", f"{key} must be true or false, got {value!r}")
    return value


def parse_order(raw: object, model: MarginModel) -> OrderRequest:
    """Validate one order (a §8.5 dict or an :class:`OrderRequest`).

    Raises:
        OrderInputError: unknown ticker, bad side, count or price (exponent notation,
            negative, zero, too many places, fractional where not enabled, off-tick),
            bad time in force or flag, reduce-only GTC, or unknown fields.
    """
    if isinstance(raw, OrderRequest):
        raw = {"ticker": raw.ticker, "side": raw.side, "count": raw.count, "price": raw.price,
               "time_in_force": raw.time_in_force, "post_only": raw.post_only,
               "reduce_only": raw.reduce_only}
    if not isinstance(raw, Mapping):
        raise OrderInputError("invalid_order", f"an order must be an object, got {raw!r}")
    unknown = sorted(str(k) for k in raw if k not in _ORDER_KEYS)
    if unknown:
        raise OrderInputError("unknown_field", f"unknown order field(s): {', '.join(unknown)}")
    ticker = raw.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise OrderInputError("invalid_ticker", f"ticker must be a market ticker, got {ticker!r}")
    market = model.markets.get(ticker)
    if market is None:
        raise OrderInputError("unknown_ticker", f"unknown market {ticker!r}")
    side = raw.get("side")
    if side not in ("bid", "ask"):
        raise OrderInputError("invalid_side", f"side must be \"bid\" or \"ask\", got {side!r}")
    count = _exact(raw.get("count"), _COUNT, "count", 2, MAX_COUNT)
    if not market.fractional and count != count.to_integral_value():
        raise OrderInputError("invalid_count",
                              f"count {count} is fractional but {ticker} trades whole contracts")
    price = _exact(raw.get("price"), _PRICE, "price", 4, MAX_PRICE)
    if price % market.tick != 0:
        raise OrderInputError("off_tick", f"price {price} is not a multiple of the tick "
                              f"{market.tick} of {ticker}")
    tif = raw.get("time_in_force", "good_till_canceled")
    if tif not in TIFS:
        raise OrderInputError("invalid_time_in_force",
                              f"time_in_force must be one of {', '.join(TIFS)}, got {tif!r}")
    post_only, reduce_only = _flag(raw, "post_only"), _flag(raw, "reduce_only")
    if reduce_only and tif == "good_till_canceled":
        raise OrderInputError("reduce_only_tif", "reduce_only needs time_in_force "
                              "immediate_or_cancel or fill_or_kill (the exchange refuses GTC)")
    return OrderRequest(ticker, side, count, price, str(tif), post_only, reduce_only)
