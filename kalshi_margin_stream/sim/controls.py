"""Scenario and fault controls, shared by the in-process API and the ``/_sim`` admin routes.

Every control is counted in :class:`~.faults.SimStats` so a test can assert that the
fault it asked for really fired.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Literal, cast

from .faults import RestFaultKind
from .state import SimState
from .ws import Connection

__all__ = ["Controls"]


class Controls:
    """Fault knobs over a running simulator's :class:`SimState`."""

    _flow_gate: asyncio.Event

    @property
    def _state(self) -> SimState:
        raise NotImplementedError

    # --- flow and prices -----------------------------------------------------------

    def pause_flow(self) -> None:
        """Stop the synthetic participants (books and tickers freeze)."""
        self._flow_gate.clear()
        self._state.stats.faults["flow_paused"] += 1

    def resume_flow(self) -> None:
        self._flow_gate.set()
        self._state.stats.faults["flow_resumed"] += 1

    @property
    def flow_paused(self) -> bool:
        return not self._flow_gate.is_set()

    def move_price(self, ticker: str, price: Decimal | str) -> None:
        """Set a market's reference price; marks follow (may liquidate)."""
        value = price if isinstance(price, Decimal) else Decimal(price)
        st = self._state
        st.apply(st.exchange.move_price(ticker, value, now_ms=st.now_ms()))
        st.stats.faults["price_moves"] += 1

    def advance_clock(self, seconds: float) -> None:
        """Move exchange time forward: funding, expiries and liquidations run now."""
        self._state.advance_clock(int(seconds * 1000))

    # --- WebSocket faults ----------------------------------------------------------

    def connections(self, key_id: str | None = None) -> list[Connection]:
        return [c for c in self._state.hub.connections if key_id is None or c.key_id == key_id]

    def drop_frames(self, sid: int, n: int = 1, *, conn_id: int | None = None) -> None:
        """The next ``n`` data frames of ``sid`` are not sent: a real ``seq`` gap."""
        self._state.faults.drop_frames(sid, n, conn_id)

    def duplicate_frames(self, sid: int, n: int = 1, *, conn_id: int | None = None) -> None:
        """The next ``n`` data frames of ``sid`` are sent twice."""
        self._state.faults.duplicate_frames(sid, n, conn_id)

    def close_connections(self, key_id: str | None = None) -> int:
        """Abort (no close frame) every connection, or those of ``key_id``; returns how many."""
        conns = self.connections(key_id)
        for c in conns:
            c.abort()
        return len(conns)

    def stall_connections(self, seconds: float, key_id: str | None = None) -> int:
        """Stop sending (socket stays open) for ``seconds``; returns how many."""
        if seconds <= 0:
            raise ValueError("seconds must be > 0")
        conns = self.connections(key_id)
        for c in conns:
            c.stall(seconds)
        return len(conns)

    def send_sid_error(self, sid: int, *, code: int = 25, conn_id: int | None = None) -> int:
        """End ``sid`` with a terminal error (25 = buffer overflow) on matching connections."""
        hits = 0
        for c in self._state.hub.connections:
            if (conn_id is None or c.conn_id == conn_id) and c.kill_sid(sid, code):
                hits += 1
        return hits

    # --- REST faults ----------------------------------------------------------------

    def fail_rest(self, kind: RestFaultKind | Literal[429, 500], n: int = 1, *,
                  hang_s: float = 0.0, then: Literal["answer", "drop"] = "drop") -> None:
        """The next ``n`` REST calls answer 429 or 500, or (``"timeout"``) hang ``hang_s``
        seconds and then answer normally or drop the connection."""
        name = str(kind)
        if name not in ("429", "500", "timeout"):
            raise ValueError(f"unknown REST fault {kind!r}: use 429, 500 or 'timeout'")
        self._state.faults.fail_rest(cast(RestFaultKind, name), n, hang_s=hang_s, then=then)
