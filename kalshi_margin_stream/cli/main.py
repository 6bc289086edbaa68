"""The ``kalshi-margin-stream`` command.

Each subcommand lives in its own module in this package and exposes
``add_parser(subparsers)``, which registers its arguments and sets
``func=run`` (a callable taking the parsed namespace and returning an exit code).
Options shared by every command (``--version``, ``-v``/``--log-level``, and the
connection options of ``connection.py``) are accepted before or after the
sub-command. Exit statuses are listed in ``common.py``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from .common import EXIT_INTERRUPTED, OneLineParser, logging_to_stderr
from .connection import (
    add_connection_args,
    add_global_args,
    add_stream_args,
    fill_defaults,
    propagate,
)
from .output import stdout_gone

__all__ = ["main"]

# Module names under kalshi_margin_stream.cli, in the order --help lists them.
SUBCOMMANDS = ("demo", "stream", "record", "replay", "convert", "book", "sim", "rest", "order",
               "margins", "fix", "gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="kalshi-margin-stream",
        description="Kalshi margin (perpetual futures) client, recorder tools and simulator.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_args(parser)
    add_connection_args(parser)
    add_stream_args(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"kalshi_margin_stream.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kalshi_margin_stream.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    propagate(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    fill_defaults(args)
    try:
        with logging_to_stderr(args.verbose, args.log_level):
            code: int = args.func(args)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        stdout_gone()
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
