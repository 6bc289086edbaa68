"""Request checks with Kalshi's error codes; pure functions that raise :class:`Rejection`."""

from __future__ import annotations

from decimal import Decimal

from .config import MarketConfig
from .errors import invalid_order, invalid_price
from .market import MarketState

__all__ = ["check_price", "check_count", "check_band", "check_enum", "SIDES", "TIFS", "STPS"]

SIDES = ("bid", "ask")
TIFS = ("good_till_canceled", "immediate_or_cancel", "fill_or_kill")
STPS = ("taker_at_cross", "maker")
PRICE_PLACES = 4
COUNT_PLACES = 2


def _exponent(x: Decimal) -> int:
    exp = x.normalize().as_tuple().exponent
    return exp if isinstance(exp, int) else 0


def check_enum(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise invalid_order(f"invalid {name}: {value!r}")


def check_price(cfg: MarketConfig, price: Decimal) -> None:
    """Precision first (the demo's exact details), then sign, then the tick grid."""
    if not isinstance(price, Decimal) or not price.is_finite():
        raise invalid_order("invalid price: not a decimal number")
    exp = _exponent(price)
    if exp < -PRICE_PLACES:
        raise invalid_order(f"invalid price: invalid dollar precision: {exp}")
    if price <= 0:
        raise invalid_order("invalid price: price must be positive")
    tick = cfg.tick_size
    if tick > 0 and price % tick != 0:
        raise invalid_order(f"invalid price: not a multiple of the tick size {tick}")


def check_count(cfg: MarketConfig, count: Decimal, what: str = "count") -> None:
    if not isinstance(count, Decimal) or not count.is_finite():
        raise invalid_order(f"invalid {what}: not a decimal number")
    exp = _exponent(count)
    if exp < -COUNT_PLACES:
        raise invalid_order(f"invalid {what}: invalid count precision: {exp}")
    if count <= 0:
        raise invalid_order(f"invalid {what}: must be positive")
    if not cfg.fractional_trading_enabled and count != count.to_integral_value():
        raise invalid_order(f"invalid {what}: fractional trading is not enabled")


def check_band(m: MarketState, side: str, price: Decimal) -> None:
    """Price band (market-facts.md §3); no band on a side with no resting orders.

    bid >= min((1 - f) x best bid, best bid - N ticks); ask <= max((1 + f) x best ask,
    best ask + N ticks), f = ``band_fraction``, N = ``band_ticks``.
    """
    cfg = m.cfg
    span = cfg.tick_size * cfg.band_ticks
    if side == "bid":
        bb = m.book.best_bid()
        if bb is not None and price < min(bb * (1 - cfg.band_fraction), bb - span):
            raise invalid_price()
    else:
        ba = m.book.best_ask()
        if ba is not None and price > max(ba * (1 + cfg.band_fraction), ba + span):
            raise invalid_price()
