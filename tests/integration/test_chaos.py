"""Hundreds of seeded, randomly mixed faults; then the client must equal the exchange.

Faults: dropped frames (real seq gaps), duplicated frames, abrupt closes, short
stalls, error 25, REST 500/429 bursts; between them the synthetic flow moves the
books and our trader crosses the book and rests/cancels orders over REST. Once
the flow stops, every client book must equal the simulator's book level for level,
and our positions and open orders must equal the simulator's ledger.
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from kalshi_margin_stream.exceptions import KalshiError
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import (
    Books,
    Fills,
    OrderGroups,
    Orders,
    Tickers,
    Trades,
)
from kalshi_margin_stream.testing import MARKETS, books_match, eventually, sim_and_client

FAULTS = 200


def sid_of(client: Client, channel: str) -> int | None:
    ch = client.session.channel(channel)
    return None if ch is None else ch.sid


async def trade(client: Client, rng: random.Random, resting: list[str]) -> None:
    ticker = rng.choice(MARKETS)
    try:
        book = await client.rest.get_orderbook(ticker, depth=1)
        if rng.random() < 0.5 and book.asks and book.bids:
            side, price = ("bid", book.sorted_asks()[0][0]) if rng.random() < 0.5 else (
                "ask", book.sorted_bids()[0][0])
            await client.rest.create_order(ticker, side, rng.randint(1, 3), price,
                                           time_in_force="immediate_or_cancel")
        elif resting and rng.random() < 0.4:
            await client.rest.cancel_order(resting.pop(rng.randrange(len(resting))))
        elif book.bids:
            price = book.sorted_bids()[0][0] - Decimal("0.0050")
            order = await client.rest.create_order(ticker, "bid", rng.randint(1, 3), price)
            resting.append(order.order_id)
    except KalshiError:
        pass  # a REST fault or an order that finished meanwhile: the ledger decides


async def fault(sim: Simulator, client: Client, rng: random.Random) -> str:
    kind = rng.choices(
        ["drop", "duplicate", "close", "stall", "error25", "rest500", "rest429", "flow"],
        weights=[20, 15, 4, 3, 5, 4, 4, 45])[0]
    book_sid, trade_sid = sid_of(client, "orderbook_delta"), sid_of(client, "trade")
    target = rng.choice([s for s in (book_sid, trade_sid) if s is not None] or [0])
    if kind == "drop":
        sim.drop_frames(target, rng.randint(1, 4))
    elif kind == "duplicate":
        sim.duplicate_frames(target, rng.randint(1, 4))
    elif kind == "close":
        sim.close_connections()
    elif kind == "stall":
        sim.stall_connections(0.05)
    elif kind == "error25" and book_sid is not None:
        sim.send_sid_error(book_sid, code=25)
    elif kind == "rest500":
        sim.fail_rest(500, rng.randint(1, 2))
    elif kind == "rest429":
        sim.fail_rest(429, rng.randint(1, 2))
    sim.step_flow(rng.randint(1, 15))
    return kind


@pytest.mark.parametrize("seed", [1, 2])
async def test_chaos_then_books_and_ledger_agree(seed: int, transport: str) -> None:
    rng = random.Random(seed)
    async with sim_and_client(transport) as (sim, client):
        for spec in (Books(tuple(MARKETS)), Trades(), Tickers(), Fills(), Orders(),
                     OrderGroups()):
            client.subscribe(spec)  # nobody reads: the queues overflow and repair too
        await client.wait_connected(5)
        resting: list[str] = []
        seen: dict[str, int] = {}
        for i in range(FAULTS):
            kind = await fault(sim, client, rng)
            seen[kind] = seen.get(kind, 0) + 1
            if i % 10 == 0:
                await trade(client, rng, resting)
            await asyncio.sleep(0)  # let frames flow between faults
        # Flow stopped (it only moves when stepped): everything must converge.
        await eventually(lambda: client.state.value == "connected", timeout=5)
        await eventually(lambda: books_match(sim, client, MARKETS), timeout=5)
        await client.reconcile()
        account = client.margin.account(0)
        positions = {p.ticker: p.position for p in sim.exchange.positions(sim.user_id)}
        assert {t: p.count for t, p in account.positions.items() if p.count} == positions
        resting_now = {o.order_id: (o.remaining_count, o.fill_count) for o in
                       sim.exchange.list_orders(sim.user_id, status="resting").items}
        assert {k: (o.remaining_count, o.fill_count)
                for k, o in account.open_orders.items()} == resting_now
        fills = sim.exchange.fills(sim.user_id, limit=1000).items
        assert client.margin.fills_count == len(fills)
        stats = client.statistics()
        assert stats.gaps > 0 and stats.duplicates > 0 and stats.reconnects > 0
        assert seen.get("flow", 0) < FAULTS  # faults really were injected
