"""``kalshi-margin-stream convert RECORDING… --parquet OUT_DIR``: recordings as Parquet.

One table per message type plus ``book_snapshots.parquet`` (see
``recording/parquet.py``: prices and sizes are ``decimal128(38, 10)``, times are
timestamps). Needs the ``[parquet]`` extra; says so when it is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..recording.reader import ReadStats, RecordingError, read_records
from .common import positive_int

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "convert", help="convert recordings to Parquet tables",
        description="Convert recordings (files, directories or -) to one Parquet table per "
                    "message type and a table of book snapshots.")
    p.add_argument("paths", nargs="+", metavar="RECORDING")
    p.add_argument("--parquet", required=True, metavar="OUT_DIR", help="directory to write")
    p.add_argument("--levels", type=positive_int, default=5,
                   help="book levels per side in book_snapshots (default 5)")
    p.add_argument("--book-every-ms", type=positive_int, default=None, metavar="K",
                   help="a book row per market every K ms of receive time (default: after "
                        "every book update)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import pyarrow  # type: ignore[import-untyped,import-not-found,unused-ignore] # noqa: F401
    except ImportError:
        print("convert: Parquet output needs pyarrow: pip install "
              "'kalshi-margin-stream[parquet]'", file=sys.stderr)
        return 2
    from ..recording.parquet import convert_to_parquet

    stats = ReadStats()
    try:
        counts = convert_to_parquet(read_records(args.paths, stats), args.parquet,
                                    levels=args.levels, every_ms=args.book_every_ms)
    except RecordingError as exc:
        print(f"convert: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"convert: cannot write {args.parquet}: {exc}", file=sys.stderr)
        return 1
    for name in stats.skipped:  # as replay: ``convert data/*`` also names the manifests
        print(f"convert: skipped {name}: a manifest, not a recording", file=sys.stderr)
    print(json.dumps({"tables": counts, "files": stats.files, "truncated": stats.truncated}))
    return 0
