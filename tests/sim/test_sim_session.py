"""The WebSocket protocol state machine, without sockets: commands, sids, seq, errors,
private scoping."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_margin_stream.core.messages import (
    ErrorMessage,
    FillBody,
    OkMessage,
    OrderbookDelta,
    OrderbookDeltaBody,
    OrderbookSnapshot,
    OrderbookSnapshotBody,
    OrderGroupBody,
    Subscribed,
    Ticker,
    TickerBody,
    Trade,
    TradeBody,
    Unsubscribed,
    UserOrderBody,
)
from kalshi_margin_stream.sim.feed import (
    BookChange,
    GroupChange,
    OrderChange,
    TradePrint,
    UserFill,
)
from kalshi_margin_stream.sim.session import Out, WsSession


def m(out: Out) -> Any:
    """The message, untyped: tests read fields of whichever type it is."""
    return out.msg

D = Decimal
MARKETS = ["AAA", "BBB", "CCC"]


class FakeView:
    def market_tickers(self) -> list[str]:
        return list(MARKETS)

    def book_snapshot(self, ticker: str) -> OrderbookSnapshotBody:
        return OrderbookSnapshotBody(market_ticker=ticker, bid=[(D("1.0000"), D("5.00"))])

    def ticker_body(self, ticker: str) -> TickerBody:
        return TickerBody(market_ticker=ticker, price=D("1.0000"))


def cmd(session: WsSession, obj: object) -> list[Out]:
    return session.receive(json.dumps(obj))


def error_code(outs: list[Out]) -> int:
    assert len(outs) == 1
    msg = outs[0].msg
    assert isinstance(msg, ErrorMessage)
    return msg.msg.code


def delta(ticker: str, *, owner: str | None = None, coid: str | None = None) -> BookChange:
    body = OrderbookDeltaBody(market_ticker=ticker, price_text="1.0000", delta_text="1.00",
                              side="bid", ts_ms=1, client_order_id=coid,
                              subaccount=0 if coid else None,
                              last_update_reason="Trade" if coid else None)
    return BookChange(body, owner)


@pytest.fixture
def s() -> WsSession:
    return WsSession("me", FakeView())


def test_orderbook_subscribe_sends_ack_then_snapshots_then_sequenced_deltas(s: WsSession) -> None:
    outs = cmd(s, {"id": 1, "cmd": "subscribe",
                   "params": {"channels": ["orderbook_delta"], "market_tickers": ["AAA", "BBB"]}})
    assert isinstance(outs[0].msg, Subscribed) and outs[0].msg.id == 1
    sid = m(outs[0]).msg.sid
    snaps = [m(o) for o in outs[1:]]
    assert [type(x) for x in snaps] == [OrderbookSnapshot, OrderbookSnapshot]
    assert [(x.msg.market_ticker, x.seq) for x in snaps
            ] == [("AAA", 1), ("BBB", 2)]
    d = s.on_feed(delta("AAA")) + s.on_feed(delta("CCC")) + s.on_feed(delta("BBB"))
    assert [(m(o).seq, o.sid) for o in d] == [(3, sid), (4, sid)]


def test_each_channel_gets_its_own_sid(s: WsSession) -> None:
    outs = cmd(s, {"id": 4, "cmd": "subscribe", "params": {"channels": ["trade", "ticker"]}})
    sids = [m(o).msg.sid for o in outs if isinstance(m(o), Subscribed)]
    assert sids == [1, 2] and all(m(o).id == 4 for o in outs)
    listed = cmd(s, {"id": 5, "cmd": "list_subscriptions"})
    assert isinstance(listed[0].msg, OkMessage)
    assert [(i.channel, i.sid) for i in m(listed[0]).msg] == [
        ("trade", 1), ("ticker", 2)]


def test_trade_seq_spans_markets_and_ticker_has_none(s: WsSession) -> None:
    cmd(s, {"id": 1, "cmd": "subscribe", "params": {"channels": ["trade", "ticker"],
                                                     "send_initial_snapshot": True}})
    trades = [s.on_feed(TradePrint(TradeBody(trade_id=str(i), market_ticker=t, price=D(1),
                                             count=D(1), taker_side="bid", ts_ms=1)))[0]
              for i, t in enumerate(["AAA", "BBB", "AAA"])]
    assert [m(o).seq for o in trades] == [1, 2, 3]
    assert all(isinstance(o.msg, Trade) for o in trades)
    tick = s.on_tickers([FakeView().ticker_body("BBB")])
    assert len(tick) == 1 and isinstance(tick[0].msg, Ticker)


def test_send_initial_snapshot_sends_tickers(s: WsSession) -> None:
    outs = cmd(s, {"id": 2, "cmd": "subscribe",
                   "params": {"channels": ["ticker"], "market_ticker": "AAA",
                              "send_initial_snapshot": True}})
    assert [type(o.msg) for o in outs] == [Subscribed, Ticker]


def test_private_channels_only_reach_their_user(s: WsSession) -> None:
    cmd(s, {"id": 1, "cmd": "subscribe",
            "params": {"channels": ["fill", "user_orders", "order_group_updates",
                                    "orderbook_delta"], "market_ticker": "AAA"}})
    fill = FillBody(trade_id="t", order_id="o", market_ticker="AAA", is_taker=True, side="bid",
                    ts_ms=1, price=D(1), count=D(1), fee_cost=D(0), post_position=D(1))
    order = UserOrderBody(order_id="o", ticker="AAA", side="bid", price=D(1), fill_count=D(0),
                          remaining_count=D(1))
    group = OrderGroupBody(event_type="created", order_group_id="g")
    assert s.on_feed(UserFill("other", fill)) == []
    assert s.on_feed(OrderChange("other", order)) == []
    assert s.on_feed(GroupChange("other", group)) == []
    assert len(s.on_feed(UserFill("me", fill))) == 1
    assert len(s.on_feed(OrderChange("me", order))) == 1
    g = s.on_feed(GroupChange("me", group))
    assert m(g[0]).seq == 1
    mine = s.on_feed(delta("AAA", owner="me", coid="c1"))[0].msg
    theirs = s.on_feed(delta("AAA", owner="other", coid="c2"))[0].msg
    assert isinstance(mine, OrderbookDelta) and mine.msg.client_order_id == "c1"
    assert isinstance(theirs, OrderbookDelta)
    assert theirs.msg.client_order_id is None and theirs.msg.subaccount is None
    assert theirs.msg.last_update_reason is None


def test_update_subscription_add_delete_and_get_snapshot(s: WsSession) -> None:
    cmd(s, {"id": 1, "cmd": "subscribe",
            "params": {"channels": ["orderbook_delta"], "market_ticker": "AAA"}})
    add = cmd(s, {"id": 2, "cmd": "update_subscription",
                  "params": {"sids": [1], "market_tickers": ["BBB"], "action": "add_markets"}})
    assert isinstance(add[0].msg, OkMessage)
    assert m(add[0]).msg.market_tickers == ["AAA", "BBB"]
    assert isinstance(add[1].msg, OrderbookSnapshot) and add[1].msg.seq == 2
    snap = cmd(s, {"id": 3, "cmd": "update_subscription",
                   "params": {"sid": 1, "market_tickers": ["AAA"], "action": "get_snapshot"}})
    assert isinstance(snap[0].msg, OrderbookSnapshot)
    assert snap[0].msg.id == 3 and snap[0].msg.seq == 3
    rm = cmd(s, {"id": 4, "cmd": "update_subscription",
                 "params": {"sid": 1, "market_ticker": "AAA", "action": "delete_markets"}})
    assert m(rm[0]).msg.market_tickers == ["BBB"]
    assert s.on_feed(delta("AAA")) == []
    unsub = cmd(s, {"id": 5, "cmd": "unsubscribe", "params": {"sids": [1]}})
    assert isinstance(unsub[0].msg, Unsubscribed) and unsub[0].msg.seq == 3
    assert s.on_feed(delta("BBB")) == []


def test_resubscribe_adds_markets_to_the_same_sid(s: WsSession) -> None:
    cmd(s, {"id": 1, "cmd": "subscribe",
            "params": {"channels": ["orderbook_delta"], "market_ticker": "AAA"}})
    again = cmd(s, {"id": 2, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": ["AAA", "CCC"]}})
    assert m(again[0]).msg.sid == 1
    assert [m(o).msg.market_ticker for o in again[1:]] == ["CCC"]


@pytest.mark.parametrize(("frame", "code"), [
    ("not json", 1),
    ("[1, 2]", 1),
    ('{"id": "x", "cmd": "subscribe"}', 1),
    ('{"id": 1}', 1),
    ('{"id": 1, "cmd": "subscribe"}', 2),
    ('{"id": 1, "cmd": "subscribe", "params": []}', 1),
    ('{"id": 1, "cmd": "subscribe", "params": {}}', 3),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": []}}', 3),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": "trade"}}', 11),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": ["nope"]}}', 8),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}}', 14),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": ["trade"], "market_ticker": 5}}', 11),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": ["trade"], "market_ticker": "ZZZ"}}',
     11),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": ["ticker"], '
     '"send_initial_snapshot": "yes"}}', 11),
    ('{"id": 1, "cmd": "fly"}', 5),
    ('{"id": 1, "cmd": "unsubscribe", "params": {}}', 4),
    ('{"id": 1, "cmd": "unsubscribe", "params": {"sids": ["a"]}}', 11),
    ('{"id": 1, "cmd": "unsubscribe", "params": {"sids": [42]}}', 7),
    ('{"id": 1, "cmd": "update_subscription", "params": {"sid": 1}}', 15),
    ('{"id": 1, "cmd": "update_subscription", "params": {"action": "add_markets"}}', 12),
    ('{"id": 1, "cmd": "update_subscription", "params": {"sids": [1, 2], '
     '"action": "add_markets"}}', 12),
    ('{"id": 1, "cmd": "update_subscription", "params": {"sid": 99, "action": "add_markets", '
     '"market_ticker": "AAA"}}', 7),
])
def test_bad_commands_get_kalshi_error_codes(s: WsSession, frame: str, code: int) -> None:
    assert error_code(s.receive(frame)) == code


def test_unsupported_and_incomplete_updates(s: WsSession) -> None:
    cmd(s, {"id": 1, "cmd": "subscribe", "params": {"channels": ["trade"]}})
    cmd(s, {"id": 2, "cmd": "subscribe",
            "params": {"channels": ["orderbook_delta"], "market_ticker": "AAA"}})
    assert error_code(cmd(s, {"id": 3, "cmd": "update_subscription",
                              "params": {"sid": 1, "action": "get_snapshot",
                                         "market_tickers": ["AAA"]}})) == 13
    assert error_code(cmd(s, {"id": 4, "cmd": "update_subscription",
                              "params": {"sid": 2, "action": "explode",
                                         "market_tickers": ["AAA"]}})) == 13
    assert error_code(cmd(s, {"id": 5, "cmd": "update_subscription",
                              "params": {"sid": 2, "action": "add_markets"}})) == 14
    assert error_code(cmd(s, {"id": 6, "cmd": "update_subscription",
                              "params": {"sid": 2, "action": "get_snapshot",
                                         "market_ticker": "AAA"}})) == 14


def test_kill_ends_the_sid_with_error_25(s: WsSession) -> None:
    cmd(s, {"id": 1, "cmd": "subscribe", "params": {"channels": ["trade"]}})
    err = s.kill(1)
    assert err is not None and isinstance(err.msg, ErrorMessage)
    assert err.msg.msg.code == 25 and err.msg.sid == 1
    assert s.kill(1) is None
    assert s.on_feed(TradePrint(TradeBody(trade_id="t", market_ticker="AAA", price=D(1),
                                          count=D(1), taker_side="ask", ts_ms=1))) == []


def test_market_limit_gives_error_26() -> None:
    s = WsSession("me", FakeView(), market_limit=2)
    assert error_code(cmd(s, {"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": MARKETS}})) == 26
    cmd(s, {"id": 2, "cmd": "subscribe",
            "params": {"channels": ["orderbook_delta"], "market_tickers": ["AAA", "BBB"]}})
    assert error_code(cmd(s, {"id": 3, "cmd": "update_subscription", "params": {
        "sid": 1, "action": "add_markets", "market_ticker": "CCC"}})) == 26
    ok = cmd(s, {"id": 4, "cmd": "subscribe", "params": {"channels": ["trade"]}})
    assert isinstance(ok[0].msg, Subscribed)  # no market filter: not limited


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=6)
    | st.sampled_from(MARKETS + ["orderbook_delta", "ticker", "trade", "add_markets",
                                 "get_snapshot", "delete_markets"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["channels", "market_ticker", "market_tickers", "sid", "sids",
                         "action", "send_initial_snapshot", "skip_ticker_ack", "x"]),
        inner, max_size=5),
    max_leaves=12)
_commands = st.fixed_dictionaries(
    {"id": st.integers(-1, 9) | st.none() | st.text(max_size=2),
     "cmd": st.sampled_from(["subscribe", "unsubscribe", "update_subscription",
                             "list_subscriptions", "nope"]) | st.integers()},
    optional={"params": _json})


@settings(max_examples=150, deadline=None)
@given(st.lists(_commands | _json.map(lambda v: {"raw": v}), min_size=1, max_size=8))
def test_any_command_sequence_is_answered_without_raising(frames: list[dict[str, Any]]) -> None:
    s = WsSession("me", FakeView())
    for frame in frames:
        outs = s.receive(json.dumps(frame))
        assert outs, frame  # every command gets at least one answer
        for out in outs:
            assert out.msg is not None
    for sub in s.subscriptions.values():  # the table stays consistent
        assert sub.markets is None or sub.markets <= set(MARKETS)
        assert sub.seq >= 0
