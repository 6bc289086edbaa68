"""Per-subscription sequence numbers: accept, drop a duplicate, or report a gap.

Theory of operation
-------------------
Kalshi numbers the sequenced messages of a subscription (``orderbook_snapshot``,
``orderbook_delta``, ``trade``, ``order_group_updates``) with one ``seq`` per
``sid`` that grows by exactly 1, across all markets of the subscription. The
first sequenced message seen on a sid is the baseline, whatever its number (the
docs show a snapshot with ``seq`` 2, live captures 1).

For each later message, with ``last`` the newest accepted seq:

* ``seq == last + 1``: in order, accepted;
* ``seq == last``: the same frame again, dropped and counted;
* ``seq > last + 1``: a gap (frames ``last+1 .. seq-1`` are missing);
* ``seq < last``: backwards (a stale frame or a restarted numbering): handled as
  a gap, because the stream can no longer be trusted.

After a gap the tracker continues from the seq that revealed it, so one loss is
reported once; repairing the data (a resync) is the session's job.
:meth:`SeqTracker.rebase` moves the baseline when a fresh snapshot arrives
(the seq of a ``get_snapshot`` answer is not documented; re-basing on it is the
UNCONFIRMED choice, see ``session.py``).
"""

from __future__ import annotations

__all__ = ["ACCEPT", "DUPLICATE", "GAP", "SeqTracker"]

ACCEPT = 0
DUPLICATE = 1
GAP = 2


class SeqTracker:
    """Newest accepted ``seq`` per sid."""

    __slots__ = ("_last", "gap_expected")

    def __init__(self) -> None:
        self._last: dict[int, int] = {}
        self.gap_expected = 0
        """After a ``GAP`` verdict: the seq that was expected instead."""

    def check(self, sid: int, seq: int) -> int:
        """Classify one sequenced message: ``ACCEPT``, ``DUPLICATE`` or ``GAP``."""
        last = self._last.get(sid)
        if last is None or seq == last + 1:
            self._last[sid] = seq
            return ACCEPT
        if seq == last:
            return DUPLICATE
        self.gap_expected = last + 1
        self._last[sid] = seq
        return GAP

    def expected(self, sid: int) -> int | None:
        """The next seq expected on ``sid``, or ``None`` before its baseline."""
        last = self._last.get(sid)
        return None if last is None else last + 1

    def last(self, sid: int) -> int | None:
        """The newest accepted seq on ``sid``."""
        return self._last.get(sid)

    def rebase(self, sid: int, seq: int) -> None:
        """Take ``seq`` as the newest accepted seq of ``sid``."""
        self._last[sid] = seq

    def forget(self, sid: int) -> None:
        """Drop a sid (unsubscribed or dead)."""
        self._last.pop(sid, None)

    def reset(self) -> None:
        """Forget every sid (a new connection numbers everything afresh)."""
        self._last.clear()
