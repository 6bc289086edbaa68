"""Per-subscription sequence numbers: the baselines the seq rule checks against.

Theory of operation
-------------------
Kalshi numbers the sequenced messages of a subscription (``orderbook_snapshot``,
``orderbook_delta``, ``trade``, ``order_group_updates``) with one ``seq`` per
``sid`` that grows by exactly 1, across all markets of the subscription. The
first sequenced message seen on a sid is the baseline, whatever its number (the
docs show a snapshot with ``seq`` 2, live captures 1).

The seq rule, for each later message, with ``last`` the newest accepted seq:

* ``seq == last + 1``: in order, accepted;
* ``seq == last``: the same frame again, dropped and counted;
* ``seq > last + 1``: a gap (frames ``last+1 .. seq-1`` are missing);
* ``seq < last``: backwards (a stale frame or a restarted numbering): handled as
  a gap, because the stream can no longer be trusted.

After a gap the stream continues from the seq that revealed it, so one loss is
reported once; repairing the data (a resync) is the session's job.

The rule is written once, inline in the session's data path
(``Session.receive_frame``, shared by deltas, trades and order-group updates):
it runs on every frame, and a call per frame is a measurable share of the
core's cost. This module keeps only the bookkeeping around it: the newest
accepted seq per sid (:attr:`SeqTracker.last_seq`, the dict the rule reads and
writes), the baseline a snapshot sets (:meth:`SeqTracker.rebase`; re-basing on
the seq of a ``get_snapshot`` answer is the UNCONFIRMED choice, see
``session.py``), and forgetting sids.
"""

from __future__ import annotations

__all__ = ["SeqTracker"]


class SeqTracker:
    """Newest accepted ``seq`` per sid."""

    __slots__ = ("last_seq",)

    def __init__(self) -> None:
        self.last_seq: dict[int, int] = {}
        """sid → newest accepted seq. Never rebound: the session holds this dict."""

    def expected(self, sid: int) -> int | None:
        """The next seq expected on ``sid``, or ``None`` before its baseline."""
        last = self.last_seq.get(sid)
        return None if last is None else last + 1

    def last(self, sid: int) -> int | None:
        """The newest accepted seq on ``sid``."""
        return self.last_seq.get(sid)

    def rebase(self, sid: int, seq: int) -> None:
        """Take ``seq`` as the newest accepted seq of ``sid``."""
        self.last_seq[sid] = seq

    def forget(self, sid: int) -> None:
        """Drop a sid (unsubscribed or dead)."""
        self.last_seq.pop(sid, None)

    def reset(self) -> None:
        """Forget every sid (a new connection numbers everything afresh)."""
        self.last_seq.clear()
