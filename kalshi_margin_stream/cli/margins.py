"""``kalshi-margin-stream margins orders|basket|reconcile``: pre-trade margins as JSON.

::

    kalshi-margin-stream margins basket basket.json            # your demo account
    kalshi-margin-stream margins orders - --compact < orders.json
    kalshi-margin-stream margins basket basket.json --sim      # a fresh embedded simulator
    kalshi-margin-stream margins reconcile                     # ours vs the exchange's

FILE is a request object of margin-model.md §8.5 (``{"orders": [...], "mode": ...}``)
or a bare list of orders; ``-`` reads stdin. ``--compact`` and ``--subaccount``
override the file. Same connection options as ``rest``; credentials are required
unless ``--sim``. Exit status: 0 ok (``reconcile``: no mismatch), 1 the exchange or
the network failed (``reconcile``: mismatches found), 2 bad usage, file or request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..exceptions import CredentialsError, InvalidRequest, KalshiError
from ..rest.client import RestClient
from ..rest.margins import read_margin_inputs, request_tickers
from .output import write_stdout
from .rest import _credentials, _error_json, add_connection_args

__all__ = ["add_parser", "load_request", "run"]

SIM_MARKETS = ("KXBTCPERP", "KXETHPERP", "KXSOLPERP", "KXXRPPERP", "KXDOGEPERP", "KXLTCPERP")
"""The board ``--sim`` starts with (the simulator's default markets)."""


def load_request(source: str) -> Any:
    """The JSON request from a file or ``-`` (stdin); numbers keep their exact text.

    Raises:
        InvalidRequest: unreadable file or malformed JSON (with line and column).
    """
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"cannot read {source}: {exc}") from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        where = "stdin" if source == "-" else source
        raise InvalidRequest(f"{where}: malformed JSON: {exc.msg} (line {exc.lineno}, "
                             f"column {exc.colno})") from None


def _encode(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


async def _compute(rest: RestClient, args: argparse.Namespace, body: Any) -> tuple[Any, bool]:
    if args.margins_command == "reconcile":
        reads = await read_margin_inputs(rest, compute_available_balance=True)
        report = reads.reconcile()
        return report.lines(), report.ok
    reads = await read_margin_inputs(rest, funding_tickers=request_tickers(body))
    result = reads.evaluate(body, args.margins_command, subaccount=args.subaccount,
                            mode="compact" if args.compact else None)
    return result, True


async def _against_sim(args: argparse.Namespace, body: Any) -> tuple[Any, bool]:
    from ..sim.server import Simulator  # the server (aiohttp app) only when asked for

    async with Simulator(markets=list(SIM_MARKETS), rate=0.0, levels=40, seed=7) as sim:
        async with RestClient(sim.credentials, base_url=sim.rest_url) as rest:
            return await _compute(rest, args, body)


async def _against_exchange(args: argparse.Namespace, body: Any) -> tuple[Any, bool]:
    creds = _credentials(args)
    if creds is None:
        raise CredentialsError("margins needs credentials (--key-id/--private-key or the "
                               "environment), or --sim")
    async with RestClient(creds, env=args.env, base_url=args.rest_url) as rest:
        return await _compute(rest, args, body)


def run(args: argparse.Namespace) -> int:
    _fill_defaults(args)
    try:
        body = None
        if args.margins_command != "reconcile":
            body = load_request(args.file)
        if args.subaccount is not None and not 0 <= args.subaccount <= 63:
            raise InvalidRequest("--subaccount must be 0-63")
        runner = _against_sim if args.sim else _against_exchange
        result, ok = asyncio.run(runner(args, body))
    except (InvalidRequest, CredentialsError) as exc:
        print(f"margins: {exc}", file=sys.stderr)
        return 2
    except KalshiError as exc:
        print(json.dumps(_error_json(exc)), file=sys.stderr)
        return 1
    if args.margins_command == "reconcile":
        write_stdout("\n".join(result) + "\n", flush=True)
        return 0 if ok else 1
    write_stdout(json.dumps(result, indent=2, default=_encode) + "\n", flush=True)
    return 0


def _add_options(p: argparse.ArgumentParser) -> None:
    """The options of every ``margins`` command, accepted before or after the
    command's name (suppressed defaults, filled in by :func:`_fill_defaults`)."""
    p.add_argument("--compact", action="store_true", default=argparse.SUPPRESS,
                   help="only the totals of each result")
    p.add_argument("--subaccount", type=int, default=argparse.SUPPRESS,
                   help="0-63 (overrides the file)")
    p.add_argument("--sim", action="store_true", default=argparse.SUPPRESS,
                   help="answer against a fresh embedded simulator (no credentials needed)")


def _fill_defaults(args: argparse.Namespace) -> None:
    for name, value in (("compact", False), ("subaccount", None), ("sim", False),
                        ("file", None)):
        if not hasattr(args, name):
            setattr(args, name, value)


def add_parser(subparsers: Any) -> None:
    # One sub-parser per command, FILE a required positional of orders/basket: an optional
    # positional (nargs="?") after the command name is consumed, empty, by the first
    # option, so ``margins basket --sim FILE`` used to fail with "unrecognized arguments".
    p = subparsers.add_parser(
        "margins", help="pre-trade order and basket margins, and reconciliation",
        description="Kite-style pre-trade margins (margin-model.md §8.5): 'orders' prices each "
                    "order alone, 'basket' the whole basket (initial, final, sequential peak, "
                    "benefit); 'reconcile' compares our formulas with /margin/balance, /risk "
                    "and /positions.")
    add_connection_args(p)
    _add_options(p)
    commands = p.add_subparsers(dest="margins_command", metavar="orders|basket|reconcile",
                                required=True)
    for name, help_text in (("orders", "each order priced alone"),
                            ("basket", "the whole basket: initial, final, sequential, benefit")):
        c = commands.add_parser(name, help=help_text)
        c.add_argument("file", metavar="FILE.json",
                       help="request object or list of orders; - reads stdin")
        _add_options(c)
    _add_options(commands.add_parser("reconcile", help="our formulas vs the exchange's"))
    p.set_defaults(func=run)
