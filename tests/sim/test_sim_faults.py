"""Every fault knob, triggered in-process or through ``/_sim``, seen by a raw client."""

from __future__ import annotations

import asyncio

import aiohttp
from websockets.exceptions import ConnectionClosed

from kalshi_margin_stream.sim import Simulator
from kalshi_margin_stream.sim.testing import Rest, Ws, open_ws, running_simulator

BTC = "KXBTCPERP"


async def _book_sid(ws: Ws) -> int:
    sid = (await ws.subscribe(["orderbook_delta"], market_ticker=BTC))["orderbook_delta"]
    await ws.until(lambda f: f["type"] == "orderbook_snapshot")
    return sid


async def _seqs_until(ws: Ws, sid: int, n: int, sim: Simulator) -> list[int]:
    """Drive flow until ``n`` more sequenced frames of ``sid`` arrived; their seqs."""
    seqs: list[int] = []
    async with asyncio.timeout(5):
        while len(seqs) < n:
            sim.step_flow(5)
            try:
                async with asyncio.timeout(0.2):
                    while len(seqs) < n:
                        f = await ws.recv()
                        if f.get("sid") == sid and "seq" in f:
                            seqs.append(f["seq"])
            except TimeoutError:
                continue  # the flow step touched no level of this book; step again
    return seqs


async def test_drop_frames_makes_a_real_gap(sim: Simulator, ws: Ws) -> None:
    sid = await _book_sid(ws)
    sim.drop_frames(sid, 2)
    seqs = await _seqs_until(ws, sid, 3, sim)
    assert seqs[0] == 4  # seq 2 and 3 were assigned but never sent
    assert seqs == [4, 5, 6]
    stats = sim.stats()
    assert stats.faults["frames_dropped"] == 2
    conn_id = sim.connections()[0].conn_id
    # snapshot + seq 4, 5, 6 at least (more deltas may be on the wire already)
    assert stats.frames_by_conn_sid[(conn_id, sid)] == stats.frames_by_sid[sid] >= 4


async def test_duplicate_frames_repeat_the_same_seq(sim: Simulator, ws: Ws) -> None:
    sid = await _book_sid(ws)
    sim.duplicate_frames(sid, 1)
    seqs = await _seqs_until(ws, sid, 3, sim)
    assert seqs == [2, 2, 3]
    assert sim.stats().faults["frames_duplicated"] == 1


async def test_close_connection_abruptly(sim: Simulator, ws: Ws) -> None:
    await ws.subscribe(["trade"])
    assert sim.close_connections(sim.key_id) == 1
    try:
        async with asyncio.timeout(5):
            while True:
                await ws.conn.recv()
    except ConnectionClosed as exc:
        assert exc.rcvd is None  # no close frame: the TCP connection was just dropped
    assert sim.stats().faults["connections_aborted"] == 1


async def test_stall_then_resume(sim: Simulator, ws: Ws) -> None:
    await ws.subscribe(["ticker"])
    assert sim.stall_connections(0.3) == 1
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ws.send("list_subscriptions")
    answer = await ws.until(lambda f: f["type"] == "ok")
    assert loop.time() - started >= 0.25  # held back by the stall, then delivered
    assert answer["msg"][0]["channel"] == "ticker"
    assert sim.stats().faults["stalls"] == 1


async def test_error_25_on_demand(sim: Simulator, ws: Ws) -> None:
    sids = await ws.subscribe(["trade", "ticker"])
    assert sim.send_sid_error(sids["trade"]) == 1
    err = await ws.until(lambda f: f["type"] == "error")
    assert err["sid"] == sids["trade"] and err["msg"]["code"] == 25
    await ws.send("list_subscriptions")
    listed = await ws.until(lambda f: f["type"] == "ok")
    assert [s["channel"] for s in listed["msg"]] == ["ticker"]


async def test_slow_reader_overflow_sends_error_25() -> None:
    async with running_simulator(markets=[BTC], send_queue=5) as sim:
        ws = await open_ws(sim)
        try:
            sid = await _book_sid(ws)
            sim.stall_connections(0.3)
            for _ in range(40):
                sim.step_flow(5)
            err = await ws.until(lambda f: f["type"] == "error")
            assert err["sid"] == sid and err["msg"]["code"] == 25
            assert sim.stats().faults["overflow_error_25"] == 1
            seqs = [f["seq"] for f in ws.frames
                    if f.get("sid") == sid and "seq" in f and f["type"] != "error"]
            assert seqs == list(range(1, len(seqs) + 1))  # nothing lost before the error
        finally:
            await ws.conn.close()


async def test_rest_faults(rest: Rest, sim: Simulator) -> None:
    sim.fail_rest("429")
    assert await rest.call("GET", "/margin/exchange/status") == (429,
                                                                 {"error": "too many requests"})
    sim.fail_rest(500, 1)
    status, _ = await rest.call("GET", "/margin/exchange/status")
    assert status == 500
    sim.fail_rest("timeout", hang_s=0.2, then="answer")
    assert (await rest.call("GET", "/margin/exchange/status"))[0] == 200
    sim.fail_rest("timeout", hang_s=5.0)
    timeout = aiohttp.ClientTimeout(total=0.3)
    try:
        async with rest.session.get(sim.rest_url + "/margin/exchange/status",
                                    timeout=timeout) as resp:
            raise AssertionError(f"expected a timeout, got {resp.status}")
    except TimeoutError:
        pass
    assert sim.stats().faults["rest_timeout"] == 2
    assert (await rest.call("GET", "/margin/exchange/status"))[0] == 200


async def test_admin_routes(rest: Rest, sim: Simulator) -> None:
    session = rest.session
    async with session.post(sim.admin_url + "/flow/pause") as resp:
        assert resp.status == 200 and (await resp.json())["paused"] is True
    assert sim.flow_paused
    async with session.post(sim.admin_url + "/flow/resume") as resp:
        assert (await resp.json())["paused"] is False
    async with session.post(sim.admin_url + "/rest/fail", json={"kind": "500", "n": 1}) as resp:
        assert resp.status == 200
    assert (await rest.call("GET", "/margin/exchange/status"))[0] == 500
    async with session.post(sim.admin_url + "/clock/advance", json={"seconds": 3600}) as resp:
        assert resp.status == 200
    async with session.post(sim.admin_url + "/price",
                            json={"ticker": BTC, "price": "8.5000"}) as resp:
        assert resp.status == 200
    async with session.post(sim.admin_url + "/frames/drop", json={"sid": "x"}) as resp:
        assert resp.status == 400
    async with session.post(sim.admin_url + "/nope") as resp:
        assert resp.status == 404
    async with session.get(sim.admin_url + "/stats") as resp:
        stats = await resp.json()
    assert stats["faults"]["flow_paused"] == 1 and stats["faults"]["clock_advanced"] == 1
    assert stats["faults"]["price_moves"] == 1 and stats["rest_by_status"]["500"] == 1


async def test_funding_clock_advance_settles_funding(sim: Simulator) -> None:
    before = len(sim.exchange.funding_rates_historical())
    sim.advance_clock(8 * 3600 + 60)
    after = sim.exchange.funding_rates_historical()
    assert len(after) > before
    assert sim.stats().events["funding_settlements"] >= 1
