"""Session edge cases found in review: grouped acks, snapshot numbering, unusable values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kalshi_margin_stream.core import events as ev
from kalshi_margin_stream.core.session import Session


def frame(**kw: Any) -> bytes:
    return json.dumps(kw).encode()


def sent(s: Session) -> list[dict[str, Any]]:
    return [json.loads(f) for f in s.data_to_send()]


def book_session() -> Session:
    s = Session()
    s.subscribe(["orderbook_delta"], tickers=["A"])
    s.connection_opened()
    (cmd,) = sent(s)
    s.receive_frame(frame(type="subscribed", id=cmd["id"],
                          msg={"channel": "orderbook_delta", "sid": 1}))
    s.receive_frame(frame(type="orderbook_snapshot", sid=1, seq=1, msg={
        "market_ticker": "A", "bid": [["1.0", "5"]], "ask": [["2.0", "5"]]}))
    return s


def test_dropping_one_channel_of_a_grouped_subscribe_keeps_the_other() -> None:
    s = Session()
    s.subscribe(["trade"])
    s.subscribe(["fill"])
    s.connection_opened()
    (cmd,) = sent(s)
    assert cmd["params"]["channels"] == ["trade", "fill"]
    s.unsubscribe("trade")  # its only consumer left before the ack
    s.receive_frame(frame(type="subscribed", id=cmd["id"], msg={"channel": "trade", "sid": 1}))
    s.receive_frame(frame(type="subscribed", id=cmd["id"], msg={"channel": "fill", "sid": 2}))
    assert sent(s) == [{"id": cmd["id"] + 1, "cmd": "unsubscribe", "params": {"sids": [1]}}]
    fill = s.channel("fill")
    assert fill is not None and fill.sid == 2


def test_get_snapshot_answer_with_the_current_seq_is_not_a_duplicate() -> None:
    s = book_session()
    s.request_resync(["A"])
    (cmd,) = sent(s)
    events = s.receive_frame(frame(type="orderbook_snapshot", sid=1, seq=1, id=cmd["id"], msg={
        "market_ticker": "A", "bid": [["1.2", "5"]], "ask": [["2.0", "5"]]}))
    assert len(events) == 1 and s.books["A"].is_synced
    assert s.stats.duplicates == 0


def test_unsolicited_older_snapshot_is_a_gap_not_a_rollback() -> None:
    s = book_session()
    for seq in (2, 3):
        s.receive_frame(frame(type="orderbook_delta", sid=1, seq=seq, msg={
            "market_ticker": "A", "price": "1.0", "delta": "1", "side": "bid"}))
    events = s.receive_frame(frame(type="orderbook_snapshot", sid=1, seq=2, msg={
        "market_ticker": "A", "bid": [["0.5", "5"]], "ask": [["2.0", "5"]]}))
    assert isinstance(events[0], ev.Gap) and isinstance(events[1], ev.Resyncing)
    assert str(s.books["A"].best_bid()[0]) == "1.0"  # type: ignore[index]


@pytest.mark.parametrize("bad", [
    {"price": "1.5", "delta": "NaN", "side": "bid"},
    {"price": "1.0", "delta": "Infinity", "side": "bid"},
    {"price": "Infinity", "delta": "1", "side": "ask"},
])
def test_unusable_numbers_become_frame_errors_and_a_resync(bad: dict[str, str]) -> None:
    s = book_session()
    events = s.receive_frame(frame(type="orderbook_delta", sid=1, seq=2,
                                   msg={"market_ticker": "A", **bad}))
    assert any(isinstance(e, ev.Resyncing) for e in events)
    assert s.books["A"].status.value == "resyncing"
    top = s.books["A"].best_ask()
    assert top is None or top[0].is_finite()


@pytest.mark.parametrize("level", [["1.0", "NaN"], ["sNaN", "1"], ["Infinity", "0"]])
def test_a_non_finite_level_in_a_snapshot_is_a_desync(level: list[str]) -> None:
    s = book_session()
    events = s.receive_frame(frame(type="orderbook_snapshot", sid=1, seq=2, msg={
        "market_ticker": "A", "bid": [level], "ask": []}))
    assert isinstance(events[0], ev.Resyncing) and events[0].reason.startswith("bad snapshot")
    assert s.stats.desyncs == 1 and s.stats.decode_errors == 0
    assert s.books["A"].status.value == "resyncing"


def test_our_own_bugs_are_not_turned_into_frame_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the peer's errors become FrameErrors: a TypeError of ours propagates."""
    s = book_session()

    def broken(self: object, side: str, price: object, delta: object) -> None:
        raise TypeError("a bug of ours")

    monkeypatch.setattr(type(s.books["A"]), "apply_delta", broken)
    with pytest.raises(TypeError, match="a bug of ours"):
        s.receive_frame(frame(type="orderbook_delta", sid=1, seq=2, msg={
            "market_ticker": "A", "price": "1.5", "delta": "1", "side": "bid"}))
    assert s.stats.decode_errors == 0


def test_retry_subscribe_after_a_passing_refusal() -> None:
    s = Session()
    s.subscribe(["ticker"])
    s.connection_opened()
    (cmd,) = sent(s)
    events = s.receive_frame(frame(type="error", id=cmd["id"],
                                   msg={"code": 27, "msg": "Too many requests"}))
    assert events == [ev.CommandFailed("ticker", cmd["id"], 27, "Too many requests",
                                       "subscribe")]
    s.retry_subscribe("ticker")
    (again,) = sent(s)
    assert again["cmd"] == "subscribe" and again["params"]["channels"] == ["ticker"]
    s.retry_subscribe("ticker")  # already in flight: nothing more
    assert s.data_to_send() == []
