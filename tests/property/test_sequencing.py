"""The seq rule reports a gap exactly when a seq is missing or goes backwards.

Driven through the session's real data path (``Session.receive_frame``, where
the one copy of the rule lives) with ``trade`` frames, which keep being
delivered after a gap, so every verdict is visible.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core import events as ev
from kalshi_margin_stream.core.messages import Trade
from kalshi_margin_stream.core.replay import PassiveSession
from kalshi_margin_stream.core.sequencing import SeqTracker


def _trade(sid: int, seq: int) -> bytes:
    return json.dumps({"type": "trade", "sid": sid, "seq": seq, "msg": {
        "trade_id": f"t{seq}", "market_ticker": "A", "price": "0.5000", "count": "1.00",
        "taker_side": "bid", "ts_ms": 1}}).encode()


def _feed(session: PassiveSession, sid: int, seq: int) -> str:
    """``accept``, ``duplicate`` or ``gap <expected>`` for one trade frame."""
    dups = session.stats.duplicates
    events = session.receive_frame(_trade(sid, seq))
    gaps = [e for e in events if isinstance(e, ev.Gap)]
    delivered = [e for e in events if isinstance(e, Trade)]
    if session.stats.duplicates != dups:
        assert not events
        return "duplicate"
    assert [t.seq for t in delivered] == [seq]
    if gaps:
        (gap,) = gaps
        assert (gap.sid, gap.got) == (sid, seq)
        return f"gap {gap.expected}"
    return "accept"


@st.composite
def delivered(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A contiguous stream from ``start`` with drops, duplicates and swaps applied."""
    start = draw(st.integers(1, 5))
    n = draw(st.integers(1, 40))
    out: list[int] = []
    for seq in range(start, start + n):
        if draw(st.integers(0, 9)) == 0:
            continue  # dropped
        out.append(seq)
        if draw(st.integers(0, 9)) == 0:
            out.append(seq)  # duplicated
    for _ in range(draw(st.integers(0, 3))):  # adjacent swaps
        if len(out) > 1:
            i = draw(st.integers(0, len(out) - 2))
            out[i], out[i + 1] = out[i + 1], out[i]
    return start, out


@given(delivered())
def test_verdicts_match_a_plain_model(case: tuple[int, list[int]]) -> None:
    _, stream = case
    session = PassiveSession()
    last: int | None = None
    for seq in stream:
        verdict = _feed(session, 7, seq)
        if last is None or seq == last + 1:
            assert verdict == "accept"
            last = seq
        elif seq == last:
            assert verdict == "duplicate"
        else:
            assert verdict == f"gap {last + 1}"
            last = seq
        assert session._seq.last(7) == last


@given(delivered())
def test_no_gap_reported_iff_nothing_missing_or_reordered(case: tuple[int, list[int]]) -> None:
    _, stream = case
    session = PassiveSession()
    verdicts = [_feed(session, 1, s) for s in stream]
    deduped = [s for i, s in enumerate(stream) if i == 0 or s != stream[i - 1]]
    contiguous = all(b == a + 1 for a, b in zip(deduped, deduped[1:], strict=False))
    assert (not any(v.startswith("gap") for v in verdicts)) == contiguous
    assert verdicts.count("duplicate") == len(stream) - len(deduped)
    assert session.stats.gaps == sum(v.startswith("gap") for v in verdicts)


def test_sids_are_independent_and_rebase_forget_reset() -> None:
    session = PassiveSession()
    group = json.dumps({"type": "order_group_updates", "sid": 2, "seq": 1, "msg": {
        "event_type": "created", "order_group_id": "g"}}).encode()
    assert _feed(session, 1, 5) == "accept"
    assert [type(e).__name__ for e in session.receive_frame(group)] == ["OrderGroupUpdates"]
    assert [_feed(session, 1, 6)] == ["accept"]  # sid 2's seq 1 is not sid 1's gap
    t = session._seq
    assert (t.expected(1), t.expected(2)) == (7, 2)
    t.rebase(1, 100)
    assert _feed(session, 1, 101) == "accept"
    t.forget(1)
    assert _feed(session, 1, 3) == "accept"  # new baseline
    t.reset()
    assert t.last(2) is None and _feed(session, 1, 9) == "accept"


def test_the_tracker_is_bookkeeping_only() -> None:
    t = SeqTracker()
    assert t.expected(1) is None and t.last(1) is None
    t.rebase(1, 4)
    assert (t.expected(1), t.last(1), t.last_seq) == (5, 4, {1: 4})
    held = t.last_seq
    t.reset()
    assert t.last_seq is held and not held  # the session holds this very dict
