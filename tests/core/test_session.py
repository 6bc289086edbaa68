"""The Sans-I/O session: subscriptions, sequencing, resync decisions, reconnects."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from kalshi_margin_stream.core import events as ev
from kalshi_margin_stream.core import messages as m
from kalshi_margin_stream.core.book import BookStatus
from kalshi_margin_stream.core.codec import Unknown, encode
from kalshi_margin_stream.core.session import Session


def sent(session: Session) -> list[dict[str, Any]]:
    return [json.loads(f) for f in session.data_to_send()]


def frame(msg: m.ServerMessage) -> bytes:
    return encode(msg)


def snapshot(sid: int, seq: int, ticker: str, bid: str = "1.00", ask: str = "2.00",
             cmd_id: int | None = None) -> bytes:
    return frame(m.OrderbookSnapshot(sid=sid, seq=seq, id=cmd_id, msg=m.OrderbookSnapshotBody(
        market_ticker=ticker, bid=[(D(bid), D("10.00"))], ask=[(D(ask), D("10.00"))])))


def delta(sid: int, seq: int, ticker: str, price: str = "1.00", size: str = "1.00",
          side: m.Side = "bid") -> bytes:
    return frame(m.OrderbookDelta(sid=sid, seq=seq, msg=m.OrderbookDeltaBody(
        market_ticker=ticker, price_text=price, delta_text=size, side=side, ts_ms=1)))


def subscribed(cmd_id: int, channel: str, sid: int) -> bytes:
    return frame(m.Subscribed(id=cmd_id, msg=m.SubscribedBody(channel=channel, sid=sid)))


def trade(sid: int, seq: int) -> bytes:
    return frame(m.Trade(sid=sid, seq=seq, msg=m.TradeBody(
        trade_id=f"t{seq}", market_ticker="A", price=D("1.5"), count=D("1.00"),
        taker_side="bid", ts_ms=seq)))


def books_session() -> tuple[Session, int]:
    """A connected session with an active orderbook sid 1 on A and B, both synced."""
    s = Session()
    s.subscribe(["orderbook_delta"], tickers=["A", "B"])
    s.connection_opened()
    (cmd,) = sent(s)
    assert cmd == {"id": cmd["id"], "cmd": "subscribe",
                   "params": {"channels": ["orderbook_delta"], "market_tickers": ["A", "B"]}}
    assert s.receive_frame(subscribed(cmd["id"], "orderbook_delta", 1)) == [
        ev.ChannelSubscribed("orderbook_delta", 1)]
    s.receive_frame(snapshot(1, 1, "A"))
    s.receive_frame(snapshot(1, 2, "B"))
    assert s.books["A"].is_synced and s.books["B"].is_synced
    return s, cmd["id"]


def test_nothing_is_sent_before_a_connection_and_everything_after() -> None:
    s = Session()
    s.subscribe(["ticker", "trade"], send_initial_snapshot=True)
    s.subscribe(["fill"])
    assert s.data_to_send() == []
    s.connection_opened()
    cmds = sent(s)
    assert sorted(c["params"]["channels"] for c in cmds) == [["fill"], ["ticker", "trade"]]
    assert len({c["id"] for c in cmds}) == 2
    tt = next(c for c in cmds if "ticker" in c["params"]["channels"])
    assert tt["params"] == {"channels": ["ticker", "trade"], "send_initial_snapshot": True}


def test_one_subscribe_several_channels_several_sids() -> None:
    s = Session()
    s.subscribe(["ticker", "trade"])
    s.connection_opened()
    (cmd,) = sent(s)
    s.receive_frame(subscribed(cmd["id"], "ticker", 5))
    s.receive_frame(subscribed(cmd["id"], "trade", 6))
    assert s.channel("ticker").sid == 5 and s.channel("trade").sid == 6  # type: ignore[union-attr]
    events = s.receive_frame(trade(6, 1))
    assert len(events) == 1 and isinstance(events[0], m.Trade)


def test_snapshot_then_deltas_update_the_book() -> None:
    s, _ = books_session()
    events = s.receive_frame(delta(1, 3, "A", "1.10", "2.00"))
    assert [type(e) for e in events] == [m.OrderbookDelta]
    assert s.books["A"].best_bid() == (D("1.10"), D("2.00"))
    assert s.books["A"].last_ts_ms == 1


def test_duplicate_is_dropped_and_counted() -> None:
    s, _ = books_session()
    s.receive_frame(delta(1, 3, "A", "1.10", "2.00"))
    assert s.receive_frame(delta(1, 3, "A", "1.10", "2.00")) == []
    assert s.books["A"].best_bid() == (D("1.10"), D("2.00"))
    assert s.stats.duplicates == 1 and s.stats.gaps == 0


def test_gap_resyncs_every_book_of_the_sid_in_band() -> None:
    s, _ = books_session()
    events = s.receive_frame(delta(1, 5, "A"))
    assert events[0] == ev.Gap("orderbook_delta", 1, 3, 5)
    assert events[1] == ev.Resyncing("orderbook_delta", ("A", "B"), "seq gap on sid 1")
    assert s.books["A"].status is BookStatus.RESYNCING
    (cmd,) = sent(s)
    assert cmd["cmd"] == "update_subscription"
    assert cmd["params"] == {"action": "get_snapshot", "sid": 1, "market_tickers": ["A", "B"]}
    # Deltas for a resyncing market are discarded until its snapshot.
    assert s.receive_frame(delta(1, 6, "A", "1.50")) == []
    assert s.stats.skipped_awaiting_snapshot == 1
    s.receive_frame(snapshot(1, 7, "A", bid="1.20", cmd_id=cmd["id"]))
    assert s.books["A"].is_synced and s.books["A"].best_bid() == (D("1.20"), D("10.00"))
    assert not s.books["B"].is_synced
    s.receive_frame(snapshot(1, 8, "B", cmd_id=cmd["id"]))
    events = s.receive_frame(delta(1, 9, "B", "1.30"))
    assert [type(e) for e in events] == [m.OrderbookDelta]
    assert s.stats.gaps == 1 and s.stats.resyncs == 1
    assert s.data_to_send() == []  # no reconnect, no resubscribe


def test_second_gap_while_resyncing_asks_again() -> None:
    s, _ = books_session()
    s.receive_frame(delta(1, 5, "A"))
    sent(s)
    events = s.receive_frame(delta(1, 9, "A"))  # frames 6..8 may hold the snapshot
    assert [type(e) for e in events] == [ev.Gap, ev.Resyncing]
    assert sent(s)[0]["params"]["action"] == "get_snapshot"


def test_a_lost_first_snapshot_is_asked_for() -> None:
    s = Session()
    s.subscribe(["orderbook_delta"], tickers=["A"])
    s.connection_opened()
    (cmd,) = sent(s)
    s.receive_frame(subscribed(cmd["id"], "orderbook_delta", 1))
    events = s.receive_frame(delta(1, 2, "A"))  # snapshot seq 1 never came
    assert events == [ev.Resyncing("orderbook_delta", ("A",), "delta before snapshot")]
    assert sent(s)[0]["params"] == {"action": "get_snapshot", "sid": 1, "market_tickers": ["A"]}
    assert s.receive_frame(delta(1, 3, "A")) == []  # now resyncing: just skipped
    s.receive_frame(snapshot(1, 4, "A"))
    assert s.books["A"].is_synced


def test_snapshot_jumping_past_a_missing_seq_resyncs_the_other_books() -> None:
    s, _ = books_session()
    events = s.receive_frame(snapshot(1, 10, "A"))
    assert events[0] == ev.Gap("orderbook_delta", 1, 3, 10)
    assert events[1] == ev.Resyncing("orderbook_delta", ("B",), "gap before a snapshot")
    assert s.books["A"].is_synced and not s.books["B"].is_synced


def test_rejected_get_snapshot_falls_back_to_unsubscribe_and_subscribe() -> None:
    s, _ = books_session()
    s.receive_frame(delta(1, 5, "A"))
    (cmd,) = sent(s)
    events = s.receive_frame(frame(m.ErrorMessage(id=cmd["id"], msg=m.ErrorBody(
        code=13, msg="Unsupported action"))))
    assert events[0] == ev.CommandFailed("orderbook_delta", cmd["id"], 13, "Unsupported action",
                                         "get_snapshot")
    unsub, sub = sent(s)
    assert unsub["cmd"] == "unsubscribe" and unsub["params"] == {"sids": [1]}
    assert sub["cmd"] == "subscribe" and sub["params"]["market_tickers"] == ["A", "B"]
    assert s.receive_frame(delta(1, 6, "A")) == []  # the old sid is gone
    assert s.stats.orphans == 1
    s.receive_frame(subscribed(sub["id"], "orderbook_delta", 2))
    s.receive_frame(snapshot(2, 1, "A"))
    s.receive_frame(snapshot(2, 2, "B"))
    assert all(b.is_synced for b in s.books.values())


def test_desync_resyncs_only_that_market() -> None:
    s, _ = books_session()
    events = s.receive_frame(delta(1, 3, "A", "1.00", "-50.00"))
    assert events == [ev.Resyncing("orderbook_delta", ("A",),
                                   "desync: bid level 1.00 would be -40.00")]
    (cmd,) = sent(s)
    assert cmd["params"]["market_tickers"] == ["A"]
    assert s.books["B"].is_synced and s.stats.desyncs == 1


def test_crossing_delta_is_a_desync() -> None:
    s, _ = books_session()
    s.receive_frame(delta(1, 3, "A", "2.50", "1.00"))
    assert s.books["A"].status is BookStatus.RESYNCING


@pytest.mark.parametrize("code", [10, 17, 25])
def test_terminal_error_resubscribes(code: int) -> None:
    s, _ = books_session()
    events = s.receive_frame(frame(m.ErrorMessage(sid=1, msg=m.ErrorBody(code=code, msg="x"))))
    assert events[0] == ev.ChannelLost("orderbook_delta", 1, code, "x")
    assert isinstance(events[1], ev.Resyncing)
    (cmd,) = sent(s)
    assert cmd["cmd"] == "subscribe" and cmd["params"]["channels"] == ["orderbook_delta"]
    assert not s.books["A"].is_synced and s.stats.channel_losses == 1


def test_trade_and_order_group_gaps_ask_for_backfill_and_still_deliver() -> None:
    s = Session()
    s.subscribe(["trade"], tickers=["A"])
    s.subscribe(["order_group_updates"])
    s.connection_opened()
    c1, c2 = sent(s)
    s.receive_frame(subscribed(c1["id"], "trade", 3))
    s.receive_frame(subscribed(c2["id"], "order_group_updates", 4))
    s.receive_frame(trade(3, 1))
    events = s.receive_frame(trade(3, 4))
    assert events[0] == ev.Gap("trade", 3, 2, 4)
    assert events[1] == ev.NeedsBackfill("trade", ("A",), "seq gap on sid 3")
    assert isinstance(events[2], m.Trade)
    og = m.OrderGroupUpdates(sid=4, seq=1, msg=m.OrderGroupBody(event_type="created",
                                                                  order_group_id="g"))
    s.receive_frame(frame(og))
    events = s.receive_frame(frame(m.OrderGroupUpdates(sid=4, seq=3, msg=og.msg)))
    assert ev.NeedsBackfill("order_group_updates", None, "seq gap on sid 4") in events


def test_connection_lost_marks_books_stale_and_reconnect_resubscribes_everything() -> None:
    s, _ = books_session()
    s.subscribe(["fill"])
    sent(s)
    s.connection_lost()
    assert all(b.status is BookStatus.STALE for b in s.books.values())
    assert s.data_to_send() == []
    s.connection_opened()
    cmds = sent(s)
    assert sorted(c["params"]["channels"][0] for c in cmds) == ["fill", "orderbook_delta"]
    assert s.receive_frame(delta(1, 3, "A")) == []  # old sid means nothing now
    book_cmd = next(c for c in cmds if c["params"]["channels"] == ["orderbook_delta"])
    s.receive_frame(subscribed(book_cmd["id"], "orderbook_delta", 9))
    s.receive_frame(snapshot(9, 1, "A"))
    assert s.books["A"].is_synced and not s.books["B"].is_synced


def test_adding_and_removing_markets_while_streaming() -> None:
    s, _ = books_session()
    s.subscribe(["orderbook_delta"], tickers=["C"])
    (add,) = sent(s)
    assert add["params"] == {"action": "add_markets", "sid": 1, "market_tickers": ["C"]}
    events = s.receive_frame(frame(m.OkMessage(id=add["id"], sid=1, seq=2, msg=m.OkBody(
        market_tickers=["A", "B", "C"]))))
    assert events == [ev.MarketsUpdated("orderbook_delta", ("A", "B", "C"))]
    s.unsubscribe("orderbook_delta", tickers=["A"])
    (delete,) = sent(s)
    assert delete["params"] == {"action": "delete_markets", "sid": 1, "market_tickers": ["A"]}
    assert "A" not in s.books
    s.unsubscribe("orderbook_delta")
    (unsub,) = sent(s)
    assert unsub == {"id": unsub["id"], "cmd": "unsubscribe", "params": {"sids": [1]}}
    assert s.books == {} and s.channels == ()
    assert s.receive_frame(frame(m.Unsubscribed(id=unsub["id"], sid=1, seq=2))) == []


def test_markets_added_while_subscribe_in_flight_follow_the_ack() -> None:
    s = Session()
    s.subscribe(["orderbook_delta"], tickers=["A"])
    s.connection_opened()
    (sub,) = sent(s)
    s.subscribe(["orderbook_delta"], tickers=["B"])
    assert s.data_to_send() == []
    s.receive_frame(subscribed(sub["id"], "orderbook_delta", 1))
    (add,) = sent(s)
    assert add["params"]["action"] == "add_markets" and add["params"]["market_tickers"] == ["B"]


def test_rejected_subscribe_is_reported() -> None:
    s = Session()
    s.subscribe(["fill"])
    s.connection_opened()
    (cmd,) = sent(s)
    events = s.receive_frame(frame(m.ErrorMessage(id=cmd["id"], msg=m.ErrorBody(
        code=9, msg="Authentication required"))))
    assert events == [ev.CommandFailed("fill", cmd["id"], 9, "Authentication required",
                                        "subscribe")]


def test_list_subscriptions_and_unknown_and_bad_frames() -> None:
    s, _ = books_session()
    cmd_id = s.list_subscriptions()
    (cmd,) = sent(s)
    assert cmd == {"id": cmd_id, "cmd": "list_subscriptions"}
    events = s.receive_frame(frame(m.OkMessage(id=cmd_id, msg=[m.SubscriptionInfo(
        channel="orderbook_delta", sid=1)])))
    assert events == [ev.SubscriptionsListed((m.SubscriptionInfo(channel="orderbook_delta",
                                                                 sid=1),))]
    (unknown,) = s.receive_frame(b'{"type":"news","sid":1}')
    assert isinstance(unknown, Unknown) and s.stats.unknown == 1
    (err,) = s.receive_frame(b"{not json")
    assert isinstance(err, ev.FrameError) and s.stats.decode_errors == 1


def test_undecodable_sequenced_frame_on_a_book_sid_forces_a_resync() -> None:
    s, _ = books_session()
    bad = (b'{"type":"orderbook_delta","sid":1,"seq":"3","msg":{"market_ticker":"A",'
           b'"price":"1.00","delta":"1","side":"bid"}}')
    events = s.receive_frame(bad)
    assert isinstance(events[0], ev.FrameError) and events[0].path == "$.seq"
    assert isinstance(events[1], ev.Resyncing)
    assert sent(s)[0]["params"]["action"] == "get_snapshot"


def test_a_price_that_is_not_a_number_is_a_desync_of_that_book() -> None:
    s, _ = books_session()
    bad = (b'{"type":"orderbook_delta","sid":1,"seq":3,"msg":{"market_ticker":"A",'
           b'"price":"oops","delta":"1","side":"bid"}}')
    (event,) = s.receive_frame(bad)
    assert isinstance(event, ev.Resyncing) and "not a decimal number" in event.reason
    assert s.stats.desyncs == 1 and s.stats.decode_errors == 0
    assert sent(s)[0]["params"]["action"] == "get_snapshot"


def test_subscribe_validates_arguments() -> None:
    s = Session()
    with pytest.raises(ValueError):
        s.subscribe(["nope"])
    with pytest.raises(ValueError):
        s.subscribe(["orderbook_delta"])


def test_request_resync_after_overflow() -> None:
    s, _ = books_session()
    assert s.request_resync(["B"], reason="consumer overflow") == [
        ev.Resyncing("orderbook_delta", ("B",), "consumer overflow")]
    assert sent(s)[0]["params"]["market_tickers"] == ["B"]
    assert Session().request_resync() == []
