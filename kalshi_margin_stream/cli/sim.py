"""``kalshi-margin-stream sim``: run the simulated margin exchange until interrupted.

Once listening it prints one JSON line
``{"rest_url", "ws_url", "key_id", "private_key_path"}`` (plus ``fix_port`` with
``--fix``) and flushes stdout, so a parent process can read it and connect. The
generated private key is written to a 0600 temp file that is removed on exit; with
``--public-key`` nothing is generated and ``private_key_path`` is null.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..exceptions import CredentialsError
from .common import Stopper

__all__ = ["add_parser", "run"]


def _markets(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [t.strip() for v in values for t in v.split(",") if t.strip()]
    return out or None


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sim", help="run a local simulated Kalshi margin exchange (REST + WebSocket)",
        description="Serve the margin REST API and WebSocket on one local port with seeded "
                    "synthetic order flow. Prints one JSON line once listening.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0 = a free port)")
    p.add_argument("--seed", type=int, default=0, help="seed of ids and synthetic flow")
    p.add_argument("--markets", nargs="+", metavar="TICKER",
                   help="tickers to list (space or comma separated; default: full board)")
    p.add_argument("--rate", type=float, default=20.0, metavar="MSGS/S",
                   help="synthetic flow actions per second (0 = none; default 20)")
    p.add_argument("--public-key", metavar="PATH",
                   help="register this PEM public key instead of generating a key pair")
    p.add_argument("--key-id", metavar="ID", help="key id for the registered/generated key")
    p.add_argument("--fix", action="store_true",
                   help="also serve FIX (plain TCP: `fix --plain --fix-port`); the JSON line "
                        "then has fix_port")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.rate < 0:
        print("sim: --rate must be >= 0 (see --help)", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print("sim: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    public_key: bytes | None = None
    if args.public_key:
        try:
            public_key = Path(args.public_key).read_bytes()
        except OSError as exc:
            print(f"sim: cannot read {args.public_key}: {exc.strerror}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(_serve(args, public_key))
    except CredentialsError as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sim: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1


async def _serve(args: argparse.Namespace, public_key: bytes | None) -> int:
    from ..sim import Simulator

    stopper = Stopper()
    stopper.__enter__()
    stop = stopper.event
    key_path: str | None = None
    try:
        async with Simulator(seed=args.seed, markets=_markets(args.markets), rate=args.rate,
                             host=args.host, port=args.port, public_key=public_key,
                             key_id=args.key_id, fix=args.fix, fix_tls=False) as sim:
            if sim.credentials is not None:
                fd, key_path = tempfile.mkstemp(prefix="kalshi-sim-", suffix=".pem")
                os.close(fd)
                sim.write_private_key(key_path)
            line: dict[str, object] = {"rest_url": sim.rest_url, "ws_url": sim.ws_url,
                                       "key_id": sim.key_id, "private_key_path": key_path}
            if args.fix:
                line["fix_port"] = sim.fix_port
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            await stop.wait()
    finally:
        stopper.__exit__()
        if key_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(key_path)
    return stopper.exit_code  # 130 after Ctrl-C, 0 after SIGTERM (common.py)
