"""``kalshi-margin-stream order create|amend|decrease|cancel|trigger ...``: trade from the shell.

::

    kalshi-margin-stream order create KXBTCPERP bid 1 8.0961 --tif immediate_or_cancel
    kalshi-margin-stream order decrease ORDER_ID --to 1
    kalshi-margin-stream order cancel ORDER_ID
    kalshi-margin-stream order cancel --all
    kalshi-margin-stream order trigger set KXBTCPERP --stop-loss 7.9 --take-profit 8.4
    kalshi-margin-stream order trigger set KXBTCPERP --isolated --kind trailing --trail-bps 150
    kalshi-margin-stream order trigger update KXBTCPERP TRIGGER_ID --take-profit 8.5
    kalshi-margin-stream order trigger delete KXBTCPERP [TRIGGER_ID] [--kind trailing]

Same connection options as ``rest``; credentials are required. Prints the JSON
answer. Arguments are checked before anything is sent (exit status 2).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..exceptions import InvalidRequest
from ..rest.client import RestClient
from .common import plain_decimal
from .rest import add_connection_args, call

__all__ = ["add_parser", "run"]

_TIFS = ["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]


async def _create(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.create_order(
        a.ticker, a.side, a.count, a.price, time_in_force=a.tif,
        self_trade_prevention_type=a.stp, client_order_id=a.client_order_id,
        post_only=a.post_only or None, reduce_only=a.reduce_only or None,
        cancel_order_on_pause=a.cancel_on_pause or None, subaccount=a.subaccount,
        order_group_id=a.group, expiration_time=a.expiration_time, timeout=a.timeout)


async def _amend(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.amend_order(a.order_id, ticker=a.ticker, side=a.side, price=a.price,
                                  count=a.count, subaccount=a.subaccount, timeout=a.timeout)


async def _decrease(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.decrease_order(a.order_id, reduce_by=a.by, reduce_to=a.to,
                                     subaccount=a.subaccount, timeout=a.timeout)


async def _cancel(rest: RestClient, a: argparse.Namespace) -> object:
    if a.all:
        if a.order_id:
            raise InvalidRequest("give an order id or --all, not both")
        await rest.cancel_all_orders(subaccount=a.subaccount, timeout=a.timeout)
        return {"cancelled": "all", "subaccount": a.subaccount}
    if not a.order_id:
        raise InvalidRequest("give an order id, or --all")
    return await rest.cancel_order(a.order_id, subaccount=a.subaccount, timeout=a.timeout)


def _cross_only(a: argparse.Namespace, *names: str) -> None:
    """Partial/anchored triggers and subaccounts exist on cross positions only."""
    if a.isolated:
        given = [n for n in names if getattr(a, n, None) is not None]
        if given:
            flags = ", ".join("--" + n.replace("_", "-") for n in given)
            raise InvalidRequest(f"{flags}: not for --isolated positions")


async def _trigger_set(rest: RestClient, a: argparse.Namespace) -> object:
    legs = {"kind": a.kind, "stop_loss_price": a.stop_loss, "take_profit_price": a.take_profit,
            "trail_amount": a.trail_amount, "trail_bps": a.trail_bps, "timeout": a.timeout}
    if a.isolated:
        _cross_only(a, "count", "anchor", "client_trigger_id", "subaccount")
        return await rest.set_isolated_exit_trigger(a.ticker, **legs)
    return await rest.set_cross_exit_trigger(
        a.ticker, count=a.count, anchor_order_id=a.anchor,
        client_trigger_id=a.client_trigger_id, subaccount=a.subaccount, **legs)


async def _trigger_get(rest: RestClient, a: argparse.Namespace) -> object:
    if a.isolated:
        _cross_only(a, "subaccount")
        return await rest.get_isolated_exit_triggers(a.ticker, kind=a.kind, timeout=a.timeout)
    return await rest.get_cross_exit_triggers(a.ticker, kind=a.kind, subaccount=a.subaccount,
                                              timeout=a.timeout)


async def _trigger_update(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.update_cross_exit_trigger(
        a.ticker, a.trigger_id, stop_loss_price=a.stop_loss, take_profit_price=a.take_profit,
        subaccount=a.subaccount, timeout=a.timeout)


async def _trigger_delete(rest: RestClient, a: argparse.Namespace) -> object:
    if a.trigger_id is not None:
        if a.isolated or a.kind is not None:
            raise InvalidRequest("a trigger id addresses one cross bracket: no --isolated "
                                 "or --kind with it")
        await rest.delete_cross_exit_trigger(a.ticker, a.trigger_id, subaccount=a.subaccount,
                                             timeout=a.timeout)
    elif a.isolated:
        _cross_only(a, "subaccount")
        await rest.delete_isolated_exit_trigger(a.ticker, kind=a.kind, timeout=a.timeout)
    else:
        await rest.delete_cross_exit_triggers(a.ticker, kind=a.kind, subaccount=a.subaccount,
                                              timeout=a.timeout)
    return {"deleted": a.trigger_id or (a.kind or "all"), "ticker": a.ticker}


_TRIGGER_ACTIONS = {"set": _trigger_set, "get": _trigger_get, "update": _trigger_update,
                    "delete": _trigger_delete}


async def _trigger(rest: RestClient, a: argparse.Namespace) -> object:
    return await _TRIGGER_ACTIONS[a.trigger_command](rest, a)


_ACTIONS = {"create": _create, "amend": _amend, "decrease": _decrease, "cancel": _cancel,
            "trigger": _trigger}


def _add_trigger_parser(sub: Any) -> None:
    trigger = sub.add_parser(
        "trigger", help="exit triggers: stop-loss/take-profit brackets, trailing stops",
        description="Set, read, update or delete the exit triggers of a position (cross by "
                    "default; --isolated for the isolated one).")
    tsub = trigger.add_subparsers(dest="trigger_command", metavar="ACTION", required=True)
    tset = tsub.add_parser("set", help="set a bracket or a trailing stop")
    tget = tsub.add_parser("get", help="the live triggers of the position")
    tupdate = tsub.add_parser(
        "update", help="new leg prices for one cross bracket (a leg left out is removed)")
    tdelete = tsub.add_parser("delete", help="cancel triggers (all, one --kind, or one id)")
    for q in (tset, tget, tupdate, tdelete):
        q.add_argument("ticker")
    tupdate.add_argument("trigger_id")
    tdelete.add_argument("trigger_id", nargs="?")
    for q in (tset, tget, tdelete):
        q.add_argument("--isolated", action="store_true", help="the isolated position")
    tset.add_argument("--kind", choices=["bracket", "trailing"], default="bracket")
    for q in (tget, tdelete):
        q.add_argument("--kind", choices=["bracket", "trailing"])
    for q in (tset, tupdate):
        q.add_argument("--stop-loss", help="mark price that fires the stop-loss leg")
        q.add_argument("--take-profit", help="mark price that fires the take-profit leg")
    tset.add_argument("--trail-amount", help="trailing distance in dollars")
    tset.add_argument("--trail-bps", type=int, help="trailing distance, 1..9999 bps")
    tset.add_argument("--count", help="contracts to close (cross; default the whole position)")
    tset.add_argument("--anchor", help="entry order id the trigger follows (cross brackets)")
    tset.add_argument("--client-trigger-id",
                      help="idempotency key, required with --count or --anchor")
    for q in (tset, tget, tupdate, tdelete):
        q.add_argument("--subaccount", type=int)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "order", help="create, amend, decrease or cancel an order; exit triggers",
        description="Create, amend, decrease or cancel a margin order, or manage a "
                    "position's exit triggers, and print the JSON answer. Arguments are "
                    "checked before anything is sent.")
    add_connection_args(p)
    sub = p.add_subparsers(dest="order_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="place a limit order")
    create.add_argument("ticker")
    create.add_argument("side", help="bid (buy/long) or ask (sell/short)")
    create.add_argument("count", type=plain_decimal, help="contracts, e.g. 1")
    create.add_argument("price", type=plain_decimal, help="dollars per contract, e.g. 8.0961")
    create.add_argument("--tif", choices=_TIFS, default="good_till_canceled")
    create.add_argument("--stp", choices=["taker_at_cross", "maker"], default="taker_at_cross")
    create.add_argument("--client-order-id", help="idempotency key (default: a new uuid4)")
    create.add_argument("--post-only", action="store_true")
    create.add_argument("--reduce-only", action="store_true", help="IOC/FOK only")
    create.add_argument("--cancel-on-pause", action="store_true")
    create.add_argument("--group", help="order group id")
    create.add_argument("--expiration-time", type=int, help="Unix seconds")

    amend = sub.add_parser("amend", help="change price and total size")
    amend.add_argument("order_id")
    amend.add_argument("--ticker", required=True)
    amend.add_argument("--side", required=True)
    amend.add_argument("--price", type=plain_decimal, required=True)
    amend.add_argument("--count", type=plain_decimal, required=True,
                       help="new total size (filled + resting)")

    decrease = sub.add_parser("decrease", help="shrink an order, keeping its queue place")
    decrease.add_argument("order_id")
    by_to = decrease.add_mutually_exclusive_group(required=True)
    by_to.add_argument("--by", type=plain_decimal, help="contracts to remove")
    by_to.add_argument("--to", type=plain_decimal, help="contracts to leave resting")

    cancel = sub.add_parser("cancel", help="cancel one order, or --all")
    cancel.add_argument("order_id", nargs="?")
    cancel.add_argument("--all", action="store_true", help="cancel every resting order")

    for action in (create, amend, decrease, cancel):
        action.add_argument("--subaccount", type=int)
    _add_trigger_parser(sub)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return call(args, _ACTIONS[args.order_command], private=True)
