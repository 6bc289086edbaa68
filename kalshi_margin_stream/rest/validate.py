"""Argument checks made before any request is sent (pure, no I/O).

Each check raises :class:`InvalidRequest` (also a ``ValueError``) with a message
naming the argument, for inputs the exchange would refuse anyway: a bad side,
a non-positive or over-precise count, a fractional count on a whole-contract
market, a price off the tick or with too many places, ``reduce_only`` with a
good-till-cancelled order, a decrease with both or neither of ``reduce_by`` /
``reduce_to``. Accepted numbers are ``Decimal``, ``str`` or ``int``; ``float`` is
refused (not exact). Values come back as plain ``Decimal`` (no exponent), so
they encode as ``"10"`` and never ``"1E+1"``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

from ..core.numbers import to_decimal
from ..core.rest_models import (
    AmendOrderRequest,
    CreateOrderRequest,
    DecreaseOrderRequest,
    MarginMarket,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from ..core.rest_models.market import DEFAULT_TICK
from ..exceptions import InvalidRequest

__all__ = [
    "DEFAULT_TICK",
    "MAX_COUNT_PLACES",
    "MAX_PRICE_DIGITS",
    "MAX_PRICE_PLACES",
    "check_amend",
    "check_count",
    "check_create",
    "check_decrease",
    "check_price",
    "check_side",
    "plain",
]

MAX_PRICE_PLACES = 4
"""Requests carry prices with at most 4 decimal places (rest.md §3.1)."""
MAX_COUNT_PLACES = 2
"""Counts have at most 2 places (granularity 0.01, rest.md §3.1)."""
MAX_PRICE_DIGITS = 12
"""Digits before the point a price may have (a guard for the Decimal maths, not a rule)."""

_SIDES: tuple[str, ...] = get_args(Side)
_TIFS: tuple[str, ...] = get_args(TimeInForce)
_STPS: tuple[str, ...] = get_args(SelfTradePrevention)


def plain(value: Decimal) -> Decimal:
    """The same number written without an exponent (``1E+1`` -> ``10``)."""
    return Decimal(format(value, "f"))


def _number(value: object, name: str) -> Decimal:
    if not isinstance(value, Decimal | str | int) or isinstance(value, bool):
        raise InvalidRequest(
            f"{name} must be a Decimal, str or int, not {type(value).__name__} {value!r}")
    try:
        return plain(to_decimal(value))
    except ValueError as exc:
        raise InvalidRequest(f"{name}: {exc}") from None


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def check_side(side: object) -> Side:
    if side not in _SIDES:
        raise InvalidRequest(f"side must be 'bid' or 'ask', not {side!r}")
    return side  # type: ignore[return-value]  # narrowed by the membership test


def check_count(value: object, *, name: str = "count", market: MarginMarket | None = None,
                allow_zero: bool = False) -> Decimal:
    """A positive count with at most two places; whole unless the market allows fractions."""
    count = _number(value, name)
    if count < 0 or (count == 0 and not allow_zero):
        raise InvalidRequest(f"{name} must be {'>= 0' if allow_zero else 'positive'}, "
                             f"not {value!r}")
    if _places(count) > MAX_COUNT_PLACES:
        raise InvalidRequest(f"{name} {value!r} has more than {MAX_COUNT_PLACES} decimal places")
    if market is not None and market.fractional_trading_enabled is False \
            and count != count.to_integral_value():
        raise InvalidRequest(
            f"{name} {value!r} is fractional but {market.ticker} trades whole contracts only")
    return count


def check_price(value: object, *, market: MarginMarket | None = None,
                name: str = "price") -> Decimal:
    """A positive price with at most four places, on the market's tick."""
    price = _number(value, name)
    if price <= 0:
        raise InvalidRequest(f"{name} must be positive, not {value!r}")
    if _places(price) > MAX_PRICE_PLACES:
        raise InvalidRequest(
            f"{name} {value!r} has more than {MAX_PRICE_PLACES} decimal places")
    tick = (market.tick if market is not None else None) or DEFAULT_TICK
    if price.adjusted() >= MAX_PRICE_DIGITS:  # else ``%`` below exceeds Decimal's precision
        raise InvalidRequest(f"{name} {value!r} is too large")
    if price % tick != 0:
        where = f" of {market.ticker}" if market is not None else ""
        raise InvalidRequest(f"{name} {value!r} is not on the tick {tick}{where}")
    return price


