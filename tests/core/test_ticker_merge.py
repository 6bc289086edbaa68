"""The ticker merge in place: newer fields win, older ones are ignored, reads see it all."""

from __future__ import annotations

from decimal import Decimal

from kalshi_margin_stream.core.margin.state import MarginState
from kalshi_margin_stream.core.messages import FundingRate, TickerBody, TickerPrice


def body(ts: int, price: str, *, mark_ts: int | None = None, funding_ts: int | None = None
         ) -> TickerBody:
    return TickerBody(
        market_ticker="A", price=Decimal(price), bid=Decimal(price) - 1, ts_ms=ts,
        settlement_mark_price=TickerPrice(price=Decimal(price), ts_ms=mark_ts or ts),
        funding_rate=FundingRate(rate=Decimal("0.0001") * ts, ts_ms=funding_ts or ts))


def test_newer_fields_win_and_older_ones_are_ignored() -> None:
    state = MarginState()
    assert state.apply_ticker(body(10, "5.0000"))
    assert state.apply_ticker(body(20, "6.0000"))
    assert not state.apply_ticker(body(15, "1.0000"))  # older everywhere
    assert not state.apply_ticker(body(20, "6.0000"))  # the same again
    view = state.snapshot().markets["A"]
    assert (view.last_price, view.bid, view.ts_ms) == (Decimal("6.0000"), Decimal("5.0000"), 20)
    assert view.settlement_mark == Decimal("6.0000") and view.funding_ts_ms == 20
    assert state.snapshot().counters["ticker_unchanged"] == 2


def test_a_partly_newer_ticker_takes_only_its_newer_parts() -> None:
    state = MarginState()
    state.apply_ticker(body(10, "5.0000", mark_ts=30))
    state.apply_ticker(body(20, "7.0000", mark_ts=25))  # price newer, mark older
    view = state.snapshot().markets["A"]
    assert view.last_price == Decimal("7.0000") and view.ts_ms == 20
    assert view.settlement_mark == Decimal("5.0000") and view.settlement_mark_ts_ms == 30


def test_views_read_between_tickers_are_immutable_values() -> None:
    state = MarginState()
    state.apply_ticker(body(10, "5.0000"))
    first = state.snapshot().markets["A"]
    state.apply_ticker(body(11, "5.5000"))
    second = state.snapshot().markets["A"]
    assert first.last_price == Decimal("5.0000") and second.last_price == Decimal("5.5000")
    state.apply_ticker(body(12, "5.7500"))
    assert state.snapshot().markets["A"].ts_ms == 12 and second.ts_ms == 11
