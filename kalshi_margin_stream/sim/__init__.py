"""Simulated Kalshi margin exchange: a pure engine and a server speaking the real protocol.

``Simulator`` (REST + WebSocket on one aiohttp port, auth, rate limits, faults) lives in
``server.py``; the matching engine in ``engine/``. See ``testing.py`` for test helpers.
Names load on first use (PEP 562), so ``import kalshi_margin_stream.sim.engine`` loads
no aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "BASIC_TIER": ".ratelimit",
    "WS_PATH": ".server",
    "BucketLimit": ".ratelimit",
    "RestFault": ".faults",
    "SimStats": ".faults",
    "Simulator": ".server",
    "Tier": ".ratelimit",
    "write_private_key": ".server",
}

if TYPE_CHECKING:
    from .faults import RestFault, SimStats
    from .ratelimit import BASIC_TIER, BucketLimit, Tier
    from .server import WS_PATH, Simulator, write_private_key

__all__ = [
    "BASIC_TIER",
    "WS_PATH",
    "BucketLimit",
    "RestFault",
    "SimStats",
    "Simulator",
    "Tier",
    "write_private_key",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
