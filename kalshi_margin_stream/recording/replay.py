"""Replay records through the core exactly as the live client saw them.

Frames go to a passive :class:`~..core.session.Session` (the same decoding,
sequencing and book code as live streaming) through
:class:`~..core.replay.ReplayReport`; the recorded connection events are played
too — a ``disconnected`` marks every book stale and voids the sids, a
``connected`` opens the next connection — so a recording replays to the books the
live client held. Commands the client sent are not needed: their answers are in
the frames.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.replay import PassiveSession, ReplayReport
from .format import Record

__all__ = ["replay_records"]


def replay_records(records: Iterable[Record],
                   report: ReplayReport | None = None) -> ReplayReport:
    """Feed ``records`` (in receive order) to a passive session; numbers start at 1."""
    if report is None:
        report = ReplayReport(PassiveSession())
    session = report.session
    for number, rec in enumerate(records, start=1):
        if rec.k == "e":
            if rec.e == "connected":
                session.connection_opened()
            elif rec.e == "disconnected":
                session.connection_lost()
            continue
        report.feed(number, rec.frame())
    return report
