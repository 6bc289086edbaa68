"""The ``kalshi-margin-stream`` command.

Each subcommand lives in its own module in this package and exposes
``add_parser(subparsers)``, which registers its arguments and sets
``func=run`` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

# Module names under kalshi_margin_stream.cli, in the order --help lists them.
SUBCOMMANDS = ("demo", "stream", "replay", "sim", "rest", "order", "gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kalshi-margin-stream",
        description="Kalshi margin (perpetual futures) client, recorder tools and simulator.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"kalshi_margin_stream.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kalshi_margin_stream.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
