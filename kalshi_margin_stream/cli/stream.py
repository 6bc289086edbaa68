"""``kalshi-margin-stream stream``: print decoded messages, then a summary.

Connects to Kalshi (``--env``) or to explicit URLs (the simulator), subscribes
to the given channels and markets, prints each update as one JSON line, and at
the end (``--duration`` or Ctrl-C) prints the statistics and the final books in
the same shape as ``replay --json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
from typing import Any

import msgspec

from ..core.auth import Credentials
from ..core.messages import CHANNELS
from ..exceptions import KalshiError
from ..stream.client import Client, ClientStats
from ..stream.subscriptions import (
    Books,
    Fills,
    OrderGroups,
    Orders,
    Spec,
    Stale,
    Subscription,
    Tickers,
    Trades,
)
from ..stream.transport import TRANSPORTS, transport_missing

__all__ = ["add_parser", "run", "summary_json"]

SPECS: dict[str, type[Spec[Any]]] = {
    "orderbook_delta": Books, "ticker": Tickers, "trade": Trades, "fill": Fills,
    "user_orders": Orders, "order_group_updates": OrderGroups,
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("stream", help="stream decoded messages from the margin socket")
    p.add_argument("--env", choices=["demo", "prod"], default="demo")
    p.add_argument("--rest-url", help="REST base URL (e.g. the simulator's)")
    p.add_argument("--ws-url", help="WebSocket URL (e.g. the simulator's)")
    p.add_argument("--key-id", help="API key id (default: $KALSHI_API_KEY_ID)")
    p.add_argument("--private-key", help="PEM file (default: $KALSHI_PRIVATE_KEY_PATH)")
    p.add_argument("--channels", nargs="+", choices=CHANNELS, required=True)
    p.add_argument("--markets", nargs="+", help="market tickers (required for orderbook_delta)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--transport", choices=list(TRANSPORTS), default="aiohttp")
    p.add_argument("--json", action="store_true",
                   help="print the closing summary as one JSON object (messages are always "
                        "printed one JSON object a line, unless --quiet)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def credentials_from(args: argparse.Namespace) -> Credentials:
    if args.key_id or args.private_key:
        if not (args.key_id and args.private_key):
            raise KalshiError("--key-id and --private-key go together")
        return Credentials.from_pem_file(args.key_id, args.private_key)
    return Credentials.from_env()


def summary_json(client: Client) -> dict[str, Any]:
    """Statistics plus books shaped like ``replay --json``."""
    stats: ClientStats = client.statistics()
    out = dataclasses.asdict(stats)
    out["books"] = {t: dict(b.to_json_levels(), status=b.status.value)
                    for t, b in sorted(client.session.books.items())}
    return out


def run(args: argparse.Namespace) -> int:
    if "orderbook_delta" in args.channels and not args.markets:
        print("stream: orderbook_delta needs --markets", file=sys.stderr)
        return 2
    missing = transport_missing(args.transport)
    if missing is not None:
        print(f"stream: {missing}", file=sys.stderr)
        return 2
    try:
        creds = credentials_from(args)
    except KalshiError as exc:
        print(f"stream: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_stream(args, creds))
    except KalshiError as exc:
        print(f"stream: {exc}", file=sys.stderr)
        return 1


async def _stream(args: argparse.Namespace, creds: Credentials) -> int:
    markets = tuple(args.markets) if args.markets else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    encoder = msgspec.json.Encoder()
    out = sys.stdout
    async with Client(creds, env=args.env, rest_url=args.rest_url, ws_url=args.ws_url,
                      transport=args.transport) as client:
        subs = [client.subscribe(SPECS[c](markets)) for c in args.channels]

        async def pump(sub: Subscription[Any]) -> None:
            async for item in sub:
                if args.quiet:
                    continue
                if isinstance(item, Stale):
                    out.write(json.dumps({"stale": msgspec.to_builtins(item)}) + "\n")
                else:
                    out.write(encoder.encode(item).decode() + "\n")

        failure: KalshiError | None = None
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(pump(s)) for s in subs]
                try:
                    async with asyncio.timeout(args.duration):
                        await stop.wait()
                except TimeoutError:
                    pass
                for t in tasks:
                    t.cancel()
        except* KalshiError as group:  # a subscription ended with the client's error
            first = group.exceptions[0]
            assert isinstance(first, KalshiError)
            failure = first
        if failure is not None:
            raise failure
        summary = summary_json(client)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print(f"frames {summary['frames']}, gaps {summary['gaps']}, resyncs "
              f"{summary['resyncs']}, reconnects {summary['reconnects']}")
        for ticker, book in summary["books"].items():
            bid = book["bids"][0] if book["bids"] else None
            ask = book["asks"][0] if book["asks"] else None
            print(f"  {ticker} [{book['status']}]: bid {bid} ask {ask}")
    if summary["connections"] == 0:
        print("stream: the WebSocket never connected (check --ws-url / --env); see the "
              "log above", file=sys.stderr)
        return 1
    return 0
