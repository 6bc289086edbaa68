"""Fan-out over Redis Streams: one Kalshi connection, many consumers on many machines.

``Gateway`` (publisher side, ``gateway.py``) holds the client and writes every
update to streams named by ``names.py``, entries encoded by ``entries.py``
through the bounded, pipelined ``publisher.py``; ``RemoteFeed`` (``feed.py``)
rebuilds the books with the same core on the other side. Needs the ``[redis]``
extra (``pip install kalshi-margin-stream[redis]``). Names load lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "FeedStats": ".feed",
    "Gateway": ".gateway",
    "GatewayStats": ".gateway",
    "Publisher": ".publisher",
    "RemoteFeed": ".feed",
    "StreamNames": ".names",
}

if TYPE_CHECKING:
    from .feed import FeedStats, RemoteFeed
    from .gateway import Gateway, GatewayStats
    from .names import StreamNames
    from .publisher import Publisher

__all__ = ["FeedStats", "Gateway", "GatewayStats", "Publisher", "RemoteFeed", "StreamNames"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