def _choice(value: object, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InvalidRequest(f"{name} must be one of {', '.join(allowed)}; not {value!r}")
    return str(value)


def check_create(*, ticker: str, side: object, count: object, price: object,
                 client_order_id: str, time_in_force: object,
                 self_trade_prevention_type: object, market: MarginMarket | None = None,
                 expiration_time: int | None = None, post_only: bool | None = None,
                 cancel_order_on_pause: bool | None = None, reduce_only: bool | None = None,
                 subaccount: int | None = None, order_group_id: str | None = None,
                 market_version: int | None = None) -> CreateOrderRequest:
    """The body of ``POST /margin/orders``, or :class:`InvalidRequest`."""
    if not isinstance(ticker, str) or not ticker:
        raise InvalidRequest("ticker is required")
    if not isinstance(client_order_id, str) or not client_order_id:
        raise InvalidRequest("client_order_id must be a non-empty string")
    tif = _choice(time_in_force, _TIFS, "time_in_force")
    stp = _choice(self_trade_prevention_type, _STPS, "self_trade_prevention_type")
    if reduce_only and tif == "good_till_canceled":
        raise InvalidRequest("reduce_only needs time_in_force immediate_or_cancel or "
                             "fill_or_kill, not good_till_canceled")
    _check_subaccount(subaccount)
    if expiration_time is not None and expiration_time < 0:
        raise InvalidRequest("expiration_time is Unix seconds and must be >= 0")
    return CreateOrderRequest(
        ticker=ticker, client_order_id=client_order_id, side=check_side(side),
        count=check_count(count, market=market), price=check_price(price, market=market),
        time_in_force=tif,  # type: ignore[arg-type]  # checked by _choice
        self_trade_prevention_type=stp,  # type: ignore[arg-type]
        expiration_time=expiration_time, post_only=post_only,
        cancel_order_on_pause=cancel_order_on_pause, reduce_only=reduce_only,
        subaccount=subaccount, order_group_id=order_group_id, market_version=market_version)


def check_decrease(reduce_by: object = None, reduce_to: object = None, *,
                   market: MarginMarket | None = None) -> DecreaseOrderRequest:
    """Exactly one of ``reduce_by`` (positive) or ``reduce_to`` (>= 0)."""
    if (reduce_by is None) == (reduce_to is None):
        raise InvalidRequest("give exactly one of reduce_by or reduce_to")
    if reduce_by is not None:
        return DecreaseOrderRequest(reduce_by=check_count(reduce_by, name="reduce_by",
                                                          market=market))
    return DecreaseOrderRequest(reduce_to=check_count(reduce_to, name="reduce_to",
                                                      market=market, allow_zero=True))


def check_amend(*, ticker: str, side: object, price: object, count: object,
                market: MarginMarket | None = None, client_order_id: str | None = None,
                updated_client_order_id: str | None = None,
                expiration_time: int | None = None) -> AmendOrderRequest:
    """The body of ``POST /margin/orders/{id}/amend``; ``count`` is the new total size."""
    if not isinstance(ticker, str) or not ticker:
        raise InvalidRequest("ticker is required to amend")
    if expiration_time is not None and expiration_time < 0:
        raise InvalidRequest("expiration_time is Unix seconds (0 clears it) and must be >= 0")
    return AmendOrderRequest(
        ticker=ticker, side=check_side(side), price=check_price(price, market=market),
        count=check_count(count, market=market), client_order_id=client_order_id,
        updated_client_order_id=updated_client_order_id, expiration_time=expiration_time)


def _check_subaccount(subaccount: int | None) -> None:
    if subaccount is not None and (isinstance(subaccount, bool)
                                   or not isinstance(subaccount, int)
                                   or not 0 <= subaccount <= 63):
        raise InvalidRequest(f"subaccount must be an int 0-63, not {subaccount!r}")
