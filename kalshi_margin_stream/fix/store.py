"""A KalshiRT session's sequence numbers on disk, so a restart resumes (fix.md §5).

One small JSON file per session identity; every save writes a temporary file in the
same directory, flushes and fsyncs it, then ``os.replace``s it over the old one, so
a crash leaves either the old or the new numbers, never half a file. A save costs an
fsync (milliseconds), so the client reserves outbound numbers ahead
(:data:`SEQ_RESERVE`) instead of saving on every message; after a crash it resumes
above anything it sent, and the gap it leaves is gap-filled like any other.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..core.fix import SeqState

__all__ = ["SEQ_RESERVE", "SeqStore"]

SEQ_RESERVE = 1000
"""Outbound numbers reserved per save: a crash skips at most this many (gap-filled)."""


class SeqStore:
    """``next_out``/``next_in`` of one session in ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._saved: tuple[int, int] | None = None

    def load(self) -> SeqState:
        """The stored numbers, or a fresh state (1/1) when there is no file.

        Raises:
            ValueError: the file exists but does not hold two positive integers.
        """
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return SeqState()
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"unreadable FIX sequence store {self.path}: {exc}") from None
        try:
            out, inn = int(data["next_out"]), int(data["next_in"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"bad FIX sequence store {self.path}") from None
        if out < 1 or inn < 1:
            raise ValueError(f"bad FIX sequence store {self.path}")
        self._saved = (out, inn)
        return SeqState(next_out=out, next_in=inn)

    def save(self, seq: SeqState, *, next_out: int | None = None) -> None:
        """Write atomically (skipped when nothing changed since the last save).

        ``next_out``: write this instead of ``seq.next_out`` (a reservation ahead of it).
        """
        now = (seq.next_out if next_out is None else next_out, seq.next_in)
        if now == self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump({"next_out": now[0], "next_in": now[1]}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with_suppress_unlink(tmp)
            raise
        self._saved = now


def with_suppress_unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
