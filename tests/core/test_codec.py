"""Decoding of real frames, typed failures, forward compatibility, command round trips."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core import messages as m
from kalshi_margin_stream.core.codec import (
    Unknown,
    decode_command,
    decode_frame,
    encode,
    encode_command,
)
from kalshi_margin_stream.exceptions import DecodeError

WS = Path(__file__).parents[1] / "data" / "ws"
CAPTURES = sorted(WS.glob("*.jsonl"))


def frames(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_every_real_frame_decodes_to_its_type(path: Path) -> None:
    lines = frames(path)
    assert lines
    for line in lines:
        msg = decode_frame(line)
        assert not isinstance(msg, Unknown)
        assert type(msg).__struct_config__.tag == json.loads(line)["type"]


def test_decimal_fields_keep_the_exchange_string() -> None:
    line = next(x for x in frames(WS / "ws__public_orderbook_ticker.jsonl")
                if b'"type":"orderbook_delta"' in x)
    msg = decode_frame(line)
    assert isinstance(msg, m.OrderbookDelta)
    raw = json.loads(line)["msg"]
    assert str(msg.msg.price) == raw["price"]
    assert str(msg.msg.delta) == raw["delta"]
    assert isinstance(msg.msg.ts_ms, int)


def test_ticker_funding_rate_number_is_exact() -> None:
    frame = (b'{"type":"ticker","sid":3,"msg":{"market_ticker":"X","price":"1.0000",'
             b'"funding_rate":{"rate":-0.00012,"next_funding_time_ms":1,"ts_ms":2}}}')
    msg = decode_frame(frame)
    assert isinstance(msg, m.Ticker)
    assert msg.msg.funding_rate is not None
    assert msg.msg.funding_rate.rate == Decimal("-0.00012")


def test_unknown_type_is_an_explicit_event() -> None:
    msg = decode_frame(b'{"type":"brand_new","sid":9,"msg":{"x":1}}')
    assert isinstance(msg, Unknown)
    assert (msg.type, msg.sid) == ("brand_new", 9)
    assert msg.raw == b'{"type":"brand_new","sid":9,"msg":{"x":1}}'


def test_unknown_fields_are_tolerated() -> None:
    msg = decode_frame(b'{"type":"subscribed","id":1,"new":[1],'
                       b'"msg":{"channel":"trade","sid":2,"extra":{}}}')
    assert msg == m.Subscribed(id=1, msg=m.SubscribedBody(channel="trade", sid=2))


@pytest.mark.parametrize(("frame", "path"), [
    (b'{"type":"trade","sid":1,"msg":{"trade_id":"t","market_ticker":"X","price":"x",'
     b'"count":"1","taker_side":"bid","ts_ms":1}}', "$.msg.price"),
    (b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"X","price":1.5,'
     b'"delta":"1","side":"bid"}}', "$.msg.price"),
    (b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"X","price":"1",'
     b'"delta":"1","side":"up"}}', "$.msg.side"),
    (b'{"type":"trade","sid":1,"msg":{"trade_id":"t"}}', "$.msg"),
    (b'{"type":"orderbook_snapshot","sid":"1","seq":1,"msg":{"market_ticker":"X"}}', "$.sid"),
    (b'{"type":"fill","sid":1,"msg":{"trade_id":"t","order_id":"o","market_ticker":"X",'
     b'"is_taker":true,"side":"bid","ts_ms":1.5,"price":"1","count":"1","fee_cost":"0",'
     b'"post_position":"1"}}', "$.msg.ts_ms"),
])
def test_malformed_known_type_names_the_path(frame: bytes, path: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_frame(frame)
    assert info.value.path == path
    assert info.value.type == json.loads(frame)["type"]
    assert path in str(info.value)


@pytest.mark.parametrize("frame", [b"", b"{", b"[1,2]", b"null", b'{"sid":1}', b'{"type":5}',
                                   b"\xff\xfe", b'{"type":"ok","msg":"x"}',
                                   b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":'
                                   b'{"market_ticker":"X","bid":[["4.8368","!.00"'])
def test_garbage_raises_decode_error(frame: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_frame(frame)


def _mutations() -> st.SearchStrategy[bytes]:
    sample = frames(WS / "ws__public_orderbook_ticker.jsonl")[:40] + frames(
        WS / "ws__private_lifecycle.jsonl")
    junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                     st.text(max_size=5), st.lists(st.integers(), max_size=2), st.just({}))

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        raw = draw(st.sampled_from(sample))
        how = draw(st.integers(0, 2))
        if how == 0:  # cut or flip bytes
            data = bytearray(raw)
            for _ in range(draw(st.integers(1, 4))):
                i = draw(st.integers(0, len(data) - 1))
                data[i] = draw(st.integers(0, 255))
            return bytes(data[: draw(st.integers(0, len(data)))])
        obj = json.loads(raw)
        target = obj["msg"] if how == 2 and isinstance(obj.get("msg"), dict) else obj
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(junk)
        return json.dumps(obj).encode()

    return mutate()


@given(_mutations())
def test_fuzzed_frames_raise_only_decode_errors(frame: bytes) -> None:
    try:
        msg = decode_frame(frame)
    except DecodeError as exc:
        assert exc.path.startswith("$")
    else:
        assert isinstance(msg, Unknown) or type(msg) in m.CHANNEL_OF or isinstance(
            msg, m.Subscribed | m.Unsubscribed | m.OkMessage | m.ErrorMessage)


COMMANDS: list[m.ClientCommand] = [
    m.Subscribe(id=1, params=m.SubscribeParams(channels=["orderbook_delta"],
                                               market_tickers=["A", "B"])),
    m.Subscribe(id=2, params=m.SubscribeParams(channels=["ticker", "trade"],
                                               send_initial_snapshot=True)),
    m.Unsubscribe(id=3, params=m.UnsubscribeParams(sids=[2, 3])),
    m.UpdateSubscription(id=4, params=m.UpdateSubscriptionParams(
        action="get_snapshot", sid=2, market_tickers=["A"])),
    m.UpdateSubscription(id=5, params=m.UpdateSubscriptionParams(
        action="add_markets", sids=[2], market_tickers=["C"])),
    m.ListSubscriptions(id=6),
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: type(c).__name__)
def test_commands_round_trip_and_match_the_wire(cmd: m.ClientCommand) -> None:
    data = encode_command(cmd)
    assert decode_command(data) == cmd
    obj = json.loads(data)
    assert obj["id"] == cmd.id and "cmd" in obj
    assert all(v is not None for v in obj.get("params", {}).values())


def test_spec_examples_of_commands_decode() -> None:
    cmd = decode_command(b'{"id": 12, "cmd": "update_subscription", "params": {"sid": 2, '
                         b'"market_tickers": ["KXBTCPERP"], "action": "get_snapshot"}}')
    assert isinstance(cmd, m.UpdateSubscription)
    assert cmd.params.action == "get_snapshot"
    with pytest.raises(DecodeError):
        decode_command(b'{"id": 1, "cmd": "nope"}')


def test_server_messages_round_trip() -> None:
    for path in CAPTURES:
        for line in frames(path):
            msg = decode_frame(line)
            assert decode_frame(encode(msg)) == msg


def test_list_subscriptions_answer() -> None:
    msg = decode_frame(b'{"type":"ok","id":13,"msg":[{"channel":"orderbook_delta","sid":2},'
                       b'{"channel":"ticker","sid":3}]}')
    assert isinstance(msg, m.OkMessage)
    assert isinstance(msg.msg, list) and [s.sid for s in msg.msg] == [2, 3]
    assert msgspec.json.decode(encode(msg))["msg"][0] == {"channel": "orderbook_delta", "sid": 2}
