"""``kalshi-margin-stream fix order|listen|replay|md``: the margin FIX gateway from a shell.

Every received application message is printed as one JSON line (``{"35": type, ...}``
with the Struct's fields). Bad arguments: one line on stderr, status 2; exchange or
connection errors: one line, status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

from ..core.fix import ExecutionReport, FixMessage, SessionKind, utc_timestamp
from ..exceptions import CredentialsError, InvalidRequest, KalshiError
from ..fix import FixClient, SeqStore
from ..fix.client import check_count, check_price
from .output import write_stdout
from .rest import _credentials, add_connection_args

__all__ = ["FIX_HOSTS", "add_parser", "run"]

FIX_HOSTS = {  # fix.md §1.1: (order entry + drop copy, market data)
    "prod": ("margin-mm.fix.elections.kalshi.com", "margin-marketdata.fix.elections.kalshi.com"),
    "demo": ("margin-fix.demo.kalshi.co", "margin-marketdata.fix.demo.kalshi.co"),
}


def _line(msg: FixMessage) -> str:
    out: dict[str, Any] = {"35": msg.body.MSG_TYPE, "seq": msg.seq}
    out.update(msgspec.to_builtins(msg.body))
    return json.dumps(out, default=str)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "fix", help="trade, listen, replay or read market data over FIX",
        description="Kalshi margin FIX (fix.md). Credentials as for `rest`; each concurrent "
                    "FIX connection needs its own key.")
    add_connection_args(p)
    p.add_argument("--fix-host", help="gateway host (default: by --env and session)")
    p.add_argument("--fix-port", type=int, help="port (default: 8228 NR, 8229 DC, 8230 RT, "
                                                "8233 MD; the simulator serves all on one)")
    p.add_argument("--plain", action="store_true", help="plain TCP (the simulator only)")
    p.add_argument("--cafile", help="trust this CA/certificate (e.g. the simulator's)")
    p.add_argument("--session", choices=["nr", "rt"], default="nr",
                   help="order entry / listener session (default nr)")
    p.add_argument("--store", help="RT only: sequence-number store file (resume on restart)")
    p.add_argument("--wait", type=float, default=5.0,
                   help="seconds to wait for answers (default 5)")
    sub = p.add_subparsers(dest="fix_command", metavar="WHAT", required=True)
    order = sub.add_parser("order", help="new / amend / cancel / mass-cancel / group")
    order.add_argument("action", choices=["new", "amend", "cancel", "mass-cancel", "group"])
    order.add_argument("--ticker")
    order.add_argument("--side", choices=["bid", "ask"])
    order.add_argument("--count", help="whole contracts")
    order.add_argument("--price", help="dollars, up to 4 places")
    order.add_argument("--tif", choices=["day", "gtc", "ioc", "fok", "gtd"], default="gtc")
    order.add_argument("--expire-time", help="ISO time, with --tif gtd")
    order.add_argument("--post-only", action="store_true")
    order.add_argument("--reduce-only", action="store_true")
    order.add_argument("--client-order-id", help="ClOrdID (new) or OrigClOrdID (amend/cancel)")
    order.add_argument("--order-id")
    order.add_argument("--group-action", choices=["create", "reset", "delete", "trigger",
                                                  "update"])
    order.add_argument("--group-id")
    order.add_argument("--limit", type=int, help="order group contracts limit")
    listen = sub.add_parser("listen", help="listener session: print every ExecutionReport")
    listen.add_argument("--count", type=int, help="stop after this many reports")
    replay = sub.add_parser("replay", help="drop copy: replay ExecutionReports (last 3 h)")
    replay.add_argument("--begin", default="0;0", help="BeginExecID (default: all)")
    replay.add_argument("--end", help="EndExecID (default: latest)")
    replay.add_argument("--since", help="ISO time: keep reports at or after it")
    replay.add_argument("--until", help="ISO time: keep reports at or before it")
    md = sub.add_parser("md", help="market data: print snapshots and updates")
    md.add_argument("symbols", nargs="+")
    md.add_argument("--count", type=int, default=1, help="messages to print (default 1)")
    p.set_defaults(func=run)


def _ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"not an ISO time: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # FIX times are UTC; so is a time given without a zone
    try:
        ms = int(dt.timestamp() * 1000)
        utc_timestamp(ms)  # in UTC it must still be a year 1..9999 (FIX writes 4 digits)
    except (ValueError, OverflowError, OSError):
        raise InvalidRequest(f"time out of range: {text!r}") from None
    return ms


def run(args: argparse.Namespace) -> int:
    try:
        creds = _credentials(args)
        if creds is None:
            raise CredentialsError("FIX needs credentials: --key-id and --private-key")
        cmd = args.fix_command
        kind = {"replay": SessionKind.DC, "md": SessionKind.MD}.get(
            cmd, SessionKind.RT if args.session == "rt" else SessionKind.NR)
        env = args.env if args.env in FIX_HOSTS else "demo"
        host = args.fix_host or FIX_HOSTS[env][kind is SessionKind.MD]
        port = args.fix_port or kind.port
        tls: bool | ssl.SSLContext = not args.plain
        if args.cafile and not args.plain:
            tls = ssl.create_default_context(cafile=args.cafile)
        if not args.wait > 0:
            raise InvalidRequest("--wait must be a positive number of seconds")
        if args.store and kind is not SessionKind.RT:
            raise InvalidRequest("--store needs --session rt")
        if args.store:
            try:
                SeqStore(args.store).load()  # a broken file is a usage error, found now
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from None
        since, until = (_ms(args.since), _ms(args.until)) if cmd == "replay" else (None, None)
        if cmd == "md" and not all(sym.strip() for sym in args.symbols):
            raise InvalidRequest("md needs non-empty symbols")
        if cmd == "order":
            _check_order_args(args)
            _ms(args.expire_time)
    except (CredentialsError, InvalidRequest) as exc:
        print(f"fix: {exc}", file=sys.stderr)
        return 2
    except (OSError, ssl.SSLError) as exc:
        print(f"fix: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        async with FixClient(creds, kind=kind, host=host, port=port, tls=tls,
                             listener=cmd == "listen", reconnect=cmd in ("listen", "md"),
                             store=SeqStore(args.store) if args.store else None) as fix:
            if cmd == "order":
                await _order(fix, args)
            elif cmd == "listen":
                n = 0
                async for msg in fix.messages():
                    if not write_stdout(_line(msg) + "\n", flush=True):
                        return  # the reader has gone: log out quietly
                    n += isinstance(msg.body, ExecutionReport)
                    if args.count and n >= args.count:
                        return
            elif cmd == "replay":
                for rep in await fix.replay(args.begin, args.end, since_ms=since,
                                            until_ms=until, timeout=args.wait):
                    if not write_stdout(json.dumps(msgspec.to_builtins(rep), default=str)
                                        + "\n", flush=True):
                        return
            else:
                fix.subscribe(args.symbols)
                n = 0
                async for msg in fix.messages():
                    if not write_stdout(_line(msg) + "\n", flush=True):
                        return
                    n += 1
                    if n >= args.count:
                        return

    try:
        asyncio.run(main())
    except InvalidRequest as exc:
        print(f"fix: {exc}", file=sys.stderr)
        return 2
    except (KalshiError, TimeoutError, OSError) as exc:
        print(f"fix: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_order_args(a: argparse.Namespace) -> None:
    need = {"new": ("ticker", "side", "count", "price"),
            "amend": ("ticker", "side", "count", "price", "client_order_id"),
            "cancel": ("ticker", "side", "client_order_id"),
            "mass-cancel": (), "group": ("group_action",)}[a.action]
    missing = [f"--{n.replace('_', '-')}" for n in need if getattr(a, n) is None]
    if missing:
        raise InvalidRequest(f"order {a.action} needs {', '.join(missing)}")
    if a.count is not None:  # checked before connecting: bad numbers are usage errors
        check_count(a.count)
    if a.price is not None:
        check_price(a.price)


async def _order(fix: FixClient, a: argparse.Namespace) -> None:
    mark = fix.received
    if a.action == "new":
        expiry = _ms(a.expire_time)
        fix.new_order(a.ticker, a.side, a.count, a.price, time_in_force=a.tif,
                      expire_time=None if expiry is None else utc_timestamp(expiry),
                      post_only=a.post_only, reduce_only=a.reduce_only,
                      client_order_id=a.client_order_id)
    elif a.action == "amend":
        fix.amend(a.client_order_id, a.ticker, a.side, a.count, a.price, order_id=a.order_id)
    elif a.action == "cancel":
        fix.cancel(a.client_order_id, a.ticker, a.side, order_id=a.order_id)
    elif a.action == "mass-cancel":
        fix.mass_cancel()
    else:
        fix.order_group(a.group_action, order_group_id=a.group_id, contracts_limit=a.limit)
    msg = await fix.expect(lambda m: True, timeout=a.wait, since=mark)
    write_stdout(_line(msg) + "\n", flush=True)
