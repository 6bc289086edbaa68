"""``kalshi-margin-stream order create|amend|decrease|cancel ...``: trade from the shell.

::

    kalshi-margin-stream order create KXBTCPERP bid 1 8.0961 --tif immediate_or_cancel
    kalshi-margin-stream order decrease ORDER_ID --to 1
    kalshi-margin-stream order cancel ORDER_ID
    kalshi-margin-stream order cancel --all

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


_ACTIONS = {"create": _create, "amend": _amend, "decrease": _decrease, "cancel": _cancel}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "order", help="create, amend, decrease or cancel an order",
        description="Create, amend, decrease or cancel a margin order and print the JSON "
                    "answer. Arguments are checked before anything is sent.")
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return call(args, _ACTIONS[args.order_command], private=True)
