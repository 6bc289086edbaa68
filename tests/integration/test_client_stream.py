"""The streaming client against the simulator over real sockets, on both transports."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kalshi_margin_stream.config import Limits
from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.core.book import BookStatus
from kalshi_margin_stream.core.messages import OrderbookDelta, OrderbookSnapshot, Trade
from kalshi_margin_stream.exceptions import AuthError, ClientClosed
from kalshi_margin_stream.sim.testing import running_simulator
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Books, Stale, Subscription, Tickers, Trades
from kalshi_margin_stream.testing import (
    FAST_LIMITS,
    MARKETS,
    books_match,
    eventually,
    sim_and_client,
)


async def take(sub: Subscription[Any], n: int, timeout: float = 5.0) -> list[Any]:
    out: list[Any] = []
    async with asyncio.timeout(timeout):
        async for item in sub:
            out.append(item)
            if len(out) == n:
                break
    return out


def book_sid(client: Client) -> int:
    ch = client.session.channel("orderbook_delta")
    assert ch is not None and ch.sid is not None
    return ch.sid


async def test_snapshot_then_deltas_match_the_exchange(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        first = await take(sub, 2)
        assert all(isinstance(m, OrderbookSnapshot) for m in first)
        assert {m.msg.market_ticker for m in first} == set(MARKETS)
        sim.step_flow(300)
        await eventually(lambda: books_match(sim, client, MARKETS))
        more = await take(sub, 5)
        assert all(isinstance(m, OrderbookDelta) for m in more)
        stats = client.statistics()
        assert stats.gaps == 0 and stats.decode_errors == 0 and stats.connections == 1


async def test_gap_is_repaired_in_band_without_reconnecting(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await take(sub, 2)
        sim.drop_frames(book_sid(client), 3)
        sim.step_flow(200)
        await eventually(lambda: client.statistics().gaps >= 1)
        await eventually(lambda: books_match(sim, client, MARKETS))
        stats = client.statistics()
        assert stats.connections == 1 and stats.reconnects == 0 and stats.resyncs >= 1
        items = []
        while not isinstance(items[-1] if items else None, OrderbookSnapshot):
            items += await take(sub, 1)
        assert any(isinstance(i, Stale) and i.reason.startswith("seq gap") for i in items)


async def test_duplicates_are_dropped(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await take(sub, 2)
        sim.duplicate_frames(book_sid(client), 5)
        sim.step_flow(100)
        await eventually(lambda: client.statistics().duplicates >= 5)
        await eventually(lambda: books_match(sim, client, MARKETS))
        assert client.statistics().gaps == 0


async def test_abrupt_close_reconnects_and_resubscribes(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        trades = client.subscribe(Trades())
        await take(sub, 2)
        assert sim.close_connections() == 1
        await eventually(lambda: client.statistics().connections == 2)
        sim.step_flow(200)
        await eventually(lambda: books_match(sim, client, MARKETS))
        items = await take(sub, 1)
        assert isinstance(items[0], Stale) and items[0].reason == "disconnected"
        assert client.statistics().reconnects >= 1
        await take(trades, 1)


async def test_stalled_connection_is_detected_by_the_watchdog(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await take(sub, 2)
        sim.stall_connections(10.0)
        await eventually(lambda: client.statistics().connections == 2, timeout=5)
        sim.step_flow(100)
        await eventually(lambda: books_match(sim, client, MARKETS))


async def test_error_25_resubscribes_with_a_stale_marker(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await take(sub, 2)
        old = book_sid(client)
        assert sim.send_sid_error(old, code=25) == 1
        items = await take(sub, 3)
        assert isinstance(items[0], Stale) and items[0].reason == "error 25"
        assert all(isinstance(i, OrderbookSnapshot) for i in items[1:])
        assert book_sid(client) != old
        sim.step_flow(100)
        await eventually(lambda: books_match(sim, client, MARKETS))


async def test_slow_consumer_gets_stale_then_fresh_snapshots(transport: str) -> None:
    limits = Limits(**{**_limits_kw(), "queue": 16})
    async with sim_and_client(transport, limits=limits) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await eventually(lambda: all((b := client.book(t)) is not None and b.is_synced
                                     for t in MARKETS))
        sim.step_flow(400)  # far more than 16 updates while nobody reads
        await eventually(lambda: sub.overflows >= 1)
        await eventually(lambda: books_match(sim, client, MARKETS))
        items = await take(sub, 16)  # what the queue held
        assert not any(isinstance(x, Stale) for x in items)
        stale, fresh = await take(sub, 2)
        assert isinstance(stale, Stale) and stale.reason == "overflow" and stale.missed > 0
        assert isinstance(fresh, OrderbookSnapshot)
        assert client.statistics().subscriptions["orderbook_delta#1"]["high_water"] == 16


async def test_bad_key_fails_fast_with_auth_error(transport: str) -> None:
    async with running_simulator(markets=MARKETS) as sim:
        stranger = Credentials.from_pem("unknown-key", _fresh_pem())
        client = Client(stranger, rest_url=sim.rest_url, ws_url=sim.ws_url,
                        transport=transport)  # type: ignore[arg-type]
        with pytest.raises(AuthError):
            async with client:
                sub = client.subscribe(Tickers())
                with pytest.raises(AuthError):
                    await client.wait_connected(timeout=5)
                with pytest.raises(AuthError):
                    await take(sub, 1)
        assert client.statistics().connections == 0


async def test_shutdown_leaves_no_tasks_and_rejects_use_after_close(transport: str) -> None:
    before = {t for t in asyncio.all_tasks() if not t.done()}
    async with sim_and_client(transport) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await take(sub, 2)
    leftover = {t for t in asyncio.all_tasks() if not t.done()} - before
    assert leftover == set()
    with pytest.raises(ClientClosed):
        client.subscribe(Tickers())
    assert [x async for x in sub] == []


async def test_subscriptions_added_and_removed_while_streaming(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        btc = client.subscribe(Books((MARKETS[0],)))
        await take(btc, 1)
        eth = client.subscribe(Books((MARKETS[1],)))
        (snap,) = await take(eth, 1)
        assert isinstance(snap, OrderbookSnapshot) and snap.msg.market_ticker == MARKETS[1]
        await btc.aclose()
        await eventually(lambda: client.book(MARKETS[0]) is None)
        sim.step_flow(100)
        await eventually(lambda: books_match(sim, client, [MARKETS[1]]))
        trades = client.subscribe(Trades((MARKETS[1],)))
        await eventually(lambda: (ch := client.session.channel("trade")) is not None
                         and ch.sid is not None)
        sim.step_flow(300)
        (t,) = await take(trades, 1)
        assert isinstance(t, Trade) and t.msg.market_ticker == MARKETS[1]


async def test_rest_fallback_keeps_books_fresh_while_the_socket_is_down() -> None:
    async with running_simulator(markets=MARKETS) as sim:
        assert sim.credentials is not None
        dead_ws = f"ws://127.0.0.1:{_closed_port()}/trade-api/ws/v2/margin"
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=dead_ws,
                          limits=FAST_LIMITS) as client:
            sub = client.subscribe(Books(tuple(MARKETS)))
            items = await take(sub, 2)
            assert all(isinstance(i, OrderbookSnapshot) for i in items)
            for t in MARKETS:
                book = client.book(t)
                assert book is not None and book.status is BookStatus.REST
                assert book.polled_at_ms is not None
                view = sim.exchange.orderbook(t)
                assert book.bids() == view.bids and book.asks() == view.asks
            sim.step_flow(100)
            await eventually(lambda: all(
                (b := client.book(t)) is not None and b.bids() == sim.exchange.orderbook(t).bids
                for t in MARKETS))
            stats = client.statistics()
            assert stats.rest_polls >= 4 and stats.connections == 0


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _limits_kw() -> dict[str, Any]:
    from dataclasses import asdict
    return asdict(FAST_LIMITS)


def _fresh_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


async def test_trade_gap_is_backfilled_from_rest_without_duplicates(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        trades = client.subscribe(Trades(tuple(MARKETS)))
        await eventually(lambda: (ch := client.session.channel("trade")) is not None
                         and ch.sid is not None)
        ch = client.session.channel("trade")
        assert ch is not None and ch.sid is not None
        sim.step_flow(150)
        await eventually(lambda: sim.stats().frames_by_sid[ch.sid] > 0)
        sim.drop_frames(ch.sid, 3)
        sim.step_flow(300)
        expected = {t.trade_id for m in MARKETS
                    for t in sim.exchange.trades(ticker=m, limit=1000).items}
        got: list[str] = []
        stale = 0
        async with asyncio.timeout(5):
            async for item in trades:
                if isinstance(item, Stale):
                    stale += 1
                else:
                    got.append(item.msg.trade_id)
                if set(got) >= expected:
                    break
        assert len(got) == len(set(got)), "a trade was delivered twice"
        assert stale >= 1 and client.statistics().backfills >= 1


async def test_callbacks_receive_updates(transport: str) -> None:
    async with sim_and_client(transport) as (sim, client):
        seen: list[Any] = []
        done = asyncio.Event()

        async def on_book(update: Any) -> None:
            seen.append(update)
            if len(seen) >= 2:
                done.set()

        client.on(Books(tuple(MARKETS)), on_book)
        async with asyncio.timeout(5):
            await done.wait()
        assert {u.msg.market_ticker for u in seen[:2]} == set(MARKETS)


async def test_books_that_stop_moving_on_a_live_socket_are_resynced(transport: str) -> None:
    from dataclasses import replace

    from kalshi_margin_stream.testing import FAST_TIMEOUTS
    timeouts = replace(FAST_TIMEOUTS, data_silence=0.3)
    async with sim_and_client(transport, timeouts=timeouts) as (sim, client):
        sub = client.subscribe(Books(tuple(MARKETS)))
        await take(sub, 2)  # then no flow at all, but pings keep the socket alive
        stale, *fresh = await take(sub, 3)
        assert isinstance(stale, Stale) and stale.reason == "data silence"
        assert all(isinstance(f, OrderbookSnapshot) for f in fresh)
        stats = client.statistics()
        assert stats.data_silences >= 1 and stats.connections == 1
