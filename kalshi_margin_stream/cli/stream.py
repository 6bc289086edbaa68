"""``kalshi-margin-stream stream``: decoded messages as clean JSONL.

Connects to Kalshi (``--env``) or to explicit URLs (the simulator), subscribes
to the given channels and markets, and prints each update as one JSON object a
line, every one with a ``type`` (``stale`` markers included). Lines are written
by a thread, so a stdout nobody reads never freezes the socket; a closed stdout
(``| head``) ends the command quietly with status 0. At the end (``--duration``,
Ctrl-C) the summary goes to stderr, or with ``--json`` to stdout as a last line
``{"type": "summary", ...}`` shaped like ``replay --json``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from typing import Any

import msgspec

from ..core.auth import Credentials
from ..core.messages import CHANNELS
from ..exceptions import KalshiError
from ..stream.client import Client, ClientStats
from ..stream.specs import SPECS
from ..stream.subscriptions import Stale, Subscription
from .common import AttemptCounter, StdoutLines, Stopper, connect_within, non_negative_float
from .connection import add_connection_args, add_stream_args

__all__ = ["SPECS", "add_parser", "credentials_from", "open_client", "run", "summary_json"]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("stream", help="stream decoded messages as JSONL")
    add_connection_args(p)
    add_stream_args(p)
    add_channel_args(p)
    p.add_argument("--duration", type=non_negative_float, help="stop after this many seconds")
    p.add_argument("--json", action="store_true",
                   help="end stdout with one {\"type\": \"summary\"} line (default: the "
                        "summary goes to stderr)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def add_channel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--channels", nargs="+", choices=CHANNELS, required=True)
    p.add_argument("--markets", nargs="+", help="market tickers (required for orderbook_delta)")


def credentials_from(args: argparse.Namespace) -> Credentials:
    if args.key_id or args.private_key:
        if not (args.key_id and args.private_key):
            raise KalshiError("--key-id and --private-key go together")
        return Credentials.from_pem_file(args.key_id, args.private_key)
    return Credentials.from_env()


def open_client(args: argparse.Namespace, creds: Credentials, **kwargs: Any) -> Client:
    """A ``Client`` for the connection options in ``args``."""
    return Client(creds, env=args.env, rest_url=args.rest_url, ws_url=args.ws_url,
                  transport=args.transport, **kwargs)


def summary_json(client: Client) -> dict[str, Any]:
    """Statistics plus books shaped like ``replay --json``."""
    stats: ClientStats = client.statistics()
    out = dataclasses.asdict(stats)
    out["books"] = {t: dict(b.to_json_levels(), status=b.status.value)
                    for t, b in sorted(client.session.books.items())}
    return out


def check_channels(args: argparse.Namespace) -> str | None:
    if "orderbook_delta" in args.channels and not args.markets:
        return "orderbook_delta needs --markets"
    return None


def run(args: argparse.Namespace) -> int:
    problem = check_channels(args)
    if problem:
        print(f"stream: {problem}", file=sys.stderr)
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


async def consume(subs: list[Subscription[Any]], stop: Stopper, duration: float | None,
                  handle: Any) -> None:
    """Pump every subscription into ``handle`` until ``stop`` or ``duration``.

    Raises the client's fatal error (a rejected key) if a subscription ends with it.
    """
    failure: KalshiError | None = None
    try:
        async with asyncio.TaskGroup() as tg:
            async def pump(sub: Subscription[Any]) -> None:
                async for item in sub:
                    await handle(sub, item)

            tasks = [tg.create_task(pump(s)) for s in subs]
            await stop.wait(duration)
            for t in tasks:
                t.cancel()
    except* KalshiError as group:  # a subscription ended with the client's error
        first = group.exceptions[0]
        assert isinstance(first, KalshiError)
        failure = first
    if failure is not None:
        raise failure


async def _stream(args: argparse.Namespace, creds: Credentials) -> int:
    markets = tuple(args.markets) if args.markets else None
    encoder = msgspec.json.Encoder()
    out = StdoutLines()
    with Stopper() as stop:
        try:
            counter = AttemptCounter()
            async with open_client(args, creds, recorder=counter) as client:
                subs = [client.subscribe(SPECS[c](markets)) for c in args.channels]
                problem = await connect_within(client, args.timeout, counter,
                                               client.endpoints.ws_url)
                if problem:
                    print(f"stream: {problem}", file=sys.stderr)
                    return 1

                async def handle(sub: Subscription[Any], item: Any) -> None:
                    if out.closed:
                        stop.set()  # the reader went away: end quietly
                        return
                    if args.quiet:
                        return
                    if isinstance(item, Stale):
                        line = encoder.encode({"type": "stale", **msgspec.to_builtins(item)})
                    else:
                        line = encoder.encode(item)
                    await out.put(line + b"\n")

                await consume(subs, stop, args.duration, handle)
                summary = summary_json(client)
            if args.json and not out.closed:
                await out.put(json.dumps({"type": "summary", **summary}, default=str).encode()
                              + b"\n")
        finally:
            await out.aclose()
    if out.closed:
        return 0
    if not args.json:
        err = sys.stderr
        err.write(f"frames {summary['frames']}, gaps {summary['gaps']}, resyncs "
                  f"{summary['resyncs']}, reconnects {summary['reconnects']}\n")
        for ticker, book in summary["books"].items():
            bid = book["bids"][0] if book["bids"] else None
            ask = book["asks"][0] if book["asks"] else None
            err.write(f"  {ticker} [{book['status']}]: bid {bid} ask {ask}\n")
    if summary["connections"] == 0:
        print("stream: the WebSocket never connected (check --ws-url / --env); see the "
              "log above", file=sys.stderr)
        return 1
    return stop.exit_code
