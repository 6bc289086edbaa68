"""``kalshi-margin-stream gateway``: one Kalshi connection published to Redis Streams.

::

    kalshi-margin-stream gateway --redis redis://127.0.0.1:6379/0 \\
        --channels orderbook_delta trade ticker --markets KXBTCPERP KXETHPERP

Holds the client (reconnects, resyncs, REST fallback) and publishes every update
(``fanout`` package; consumers use ``RemoteFeed``). Once running it prints one
JSON line ``{"epoch", "prefix", "redis", "channels", "markets"}`` (the Redis
password is never printed); at the end (``--duration``, SIGINT or SIGTERM) one
JSON line of statistics. ``--timeout`` bounds each Redis call (default 2 s).
Exit status: 0 ok (or SIGTERM), 1 Redis unusable at start or the WebSocket never
connected, 2 bad arguments or credentials, 130 Ctrl-C (after the statistics line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import sys
from typing import Any
from urllib.parse import urlsplit

from ..core.messages import CHANNELS
from ..exceptions import KalshiError
from .common import AttemptCounter, Stopper
from .connection import add_connection_args, add_stream_args

__all__ = ["add_parser", "redacted", "run"]

_SCHEMES = ("redis", "rediss", "unix")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "gateway", help="publish one Kalshi connection to Redis Streams for many consumers",
        description="Hold the Kalshi margin session and publish every update to Redis "
                    "Streams (kms:book:{T}, kms:trade:{T}, ...); consumers use RemoteFeed.")
    p.add_argument("--redis", required=True, metavar="URL",
                   help="redis://[:password@]host:port/db, rediss://... or unix://path")
    add_connection_args(p)
    add_stream_args(p)
    p.add_argument("--channels", nargs="+", choices=CHANNELS, required=True)
    p.add_argument("--markets", nargs="+", metavar="TICKER",
                   help="market tickers (required for orderbook_delta)")
    p.add_argument("--prefix", default="kms", help="stream name prefix (default kms)")
    p.add_argument("--maxlen", type=int, default=100_000,
                   help="approximate MAXLEN of each stream (default 100000)")
    p.add_argument("--buffer", type=int, default=50_000,
                   help="entries held while Redis is slow, then dropped (default 50000)")
    p.add_argument("--snapshot-interval", type=float, default=5.0, metavar="S",
                   help="seconds between periodic book snapshots (default 5)")
    p.add_argument("--heartbeat-interval", type=float, default=1.0, metavar="S",
                   help="seconds between heartbeats; the key expires after 3 (default 1)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.set_defaults(func=run)


def redacted(url: str) -> str:
    """``url`` without its password (in the user part, or redis-py's ``?password=``)."""
    parts = urlsplit(url)
    query = "&".join(f"{k}=***" if k.lower() == "password" else f"{k}={v}" if sep else k
                     for k, sep, v in (item.partition("=")
                                       for item in parts.query.split("&") if item))
    out = url  # edited in place: urlunsplit would turn unix:///path into unix:/path
    if query != parts.query:
        out = out.replace("?" + parts.query, "?" + query, 1)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]  # as written: IPv6 brackets kept
        user = f"{parts.username}:***@" if parts.username else ":***@"
        out = out.replace(parts.netloc, user + host, 1)
    return out


def _check(args: argparse.Namespace) -> str | None:
    if urlsplit(args.redis).scheme not in _SCHEMES:
        return f"--redis must be a redis://, rediss:// or unix:// URL, not {redacted(args.redis)!r}"
    if "orderbook_delta" in args.channels and not args.markets:
        return "orderbook_delta needs --markets"
    if args.maxlen < 1 or args.buffer < 2:
        return "--maxlen must be >= 1 and --buffer >= 2"
    if args.snapshot_interval <= 0 or args.heartbeat_interval <= 0:
        return "intervals must be > 0"
    if args.duration is not None and args.duration <= 0:
        return "--duration must be > 0"
    if args.timeout is not None and args.timeout <= 0:
        return "--timeout must be > 0"
    return None


def run(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem is not None:
        print(f"gateway: {problem}", file=sys.stderr)
        return 2
    try:
        import redis  # noqa: F401
    except ModuleNotFoundError:
        print("gateway: needs the redis extra: pip install 'kalshi-margin-stream[redis]'",
              file=sys.stderr)
        return 2
    from .stream import credentials_from

    try:
        creds = credentials_from(args)
    except KalshiError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, creds))
    except KalshiError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 1


async def _redis_problem(url: str, timeout: float) -> str | None:
    """Why Redis cannot be used (unreachable, wrong password...), or ``None``: said once
    at start, rather than a gateway that runs on dropping every entry."""
    from redis.exceptions import RedisError

    from ..fanout.connect import open_redis

    redis = open_redis(url, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await redis.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        return f"cannot use Redis at {redacted(url)}: {type(exc).__name__}: {exc}"
    finally:
        await redis.aclose()
    return None


async def _stop_on_failure(gateway: Any, stop: Stopper) -> None:
    await gateway.wait_failed()
    stop.set()


async def _serve(args: argparse.Namespace, creds: Any) -> int:
    from ..fanout.gateway import Gateway
    from .stream import open_client

    redis_timeout = args.timeout or 2.0
    problem = await _redis_problem(args.redis, redis_timeout)
    if problem is not None:
        print(f"gateway: {problem}", file=sys.stderr)
        return 1
    with Stopper() as stop:  # SIGINT: statistics, then 130; SIGTERM: 0 (cli/common.py)
        counter = AttemptCounter()
        async with open_client(args, creds, recorder=counter) as client:
            async with Gateway(client, args.redis, channels=args.channels,
                               markets=args.markets, prefix=args.prefix, maxlen=args.maxlen,
                               buffer=args.buffer, snapshot_interval=args.snapshot_interval,
                               heartbeat_interval=args.heartbeat_interval,
                               redis_timeout=redis_timeout) as gateway:
                print(json.dumps({"epoch": gateway.epoch, "prefix": args.prefix,
                                  "redis": redacted(args.redis),
                                  "channels": list(gateway.channels),
                                  "markets": list(gateway.markets)}), flush=True)
                watcher = asyncio.create_task(_stop_on_failure(gateway, stop))
                try:
                    await stop.wait(args.duration)
                finally:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher
                stats = gateway.statistics()
            failure = gateway.failure
    print(json.dumps(dataclasses.asdict(stats), default=str), flush=True)
    if failure is not None:
        print(f"gateway: publishing stopped: {failure}", file=sys.stderr)
        return 1
    if stats.client.connections == 0:
        why = f" (last error: {counter.last_error})" if counter.last_error else ""
        print(f"gateway: the WebSocket never connected after {counter.attempts} attempts"
              f"{why}; check --ws-url / --env", file=sys.stderr)
        return 1
    return stop.exit_code
