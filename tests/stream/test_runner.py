"""StreamRunner over a fake transport: one writer in order, one watchdog, backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi_margin_stream.config import Limits, Timeouts
from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.core.backoff import Backoff
from kalshi_margin_stream.core.events import Event, Resyncing
from kalshi_margin_stream.core.session import Session
from kalshi_margin_stream.exceptions import ConnectError, ConnectionLost
from kalshi_margin_stream.stream.router import Router
from kalshi_margin_stream.stream.runner import ConnectionState, StreamRunner
from kalshi_margin_stream.testing import eventually

PEM = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption())


class FakeConnection:
    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.senders: set[asyncio.Task[Any] | None] = set()
        self.closed = False
        self.last_ping = 0.0

    async def recv(self) -> bytes | str:
        frame = await self.incoming.get()
        if frame is None:
            raise ConnectionLost("closed")
        return frame

    async def send(self, data: bytes) -> None:
        self.senders.add(asyncio.current_task())
        await self.gate.wait()
        self.sent.append(json.loads(data))

    async def close(self) -> None:
        self.closed = True
        self.incoming.put_nowait(None)

    def push(self, **frame: Any) -> None:
        self.incoming.put_nowait(json.dumps(frame).encode())


class FakeTransport:
    def __init__(self, fail_first: int = 0) -> None:
        self.connections: list[FakeConnection] = []
        self.fail = fail_first

    async def connect(self, url: str, headers: dict[str, str]) -> FakeConnection:
        assert "KALSHI-ACCESS-SIGNATURE" in headers
        if self.fail:
            self.fail -= 1
            raise ConnectError("refused")
        conn = FakeConnection()
        self.connections.append(conn)
        return conn


@contextlib.asynccontextmanager
async def running(transport: FakeTransport, *, timeouts: Timeouts | None = None,
                  backoff: Backoff | None = None
                  ) -> AsyncIterator[tuple[StreamRunner, Session, list[Event]]]:
    events: list[Event] = []
    router = Router()
    session = Session(sink=router.deliver)
    runner = StreamRunner(
        session=session, transport=transport, credentials=Credentials.from_pem("k", PEM),
        ws_url="ws://127.0.0.1:1/trade-api/ws/v2/margin", on_events=events.extend,
        on_state=lambda state: None,
        timeouts=timeouts or Timeouts(silence=None, resync=None, data_silence=None),
        limits=Limits(backoff_initial=0.01, backoff_max=0.02),
        logger=logging.getLogger("test"), rng=random.Random(1), backoff=backoff,
        router=router)
    task = asyncio.ensure_future(runner.run())
    try:
        yield runner, session, events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_one_writer_sends_every_command_in_the_order_it_was_queued() -> None:
    transport = FakeTransport()
    async with running(transport) as (runner, session, _):
        session.subscribe(["ticker"])
        await eventually(lambda: bool(transport.connections)
                         and len(transport.connections[0].sent) == 1)
        conn = transport.connections[0]
        conn.gate.clear()  # the socket stops draining: sends wait
        session.subscribe(["trade"])
        runner.wake()
        await asyncio.sleep(0.01)
        session.subscribe(["fill"])  # queued while the first send waits
        runner.wake()
        session.subscribe(["user_orders"])
        runner.wake()
        await asyncio.sleep(0.01)
        conn.gate.set()
        await eventually(lambda: len(conn.sent) == 4)
        assert [c["params"]["channels"] for c in conn.sent] == [
            ["ticker"], ["trade"], ["fill"], ["user_orders"]]
        assert [c["id"] for c in conn.sent] == sorted(c["id"] for c in conn.sent)
        assert len(conn.senders) == 1  # a single task wrote them all


async def test_commands_queued_by_the_reader_go_out_through_the_writer() -> None:
    transport = FakeTransport()
    async with running(transport) as (runner, session, events):
        session.subscribe(["orderbook_delta"], tickers=["A"])
        await eventually(lambda: bool(transport.connections)
                         and len(transport.connections[0].sent) == 1)
        conn = transport.connections[0]
        conn.push(type="subscribed", id=conn.sent[0]["id"],
                  msg={"channel": "orderbook_delta", "sid": 1})
        conn.push(type="orderbook_snapshot", sid=1, seq=1,
                  msg={"market_ticker": "A", "bid": [], "ask": []})
        conn.push(type="orderbook_delta", sid=1, seq=3,  # seq 2 lost: get_snapshot
                  msg={"market_ticker": "A", "price": "0.5", "delta": "1", "side": "bid"})
        await eventually(lambda: len(conn.sent) == 2)
        assert conn.sent[1]["params"]["action"] == "get_snapshot"
        assert len(conn.senders) == 1
        assert any(isinstance(e, Resyncing) for e in events)


async def test_the_watchdog_closes_a_silent_connection_and_the_runner_reconnects() -> None:
    transport = FakeTransport()
    backoff = Backoff(0.01, 0.02, rng=random.Random(2))
    timeouts = Timeouts(silence=0.1, resync=None, data_silence=None)
    async with running(transport, timeouts=timeouts, backoff=backoff) as (runner, session, _):
        session.subscribe(["ticker"])
        await eventually(lambda: len(transport.connections) >= 2)
        assert transport.connections[0].closed
        assert runner.reconnects >= 1 and backoff.attempts >= 1


async def test_the_watchdog_resyncs_books_that_stopped_moving_without_reconnecting() -> None:
    transport = FakeTransport()
    timeouts = Timeouts(silence=None, resync=None, data_silence=0.1)
    async with running(transport, timeouts=timeouts) as (runner, session, events):
        session.subscribe(["orderbook_delta"], tickers=["A"])
        await eventually(lambda: bool(transport.connections)
                         and len(transport.connections[0].sent) == 1)
        conn = transport.connections[0]
        conn.push(type="subscribed", id=conn.sent[0]["id"],
                  msg={"channel": "orderbook_delta", "sid": 1})
        conn.push(type="orderbook_snapshot", sid=1, seq=1,
                  msg={"market_ticker": "A", "bid": [], "ask": []})
        await eventually(lambda: runner.data_silences >= 1)
        await eventually(lambda: len(conn.sent) >= 2)
        assert conn.sent[1]["params"]["action"] == "get_snapshot"
        assert any(isinstance(e, Resyncing) and e.reason == "data silence" for e in events)
        assert len(transport.connections) == 1 and runner.state is ConnectionState.CONNECTED


async def test_connect_failures_back_off() -> None:
    transport = FakeTransport(fail_first=2)
    backoff = Backoff(0.01, 0.02, rng=random.Random(3))
    async with running(transport, backoff=backoff) as (runner, session, _):
        await eventually(lambda: runner.state is ConnectionState.CONNECTED)
        assert backoff.attempts == 2 and runner.connections == 1


async def test_a_bug_in_the_writer_ends_the_runner_instead_of_hiding() -> None:
    class Broken(FakeConnection):
        async def send(self, data: bytes) -> None:
            raise TypeError("a bug of ours")

    class BrokenTransport(FakeTransport):
        async def connect(self, url: str, headers: dict[str, str]) -> FakeConnection:
            conn = Broken()
            self.connections.append(conn)
            return conn

    session = Session()
    session.subscribe(["ticker"])
    runner = StreamRunner(
        session=session, transport=BrokenTransport(), credentials=Credentials.from_pem("k", PEM),
        ws_url="ws://127.0.0.1:1/x", on_events=lambda e: None, on_state=lambda s: None,
        timeouts=Timeouts(silence=None, resync=None, data_silence=None), limits=Limits(),
        logger=logging.getLogger("test"))
    async with asyncio.timeout(2):
        with pytest.raises(TypeError, match="a bug of ours"):
            await runner.run()


async def test_the_sampling_counter_times_one_frame_in_sixteen() -> None:
    transport = FakeTransport()
    async with running(transport) as (runner, session, _):
        session.subscribe(["ticker"])
        await eventually(lambda: bool(transport.connections))
        conn = transport.connections[0]
        for _ in range(64):
            conn.push(type="ok", id=999)
        await eventually(lambda: session.stats.frames == 64)
        assert runner.processing.count == 4
