"""Fault knobs and the simulator's own counters.

The state here is pure bookkeeping: which sids lose or repeat their next frames,
which REST answers are forced, and how many of each fault fired. The shells
(``ws.py``, ``rest_app.py``) consult it; :class:`Simulator` exposes it as methods.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FrameAction", "RestFault", "RestFaultKind", "SimStats", "FaultState"]

RestFaultKind = Literal["429", "500", "timeout"]
FrameAction = Literal["send", "drop", "duplicate"]


@dataclass(frozen=True, slots=True)
class RestFault:
    """A forced REST answer: ``kind`` plus, for timeouts, how long to hang and what then."""

    kind: RestFaultKind
    hang_s: float = 0.0
    then: Literal["answer", "drop"] = "drop"


@dataclass(slots=True)
class SimStats:
    """Counters a test (or ``GET /_sim/stats``) reads; all monotonic."""

    frames_by_sid: Counter[int] = field(default_factory=Counter)
    """Data frames sent per sid, summed over connections (sids restart at 1 per connection)."""
    frames_by_conn_sid: Counter[tuple[int, int]] = field(default_factory=Counter)
    """Data frames sent per ``(connection id, sid)``."""
    frames_by_type: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    rest_by_status: Counter[int] = field(default_factory=Counter)
    ws_connections: int = 0
    ws_rejected_handshakes: int = 0
    ws_commands: int = 0
    flow_events: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "frames_by_sid": {str(k): v for k, v in sorted(self.frames_by_sid.items())},
            "frames_by_conn_sid": {f"{c}:{s}": v
                                   for (c, s), v in sorted(self.frames_by_conn_sid.items())},
            "frames_by_type": dict(sorted(self.frames_by_type.items())),
            "faults": dict(sorted(self.faults.items())),
            "events": dict(sorted(self.events.items())),
            "rest_by_status": {str(k): v for k, v in sorted(self.rest_by_status.items())},
            "ws_connections": self.ws_connections,
            "ws_rejected_handshakes": self.ws_rejected_handshakes,
            "ws_commands": self.ws_commands,
            "flow_events": self.flow_events,
        }


class FaultState:
    """Pending faults. Sids are per connection, so frame faults key on ``(conn_id, sid)``;
    ``conn_id=None`` arms the fault for that sid on every connection."""

    def __init__(self, stats: SimStats) -> None:
        self.stats = stats
        self._drop: dict[tuple[int | None, int], int] = {}
        self._dup: dict[tuple[int | None, int], int] = {}
        self._rest: deque[RestFault] = deque()

    # --- frames ---------------------------------------------------------------

    def drop_frames(self, sid: int, n: int, conn_id: int | None = None) -> None:
        """Arm: the next ``n`` sequenced frames of ``sid`` are not sent (their seq is used)."""
        _check_n(n)
        self._drop[(conn_id, sid)] = self._drop.get((conn_id, sid), 0) + n

    def duplicate_frames(self, sid: int, n: int, conn_id: int | None = None) -> None:
        """Arm: the next ``n`` frames of ``sid`` are sent twice."""
        _check_n(n)
        self._dup[(conn_id, sid)] = self._dup.get((conn_id, sid), 0) + n

    def frame_action(self, conn_id: int, sid: int) -> FrameAction:
        """What to do with the next data frame of ``sid`` on ``conn_id`` (consumes a fault)."""
        for table, action, name in ((self._drop, "drop", "frames_dropped"),
                                    (self._dup, "duplicate", "frames_duplicated")):
            for key in ((conn_id, sid), (None, sid)):
                left = table.get(key, 0)
                if left > 0:
                    if left == 1:
                        del table[key]
                    else:
                        table[key] = left - 1
                    self.stats.faults[name] += 1
                    return action  # type: ignore[return-value]
        return "send"

    # --- REST -----------------------------------------------------------------

    def fail_rest(self, kind: RestFaultKind, n: int = 1, *, hang_s: float = 0.0,
                  then: Literal["answer", "drop"] = "drop") -> None:
        """Arm: the next ``n`` REST calls answer 429/500, or hang ``hang_s`` (timeout)."""
        _check_n(n)
        if kind not in ("429", "500", "timeout"):
            raise ValueError(f"unknown REST fault {kind!r}")
        if hang_s < 0:
            raise ValueError("hang_s must be >= 0")
        for _ in range(n):
            self._rest.append(RestFault(kind, hang_s, then))

    def next_rest_fault(self) -> RestFault | None:
        if not self._rest:
            return None
        fault = self._rest.popleft()
        self.stats.faults[f"rest_{fault.kind}"] += 1
        return fault

    def pending_rest_faults(self) -> int:
        return len(self._rest)

    def clear(self) -> None:
        self._drop.clear()
        self._dup.clear()
        self._rest.clear()


def _check_n(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
