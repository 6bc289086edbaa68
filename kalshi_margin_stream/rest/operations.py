"""Which :class:`~.client.RestClient` method serves each operation of Kalshi's OpenAPI.

Keyed by the spec's ``operationId`` (2026-09 perps file); a unit test walks the spec's
operations and fails on one missing here or naming no method.
"""

from __future__ import annotations

__all__ = ["OPERATIONS"]

OPERATIONS: dict[str, str] = {
    "CreateMarginFCMSubtrader": "create_fcm_subtrader",
    "GetFCMSubtraderRiskControls": "get_fcm_subtrader_risk_controls",
    "UpdateFCMSubtraderRiskControls": "set_fcm_subtrader_risk_controls",
    "DeleteFCMSubtraderRiskControls": "delete_fcm_subtrader_risk_controls",
    "UpdateFCMNotionalRiskLimit": "set_fcm_notional_risk_limit",
    "DeleteFCMNotionalRiskLimit": "delete_fcm_notional_risk_limit",
    "GetPerpsAccountApiLimits": "get_account_limits",
    "GetMarginExchangeStatus": "get_exchange_status",
    "GetMarginRiskParameters": "get_risk_parameters",
    "GetMarginOrders": "list_orders",
    "CreateMarginOrder": "create_order",
    "CancelAllMarginOrders": "cancel_all_orders",
    "GetMarginOrder": "get_order",
    "CancelMarginOrder": "cancel_order",
    "DecreaseMarginOrder": "decrease_order",
    "AmendMarginOrder": "amend_order",
    "GetMarginMarkets": "list_markets",
    "GetMarginMarket": "get_market",
    "GetMarginMarketOrderbook": "get_orderbook",
    "GetMarginMarketCandlesticks": "get_candlesticks",
    "GetMarginFills": "list_fills",
    "GetMarginPositions": "get_positions",
    "GetMarginTrades": "list_trades",
    "GetMarginEnabled": "is_margin_enabled",
    "GetMarginNotionalRiskLimit": "get_notional_risk_limit",
    "GetMarginBalance": "get_balance",
    "GetMarginRisk": "get_risk",
    "GetMarginFeeTiers": "get_fee_tiers",
    "GetMarginFeeTierRates": "get_fee_tier_rates",
    "GetMarginFundingHistory": "get_funding_history",
    "GetMarginHistoricalFundingRates": "get_historical_funding_rates",
    "GetMarginFundingRateEstimate": "get_funding_estimate",
    "IntraExchangeInstanceTransfer": "intra_exchange_transfer",
    "CreateMarginSubaccount": "create_subaccount",
    "ApplyMarginSubaccountTransfer": "transfer_between_subaccounts",
    "GetMarginOrderGroups": "list_order_groups",
    "CreateMarginOrderGroup": "create_order_group",
    "GetMarginOrderGroup": "get_order_group",
    "DeleteMarginOrderGroup": "delete_order_group",
    "ResetMarginOrderGroup": "reset_order_group",
    "TriggerMarginOrderGroup": "trigger_order_group",
    "UpdateMarginOrderGroupLimit": "update_order_group_limit",
    "SetIsolatedMarginExitTrigger": "set_isolated_exit_trigger",
    "GetIsolatedMarginExitTriggers": "get_isolated_exit_triggers",
    "DeleteIsolatedMarginExitTrigger": "delete_isolated_exit_trigger",
    "SetCrossMarginExitTrigger": "set_cross_exit_trigger",
    "GetCrossMarginExitTriggers": "get_cross_exit_triggers",
    "DeleteCrossMarginExitTrigger": "delete_cross_exit_triggers",
    "UpdateCrossMarginExitTrigger": "update_cross_exit_trigger",
    "DeleteCrossMarginExitTriggerById": "delete_cross_exit_trigger",
}
