"""Checks for exit-trigger and FCM requests, made before anything is sent (pure).

The rules are the spec's (``SetCrossExitTriggerRequest`` and friends, rest.md §6.9):
a bracket sets ``stop_loss_price`` and/or ``take_profit_price`` (on the tick); a
trailing stop sets exactly one of ``trail_amount`` or ``trail_bps`` (1..9999);
fields of the other kind are refused. On cross positions ``count`` (whole
contracts) and ``anchor_order_id`` (bracket only) are exclusive and *append* a
trigger, so they need a ``client_trigger_id`` (at most 64 characters), which is
refused on every other write.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import get_args

from ..core.rest_models import (
    AssetClass,
    ExitTriggerKind,
    MarginMarket,
    SetCrossExitTriggerRequest,
    SetIsolatedExitTriggerRequest,
    UpdateExitTriggerRequest,
)
from ..exceptions import InvalidRequest
from .validate import MAX_PRICE_PLACES, _number, _places, check_count, check_price

__all__ = [
    "MAX_CLIENT_TRIGGER_ID",
    "MAX_TRAIL_BPS",
    "check_asset_class",
    "check_cross_trigger",
    "check_dollars",
    "check_isolated_trigger",
    "check_kind",
    "check_subtrader_suffix",
    "check_trigger_update",
]

MAX_CLIENT_TRIGGER_ID = 64
MAX_TRAIL_BPS = 9999
_KINDS: tuple[str, ...] = get_args(ExitTriggerKind)
_ASSET_CLASSES: tuple[str, ...] = get_args(AssetClass)
_SUFFIX = re.compile(r"[A-Za-z0-9]{1,16}")


def check_kind(kind: object) -> ExitTriggerKind:
    if kind not in _KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(_KINDS)}; not {kind!r}")
    return kind  # type: ignore[return-value]  # narrowed by the membership test


def check_dollars(value: object, name: str, *, allow_zero: bool = False) -> Decimal:
    """A dollar amount with at most four places (positive unless ``allow_zero``)."""
    amount = _number(value, name)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidRequest(f"{name} must be {'>= 0' if allow_zero else 'positive'}, "
                             f"not {value!r}")
    if _places(amount) > MAX_PRICE_PLACES:
        raise InvalidRequest(f"{name} {value!r} has more than {MAX_PRICE_PLACES} "
                             "decimal places")
    return amount


def _trail_bps(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 1 <= value <= MAX_TRAIL_BPS:
        raise InvalidRequest(f"trail_bps must be an int 1..{MAX_TRAIL_BPS}, not {value!r}")
    return value


def _legs(kind: ExitTriggerKind, market: MarginMarket | None, stop_loss_price: object,
          take_profit_price: object, trail_amount: object, trail_bps: object
          ) -> tuple[Decimal | None, Decimal | None, Decimal | None, int | None]:
    """The checked leg fields of a set request for ``kind``."""
    if kind == "bracket":
        if trail_amount is not None or trail_bps is not None:
            raise InvalidRequest("trail_amount/trail_bps belong to kind='trailing', "
                                 "not a bracket")
        if stop_loss_price is None and take_profit_price is None:
            raise InvalidRequest("a bracket needs stop_loss_price and/or take_profit_price "
                                 "(to remove a trigger, delete it)")
        sl = None if stop_loss_price is None else check_price(
            stop_loss_price, market=market, name="stop_loss_price")
        tp = None if take_profit_price is None else check_price(
            take_profit_price, market=market, name="take_profit_price")
        return sl, tp, None, None
    if stop_loss_price is not None or take_profit_price is not None:
        raise InvalidRequest("stop_loss_price/take_profit_price belong to kind='bracket', "
                             "not a trailing stop")
    if (trail_amount is None) == (trail_bps is None):
        raise InvalidRequest("a trailing stop needs exactly one of trail_amount or trail_bps")
    if trail_bps is not None:
        return None, None, None, _trail_bps(trail_bps)
    return None, None, check_dollars(trail_amount, "trail_amount"), None


def check_isolated_trigger(*, kind: object = "bracket", market: MarginMarket | None = None,
                           stop_loss_price: object = None, take_profit_price: object = None,
                           trail_amount: object = None, trail_bps: object = None
                           ) -> SetIsolatedExitTriggerRequest:
    """The body of ``PUT /margin/isolated/positions/{ticker}/exit_trigger``."""
    k = check_kind(kind)
    sl, tp, amount, bps = _legs(k, market, stop_loss_price, take_profit_price, trail_amount,
                                trail_bps)
    return SetIsolatedExitTriggerRequest(kind=k, stop_loss_price=sl, take_profit_price=tp,
                                         trail_amount=amount, trail_bps=bps)


def check_cross_trigger(*, kind: object = "bracket", market: MarginMarket | None = None,
                        stop_loss_price: object = None, take_profit_price: object = None,
                        trail_amount: object = None, trail_bps: object = None,
                        count: object = None, anchor_order_id: object = None,
                        client_trigger_id: object = None) -> SetCrossExitTriggerRequest:
    """The body of ``PUT /margin/cross/positions/{ticker}/exit_trigger``."""
    k = check_kind(kind)
    sl, tp, amount, bps = _legs(k, market, stop_loss_price, take_profit_price, trail_amount,
                                trail_bps)
    if count is not None and anchor_order_id is not None:
        raise InvalidRequest("count and anchor_order_id are mutually exclusive")
    if anchor_order_id is not None and (not isinstance(anchor_order_id, str)
                                        or not anchor_order_id):
        raise InvalidRequest("anchor_order_id must be a non-empty string")
    if anchor_order_id is not None and k != "bracket":
        raise InvalidRequest("anchor_order_id is for brackets only")
    qty = None
    if count is not None:
        qty = check_count(count)
        if qty != qty.to_integral_value():
            raise InvalidRequest(f"count {count!r} must be a whole number of contracts")
    appends = count is not None or anchor_order_id is not None
    if client_trigger_id is None:
        if appends:
            raise InvalidRequest("client_trigger_id is required with count or "
                                 "anchor_order_id (the trigger is appended)")
    else:
        if not appends:
            raise InvalidRequest("client_trigger_id is only accepted with count or "
                                 "anchor_order_id")
        if not isinstance(client_trigger_id, str) or not client_trigger_id \
                or len(client_trigger_id) > MAX_CLIENT_TRIGGER_ID:
            raise InvalidRequest(f"client_trigger_id must be 1..{MAX_CLIENT_TRIGGER_ID} "
                                 f"characters, not {client_trigger_id!r}")
    return SetCrossExitTriggerRequest(
        kind=k, count=qty, anchor_order_id=anchor_order_id,
        client_trigger_id=client_trigger_id,
        stop_loss_price=sl, take_profit_price=tp, trail_amount=amount, trail_bps=bps)


def check_trigger_update(*, market: MarginMarket | None = None,
                         stop_loss_price: object = None,
                         take_profit_price: object = None) -> UpdateExitTriggerRequest:
    """New leg prices for one bracket: at least one (an omitted leg is cleared)."""
    if stop_loss_price is None and take_profit_price is None:
        raise InvalidRequest("give stop_loss_price and/or take_profit_price "
                             "(to remove a trigger, delete it)")
    return UpdateExitTriggerRequest(
        stop_loss_price=None if stop_loss_price is None else check_price(
            stop_loss_price, market=market, name="stop_loss_price"),
        take_profit_price=None if take_profit_price is None else check_price(
            take_profit_price, market=market, name="take_profit_price"))


def check_asset_class(value: object) -> AssetClass | None:
    if value is not None and value not in _ASSET_CLASSES:
        raise InvalidRequest(f"asset_class must be one of {', '.join(_ASSET_CLASSES)}; "
                             f"not {value!r}")
    return value  # type: ignore[return-value]  # narrowed by the membership test


def check_subtrader_suffix(value: object) -> str:
    if not isinstance(value, str) or not _SUFFIX.fullmatch(value):
        raise InvalidRequest(f"subtrader_suffix must be 1-16 letters or digits, not {value!r}")
    return value
