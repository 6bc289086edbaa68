"""Stream names and entry encoding: pure, no Redis needed."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from kalshi_margin_stream.core.book import BookStatus, OrderBook
from kalshi_margin_stream.core.messages import (
    OrderbookDelta,
    OrderbookDeltaBody,
    OrderbookSnapshot,
    Trade,
    TradeBody,
)
from kalshi_margin_stream.exceptions import BookDesync, DecodeError
from kalshi_margin_stream.fanout.entries import (
    MESSAGE,
    SNAPSHOT,
    STALE,
    Entry,
    apply_to_book,
    book_snapshot,
    decode_entry,
    decode_message,
    encode_entry,
    encode_message,
    exchange_ts_ms,
)
from kalshi_margin_stream.fanout.names import StreamNames


def as_redis(fields: dict[str, str | bytes]) -> dict[bytes, bytes]:
    """What XREAD hands back for a field map given to XADD."""
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def test_streams_are_named_by_channel_and_market_with_a_cluster_hash_tag() -> None:
    n = StreamNames("acct1")
    assert n.book("KXBTCPERP") == "acct1:book:{KXBTCPERP}"
    assert n.snapshot("KXBTCPERP") == "acct1:snap:{KXBTCPERP}"
    assert n.stream("trade", "KXETHPERP") == "acct1:trade:{KXETHPERP}"
    assert n.stream("ticker", "KXETHPERP") == "acct1:ticker:{KXETHPERP}"
    assert [n.stream(c) for c in ("fill", "user_orders", "order_group_updates")] == [
        "acct1:fill", "acct1:order", "acct1:group"]
    assert n.heartbeat == "acct1:gateway"
    with pytest.raises(ValueError):
        n.stream("trade")
    with pytest.raises(ValueError):
        n.stream("nonsense")
    with pytest.raises(ValueError):
        StreamNames("bad{prefix}")


def test_a_delta_entry_round_trips_through_the_core_decoder() -> None:
    delta = OrderbookDelta(sid=3, seq=41, sending_ts_ms=1_700_000_000_123, msg=OrderbookDeltaBody(
        market_ticker="KXBTCPERP", price_text="8.0961", delta_text="-2.50", side="bid",
        ts_ms=1_700_000_000_120))
    entry = Entry(kind=MESSAGE, epoch="e1", version=7, received_us=123,
                  frame=encode_message(delta), ts_ms=exchange_ts_ms(delta),
                  sending_ts_ms=delta.sending_ts_ms)
    back = decode_entry(as_redis(encode_entry(entry)))
    assert back == entry
    msg = decode_message(back)
    assert msg == delta and msg.msg.price == Decimal("8.0961")  # exact decimals, not floats
    assert json.loads(back.frame)["msg"]["price"] == "8.0961"


def test_snapshot_entries_round_trip() -> None:
    src = OrderBook("KXETHPERP")
    src.apply_snapshot([(Decimal("3.10"), Decimal("1"))], [])
    e = Entry(kind=SNAPSHOT, epoch="e", version=9, received_us=3,
              frame=encode_message(book_snapshot(src)))
    back = decode_entry(as_redis(encode_entry(e)))
    assert back.kind == SNAPSHOT and decode_message(back) == book_snapshot(src)


def test_trades_and_stale_markers_round_trip() -> None:
    trade = Trade(sid=1, msg=TradeBody(trade_id="t1", market_ticker="KXETHPERP",
                                       price=Decimal("3.1"), count=Decimal("2"),
                                       taker_side="ask", ts_ms=5))
    e = Entry(kind=MESSAGE, epoch="e", version=1, received_us=1, frame=encode_message(trade),
              ts_ms=exchange_ts_ms(trade))
    assert decode_message(decode_entry(as_redis(encode_entry(e)))) == trade
    stale = Entry(kind=STALE, epoch="e", version=2, received_us=2, reason="gap")
    assert decode_entry(as_redis(encode_entry(stale))) == stale


@pytest.mark.parametrize("fields", [
    {},
    {b"h": b"? e 1 1 - -"},
    {b"h": b"m e 1 1 -", b"f": b"{}"},
    {b"h": b"m e x 1 - -", b"f": b"{}"},
    {b"h": b"m e 1 1 - 7.5", b"f": b"{}"},
    {b"h": b"m e 1 1 - -"},
])
def test_malformed_entries_raise_a_typed_error(fields: dict[bytes, bytes]) -> None:
    with pytest.raises(DecodeError):
        decode_entry(fields)


def test_a_frame_that_is_not_a_data_message_is_refused() -> None:
    for frame in (b'{"type":"subscribed","msg":{"channel":"trade","sid":1}}',
                  b'{"type":"brand_new","sid":1}', b"not json"):
        with pytest.raises(DecodeError):
            decode_message(Entry(kind=MESSAGE, epoch="e", version=1, received_us=1,
                                 frame=frame))


def test_books_rebuild_from_entries_exactly_and_refuse_impossible_updates() -> None:
    src = OrderBook("KXBTCPERP")
    src.apply_snapshot([(Decimal("8.0960"), Decimal("5"))], [(Decimal("8.0962"), Decimal("7"))])
    snap = book_snapshot(src)
    assert isinstance(snap, OrderbookSnapshot)
    copy = OrderBook("KXBTCPERP")
    apply_to_book(copy, snap)
    assert copy.status is BookStatus.SYNCED
    assert (copy.bids(), copy.asks()) == (src.bids(), src.asks())
    bad = OrderbookDelta(sid=1, seq=2, msg=OrderbookDeltaBody(
        market_ticker="KXBTCPERP", price_text="8.0960", delta_text="-6", side="bid"))
    with pytest.raises(BookDesync):
        apply_to_book(copy, bad)
    assert copy.bids() == src.bids()  # nothing half applied


def test_the_pure_modules_load_no_network_or_event_loop() -> None:
    code = ("import json, sys; import kalshi_margin_stream.fanout.entries, "
            "kalshi_margin_stream.fanout.names; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"asyncio", "redis", "aiohttp", "anyio", "websockets"}
