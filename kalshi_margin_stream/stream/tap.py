"""The raw-frame tap: what a recorder (or a fan-out) sees of a live connection.

The reconnect loop calls a tap, when one is given, at the three places where the
wire is touched: every text frame as it arrives (before decoding), every command
as it is sent, and every connection event. Calls happen on the event loop's
thread and must return at once (no I/O, no awaits): a tap hands the data to its
own buffer and a worker of its own. ``recv_ns`` is ``time.time_ns()``.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["FrameTap", "ManagedTap"]


class FrameTap(Protocol):
    """Receives raw frames and connection events; must never block."""

    def frame(self, conn_id: int, recv_ns: int, data: bytes | str) -> None:
        """One frame exactly as the transport returned it."""
        ...

    def event(self, conn_id: int, recv_ns: int, kind: str, detail: Any) -> None:
        """``kind`` is ``connected``, ``disconnected``, ``connect_failed`` or ``sent``
        (``detail`` = the command frame as sent); ``detail`` is JSON-encodable."""
        ...


class ManagedTap(FrameTap, Protocol):
    """A tap the client starts when it opens and closes (flushes) when it closes:
    what ``Client(recorder=...)`` takes (``recording.Recorder`` is one)."""

    def start(self) -> None:
        ...

    async def aclose(self) -> None:
        ...
