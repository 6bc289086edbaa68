"""The REST client's models against Kalshi's official OpenAPI (``perps_openapi.yaml``).

Every property the spec lists is a field of our Struct (nothing silently dropped),
every field we *require* is required by the spec too (we never refuse a valid answer),
and the request bodies the client builds validate against the request schemas.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from kalshi_margin_stream.core import rest_models as m
from kalshi_margin_stream.rest.validate import check_amend, check_create, check_decrease
from kalshi_margin_stream.rest.validate_triggers import (
    check_cross_trigger,
    check_isolated_trigger,
    check_trigger_update,
)

from .schemas import OPENAPI, Spec, require_spec

pytestmark = pytest.mark.conformance

MODELS: dict[str, type[msgspec.Struct]] = {
    "ExchangeStatus": m.ExchangeStatus,
    "MarginEnabledResponse": m.MarginEnabled,
    "GetAccountApiLimitsResponse": m.AccountLimits,
    "BucketLimit": m.BucketLimit,
    "ApiUsageLevelGrant": m.ApiUsageLevelGrant,
    "MarginMarket": m.MarginMarket,
    "MarginMarketSchedule": m.MarketSchedule,
    "TickerPrice": m.TickerPrice,
    "MarginMarketResponse": m.MarketResponse,
    "GetMarginMarketsResponse": m.MarketsResponse,
    "MarginOrderbookCount": m.Orderbook,
    "MarginOrderbookResponse": m.OrderbookResponse,
    "GetMarginMarketCandlesticksResponse": m.CandlesticksResponse,
    "MarginMarketCandlestick": m.Candlestick,
    "BidAskDistributionHistorical": m.BidAskOHLC,
    "PriceDistributionHistorical": m.PriceOHLC,
    "GetMarginTradesResponse": m.TradesResponse,
    "MarginTrade": m.Trade,
    "CreateMarginOrderRequest": m.CreateOrderRequest,
    "CreateMarginOrderResponse": m.CreateOrderResponse,
    "MarginOrder": m.MarginOrder,
    "GetMarginOrderResponse": m.OrderResponse,
    "GetMarginOrdersResponse": m.OrdersResponse,
    "CancelMarginOrderResponse": m.CancelOrderResponse,
    "DecreaseMarginOrderRequest": m.DecreaseOrderRequest,
    "DecreaseMarginOrderResponse": m.DecreaseOrderResponse,
    "AmendMarginOrderRequest": m.AmendOrderRequest,
    "AmendMarginOrderResponse": m.AmendOrderResponse,
    "CreateOrderGroupRequest": m.CreateOrderGroupRequest,
    "CreateOrderGroupResponse": m.CreateOrderGroupResponse,
    "OrderGroup": m.OrderGroup,
    "GetOrderGroupsResponse": m.OrderGroupsResponse,
    "GetOrderGroupResponse": m.OrderGroupDetail,
    "UpdateOrderGroupLimitRequest": m.UpdateOrderGroupLimitRequest,
    "GetMarginFillsResponse": m.FillsResponse,
    "MarginFill": m.Fill,
    "GetMarginPositionsResponse": m.PositionsResponse,
    "MarginPosition": m.Position,
    "MarginSubaccountBalance": m.SubaccountBalance,
    "GetMarginBalanceResponse": m.BalanceResponse,
    "MarginRiskPosition": m.RiskPosition,
    "GetMarginRiskResponse": m.RiskResponse,
    "GetMarginRiskParametersResponse": m.RiskParameters,
    "NotionalRiskLimitResponse": m.NotionalRiskLimit,
    "GetMarginFeeTiersResponse": m.FeeTiers,
    "MarginFundingHistoryEntry": m.FundingHistoryEntry,
    "GetMarginFundingHistoryResponse": m.FundingHistoryResponse,
    "MarginFundingRate": m.HistoricalFundingRate,
    "GetMarginHistoricalFundingRatesResponse": m.HistoricalFundingRatesResponse,
    "GetMarginFundingRateEstimateResponse": m.FundingEstimate,
    "CreateSubaccountResponse": m.CreateSubaccountResponse,
    "ApplySubaccountTransferRequest": m.SubaccountTransferRequest,
    "ApplySubaccountTransferResponse": m.EmptyResponse,
    "IntraExchangeInstanceTransferRequest": m.IntraExchangeTransferRequest,
    "IntraExchangeInstanceTransferResponse": m.IntraExchangeTransferResponse,
    "EmptyResponse": m.EmptyResponse,
    "GetMarginFeeTierRatesResponse": m.FeeTierRatesResponse,
    "MarginFeeTierRate": m.FeeTierRate,
    "ExitTrigger": m.ExitTrigger,
    "GetExitTriggersResponse": m.ExitTriggersResponse,
    "SetCrossExitTriggerRequest": m.SetCrossExitTriggerRequest,
    "SetIsolatedExitTriggerRequest": m.SetIsolatedExitTriggerRequest,
    "UpdateExitTriggerRequest": m.UpdateExitTriggerRequest,
    "CreateMarginFCMSubtraderRequest": m.CreateFCMSubtraderRequest,
    "CreateMarginFCMSubtraderResponse": m.CreateFCMSubtraderResponse,
    "UpdateFCMSubtraderRiskControlsRequest": m.UpdateFCMSubtraderRiskControlsRequest,
    "GetFCMSubtraderRiskControlsResponse": m.FCMSubtraderRiskControlsResponse,
    "FCMSubtraderRiskControls": m.FCMSubtraderRiskControls,
    "FCMSubtraderNotionalRiskLimit": m.FCMSubtraderNotionalRiskLimit,
    "UpdateFCMNotionalRiskLimitRequest": m.FCMNotionalRiskLimitRequest,
}

# The one object schema not modelled: the error body (parsed by rest/errors.py in all its
# shapes).
NOT_MODELLED = {"ErrorResponse"}


@pytest.fixture(scope="module")
def spec() -> Spec:
    require_spec()
    return Spec(OPENAPI)


def _schemas(spec: Spec) -> dict[str, Any]:
    return spec.doc["components"]["schemas"]  # type: ignore[no-any-return]


def _fields(model: type[msgspec.Struct]) -> dict[str, bool]:
    """Field name -> required (no default)."""
    return {f.encode_name: f.required for f in msgspec.structs.fields(model)}


def test_every_object_schema_is_modelled(spec: Spec) -> None:
    objects = {name for name, s in _schemas(spec).items()
               if s.get("type") == "object" or "properties" in s}
    assert objects - NOT_MODELLED == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_has_every_spec_property(spec: Spec, name: str) -> None:
    schema = _schemas(spec)[name]
    missing = set(schema.get("properties", {})) - set(_fields(MODELS[name]))
    assert not missing, f"{MODELS[name].__name__} lacks {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_requires_only_what_the_spec_requires(spec: Spec, name: str) -> None:
    required = set(_schemas(spec)[name].get("required", []))
    ours = {field for field, req in _fields(MODELS[name]).items() if req}
    assert ours <= required, f"{name}: we require {sorted(ours - required)} beyond the spec"


def _body(struct: msgspec.Struct) -> Any:
    return msgspec.json.decode(msgspec.json.encode(struct))


def test_request_bodies_validate(spec: Spec) -> None:
    bodies: list[tuple[str, msgspec.Struct]] = [
        ("CreateMarginOrderRequest", check_create(
            ticker="KXBTCPERP", side="bid", count=3, price="8.0961", client_order_id="c-1",
            time_in_force="immediate_or_cancel", self_trade_prevention_type="maker",
            reduce_only=True, post_only=False, cancel_order_on_pause=True, subaccount=2,
            order_group_id="g-1", expiration_time=1_800_000_000)),
        ("DecreaseMarginOrderRequest", check_decrease(reduce_by="2")),
        ("DecreaseMarginOrderRequest", check_decrease(reduce_to=0)),
        ("AmendMarginOrderRequest", check_amend(ticker="KXBTCPERP", side="ask",
                                                price="8.1", count=4,
                                                updated_client_order_id="c-2")),
        ("CreateOrderGroupRequest", m.CreateOrderGroupRequest(contracts_limit=10,
                                                              subaccount=0)),
        ("CreateOrderGroupRequest", m.CreateOrderGroupRequest(
            contracts_limit_fp=Decimal("10.00"), exchange_index=0)),
        ("UpdateOrderGroupLimitRequest", m.UpdateOrderGroupLimitRequest(contracts_limit=5)),
        ("ApplySubaccountTransferRequest", m.SubaccountTransferRequest(
            client_transfer_id="5b8f3c2e-1d2a-4c9b-9f8e-7a6b5c4d3e2f", from_subaccount=0,
            to_subaccount=1, amount_cents=500)),
        ("IntraExchangeInstanceTransferRequest", m.IntraExchangeTransferRequest(
            source="event_contract", destination="margined", amount=5_000_000,
            source_exchange_shard=0, destination_exchange_shard=0)),
        ("SetCrossExitTriggerRequest", check_cross_trigger(
            stop_loss_price="7.5", take_profit_price="9.25", count=2, client_trigger_id="k")),
        ("SetCrossExitTriggerRequest", check_cross_trigger(
            take_profit_price="9", anchor_order_id="o-1", client_trigger_id="k")),
        ("SetCrossExitTriggerRequest", check_cross_trigger(kind="trailing", trail_bps=9999)),
        ("SetIsolatedExitTriggerRequest", check_isolated_trigger(kind="trailing",
                                                                 trail_amount="0.25")),
        ("UpdateExitTriggerRequest", check_trigger_update(stop_loss_price="7.1")),
        ("CreateMarginFCMSubtraderRequest", m.CreateFCMSubtraderRequest(
            subtrader_suffix="Desk1")),
        ("UpdateFCMSubtraderRiskControlsRequest", m.UpdateFCMSubtraderRiskControlsRequest(
            subtrader_id="u_desk1", im_cap=Decimal("100.0000"), asset_class="Metals")),
        ("UpdateFCMNotionalRiskLimitRequest", m.FCMNotionalRiskLimitRequest(
            notional_value_risk_limit=Decimal("5000.0000"))),
    ]
    for name, struct in bodies:
        errors = spec.errors(f"#/components/schemas/{name}", _body(struct))
        assert not errors, (name, errors)
