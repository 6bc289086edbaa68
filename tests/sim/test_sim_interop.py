"""Symmetry: the package's own REST client decodes everything the simulator encodes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_margin_stream.exceptions import HTTPStatusError
from kalshi_margin_stream.rest import RestClient
from kalshi_margin_stream.sim import Simulator

BTC = "KXBTCPERP"
TICK = Decimal("0.0001")


async def test_rest_client_round_trip(sim: Simulator) -> None:
    m = sim.exchange.market(BTC)
    assert m.bid is not None and m.ask is not None and sim.credentials is not None
    async with RestClient(sim.credentials, base_url=sim.rest_url) as rest:
        status = await rest.get_exchange_status()
        assert status.trading_active
        assert await rest.is_margin_enabled()
        markets = await rest.list_markets()
        assert [x.ticker for x in markets] == ["KXBTCPERP", "KXETHPERP"]
        market = await rest.get_market(BTC)
        assert market.tick_size == "0.0001"
        book = await rest.get_orderbook(BTC, depth=5)
        assert len(book.bids) == 5
        placed = await rest.create_order(BTC, "bid", 2, m.bid - 10 * TICK)
        assert placed.remaining_count == Decimal("2.00")
        taken = await rest.create_order(BTC, "bid", 1, m.ask, time_in_force="immediate_or_cancel")
        assert taken.fill_count == Decimal("1.00") and taken.average_fill_price == m.ask
        order = await rest.get_order(placed.order_id)
        assert order.fill_count == 0 and order.price == m.bid - 10 * TICK
        await rest.decrease_order(placed.order_id, reduce_by=1)
        await rest.cancel_order(placed.order_id)
        with pytest.raises(HTTPStatusError) as info:
            await rest.cancel_order(placed.order_id)
        assert info.value.status == 404 and info.value.code == "not_found"
        orders = [o async for o in rest.iter_orders(ticker=BTC)]
        assert {o.order_id for o in orders} >= {placed.order_id, taken.order_id}
        positions = await rest.get_positions()
        assert [(p.market_ticker, p.position) for p in positions] == [(BTC, Decimal("1.00"))]
        fills = await rest.list_fills()
        assert [f.order_id for f in fills.fills] == [taken.order_id]
        balance = await rest.get_balance(compute_available_balance=True)
        assert balance.subaccount_balances[0].subaccount == 0
        risk = await rest.get_risk()
        assert risk.positions and risk.positions[0].market_ticker == BTC
        await rest.get_risk_parameters()
        await rest.get_notional_risk_limit()
        fees = await rest.get_fee_tiers()
        assert fees.maker_fee_rates[BTC] == Decimal("0.0005")
        await rest.get_fee_tier_rates()
        await rest.get_funding_estimate(BTC)
        group = await rest.create_order_group(10)
        groups = await rest.list_order_groups()
        assert [g.id for g in groups] == [group.order_group_id]
        await rest.update_order_group_limit(group.order_group_id, 5)
        await rest.trigger_order_group(group.order_group_id)
        await rest.reset_order_group(group.order_group_id)
        await rest.delete_order_group(group.order_group_id)
        assert await rest.create_subaccount() == 1
        await rest.get_account_limits()
        trades = [t async for t in rest.iter_trades(ticker=BTC)]
        assert any(t.trade_id for t in trades)
