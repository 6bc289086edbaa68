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
from .common import http_url, positive_float, ws_url

__all__ = ["add_connection_args", "add_global_args", "fill_defaults", "propagate"]

_MARK = "_kms_connection"
DEFAULTS: dict[str, Any] = {
    "env": "demo", "rest_url": None, "ws_url": None, "key_id": None, "private_key": None,
    "timeout": None, "transport": "aiohttp", "verbose": 0, "log_level": None,
}


def add_connection_args(p: argparse.ArgumentParser) -> None:
    """``--env``, ``--rest-url``, ``--ws-url``, ``--key-id``, ``--private-key``,
    ``--timeout``, ``--transport`` (defaults in :data:`DEFAULTS`)."""
    if getattr(p, _MARK, False):
        return
    setattr(p, _MARK, True)
    s = argparse.SUPPRESS
    g = p.add_argument_group("connection")
    g.add_argument("--env", choices=["demo", "prod"], default=s,
                   help="exchange environment (default demo)")
    g.add_argument("--rest-url", type=http_url, default=s,
                   help="REST base URL, e.g. the simulator's (overrides --env)")
    g.add_argument("--ws-url", type=ws_url, default=s,
                   help="WebSocket URL, e.g. the simulator's (overrides --env)")
    g.add_argument("--key-id", default=s, help=f"API key id (default ${ENV_KEY_ID})")
    g.add_argument("--private-key", metavar="PEM", default=s,
                   help=f"private key file (default ${ENV_KEY_PATH})")
    g.add_argument("--timeout", type=positive_float, default=s,
                   help="seconds: per REST call (all attempts), or to connect")
    g.add_argument("--transport", choices=["aiohttp", "websockets"], default=s,
                   help="WebSocket library (default aiohttp)")


def add_global_args(p: argparse.ArgumentParser) -> None:
    s = argparse.SUPPRESS
    p.add_argument("-v", "--verbose", action="count", default=s,
                   help="more log lines on stderr (-vv: debug)")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=s,
                   type=str.lower, help="log level on stderr")


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
