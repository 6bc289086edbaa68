"""``kalshi-margin-stream rest ...``: read the margin REST API and print JSON.

::

    kalshi-margin-stream rest --env demo balance
    kalshi-margin-stream rest --rest-url http://127.0.0.1:8080/trade-api/v2 orders --resting

Credentials come from ``--key-id``/``--private-key`` or the ``KALSHI_API_KEY_ID`` /
``KALSHI_PRIVATE_KEY_PATH`` environment; public reads (status, markets, orderbook,
trades, funding rates) work without them. Exit status: 0 ok, 1 the exchange or the
network failed (error JSON on stderr), 2 bad usage or credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgspec

from ..core.auth import ENV_KEY_ID, ENV_KEY_PATH, Credentials
from ..exceptions import CredentialsError, HTTPStatusError, InvalidRequest, KalshiError
from ..rest.client import RestClient
from ..rest.transport import AiohttpSender, DeadlineSender
from ..rest.transport import Timeouts as RestTimeouts
from .connection import add_connection_args  # re-exported: other commands import it here
from .output import stdout_gone, write_stdout

__all__ = ["add_connection_args", "add_parser", "call", "print_json", "run"]

Action = Callable[[RestClient, argparse.Namespace], Awaitable[object]]


def _credentials(args: argparse.Namespace) -> Credentials | None:
    if args.key_id or args.private_key:
        if not (args.key_id and args.private_key):
            raise CredentialsError("give both --key-id and --private-key")
        return Credentials.from_pem_file(args.key_id, args.private_key)
    if os.environ.get(ENV_KEY_ID) or os.environ.get(ENV_KEY_PATH):
        return Credentials.from_env()
    return None


def print_json(value: object) -> None:
    """Print a Struct, list or scalar as indented JSON (decimals as strings).

    Flushed here, so a reader that has gone (``| head``) is met now, quietly.
    """
    write_stdout(json.dumps(msgspec.to_builtins(value), indent=2) + "\n", flush=True)


def _error_json(exc: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, HTTPStatusError):
        out.update(status=exc.status, code=exc.code, details=exc.details)
    return out


def call(args: argparse.Namespace, action: Action, *, private: bool) -> int:
    """Run one client call and print its result; the shared shell of ``rest`` and ``order``."""
    try:
        creds = _credentials(args)
        if private and creds is None:
            raise CredentialsError(
                f"this call needs credentials: --key-id/--private-key or ${ENV_KEY_ID} "
                f"and ${ENV_KEY_PATH}")
    except CredentialsError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2

    sender: DeadlineSender | None = None

    async def main() -> object:
        nonlocal sender
        async with aiohttp.ClientSession() as http:
            # every attempt ends by --timeout (the retry loop stops there)
            sender = DeadlineSender(AiohttpSender(http, RestTimeouts()), args.timeout)
            async with RestClient(creds, env=args.env, base_url=args.rest_url,
                                  send=sender) as rest:
                async with asyncio.timeout(args.timeout):  # and the backoff sleeps too
                    return await action(rest, args)

    try:
        result = asyncio.run(main())
    except TimeoutError as exc:
        what = str(exc) if isinstance(exc, KalshiError) and str(exc) else "no answer"
        if args.timeout is not None:
            what = f"{what} within --timeout {args.timeout}s"
        attempts = sender.attempts if sender is not None else 0
        print(json.dumps({"error": "Timeout", "message": f"{what}; gave up after {attempts} "
                          f"attempt{'s' if attempts != 1 else ''}"}), file=sys.stderr)
        return 1
    except InvalidRequest as exc:
        print(json.dumps(_error_json(exc)), file=sys.stderr)
        return 2
    except KalshiError as exc:
        print(json.dumps(_error_json(exc)), file=sys.stderr)
        return 1
    try:
        print_json(result)
        sys.stdout.flush()
    except BrokenPipeError:  # `rest ... | head`
        stdout_gone()
    return 0


# --- the read commands ----------------------------------------------------------------


async def _status(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.get_exchange_status(timeout=a.timeout)


async def _enabled(rest: RestClient, a: argparse.Namespace) -> object:
    return {"enabled": await rest.is_margin_enabled(timeout=a.timeout)}


async def _limits(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.get_account_limits(timeout=a.timeout)


async def _markets(rest: RestClient, a: argparse.Namespace) -> object:
    if a.ticker:
        return await rest.get_market(a.ticker, timeout=a.timeout)
    return await rest.list_markets(status=a.status, timeout=a.timeout)


async def _orderbook(rest: RestClient, a: argparse.Namespace) -> object:
    book = await rest.get_orderbook(a.ticker, depth=a.depth, timeout=a.timeout)
    return {"bids": book.sorted_bids(), "asks": book.sorted_asks()}


async def _trades(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.list_trades(ticker=a.ticker, limit=a.limit, timeout=a.timeout)


async def _balance(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.get_balance(compute_available_balance=a.compute_available,
                                  timeout=a.timeout)


async def _positions(rest: RestClient, a: argparse.Namespace) -> object:
    return await rest.get_positions(ticker=a.ticker, subaccount=a.subaccount, timeout=a.timeout)


async def _orders(rest: RestClient, a: argparse.Namespace) -> object:
    if a.id:
        return await rest.get_order(a.id, timeout=a.timeout)
    orders = [o async for o in rest.iter_orders(ticker=a.ticker, subaccount=a.subaccount,
                                                timeout=a.timeout)]
    return [o for o in orders if o.is_resting] if a.resting else orders


async def _fills(rest: RestClient, a: argparse.Namespace) -> object:
    return [f async for f in rest.iter_fills(ticker=a.ticker, subaccount=a.subaccount,
                                             timeout=a.timeout)]


async def _risk(rest: RestClient, a: argparse.Namespace) -> object:
    if a.parameters:
        return await rest.get_risk_parameters(timeout=a.timeout)
    if a.notional:
        return await rest.get_notional_risk_limit(timeout=a.timeout)
    return await rest.get_risk(timeout=a.timeout)


async def _fees(rest: RestClient, a: argparse.Namespace) -> object:
    if a.tier_rates:
        return await rest.get_fee_tier_rates(timeout=a.timeout)
    return await rest.get_fee_tiers(timeout=a.timeout)


async def _funding(rest: RestClient, a: argparse.Namespace) -> object:
    if a.history:
        if not (a.start_date and a.end_date):
            raise InvalidRequest("funding --history needs --start-date and --end-date")
        return await rest.get_funding_history(start_date=a.start_date, end_date=a.end_date,
                                              ticker=a.ticker, subaccount=a.subaccount,
                                              timeout=a.timeout)
    if a.estimate:
        if not a.ticker:
            raise InvalidRequest("funding --estimate needs --ticker")
        return await rest.get_funding_estimate(a.ticker, timeout=a.timeout)
    return await rest.get_historical_funding_rates(ticker=a.ticker, timeout=a.timeout)


async def _groups(rest: RestClient, a: argparse.Namespace) -> object:
    if a.id:
        return await rest.get_order_group(a.id, subaccount=a.subaccount, timeout=a.timeout)
    return await rest.list_order_groups(subaccount=a.subaccount, timeout=a.timeout)


async def _triggers(rest: RestClient, a: argparse.Namespace) -> object:
    if a.isolated:
        if a.subaccount is not None:
            raise InvalidRequest("--subaccount: not for --isolated positions")
        return await rest.get_isolated_exit_triggers(a.ticker, kind=a.kind, timeout=a.timeout)
    return await rest.get_cross_exit_triggers(a.ticker, kind=a.kind, subaccount=a.subaccount,
                                              timeout=a.timeout)


# name -> (action, needs credentials, help)
_COMMANDS: dict[str, tuple[Action, bool, str]] = {
    "status": (_status, False, "exchange and trading active flags"),
    "enabled": (_enabled, True, "is margin trading enabled for this account"),
    "limits": (_limits, True, "rate-limit tier and buckets"),
    "markets": (_markets, False, "all markets, or one with --ticker"),
    "orderbook": (_orderbook, False, "a book snapshot, best levels first"),
    "trades": (_trades, False, "recent public trades (one page)"),
    "balance": (_balance, True, "balances per subaccount"),
    "positions": (_positions, True, "open positions"),
    "orders": (_orders, True, "every order (all pages), or one with --id"),
    "fills": (_fills, True, "every own fill (all pages)"),
    "risk": (_risk, True, "account risk; --parameters or --notional for the others"),
    "fees": (_fees, True, "maker/taker rates per market; --tier-rates for the schedule"),
    "funding": (_funding, False, "historical rates; --estimate or --history (signed)"),
    "groups": (_groups, True, "order groups, or one with --id"),
    "triggers": (_triggers, True, "live exit triggers of a position (cross; --isolated)"),
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rest", help="read the margin REST API and print JSON",
        description="Read the margin REST API and print JSON. Credentials: --key-id and "
                    f"--private-key, or ${ENV_KEY_ID} and ${ENV_KEY_PATH}; public reads "
                    "need none.")
    add_connection_args(p)
    sub = p.add_subparsers(dest="rest_command", metavar="WHAT", required=True)
    parsers = {name: sub.add_parser(name, help=help_)
               for name, (_, _, help_) in _COMMANDS.items()}
    for name in ("markets", "trades", "positions", "orders", "fills", "funding"):
        parsers[name].add_argument("--ticker")
    for name in ("positions", "orders", "fills", "funding", "groups", "triggers"):
        parsers[name].add_argument("--subaccount", type=int)
    parsers["markets"].add_argument("--status", choices=["inactive", "active", "closed"])
    parsers["orderbook"].add_argument("ticker")
    parsers["orderbook"].add_argument("--depth", type=int, default=10)
    parsers["trades"].add_argument("--limit", type=int, default=20)
    parsers["balance"].add_argument("--compute-available", action="store_true",
                                    help="also compute available balance (costs 50 tokens)")
    parsers["orders"].add_argument("--id", help="one order by id")
    parsers["orders"].add_argument("--resting", action="store_true",
                                   help="only orders with contracts still resting")
    parsers["groups"].add_argument("--id", help="one order group by id")
    parsers["triggers"].add_argument("ticker")
    parsers["triggers"].add_argument("--isolated", action="store_true")
    parsers["triggers"].add_argument("--kind", choices=["bracket", "trailing"])
    risk = parsers["risk"].add_mutually_exclusive_group()
    risk.add_argument("--parameters", action="store_true")
    risk.add_argument("--notional", action="store_true")
    parsers["fees"].add_argument("--tier-rates", action="store_true")
    funding = parsers["funding"]
    kind = funding.add_mutually_exclusive_group()
    kind.add_argument("--estimate", action="store_true", help="the in-progress estimate")
    kind.add_argument("--history", action="store_true", help="own funding payments")
    funding.add_argument("--start-date", help="YYYY-MM-DD (with --history)")
    funding.add_argument("--end-date", help="YYYY-MM-DD (with --history)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    action, private, _ = _COMMANDS[args.rest_command]
    if args.rest_command == "funding" and args.history:
        private = True
    return call(args, action, private=private)
