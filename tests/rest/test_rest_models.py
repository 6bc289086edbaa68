"""Every recorded REST answer decodes into its model (copies of ../shared fixtures)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from kalshi_margin_stream.core import rest_models as m

DATA = Path(__file__).parents[1] / "data" / "rest"

# Fixture stem -> the model its 2xx body decodes into.
OK: dict[str, type[msgspec.Struct]] = {
    "account__limits_perps": m.AccountLimits,
    "auth__margin_balance": m.BalanceResponse,
    "auth__margin_enabled_ok": m.MarginEnabled,
    "auth__skew_minus5s": m.BalanceResponse,
    "auth__skew_plus30s": m.BalanceResponse,
    "auth__skew_plus5s": m.BalanceResponse,
    "balance__compute_available": m.BalanceResponse,
    "exchange__status": m.ExchangeStatus,
    "fees__tiers": m.FeeTiers,
    "fills__after_open": m.FillsResponse,
    "funding__history_baseline": m.FundingHistoryResponse,
    "funding__rates_estimate": m.FundingEstimate,
    "funding__rates_historical": m.HistoricalFundingRatesResponse,
    "groups__create": m.CreateOrderGroupResponse,
    "groups__delete": m.EmptyResponse,
    "groups__list": m.OrderGroupsResponse,
    "groups__reset": m.EmptyResponse,
    "groups__trigger": m.EmptyResponse,
    "groups__update_limit": m.EmptyResponse,
    "markets__list": m.MarketsResponse,
    "markets__single": m.MarketResponse,
    "orderbook__agg_010": m.OrderbookResponse,
    "orderbook__depth0": m.OrderbookResponse,
    "orderbook__depth5": m.OrderbookResponse,
    "orders__amend_decrease": m.AmendOrderResponse,
    "orders__amend_price": m.AmendOrderResponse,
    "orders__cancel": m.CancelOrderResponse,
    "orders__cancel_after_amend": m.CancelOrderResponse,
    "orders__cancel_after_decrease": m.CancelOrderResponse,
    "orders__create_for_decrease": m.CreateOrderResponse,
    "orders__create_gtc": m.CreateOrderResponse,
    "orders__create_in_group": m.CreateOrderResponse,
    "orders__create_post_only": m.CreateOrderResponse,
    "orders__decrease_reduce_by": m.DecreaseOrderResponse,
    "orders__filter_canceled": m.OrdersResponse,
    "orders__filter_executed": m.OrdersResponse,
    "orders__filter_garbage": m.OrdersResponse,
    "orders__filter_open": m.OrdersResponse,
    "orders__filter_resting": m.OrdersResponse,
    "orders__final_resting": m.OrdersResponse,
    "orders__funding_position_ioc": m.CreateOrderResponse,
    "orders__list_all": m.OrdersResponse,
    "positions__blocked": m.PositionsResponse,
    "positions__final": m.PositionsResponse,
    "positions__open": m.PositionsResponse,
    "risk__account": m.RiskResponse,
    "risk__notional_limit": m.NotionalRiskLimit,
    "risk__parameters": m.RiskParameters,
    "subaccounts__create": m.CreateSubaccountResponse,
    "subaccounts__transfer_back": m.EmptyResponse,
    "subaccounts__transfer_first": m.EmptyResponse,
    "live/live_demo_funding_estimate_btc": m.FundingEstimate,
    "live/live_demo_margin_markets": m.MarketsResponse,
    "live/live_demo_risk_parameters": m.RiskParameters,
    "live/live_prod_funding_estimate_btc": m.FundingEstimate,
    "live/live_prod_funding_hist_all": m.HistoricalFundingRatesResponse,
    "live/live_prod_funding_hist_btc": m.HistoricalFundingRatesResponse,
    "live/live_prod_margin_exchange_status": m.ExchangeStatus,
    "live/live_prod_margin_markets": m.MarketsResponse,
    "live/live_prod_market_btc": m.MarketResponse,
    "live/live_prod_orderbook_btc": m.OrderbookResponse,
    "live/live_prod_risk_parameters": m.RiskParameters,
    "live/live_prod_trades_btc": m.TradesResponse,
}


def test_every_2xx_fixture_is_mapped() -> None:
    stems = set()
    for meta in DATA.glob("*.meta.json"):
        info = json.loads(meta.read_text())
        stem = meta.name[: -len(".meta.json")]
        if stem != "session__manifest" and 200 <= info.get("status", 0) < 300 \
                and (DATA / f"{stem}.json").exists():
            stems.add(stem)
    live = {f"live/{p.stem}" for p in (DATA / "live").glob("*.json")}
    assert stems | live == set(OK)


@pytest.mark.parametrize("stem", sorted(OK))
def test_fixture_decodes_and_round_trips(stem: str) -> None:
    raw = (DATA / f"{stem}.json").read_bytes()
    obj = msgspec.json.decode(raw, type=OK[stem])
    # Re-encoding then decoding is stable, and every wire key we model survives.
    again = msgspec.json.decode(msgspec.json.encode(obj), type=OK[stem])
    assert again == obj


def test_order_fields_exact_and_times_in_ms() -> None:
    resp = msgspec.json.decode((DATA / "orders__list_all.json").read_bytes(),
                               type=m.OrdersResponse)
    first = resp.orders[0]
    assert first.price == Decimal("5.3829")
    assert str(first.remaining_count) == "0.00"
    assert first.created_time == "2026-06-12T04:07:38.474541Z"
    assert first.created_time_ms == 1781237258474
    assert first.last_update_time_ms == 1781237261101
    assert first.expiration_time_ms is None
    assert not first.is_resting
    assert resp.cursor == "EhIKEM_HCbBmK0e7qjMWIbGBYBUaCwjIia7RBhD4ybwX"


def test_rates_are_exact_decimals() -> None:
    hist = msgspec.json.decode((DATA / "funding__rates_historical.json").read_bytes(),
                               type=m.HistoricalFundingRatesResponse)
    assert hist.funding_rates[0].funding_rate == Decimal("-0.0009593552948286")
    assert hist.funding_rates[0].funding_time_ms == 1781208000000
    params = msgspec.json.decode((DATA / "risk__parameters.json").read_bytes(),
                                 type=m.RiskParameters)
    assert params.liquidation_margin_ratio_threshold == 1
    assert params.initial_margin_multiplier["KXHYPEPERP1"] == Decimal("1.1")


def test_market_tick_and_book_sorting() -> None:
    single = msgspec.json.decode((DATA / "markets__single.json").read_bytes(),
                                 type=m.MarketResponse)
    assert single.market.tick_size == "" and single.market.tick is None
    listing = msgspec.json.decode((DATA / "markets__list.json").read_bytes(),
                                  type=m.MarketsResponse)
    assert listing.markets[0].tick == Decimal("0.0001")
    book = msgspec.json.decode((DATA / "orderbook__depth5.json").read_bytes(),
                               type=m.OrderbookResponse).orderbook
    assert book.sorted_bids()[0] == (Decimal("6.3329"), Decimal("343.00"))
    assert book.sorted_asks()[0] == (Decimal("6.3416"), Decimal("658.00"))


def test_balance_lookup_by_subaccount() -> None:
    bal = msgspec.json.decode((DATA / "balance__compute_available.json").read_bytes(),
                              type=m.BalanceResponse)
    zero = bal.for_subaccount(0)
    assert zero is not None and zero.available_balance == Decimal("48.9505")
    assert bal.for_subaccount(63) is None
    assert bal.settled_funds == Decimal("50.0500")


@pytest.mark.parametrize(("text", "ms"), [
    ("1970-01-01T00:00:00Z", 0),
    ("2026-06-12T20:00:00Z", 1781294400000),
    ("2026-06-12T04:07:38.474541Z", 1781237258474),
    ("2026-06-12T04:07:38.4749999Z", 1781237258474),
    ("2026-06-12T06:07:38.474+02:00", 1781237258474),
    ("1969-12-31T23:59:59.9995Z", -1),
])
def test_rfc3339_to_ms(text: str, ms: int) -> None:
    assert m.rfc3339_to_ms(text) == ms


def test_rfc3339_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        m.rfc3339_to_ms("yesterday")


def test_request_bodies_encode_decimal_strings_and_omit_unset() -> None:
    body = m.CreateOrderRequest(ticker="KXBTCPERP", client_order_id="c1", side="bid",
                                count=Decimal("1"), price=Decimal("5.3829"),
                                time_in_force="good_till_canceled",
                                self_trade_prevention_type="taker_at_cross", post_only=False)
    assert json.loads(msgspec.json.encode(body)) == {
        "ticker": "KXBTCPERP", "client_order_id": "c1", "side": "bid", "count": "1",
        "price": "5.3829", "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross", "post_only": False}
    assert msgspec.json.encode(m.DecreaseOrderRequest(reduce_by=Decimal("1"))) == \
        b'{"reduce_by":"1"}'
