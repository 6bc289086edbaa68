"""``kalshi-margin-stream replay PATH [--json]``: run a recording through the core."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.replay import replay_lines

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay", help="feed a JSONL file of raw WebSocket frames through the core",
        description="Decode, sequence and apply every frame of a JSONL recording "
                    "(one raw text frame per line; blank lines ignored).")
    p.add_argument("path", help="the JSONL file")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: frames, by_type, gaps, duplicates, errors, books "
                        "(exit status 1 when a line could not be decoded)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.path, "rb") as fh:
            report = replay_lines(fh)
    except OSError as exc:
        print(f"replay: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
        return 2
    data = report.to_json()
    code = 1 if data["errors"] else 0  # gaps and duplicates are facts, not errors
    if args.json:
        json.dump(data, sys.stdout)
        sys.stdout.write("\n")
        return code
    print(f"{data['frames']} frames, {data['gaps']} gaps, {data['duplicates']} duplicates, "
          f"{len(data['errors'])} errors")
    for name, count in data["by_type"].items():
        print(f"  {name:22s} {count}")
    for err in data["errors"]:
        print(f"  line {err['line']}: {err['reason']}")
    for ticker, book in data["books"].items():
        bid = book["bids"][0] if book["bids"] else None
        ask = book["asks"][0] if book["asks"] else None
        print(f"  {ticker}: {len(book['bids'])} bids, {len(book['asks'])} asks, "
              f"best bid {bid}, best ask {ask}")
    return code
