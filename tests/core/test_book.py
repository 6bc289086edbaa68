"""OrderBook rules: atomic snapshots, signed deltas, desync detection, cheap reads."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kalshi_margin_stream.core.book import BookStatus, OrderBook
from kalshi_margin_stream.exceptions import BookDesync


def book_with(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    b = OrderBook("T")
    b.apply_snapshot([(D(p), D(s)) for p, s in bids], [(D(p), D(s)) for p, s in asks])
    return b


def test_snapshot_orders_levels_best_first_whatever_the_wire_order() -> None:
    b = book_with([("1.0", "1"), ("1.2", "2"), ("1.1", "3")], [("1.5", "4"), ("1.3", "5")])
    assert b.best_bid() == (D("1.2"), D("2"))
    assert b.best_ask() == (D("1.3"), D("5"))
    assert b.top("bid", 2) == [(D("1.2"), D("2")), (D("1.1"), D("3"))]
    assert b.top("ask", 10) == [(D("1.3"), D("5")), (D("1.5"), D("4"))]
    assert b.status is BookStatus.SYNCED and b.is_synced
    assert b.mid() == D("1.25")


def test_snapshot_replaces_everything_no_ghost_levels() -> None:
    b = book_with([("1.0", "1"), ("0.9", "1")], [("2.0", "1")])
    b.apply_snapshot([(D("1.1"), D("7"))], [])
    assert b.bids() == [(D("1.1"), D("7"))]
    assert b.asks() == [] and b.best_ask() is None
    assert b.size_at("bid", D("1.0")) == 0


def test_snapshot_skips_zero_levels_and_rejects_negative_or_crossed() -> None:
    b = book_with([("1.0", "0"), ("0.9", "1")], [])
    assert b.bids() == [(D("0.9"), D("1"))]
    before = b.bids()
    with pytest.raises(BookDesync):
        b.apply_snapshot([(D("1.0"), D("-1"))], [])
    with pytest.raises(BookDesync):
        b.apply_snapshot([(D("2.0"), D("1"))], [(D("1.5"), D("1"))])
    assert b.bids() == before  # nothing changed


def test_delta_adds_signed_change_and_removes_level_at_zero() -> None:
    b = book_with([("1.0", "5.00")], [("2.0", "3.00")])
    b.apply_delta("bid", D("1.0"), D("-2.00"))
    assert b.best_bid() == (D("1.0"), D("3.00"))
    b.apply_delta("bid", D("1.0"), D("-3.00"))
    assert b.best_bid() is None and b.depth == (0, 1)
    b.apply_delta("ask", D("1.9"), D("1.00"))
    assert b.best_ask() == (D("1.9"), D("1.00"))
    b.apply_delta("bid", D("1.5"), D("2"))
    assert b.to_json_levels() == {"bids": [["1.5", "2.00"]], "asks": [["1.9", "1.00"],
                                                                      ["2.0", "3.00"]]}


def test_equal_prices_written_differently_are_one_level() -> None:
    b = book_with([("8.0961", "1.00")], [])
    b.apply_delta("bid", D("8.09610"), D("2.00"))
    assert b.depth == (1, 0) and b.best_bid() == (D("8.0961"), D("3.00"))


@pytest.mark.parametrize(("side", "price", "delta"), [
    ("bid", "1.0", "-6"),      # below zero
    ("bid", "0.5", "-1"),      # negative on an empty level
    ("bid", "2.0", "1"),       # bid at the best ask: crossed
    ("ask", "1.0", "1"),       # ask at the best bid: crossed
])
def test_impossible_delta_raises_and_changes_nothing(side: str, price: str, delta: str) -> None:
    b = book_with([("1.0", "5")], [("2.0", "5")])
    with pytest.raises(BookDesync) as info:
        b.apply_delta(side, D(price), D(delta))
    assert info.value.ticker == "T"
    assert b.bids() == [(D("1.0"), D("5"))] and b.asks() == [(D("2.0"), D("5"))]


def test_bad_side_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        OrderBook("T").apply_delta("buy", D(1), D(1))
    with pytest.raises(ValueError):
        OrderBook("T").top("buy", 1)


def test_top_n_handles_zero_and_large_n() -> None:
    b = book_with([(f"1.{i:02d}", "1") for i in range(20)], [])
    assert b.top("bid", 0) == []
    assert [p for p, _ in b.top("bid", 3)] == [D("1.19"), D("1.18"), D("1.17")]
    assert len(b.top("bid", 100)) == 20


def test_new_book_is_stale_and_clear_resets() -> None:
    b = OrderBook("T")
    assert b.status is BookStatus.STALE and b.best_bid() is None and b.mid() is None
    b = book_with([("1", "1")], [("2", "1")])
    b.clear()
    assert b.depth == (0, 0) and b.status is BookStatus.STALE
    assert "T" in repr(b)


def test_real_kalshi_strings_round_trip_unchanged_through_int_ticks() -> None:
    b = OrderBook("KXBTCPERP")
    b.apply_snapshot([("8.0961", "617.00"), ("8.0958", "12.50")], [("8.1002", "0.01")])
    b.apply_delta("bid", "8.0961", "-17.00")
    b.apply_delta("ask", "8.0999", "3.25")
    assert b.to_json_levels() == {"bids": [["8.0961", "600.00"], ["8.0958", "12.50"]],
                                  "asks": [["8.0999", "3.25"], ["8.1002", "0.01"]]}
    top = b.best_bid()
    assert top == (D("8.0961"), D("600.00")) and str(top[0]) == "8.0961"
    assert b.mid() == (D("8.0961") + D("8.0999")) / 2
    assert b._bids == {80961: 60000, 80958: 1250}  # ints inside


def test_the_same_value_written_differently_is_one_level() -> None:
    b = OrderBook("T")
    b.apply_snapshot([("8.0961", "1.00")], [])
    b.apply_delta("bid", "8.09610", "2")
    b.apply_delta("bid", D("8.096100"), D("0.5"))
    assert b.bids() == [(D("8.0961"), D("3.50"))] and b.depth == (1, 0)
    assert b.size_at("bid", "8.096100") == D("3.5") and b.size_at("bid", "9") == 0


def test_finer_values_rescale_the_book_without_rounding() -> None:
    b = OrderBook("T")
    b.apply_snapshot([("1.0001", "1.00")], [("2.0000", "1.00")])
    b.apply_delta("bid", "1.00005", "0.001")  # five price places, three size places
    assert b.bids() == [(D("1.0001"), D("1.00")), (D("1.00005"), D("0.001"))]
    b.apply_delta("bid", "1.0001", "-1")
    assert b.best_bid() == (D("1.00005"), D("0.001"))
    assert str(b.best_ask()[1]) == "1.000"  # type: ignore[index]  # now at 3 places


@pytest.mark.parametrize(("price", "delta"), [("NaN", "1"), ("1.0", "Infinity"),
                                              ("abc", "1"), ("1.0", "1e-40")])
def test_values_that_are_not_finite_decimals_are_desyncs_and_change_nothing(
        price: str, delta: str) -> None:
    b = OrderBook("T")
    b.apply_snapshot([("0.5", "1.00")], [("2.0", "1.00")])
    before = b.to_json_levels()
    with pytest.raises(BookDesync):
        b.apply_delta("bid", price, delta)
    assert b.to_json_levels() == before


def test_best_levels_are_kept_until_an_update_touches_that_side_s_best() -> None:
    book = OrderBook("X")
    book.apply_snapshot([("0.40", "1"), ("0.30", "2")], [("0.60", "3"), ("0.70", "4")])
    bid, ask = book.best_bid(), book.best_ask()
    assert bid == (D("0.40"), D("1.00")) and ask == (D("0.60"), D("3.00"))
    book.apply_delta("bid", "0.30", "5")  # below the best bid: both reads unchanged
    book.apply_delta("ask", "0.70", "-4")  # behind the best ask, level removed
    assert book.best_bid() is bid and book.best_ask() is ask
    book.apply_delta("bid", "0.40", "2")  # the best bid's size
    assert book.best_bid() == (D("0.40"), D("3.00")) and book.best_ask() is ask
    book.apply_delta("bid", "0.45", "1")  # a better bid
    assert book.best_bid() == (D("0.45"), D("1.00"))
    book.apply_delta("ask", "0.55", "1")  # a better ask
    assert book.best_ask() == (D("0.55"), D("1.00"))
    book.apply_delta("ask", "0.55", "-1")  # the best ask goes: the next one shows
    assert book.best_ask() == ask
    book.apply_delta("bid", "0.45", "-1")
    book.apply_delta("bid", "0.40", "-3")
    book.apply_delta("bid", "0.30", "-7")  # the side empties
    assert book.best_bid() is None
    book.apply_delta("bid", "0.10", "1")  # any bid is the best of an empty side
    assert book.best_bid() == (D("0.10"), D("1.00"))
    with pytest.raises(BookDesync):
        book.apply_delta("bid", "0.60", "1")  # would cross: rejected, reads unchanged
    assert book.best_bid() == (D("0.10"), D("1.00")) and book.best_ask() == ask
    book.apply_delta("ask", "0.5999999", "1")  # a finer (better) price rescales the book
    assert book.best_ask() == (D("0.5999999"), D("1.00"))
    book.apply_delta("ask", "0.5999999", "-1")
    assert [str(v) for v in book.best_ask() or ()] == ["0.60", "3.00"]
    book.apply_snapshot([("0.20", "1")], [])  # a snapshot replaces both
    assert book.best_bid() == (D("0.20"), D("1.00")) and book.best_ask() is None
    book.clear()
    assert book.best_bid() is None
