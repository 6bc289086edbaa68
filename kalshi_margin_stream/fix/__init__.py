"""Asyncio FIX client for Kalshi's margin gateway: order entry, listener, drop copy, MD.

The protocol lives in :mod:`kalshi_margin_stream.core.fix` (Sans-I/O); this package
is the socket, the timers and the reconnects.
"""

from __future__ import annotations

from ..core.fix import SessionKind
from .client import FixClient, FixReplayRejected, check_count, check_price
from .store import SeqStore

__all__ = ["FixClient", "FixReplayRejected", "SeqStore", "SessionKind", "check_count",
           "check_price"]
