"""Through the session's real fast path: a Gap is reported exactly when a seq is missing.

Deltas of one book sid are delivered with some seqs dropped, some duplicated;
the session (with a sink, as the client runs it) must report one ``Gap`` per
hole, with the right ``expected``/``got``, drop duplicates, and never hand a
delta to the sink after a hole until the fresh snapshot.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core import events as ev
from kalshi_margin_stream.core.session import Session


def _frame(**kw: Any) -> bytes:
    return json.dumps(kw).encode()


def _session(sink: list[tuple[str, str, Any]]) -> Session:
    s = Session(sink=lambda channel, ticker, msg: sink.append((channel, ticker, msg)))
    s.subscribe(["orderbook_delta"], tickers=["A"])
    s.connection_opened()
    (cmd,) = [json.loads(f) for f in s.data_to_send()]
    s.receive_frame(_frame(type="subscribed", id=cmd["id"],
                           msg={"channel": "orderbook_delta", "sid": 3}))
    s.receive_frame(_frame(type="orderbook_snapshot", sid=3, seq=1, msg={
        "market_ticker": "A", "bid": [["0.5000", "1.00"]], "ask": [["0.9000", "1.00"]]}))
    return s


@st.composite
def streams(draw: st.DrawFn) -> list[int]:
    """Seqs 2..n+1 in order, each dropped or duplicated at random."""
    n = draw(st.integers(1, 60))
    out: list[int] = []
    for seq in range(2, n + 2):
        fate = draw(st.integers(0, 9))
        if fate == 0:
            continue
        out.append(seq)
        if fate == 1:
            out.append(seq)
    return out


@given(streams())
def test_a_gap_is_reported_exactly_when_a_seq_is_missing(stream: list[int]) -> None:
    delivered: list[tuple[str, str, Any]] = []
    s = _session(delivered)
    delivered.clear()
    gaps: list[ev.Gap] = []
    expected_gaps: list[tuple[int, int]] = []
    in_sync = True
    expected_delivered: list[int] = []
    last = 1
    for seq in stream:
        events = s.receive_frame(_frame(type="orderbook_delta", sid=3, seq=seq, msg={
            "market_ticker": "A", "price": "0.6000", "delta": "1.00", "side": "bid"}))
        gaps.extend(e for e in events if isinstance(e, ev.Gap))
        assert not any(type(e).__name__ == "OrderbookDelta" for e in events)  # went to sink
        if seq == last:
            continue  # a duplicate: dropped
        if seq != last + 1:
            expected_gaps.append((last + 1, seq))
            in_sync = False  # the book waits for its snapshot from here on
        elif in_sync:
            expected_delivered.append(seq)
        last = seq
    assert [(g.expected, g.got) for g in gaps] == expected_gaps
    assert [m.seq for _, _, m in delivered] == expected_delivered
    assert all(channel == "orderbook_delta" and ticker == "A"
               for channel, ticker, _ in delivered)
    assert s.stats.gaps == len(expected_gaps)
    assert s.stats.duplicates == len(stream) - len(set(stream))
