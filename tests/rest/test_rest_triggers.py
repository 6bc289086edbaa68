"""Exit-trigger and FCM methods: typed errors before sending, bodies, retry kinds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kalshi_margin_stream.exceptions import ConnectionLost, InvalidRequest
from kalshi_margin_stream.rest import RestClient
from kalshi_margin_stream.rest.testing import ScriptedSend as Script
from kalshi_margin_stream.rest.testing import error_response as err
from kalshi_margin_stream.rest.testing import json_response as ok

MakeClient = Callable[..., RestClient]
MARKET = {"ticker": "KXBTCPERP", "title": "BTC", "tick_size": "0.0001",
          "fractional_trading_enabled": True, "status": "active"}
TRIGGER = {"id": "t-1", "ticker": "KXBTCPERP", "kind": "bracket", "status": "active",
           "count": "0.00", "filled_count": "0.00", "created_time": "2026-09-04T05:33:20Z",
           "updated_time": "2026-09-04T05:33:20Z", "take_profit_price": "9.0000"}


def market_reply() -> Any:
    return ok({"market": MARKET})


@pytest.mark.parametrize("kw, words", [
    ({"stop_loss_price": "8.00005"}, "decimal places"),
    ({"stop_loss_price": "8.00015", "take_profit_price": "9"}, "decimal places"),
    ({"kind": "trailing", "trail_bps": 0}, "trail_bps"),
    ({"kind": "trailing", "trail_bps": 10000}, "trail_bps"),
    ({"kind": "trailing", "trail_bps": True}, "trail_bps"),
    ({"kind": "trailing", "trail_bps": 5, "trail_amount": "0.1"}, "exactly one"),
    ({"kind": "trailing", "stop_loss_price": "8"}, "bracket"),
    ({"trail_bps": 5}, "trailing"),
    ({}, "needs stop_loss_price"),
    ({"kind": "oco", "stop_loss_price": "8"}, "kind"),
    ({"take_profit_price": "9", "count": 2}, "client_trigger_id is required"),
    ({"take_profit_price": "9", "anchor_order_id": "o-1"}, "client_trigger_id is required"),
    ({"take_profit_price": "9", "client_trigger_id": "k"}, "only accepted"),
    ({"take_profit_price": "9", "count": 2, "client_trigger_id": "k" * 65}, "1..64"),
    ({"take_profit_price": "9", "count": "1.5", "client_trigger_id": "k"}, "whole"),
    ({"take_profit_price": "9", "count": 1, "anchor_order_id": "o", "client_trigger_id": "k"},
     "mutually exclusive"),
    ({"kind": "trailing", "trail_bps": 5, "anchor_order_id": "o", "client_trigger_id": "k"},
     "brackets only"),
    ({"take_profit_price": 9.5}, "float"),
])
async def test_bad_cross_trigger_input_is_refused_before_sending(
        make_client: MakeClient, kw: dict[str, Any], words: str) -> None:
    script = Script([market_reply()])
    async with make_client(script) as rest:
        with pytest.raises(InvalidRequest, match=words):
            await rest.set_cross_exit_trigger("KXBTCPERP", **kw)
    # Only the market lookup went out (for the tick), never the PUT.
    assert [c.split("?")[0] for c in script.calls()] == ["GET /margin/markets/KXBTCPERP"]


async def test_off_tick_price_uses_the_markets_own_tick(make_client: MakeClient) -> None:
    coarse = {**MARKET, "tick_size": "0.0100"}
    script = Script([ok({"market": coarse})])
    async with make_client(script) as rest:
        with pytest.raises(InvalidRequest, match="not on the tick 0.0100"):
            await rest.set_isolated_exit_trigger("KXBTCPERP", stop_loss_price="8.0050")
        # The market is cached now: a second bad call sends nothing at all.
        with pytest.raises(InvalidRequest, match="tick"):
            await rest.update_cross_exit_trigger("KXBTCPERP", "t-1", take_profit_price="9.001")
    assert len(script.requests) == 1


async def test_unknown_ticker_is_a_typed_error_and_nothing_is_written(
        make_client: MakeClient) -> None:
    script = Script([err(404, "not_found", "not found")])
    async with make_client(script) as rest:
        with pytest.raises(InvalidRequest, match="unknown ticker 'NOPE'"):
            await rest.set_cross_exit_trigger("NOPE", stop_loss_price="8")
    assert script.calls() == ["GET /margin/markets/NOPE"]


async def test_set_sends_the_checked_body_and_decodes_the_trigger(
        make_client: MakeClient) -> None:
    script = Script([market_reply(), ok(TRIGGER)])
    async with make_client(script) as rest:
        trig = await rest.set_cross_exit_trigger("KXBTCPERP", take_profit_price="9", count=2,
                                                 client_trigger_id="tp-1", subaccount=3)
    assert trig.take_profit_price is not None and trig.is_live
    put = script.requests[1]
    assert script.calls()[1] == "PUT /margin/cross/positions/KXBTCPERP/exit_trigger?subaccount=3"
    assert json.loads(put.body or b"") == {"kind": "bracket", "count": "2",
                                           "client_trigger_id": "tp-1",
                                           "take_profit_price": "9"}


async def test_an_ambiguous_set_is_resent_safely(make_client: MakeClient) -> None:
    script = Script([market_reply(), ConnectionLost("reset"), ok(TRIGGER)])
    async with make_client(script) as rest:
        trig = await rest.set_isolated_exit_trigger("KXBTCPERP", take_profit_price="9")
    assert trig.id == "t-1" and len(script.requests) == 3


async def test_delete_by_id_after_an_ambiguous_failure_looks_it_up(
        make_client: MakeClient) -> None:
    script = Script([ConnectionLost("reset"), ok({"exit_triggers": []})])
    async with make_client(script) as rest:
        await rest.delete_cross_exit_trigger("KXBTCPERP", "t-1")
    assert [c.split("?")[0] for c in script.calls()] == [
        "DELETE /margin/cross/positions/KXBTCPERP/exit_trigger/t-1",
        "GET /margin/cross/positions/KXBTCPERP/exit_trigger"]


async def test_fcm_subtrader_create_is_not_resent_when_ambiguous(
        make_client: MakeClient) -> None:
    script = Script([ConnectionLost("reset")])
    async with make_client(script) as rest:
        with pytest.raises(ConnectionLost):
            await rest.create_fcm_subtrader("desk1")
        with pytest.raises(InvalidRequest, match="subtrader_suffix"):
            await rest.create_fcm_subtrader("bad-suffix")
        with pytest.raises(InvalidRequest, match="asset_class"):
            await rest.set_fcm_subtrader_risk_controls("u_desk1", "10", asset_class="FX")
        with pytest.raises(InvalidRequest, match="mutually exclusive"):
            await rest.get_fcm_subtrader_risk_controls(market_ticker="X", asset_class="Crypto")
    assert len(script.requests) == 1
