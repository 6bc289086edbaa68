"""Private channels and REST reconciliation keep the margin state equal to the exchange's."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from kalshi_margin_stream.core.messages import Fill, UserOrder
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Fills, Orders, Subscription
from kalshi_margin_stream.testing import MARKETS, eventually, sim_and_client


async def take(sub: Subscription[Any], n: int) -> list[Any]:
    out: list[Any] = []
    async with asyncio.timeout(5):
        async for item in sub:
            out.append(item)
            if len(out) == n:
                return out
    return out


def ledger_matches(sim: Simulator, client: Client) -> bool:
    """Client positions and open orders equal the simulator's ledger for our user."""
    account = client.margin.account(0)
    mine = {p.ticker: p.position for p in sim.exchange.positions(sim.user_id)
            if p.position != 0}
    ours = {t: p.count for t, p in account.positions.items() if p.count != 0}
    if mine != ours:
        return False
    resting = {o.order_id: (o.remaining_count, o.fill_count)
               for o in sim.exchange.list_orders(sim.user_id, status="resting").items}
    open_orders = {i: (o.remaining_count, o.fill_count) for i, o in account.open_orders.items()}
    return resting == open_orders


async def cross_the_book(client: Client, ticker: str, count: int = 3) -> str:
    """Buy ``count`` at the best ask (IOC): a fill for us."""
    book = await client.rest.get_orderbook(ticker, depth=1)
    best_ask = book.sorted_asks()[0][0]
    order = await client.rest.create_order(ticker, "bid", count, best_ask,
                                           time_in_force="immediate_or_cancel")
    return order.order_id


async def test_fills_and_orders_update_the_margin_state(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        fills = client.subscribe(Fills())
        orders = client.subscribe(Orders())
        await client.wait_connected(5)
        await eventually(lambda: all((ch := client.session.channel(c)) is not None
                                     and ch.sid is not None for c in ("fill", "user_orders")))
        await cross_the_book(client, MARKETS[0])
        (fill,) = await take(fills, 1)
        (order,) = await take(orders, 1)
        assert isinstance(fill, Fill) and isinstance(order, UserOrder)
        assert fill.msg.post_position == Decimal(3)
        book = await client.rest.get_orderbook(MARKETS[0], depth=1)
        resting = await client.rest.create_order(MARKETS[0], "bid", 2,
                                                 book.sorted_bids()[0][0] - Decimal("0.0100"))
        await eventually(lambda: resting.order_id in client.margin.account(0).open_orders)
        await eventually(lambda: ledger_matches(sim, client))
        position = client.margin.account(0).positions[MARKETS[0]]
        assert position.count == 3 and position.entry_price == fill.msg.price


async def test_reconcile_after_reconnect_recovers_what_the_socket_lost(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        client.subscribe(Fills())
        client.subscribe(Orders())
        await client.wait_connected(5)
        await eventually(lambda: client.statistics().reconciliations >= 1)
        sim.stall_connections(0.5)  # frames queue up on the server ...
        await cross_the_book(client, MARKETS[1], 2)
        sim.close_connections()      # ... and are lost with the connection
        await eventually(lambda: client.statistics().connections >= 2)
        await eventually(lambda: ledger_matches(sim, client))
        assert client.margin.account(0).positions[MARKETS[1]].count == 2


async def test_rest_errors_during_reconciliation_are_retried(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        client.subscribe(Orders())
        await client.wait_connected(5)
        await cross_the_book(client, MARKETS[0], 1)
        sim.fail_rest(500, 2)
        sim.fail_rest(429, 2)
        before = client.statistics().reconciliations
        await client.reconcile()
        assert client.statistics().reconciliations >= before + 1
        assert ledger_matches(sim, client)
        assert sim.stats().rest_by_status.get(500, 0) >= 1
