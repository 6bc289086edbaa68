"""``kalshi-margin-stream replay PATH…|- [--json] [--speed max|K]``: recordings through the core.

Reads ``record`` output (files, directories, gzip/zstd, or ``-`` for stdin) and
the older one-frame-per-line captures, in receive order across rotated files,
through the same session and books as live streaming. The summary gives each
book's ``status``: a book left ``resyncing`` by a bad frame is not to be trusted.
Exit status 1 when a frame could not be decoded or applied; gaps and duplicates
are facts of the recording, not errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from ..core.replay import PassiveSession, ReplayReport
from ..recording.format import Record
from ..recording.reader import ReadStats, RecordingError, paced, read_records
from ..recording.replay import replay_records

__all__ = ["add_parser", "run"]


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'max' or a factor > 0, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"'max' or a factor > 0, not {text!r}")
    return value


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay", help="run recordings through the core and summarise the books",
        description="Decode, sequence and apply every frame of one or more recordings "
                    "(record output, or one raw frame per line) in receive order.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files or directories of a recording, or - for stdin")
    p.add_argument("--speed", type=_speed, default=None, metavar="max|K",
                   help="max (default) or K × real time from the recorded receive times")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: frames, by_type, gaps, duplicates, errors, "
                        "books (with status), files, truncated, skipped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stats = ReadStats()
    report = ReplayReport(PassiveSession())
    shed = [0]

    def counted(records: Iterable[Record]) -> Iterator[Record]:
        for rec in records:
            if rec.k == "e" and rec.e == "shed" and isinstance(rec.x, int):
                shed[0] += rec.x  # frames the recorder could not write: a hole in the data
            yield rec

    try:
        replay_records(paced(counted(read_records(args.paths, stats)), args.speed), report)
    except RecordingError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _print(args, report, stats, shed[0])  # the summary of what was replayed so far
        return 130
    return _print(args, report, stats, shed[0])


def _print(args: argparse.Namespace, report: ReplayReport, stats: ReadStats,
           shed: int) -> int:
    data = report.to_json()
    data["files"] = stats.files
    data["truncated"] = stats.truncated
    data["unreadable_records"] = stats.bad_lines
    data["shed_while_recording"] = shed
    data["skipped"] = stats.skipped
    for name in stats.skipped:  # ``replay data/*`` also names the manifests
        print(f"replay: skipped {name}: a manifest, not a recording", file=sys.stderr)
    code = 1 if data["errors"] else 0  # whatever the number of paths
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
        return code
    print(f"{data['frames']} frames, {data['gaps']} gaps, {data['duplicates']} duplicates, "
          f"{len(data['errors'])} errors, from {len(stats.files)} file(s)")
    if shed:
        print(f"  {shed} frames were shed while recording (the disk fell behind): "
              "the books may differ from the live ones")
    for name in stats.truncated:
        print(f"  {name}: cut short (a crash?): read up to its last complete record")
    for name, count in data["by_type"].items():
        print(f"  {name:22s} {count}")
    for err in data["errors"]:
        print(f"  record {err['line']}: {err['reason']}")
    for ticker, book in data["books"].items():
        bid = book["bids"][0] if book["bids"] else None
        ask = book["asks"][0] if book["asks"] else None
        print(f"  {ticker} [{book['status']}]: {len(book['bids'])} bids, "
              f"{len(book['asks'])} asks, best bid {bid}, best ask {ask}")
    return code
