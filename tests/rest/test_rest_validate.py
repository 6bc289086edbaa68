"""Bad arguments are refused before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from kalshi_margin_stream.core.rest_models import MarginMarket
from kalshi_margin_stream.exceptions import InvalidRequest
from kalshi_margin_stream.rest.validate import (
    DEFAULT_TICK,
    check_amend,
    check_count,
    check_create,
    check_decrease,
    check_price,
    check_side,
)

WHOLE = MarginMarket(ticker="KXBTCPERP", tick_size="0.0001", fractional_trading_enabled=False)
FRACTIONAL = MarginMarket(ticker="KXGOLD", tick_size="0.05", fractional_trading_enabled=True)


def _create(**over: object) -> object:
    args: dict[str, object] = dict(
        ticker="KXBTCPERP", side="bid", count="1", price="8.0961", client_order_id="c",
        time_in_force="good_till_canceled", self_trade_prevention_type="taker_at_cross")
    args.update(over)
    return check_create(**args)  # type: ignore[arg-type]


def test_valid_order_body() -> None:
    body = _create(count=Decimal("1E+1"), price=8)
    assert msgspec.json.encode(body) == (
        b'{"ticker":"KXBTCPERP","client_order_id":"c","side":"bid","count":"10","price":"8",'
        b'"time_in_force":"good_till_canceled","self_trade_prevention_type":"taker_at_cross"}')


@pytest.mark.parametrize("side", ["buy", "yes", "BID", "", None, 1])
def test_bad_side(side: object) -> None:
    with pytest.raises(InvalidRequest, match="side"):
        check_side(side)
    with pytest.raises(InvalidRequest, match="side"):
        _create(side=side)


@pytest.mark.parametrize("count", ["0", "-1", 0, "0.00", "1.001", "abc", 1.5, "NaN", "Infinity",
                                   True])
def test_bad_count(count: object) -> None:
    with pytest.raises(InvalidRequest, match="count"):
        _create(count=count)


def test_fractional_count_only_on_fractional_markets() -> None:
    assert check_count("1.50", market=FRACTIONAL) == Decimal("1.50")
    assert check_count("1.50") == Decimal("1.50")   # unknown market: the server decides
    with pytest.raises(InvalidRequest, match="whole contracts"):
        check_count("1.50", market=WHOLE)
    assert check_count("2.00", market=WHOLE) == 2


@pytest.mark.parametrize("price", ["8.09615", "0", "-8.0961", "8.00001", 8.0961])
def test_bad_price(price: object) -> None:
    with pytest.raises(InvalidRequest, match="price"):
        check_price(price)


@pytest.mark.parametrize("price", ["1e400", "1000000000000", "99999999999999999999.9999"])
def test_a_huge_price_is_an_invalid_request_not_a_decimal_error(price: str) -> None:
    with pytest.raises(InvalidRequest, match="too large"):
        check_price(price)
    assert check_price("999999999999.9999") == Decimal("999999999999.9999")


def test_tick_from_market_or_default() -> None:
    assert DEFAULT_TICK == Decimal("0.0001")
    assert check_price("8.05", market=FRACTIONAL) == Decimal("8.05")
    with pytest.raises(InvalidRequest, match="tick 0.05 of KXGOLD"):
        check_price("8.07", market=FRACTIONAL)
    assert check_price("8.0961", market=MarginMarket(ticker="X", tick_size="")) == \
        Decimal("8.0961")


def test_reduce_only_needs_ioc_or_fok() -> None:
    with pytest.raises(InvalidRequest, match="reduce_only"):
        _create(reduce_only=True)
    ioc = _create(reduce_only=True, time_in_force="immediate_or_cancel")
    assert ioc.reduce_only is True
    assert ioc.time_in_force == "immediate_or_cancel"
    assert _create(reduce_only=False).reduce_only in (False, None)


@pytest.mark.parametrize(("field", "value"), [
    ("time_in_force", "gtc"), ("self_trade_prevention_type", "none"), ("ticker", ""),
    ("client_order_id", ""), ("subaccount", 64), ("subaccount", -1), ("subaccount", True),
    ("expiration_time", -5),
])
def test_bad_fields(field: str, value: object) -> None:
    with pytest.raises(InvalidRequest):
        _create(**{field: value})


def test_decrease_needs_exactly_one() -> None:
    with pytest.raises(InvalidRequest, match="exactly one"):
        check_decrease()
    with pytest.raises(InvalidRequest, match="exactly one"):
        check_decrease(reduce_by="1", reduce_to="1")
    with pytest.raises(InvalidRequest, match="reduce_by"):
        check_decrease(reduce_by="0")
    assert check_decrease(reduce_to="0").reduce_to == 0
    assert check_decrease(reduce_by=2).reduce_by == 2


def test_amend_checks() -> None:
    body = check_amend(ticker="KXBTCPERP", side="ask", price="8.1", count=3, market=WHOLE)
    assert (body.price, body.count) == (Decimal("8.1"), Decimal("3"))
    with pytest.raises(InvalidRequest):
        check_amend(ticker="KXBTCPERP", side="ask", price="8.1", count="2.5", market=WHOLE)
    with pytest.raises(InvalidRequest):
        check_amend(ticker="", side="ask", price="8.1", count=3)
