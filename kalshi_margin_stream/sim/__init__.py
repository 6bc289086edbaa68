"""Simulated Kalshi margin exchange: a pure engine and a server speaking the real protocol.

``Simulator`` (REST + WebSocket on one aiohttp port, auth, rate limits, faults) lives in
``server.py``; the matching engine in ``engine/``. See ``testing.py`` for test helpers.
"""

from __future__ import annotations

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
