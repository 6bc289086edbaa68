"""Exit triggers end to end: REST set/update against the simulator, the system order and
fill on the client's streams, and the client's margin state equal to the exchange's."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from kalshi_margin_stream.core.messages import Fill, UserOrder
from kalshi_margin_stream.exceptions import HTTPStatusError
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Fills, Orders, Subscription
from kalshi_margin_stream.testing import MARKETS, eventually, sim_and_client

TICK = Decimal("0.0001")


async def next_matching(sub: Subscription[Any], pred: Any) -> Any:
    async with asyncio.timeout(5):
        async for item in sub:
            if pred(item):
                return item
    raise AssertionError("subscription ended")


def positions_match(sim: Simulator, client: Client) -> bool:
    mine = {p.ticker: p.position for p in sim.exchange.positions(sim.user_id)
            if p.position != 0}
    ours = {t: p.count for t, p in client.margin.account(0).positions.items() if p.count != 0}
    return mine == ours


async def test_bracket_take_profit_fires_a_system_order_seen_on_the_streams() -> None:
    ticker = MARKETS[0]
    async with sim_and_client() as (sim, client):
        fills = client.subscribe(Fills())
        orders = client.subscribe(Orders())
        await client.wait_connected(5)
        await eventually(lambda: all((ch := client.session.channel(c)) is not None
                                     and ch.sid is not None for c in ("fill", "user_orders")))
        book = await client.rest.get_orderbook(ticker, depth=1)
        await client.rest.create_order(ticker, "bid", 3, book.sorted_asks()[0][0],
                                       time_in_force="immediate_or_cancel")
        await eventually(lambda: positions_match(sim, client)
                         and ticker in client.margin.account(0).positions)
        mark = sim.exchange.market(ticker).liquidation_mark_price.price
        far_sl = (mark / 2).quantize(TICK)
        far_tp = (mark * 2).quantize(TICK)
        trig = await client.rest.set_cross_exit_trigger(ticker, stop_loss_price=far_sl,
                                                        take_profit_price=far_tp)
        assert trig.status == "active" and trig.count == 0
        (live,) = await client.rest.get_cross_exit_triggers(ticker)
        assert live.id == trig.id and live.stop_loss_price == far_sl
        # Lower the take-profit under the mark: the mark has now crossed it.
        fired = await client.rest.update_cross_exit_trigger(
            ticker, trig.id, stop_loss_price=far_sl, take_profit_price=mark - 50 * TICK)
        assert (fired.status, fired.triggered_leg) == ("filled", "take_profit")
        assert fired.filled_count == 3 and fired.triggered_order_id
        system = await client.rest.get_order(fired.triggered_order_id)
        assert (system.order_source, system.order_reason) == ("system", "take_profit_stop_loss")
        fill = await next_matching(fills, lambda f: isinstance(f, Fill)
                                   and f.msg.order_id == fired.triggered_order_id)
        assert (fill.msg.order_source, fill.msg.order_reason) == ("system",
                                                                   "take_profit_stop_loss")
        assert fill.msg.post_position == 0
        order = await next_matching(orders, lambda o: isinstance(o, UserOrder)
                                    and o.msg.order_id == fired.triggered_order_id)
        assert order.msg.order_source == "system"
        assert order.msg.order_reason == "take_profit_stop_loss"
        await eventually(lambda: positions_match(sim, client))
        assert client.margin.account(0).positions.get(ticker) is None \
            or client.margin.account(0).positions[ticker].count == 0
        assert await client.rest.get_cross_exit_triggers(ticker) == []


async def test_trigger_without_a_position_and_delete_round_trip() -> None:
    ticker = MARKETS[1]
    async with sim_and_client() as (sim, client):
        try:
            await client.rest.set_isolated_exit_trigger(ticker, kind="trailing", trail_bps=50)
        except HTTPStatusError as exc:
            assert exc.status == 404
        else:
            raise AssertionError("a trigger without a position was accepted")
        book = await client.rest.get_orderbook(ticker, depth=1)
        await client.rest.create_order(ticker, "ask", 2, book.sorted_bids()[0][0],
                                       time_in_force="immediate_or_cancel")
        trail = await client.rest.set_isolated_exit_trigger(ticker, kind="trailing",
                                                            trail_bps=500)
        assert trail.watermark_price is not None and trail.effective_stop_price is not None
        assert trail.effective_stop_price > trail.watermark_price  # a short's stop is above
        assert [t.id for t in await client.rest.get_isolated_exit_triggers(
            ticker, kind="trailing")] == [trail.id]
        await client.rest.delete_isolated_exit_trigger(ticker)
        assert await client.rest.get_isolated_exit_triggers(ticker) == []
        assert sim.exchange.exit_trigger(sim.user_id, trail.id).status_reason == "user_canceled"
