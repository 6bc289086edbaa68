"""Lifecycle: heartbeats, ticker coalescing, background flow, clean shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.sim import Simulator
from kalshi_margin_stream.sim.testing import open_ws, running_simulator, signed_headers, ws_headers

BTC = "KXBTCPERP"


async def test_server_pings_with_heartbeat_payload() -> None:
    async with running_simulator(markets=[BTC], ping_interval=0.05) as sim:
        assert sim.credentials is not None
        async with aiohttp.ClientSession() as http, http.ws_connect(
                sim.ws_url, headers=ws_headers(sim.credentials), autoping=False) as ws:
            async with asyncio.timeout(5):
                msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.PING and msg.data == b"heartbeat"
            await ws.pong(msg.data)


async def test_ticker_is_coalesced_per_market() -> None:
    # A ticker interval longer than the test: only flush_tickers() emits.
    async with running_simulator(markets=[BTC, "KXETHPERP"], ticker_interval=600) as sim:
        ws = await open_ws(sim)
        try:
            sid = (await ws.subscribe(["ticker"]))["ticker"]
            sim.step_flow(200)
            sim.flush_tickers()
            await ws.send("list_subscriptions")
            await ws.until(lambda f: f["type"] == "ok")  # everything before it has arrived
            tickers = [f for f in ws.frames if f["type"] == "ticker"]
            per_market = [f["msg"]["market_ticker"] for f in tickers]
            assert sorted(per_market) == sorted(set(per_market))  # at most one per market
            assert per_market and all(f["sid"] == sid for f in tickers)
        finally:
            await ws.conn.close()


async def test_background_flow_moves_books_and_pauses() -> None:
    async with running_simulator(markets=[BTC], rate=400, flow_tick=0.01) as sim:
        ws = await open_ws(sim)
        try:
            await ws.subscribe(["orderbook_delta"], market_ticker=BTC)
            await ws.until(lambda f: f["type"] == "orderbook_delta")  # flow runs by itself
            sim.pause_flow()
            frozen = sim.stats().flow_events
            await asyncio.sleep(0.1)  # a negative check needs some time to pass
            assert sim.stats().flow_events == frozen
            sim.resume_flow()
            async with asyncio.timeout(5):
                while sim.stats().flow_events == frozen:
                    await asyncio.sleep(0.01)
        finally:
            await ws.conn.close()


async def test_exit_closes_connections_and_leaves_no_tasks() -> None:
    before = asyncio.all_tasks()
    sim = Simulator(markets=[BTC], rate=50, ticker_interval=0.02, levels=10)
    async with sim:
        ws = await open_ws(sim)
        await ws.subscribe(["orderbook_delta", "ticker"], market_ticker=BTC)
        port = sim.port
    async with asyncio.timeout(5):
        await ws.conn.wait_closed()
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
    with pytest.raises(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()


async def test_extra_users_keys_and_key_file(tmp_path: Path) -> None:
    async with running_simulator(markets=[BTC]) as sim:
        path = sim.write_private_key(tmp_path / "key.pem")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert sim.credentials is not None
        reloaded = Credentials.from_pem_file(sim.key_id, path)
        ed = sim.add_user(key_type="ed25519")
        async with aiohttp.ClientSession() as http:
            for creds in (reloaded, ed):
                url = sim.rest_url + "/margin/positions"
                async with http.get(url, headers=signed_headers(creds, "GET", url)) as resp:
                    assert resp.status == 200
                    assert json.loads(await resp.read()) == {"positions": []}
        entry = sim.register_key(sim.credentials.public_key_pem(), key_id="mine")
        assert entry.key_id == "mine" and entry.user_id != sim.user_id


async def test_given_public_key_means_no_generated_key() -> None:
    creds = Credentials.from_pem("k", _pem())  # the user's own key, made outside
    async with running_simulator(markets=[BTC], public_key=creds.public_key_pem(),
                                 key_id="user-key") as sim:
        assert sim.credentials is None and sim.key_id == "user-key"
        with pytest.raises(RuntimeError):
            sim.write_private_key("/nonexistent/never-written.pem")
        ws = await open_ws(sim, Credentials("user-key", creds.private_key))
        await ws.conn.close()


def _pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())



async def test_same_seed_same_stream() -> None:
    async def run(seed: int) -> list[Any]:
        async with running_simulator(markets=[BTC], seed=seed) as sim:
            ws = await open_ws(sim)
            try:
                await ws.subscribe(["orderbook_delta", "trade"], market_ticker=BTC)
                sim.step_flow(60)
                await ws.send("list_subscriptions")
                await ws.until(lambda f: f["type"] == "ok")
            finally:
                await ws.conn.close()
            # drop what depends on the wall clock
            return [{k: v for k, v in f.get("msg", {}).items() if k != "ts_ms"}
                    if isinstance(f.get("msg"), dict) else f.get("msg")
                    for f in ws.frames]

    first, second, other = await run(5), await run(5), await run(6)
    assert first == second
    assert first != other


async def test_flow_rate_can_change_at_run_time() -> None:
    async with running_simulator(markets=[BTC], rate=0, flow_tick=0.01) as sim:
        assert sim.stats().flow_events == 0
        sim.set_rate(500)
        async with asyncio.timeout(5):
            while sim.stats().flow_events < 5:
                await asyncio.sleep(0.01)
        with pytest.raises(ValueError):
            sim.set_rate(-1)
