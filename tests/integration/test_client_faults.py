"""Client regressions found in review: each fault once, end to end over loopback."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.core.messages import OrderbookDelta, OrderbookSnapshot
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Books, Stale, Tickers, Trades
from kalshi_margin_stream.testing import (
    FAST_LIMITS,
    FAST_TIMEOUTS,
    MARKETS,
    books_match,
    eventually,
    sim_and_client,
)


def queued(sub: Any) -> int:
    return int(sub.delivered - sub._consumed)


async def test_lagging_consumer_gets_data_again_after_a_reconnect(transport: str) -> None:
    async with sim_and_client(transport, limits=replace(FAST_LIMITS, queue=64)) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await eventually(lambda: books_match(sim, client, MARKETS))
        async with asyncio.timeout(5):
            while queued(sub) <= 40:  # more than half a queue behind, no overflow yet
                sim.step_flow(1)
                await asyncio.sleep(0)
        assert sub.overflows == 0
        sim.close_connections()
        await eventually(lambda: client.statistics().connections >= 2)
        await eventually(lambda: books_match(sim, client, MARKETS))
        async with asyncio.timeout(5):
            while queued(sub) > 0:
                await sub.__anext__()
            sim.step_flow(200)
            async for item in sub:  # fresh book data reaches the consumer again
                if isinstance(item, OrderbookDelta | OrderbookSnapshot):
                    break


async def test_error_25_on_the_ticker_sid_tells_the_consumer(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Tickers(tuple(MARKETS)))
        await eventually(lambda: (ch := client.session.channel("ticker")) is not None
                         and ch.sid is not None)
        ch = client.session.channel("ticker")
        assert ch is not None
        old = ch.sid
        assert old is not None and sim.send_sid_error(old, code=25) == 1
        async with asyncio.timeout(5):
            async for item in sub:
                if isinstance(item, Stale):
                    assert item.reason == "error 25"
                    break


async def test_trade_gap_backfill_reaches_back_before_the_revealing_trade(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Trades(tuple(MARKETS)))
        await eventually(lambda: (ch := client.session.channel("trade")) is not None
                         and ch.sid is not None)
        ch = client.session.channel("trade")
        assert ch is not None and ch.sid is not None
        sid = ch.sid
        async with asyncio.timeout(5):
            while sim.stats().frames_by_sid[sid] < 3:
                sim.step_flow(1)
                await asyncio.sleep(0)
        await eventually(lambda: client.statistics().frames >= 4)
        dropped = sim.stats().faults["frames_dropped"]
        sim.drop_frames(sid, 1)
        async with asyncio.timeout(5):
            while sim.stats().faults["frames_dropped"] == dropped:
                sim.step_flow(1)
                await asyncio.sleep(0)
            sim.advance_clock(5)  # the trade that reveals the gap is 5 s later
            sent = sim.stats().frames_by_sid[sid]
            while sim.stats().frames_by_sid[sid] == sent:
                sim.step_flow(1)
                await asyncio.sleep(0)
        expected = {t.trade_id for m in MARKETS
                    for t in sim.exchange.trades(ticker=m, limit=1000).items}
        got: set[str] = set()
        async with asyncio.timeout(5):
            async for item in sub:
                if not isinstance(item, Stale):
                    got.add(item.msg.trade_id)
                if got >= expected:
                    break


async def test_a_non_finite_number_is_a_desync_not_a_crash(transport: str) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            cmd = json.loads(msg.data)
            if cmd["cmd"] == "subscribe":
                for frame in (
                    {"type": "subscribed", "id": cmd["id"],
                     "msg": {"channel": "orderbook_delta", "sid": 1}},
                    {"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {
                        "market_ticker": "A", "bid": [["1.0", "5"]], "ask": [["2.0", "5"]]}},
                    {"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {
                        "market_ticker": "A", "price": "1.5", "delta": "NaN", "side": "bid"}},
                ):
                    await ws.send_str(json.dumps(frame))
        return ws

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    try:
        async with Client(Credentials.from_pem("k", pem), rest_url=f"http://127.0.0.1:{port}/r",
                          ws_url=f"ws://127.0.0.1:{port}/ws", timeouts=FAST_TIMEOUTS,
                          transport=transport,  # type: ignore[arg-type]
                          limits=FAST_LIMITS, reconcile=False, rest_fallback=False) as client:
            client.subscribe(Books(("A",)))
            await eventually(lambda: client.statistics().desyncs >= 1)
            book = client.book("A")
            assert book is not None and book.status.value == "resyncing"
            assert client.state.value == "connected" and client.statistics().decode_errors == 0
    finally:
        await runner.cleanup()


async def test_aclose_from_a_callback_closes_everything(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        called = asyncio.Event()

        async def on_book(update: Any) -> None:
            if not called.is_set():
                called.set()
                await client.aclose()

        client.on(Books(tuple(MARKETS)), on_book)
        async with asyncio.timeout(5):
            await called.wait()
            await client.aclose()  # waits for the close the callback started
        assert client._stack is None and client.state.value == "closed"


async def test_a_second_books_consumer_starts_with_a_snapshot(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        first = client.subscribe(Books(tuple(MARKETS)))
        await eventually(lambda: books_match(sim, client, MARKETS))
        second = client.subscribe(Books((MARKETS[0],)))
        async with asyncio.timeout(5):
            item = await second.__anext__()
        assert isinstance(item, OrderbookSnapshot) and item.seq == 0
        book = client.book(MARKETS[0])
        assert book is not None and [tuple(x) for x in item.msg.bid] == book.bids()
        assert first.delivered >= 2
