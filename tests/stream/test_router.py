"""The Router, synchronously and without a socket: who gets which message."""

from __future__ import annotations

import time
from typing import Any

from kalshi_margin_stream.core.messages import (
    OrderbookDelta,
    OrderbookDeltaBody,
    Ticker,
    TickerBody,
)
from kalshi_margin_stream.stream.router import Router
from kalshi_margin_stream.stream.subscriptions import (
    Books,
    Spec,
    Stale,
    Subscription,
    Tickers,
    Trades,
)


def sub(spec: Spec[Any], queue: int = 8, closed: list[Any] | None = None) -> Subscription[Any]:
    return Subscription(spec, queue=queue, on_close=(closed or []).append,
                        on_overflow=lambda s: None)


def delta(ticker: str, seq: int = 1, sent: int | None = None) -> OrderbookDelta:
    return OrderbookDelta(sid=1, seq=seq, sending_ts_ms=sent, msg=OrderbookDeltaBody(
        market_ticker=ticker, price_text="0.5000", delta_text="1.00", side="bid"))


def queued(s: Subscription[Any]) -> list[Any]:
    return list(s._items)


def test_messages_reach_only_the_subscriptions_that_want_their_market() -> None:
    router = Router()
    a, b, both = sub(Books(("A",))), sub(Books(("B",))), sub(Books(("A", "B")))
    for s in (a, b, both):
        router.add(s)
    da, db = delta("A"), delta("B", 2)
    router.deliver("orderbook_delta", "A", da)
    router.deliver("orderbook_delta", "B", db)
    assert queued(a) == [da] and queued(b) == [db] and queued(both) == [da, db]


def test_a_message_without_a_market_goes_to_every_consumer_of_its_channel() -> None:
    router = Router()
    every, one = sub(Tickers()), sub(Tickers(("A",)))
    router.add(every)
    router.add(one)
    msg = Ticker(sid=2, msg=TickerBody(market_ticker="A"))
    router.deliver("ticker", "", msg)
    assert queued(every) == [msg] and queued(one) == [msg]
    router.deliver("ticker", "Z", msg)
    assert len(queued(every)) == 2 and len(queued(one)) == 1


def test_taps_see_each_message_before_the_consumers() -> None:
    order: list[str] = []
    router = Router(taps={"ticker": lambda m: order.append("tap")})
    s = Subscription(Tickers(), queue=4, on_close=lambda s: None, on_overflow=lambda s: None,
                     callback=lambda item: order.append("consumer"))
    router.add(s)
    router.deliver("ticker", "A", Ticker(sid=2, msg=TickerBody(market_ticker="A")))
    router.deliver("orderbook_delta", "A", delta("A"))  # no tap, no consumer: nothing
    assert order == ["tap", "consumer"]


def test_offer_skips_the_taps() -> None:
    seen: list[Any] = []
    router = Router(taps={"trade": seen.append})
    s = sub(Trades(("A",)))
    router.add(s)
    router.offer("trade", "A", "backfilled")
    router.offer("trade", "B", "other market")
    assert seen == [] and queued(s) == ["backfilled"]


def test_latency_is_recorded_only_when_the_runner_asks_for_a_sample() -> None:
    router = Router()
    now_ms = time.time_ns() // 1_000_000
    router.deliver("orderbook_delta", "A", delta("A", sent=now_ms - 5))
    assert router.latency.count == 0
    router.sample = True
    router.deliver("orderbook_delta", "A", delta("A", sent=now_ms - 5))
    assert router.latency.count == 1 and router.sample is False
    assert 4_000 <= router.latency.max <= 60_000_000


def test_stale_markers_go_to_the_consumers_of_the_markets_concerned() -> None:
    router = Router()
    a, b, c = sub(Books(("A",))), sub(Books(("B",))), sub(Books(("A", "B")))
    for s in (a, b, c):
        router.add(s)
    router.mark_stale("orderbook_delta", ("A",), "gap", skip=c)
    assert queued(a) == [Stale("orderbook_delta", ("A",), "gap")]
    assert queued(b) == [] and queued(c) == []
    router.mark_all_stale("disconnected")
    assert [type(x) for x in queued(b)] == [Stale] and len(queued(c)) == 1


def test_remove_reports_an_emptied_channel_and_tickers_still_wanted() -> None:
    router = Router()
    a, ab = sub(Books(("A",))), sub(Books(("A", "B")))
    router.add(a)
    router.add(ab)
    assert router.tickers("orderbook_delta") == {"A", "B"}
    assert router.remove(ab) is False
    assert router.tickers("orderbook_delta") == {"A"}
    assert router.remove(a) is True and router.routes == {}


def test_fail_ends_the_channel_with_the_error() -> None:
    router = Router()
    s = sub(Tickers())
    router.add(s)
    error = RuntimeError("boom")
    assert router.fail("ticker", error) == [s]
    assert s.closed and s.error is error and router.routes == {}
