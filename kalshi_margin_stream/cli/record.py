"""``kalshi-margin-stream record``: raw frames to rotating compressed files.

::

    kalshi-margin-stream record --channels orderbook_delta trade ticker \\
        --markets KXBTCPERP KXETHPERP --output data/ --rotate-minutes 60

Every frame exactly as received, with its receive time (ns) and connection
number, plus the subscribe commands, their acks and the connection events (see
``recording/format.py``); a manifest beside each closed file. Progress goes to
stderr (``--quiet`` silences it). SIGINT/SIGTERM flush and close every file
before exiting (130 after Ctrl-C, 0 after SIGTERM or ``--duration``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from ..exceptions import KalshiError
from ..recording.recorder import COMPRESSIONS, Recorder, RecorderStats, default_compression
from ..stream.specs import SPECS
from .common import (
    AttemptCounter,
    Stopper,
    connect_within,
    non_negative_float,
    positive_float,
    positive_int,
)
from .connection import add_connection_args, add_stream_args
from .stream import add_channel_args, check_channels, consume, credentials_from, open_client

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "record", help="record raw frames to rotating compressed JSONL files",
        description="Record every raw WebSocket frame with its receive time, plus commands, "
                    "acks and connection events, to rotating compressed files in --output.")
    add_connection_args(p)
    add_stream_args(p)
    add_channel_args(p)
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="directory to write")
    p.add_argument("--rotate-minutes", type=positive_float, default=60.0, metavar="M",
                   help="start a new file every M minutes (default 60)")
    p.add_argument("--compress", choices=COMPRESSIONS, default=None,
                   help="default zstd when installed (the [record] extra), else gzip")
    p.add_argument("--buffer-frames", type=positive_int, default=500_000, metavar="N",
                   help="frames held while the disk is behind; more are shed and counted")
    p.add_argument("--duration", type=non_negative_float, help="stop after this many seconds")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true",
                   help="print the closing summary as one JSON line on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    problem = check_channels(args)
    if problem:
        print(f"record: {problem}", file=sys.stderr)
        return 2
    try:
        recorder = Recorder(args.output, rotate_minutes=args.rotate_minutes,
                            compress=args.compress or default_compression(),
                            buffer_frames=args.buffer_frames)
        creds = credentials_from(args)
    except (KalshiError, ValueError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_record(args, creds, recorder))
    except KalshiError as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 1
    except TimeoutError as exc:  # the disk did not take the buffered frames in time
        print(f"record: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"record: cannot write to {args.output}: {exc}", file=sys.stderr)
        return 1


def progress_line(s: RecorderStats, rate: float) -> str:
    file = s.current_file.rsplit("/", 1)[-1] if s.current_file else "-"
    shed = f"  SHED {s.shed} (disk behind)" if s.shed else ""
    queued = f"  buffered {s.queued:,}" if s.queued > 1000 else ""
    return (f"frames {s.frames:,}  {s.bytes_raw / 1e6:,.1f} MB raw, "
            f"{s.bytes_disk / 1e6:,.1f} MB on disk  {rate:,.0f}/s  gaps {s.gaps}  "
            f"reconnects {s.reconnects}  lag p99 {s.lag_p99_ms:.0f} ms{queued}{shed}  {file}")


async def _progress(recorder: Recorder, quiet: bool, stop: Stopper) -> None:
    tty = sys.stderr.isatty()
    period = 1.0 if tty else 10.0
    last_n, last_t = 0, time.monotonic()
    while True:
        await asyncio.sleep(0.25)
        if recorder.error is not None:  # nothing more can be recorded: end (status 1)
            print(("\n" if tty and not quiet else "")
                  + f"record: writing failed: {recorder.error}", file=sys.stderr)
            stop.set()
            return
        now = time.monotonic()
        if now - last_t < period:
            continue
        s = recorder.stats()
        rate = (s.frames - last_n) / (now - last_t)
        last_n, last_t = s.frames, now
        if not quiet:
            sys.stderr.write(("\r\x1b[K" if tty else "") + progress_line(s, rate)
                             + ("" if tty else "\n"))
            sys.stderr.flush()


async def _record(args: argparse.Namespace, creds: Any, recorder: Recorder) -> int:
    markets = tuple(args.markets) if args.markets else None
    started = time.monotonic()
    with Stopper() as stop:
        counter = AttemptCounter(recorder)
        async with open_client(args, creds, recorder=counter, reconcile=False,
                               rest_fallback=False) as client:
            subs = [client.subscribe(SPECS[c](markets)) for c in args.channels]
            problem = await connect_within(client, args.timeout, counter,
                                           client.endpoints.ws_url)
            if problem:
                print(f"record: {problem}", file=sys.stderr)
                return 1

            async def drain(sub: Any, item: Any) -> None:
                return None

            ticker = asyncio.ensure_future(_progress(recorder, args.quiet, stop))
            try:
                await consume(subs, stop, args.duration, drain)
            finally:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
            connections = client.statistics().connections
        # Leaving the client closed the recorder: every file is flushed and closed.
    s = recorder.stats()
    elapsed = time.monotonic() - started
    summary = {"type": "summary", "frames": s.frames, "written": s.written, "shed": s.shed,
               "bytes_raw": s.bytes_raw, "bytes_disk": s.bytes_disk, "gaps": s.gaps,
               "reconnects": s.reconnects, "connections": connections,
               "lag_p99_ms": round(s.lag_p99_ms, 3), "seconds": round(elapsed, 3),
               "files": [str(f) for f in recorder.files]}
    if args.json:
        print(json.dumps(summary))
    if not args.quiet:
        sys.stderr.write(("\n" if sys.stderr.isatty() else "")
                         + f"record: {s.written:,} frames in {len(recorder.files)} file(s), "
                         f"{s.shed} shed, {s.bytes_disk / 1e6:,.2f} MB on disk, "
                         f"{elapsed:.1f}s\n")
    if connections == 0:
        print("record: the WebSocket never connected (check --ws-url / --env); see the "
              "log above", file=sys.stderr)
        return 1
    if s.shed or recorder.error is not None:
        return 1
    return stop.exit_code
