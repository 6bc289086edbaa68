"""Endpoint and credential options, accepted before or after any sub-command.

``add_connection_args(p)`` registers them on a sub-command's parser; ``main``
copies them onto that parser's own sub-commands and onto the top-level parser,
each with a suppressed default, so ``rest balance --rest-url URL`` and
``--rest-url URL rest balance`` mean the same. Defaults are filled in once,
after parsing (:func:`fill_defaults`).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..core.auth import ENV_KEY_ID, ENV_KEY_PATH
from ..stream.transport import TRANSPORTS, transport_missing
from .common import http_url, positive_float, ws_url

__all__ = ["add_connection_args", "add_global_args", "add_stream_args", "fill_defaults",
           "propagate"]

_MARK = "_kms_connection"
DEFAULTS: dict[str, Any] = {
    "env": "demo", "rest_url": None, "ws_url": None, "key_id": None, "private_key": None,
    "timeout": None, "transport": "aiohttp", "verbose": 0, "log_level": None,
}


def _add(target: Any, p: argparse.ArgumentParser, *flags: str, **kw: Any) -> None:
    """Add an option unless the parser already has one of its flags (a sub-command
    that defines its own ``--timeout`` or ``-v`` keeps it)."""
    if not any(f in p._option_string_actions for f in flags):  # argparse keeps no public map
        target.add_argument(*flags, default=argparse.SUPPRESS, **kw)


def add_connection_args(p: argparse.ArgumentParser) -> None:
    """``--env``, ``--rest-url``, ``--key-id``, ``--private-key``, ``--timeout``
    (defaults in :data:`DEFAULTS`); safe to call twice."""
    if getattr(p, _MARK, False):
        return
    setattr(p, _MARK, True)
    g = p.add_argument_group("connection")
    _add(g, p, "--env", choices=["demo", "prod"], help="exchange environment (default demo)")
    _add(g, p, "--rest-url", type=http_url,
         help="REST base URL, e.g. the simulator's (overrides --env)")
    _add(g, p, "--key-id", help=f"API key id (default ${ENV_KEY_ID})")
    _add(g, p, "--private-key", metavar="PEM", help=f"private key file (default ${ENV_KEY_PATH})")
    _add(g, p, "--timeout", type=positive_float,
         help="seconds: per REST call (all attempts), or to connect")


def add_stream_args(p: argparse.ArgumentParser) -> None:
    """``--ws-url`` and ``--transport``, for the commands that open the WebSocket."""
    g = p.add_argument_group("websocket")
    _add(g, p, "--ws-url", type=ws_url,
         help="WebSocket URL, e.g. the simulator's (overrides --env)")
    _add(g, p, "--transport", type=transport_name, metavar="{" + ",".join(TRANSPORTS) + "}",
         help="WebSocket library (default aiohttp; picows needs the [fast] extra)")


def transport_name(value: str) -> str:
    """A ``--transport`` whose library is installed (else one line naming the extra)."""
    missing = transport_missing(value)
    if missing is not None:
        raise argparse.ArgumentTypeError(missing)
    return value


def add_global_args(p: argparse.ArgumentParser) -> None:
    _add(p, p, "-v", "--verbose", action="count", help="more log lines on stderr (-vv: debug)")
    _add(p, p, "--log-level", choices=["debug", "info", "warning", "error"], type=str.lower,
         help="log level on stderr")


def _children(p: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out: list[argparse.ArgumentParser] = []
    for action in p._actions:  # argparse keeps sub-parsers here; no public accessor
        if isinstance(action, argparse._SubParsersAction):
            out.extend(dict.fromkeys(action.choices.values()))
    return out


def propagate(p: argparse.ArgumentParser, *, connection: bool = False) -> None:
    """Give every sub-parser below ``p`` the global options, and the connection
    options to those under a parser that has them."""
    for child in _children(p):
        add_global_args(child)
        has = connection or getattr(child, _MARK, False)
        if has:
            add_connection_args(child)
        propagate(child, connection=has)


def fill_defaults(args: argparse.Namespace) -> None:
    for name, value in DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
