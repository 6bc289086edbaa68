"""FCM endpoints and the market-data routes the official SDK calls, through RestClient
against the simulator (127.0.0.1)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from kalshi_margin_stream.exceptions import HTTPStatusError
from kalshi_margin_stream.rest import RestClient
from kalshi_margin_stream.sim.testing import running_simulator

TICKER = "KXBTCPERP"


async def test_fcm_subtrader_caps_and_member_limit() -> None:
    async with running_simulator(markets=[TICKER]) as sim, \
            RestClient(sim.credentials, base_url=sim.rest_url) as rest:
        sub = await rest.create_fcm_subtrader("Desk1")
        assert sub == f"{sim.user_id}_Desk1"
        with pytest.raises(HTTPStatusError) as dup:
            await rest.create_fcm_subtrader("Desk1")
        assert dup.value.status == 409
        await rest.set_fcm_subtrader_risk_controls(sub, "100.5", asset_class="Crypto")
        await rest.set_fcm_subtrader_risk_controls(sub, "20", market_ticker=TICKER)
        got = await rest.get_fcm_subtrader_risk_controls(subtrader_id=sub)
        caps = {(c.market_ticker, c.asset_class): c.im_cap for c in got.risk_controls}
        assert caps == {(None, "Crypto"): Decimal("100.5"), (TICKER, None): Decimal("20")}
        assert all(c.current_im == 0 for c in got.risk_controls)
        only = await rest.get_fcm_subtrader_risk_controls(subtrader_id=sub,
                                                          asset_class="Crypto")
        assert [c.asset_class for c in only.risk_controls] == ["Crypto"]
        await rest.delete_fcm_subtrader_risk_controls(sub, asset_class="Crypto")
        got = await rest.get_fcm_subtrader_risk_controls(subtrader_id=sub)
        assert [c.market_ticker for c in got.risk_controls] == [TICKER]
        with pytest.raises(HTTPStatusError) as unknown:
            await rest.get_fcm_subtrader_risk_controls(subtrader_id="someone_else")
        assert unknown.value.status == 404
        await rest.set_fcm_notional_risk_limit("1000")
        ceiling = (await rest.get_notional_risk_limit()).default_notional_value_risk_limit
        with pytest.raises(HTTPStatusError) as above:
            await rest.set_fcm_notional_risk_limit(ceiling + 1)
        assert above.value.status == 400
        await rest.delete_fcm_notional_risk_limit()


async def test_candlesticks_and_premium_index_are_served() -> None:
    async with running_simulator(markets=[TICKER]) as sim, \
            RestClient(sim.credentials, base_url=sim.rest_url) as rest:
        book = await rest.get_orderbook(TICKER, depth=1)
        await rest.create_order(TICKER, "bid", 2, book.sorted_asks()[0][0],
                                time_in_force="immediate_or_cancel")
        now = int(time.time())
        candles = await rest.get_candlesticks(TICKER, start_ts=now - 3600, end_ts=now + 60,
                                              period_interval=1)
        assert candles.ticker == TICKER and candles.candlesticks
        last = candles.candlesticks[-1]
        assert last.volume is not None and last.volume >= 2
        assert last.price is not None and last.price.close == book.sorted_asks()[0][0]
        points = await rest.get_premium_index(TICKER, start_ts=now - 5, end_ts=now)
        assert len(points) == 5
        assert [p.second_ts_ms for p in points] == [(now - 5 + i) * 1000 for i in range(5)]
