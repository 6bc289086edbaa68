"""The simulator over real sockets on 127.0.0.1: REST, auth, WebSocket streams, scoping."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.sim import Simulator
from kalshi_margin_stream.sim.testing import Rest, Ws, open_ws, ws_headers

DATA = Path(__file__).parent / "data"
BTC = "KXBTCPERP"
TICK = Decimal("0.0001")


def fixture(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


def resting_bid(sim: Simulator, ticker: str = BTC) -> str:
    bid = sim.exchange.market(ticker).bid
    assert bid is not None
    return str(bid - 20 * TICK)


def order(ticker: str, side: str, price: str, count: str = "1", tif: str = "good_till_canceled",
          **extra: Any) -> dict[str, Any]:
    return {"ticker": ticker, "client_order_id": str(uuid.uuid4()), "side": side, "count": count,
            "price": price, "time_in_force": tif,
            "self_trade_prevention_type": "taker_at_cross", **extra}


# --- REST -------------------------------------------------------------------------------


async def test_public_endpoint_needs_no_signature(rest: Rest) -> None:
    status, body = await rest.call("GET", "/margin/exchange/status", sign=False)
    assert (status, body) == (200, fixture("exchange__status"))
    status, body = await rest.call("GET", "/margin/markets", sign=False)
    assert status == 200 and [m["ticker"] for m in body["markets"]] == ["KXBTCPERP", "KXETHPERP"]


async def test_private_endpoint_auth_failures(rest: Rest, sim: Simulator) -> None:
    status, body = await rest.call("GET", "/margin/balance", sign=False)
    assert status == 401 and body["error"]["code"] == "authentication_error"
    assert sim.credentials is not None
    import time

    now = time.time_ns() // 1_000_000
    stale = sim.credentials.headers("GET", sim.rest_url + "/margin/balance", now - 30_000)
    status, body = await rest.call("GET", "/margin/balance", sign=False, headers=stale)
    assert (status, body) == (401, fixture("auth__skew_minus30s"))
    wrong = sim.credentials.headers("GET", sim.rest_url + "/margin/positions", now)
    status, body = await rest.call("GET", "/margin/balance", sign=False, headers=wrong)
    assert (status, body) == (401, fixture("auth__bad_signature"))
    stranger = Credentials("not-registered", sim.credentials.private_key)
    other = stranger.headers("GET", sim.rest_url + "/margin/balance", now)
    status, _ = await rest.call("GET", "/margin/balance", sign=False, headers=other)
    assert status == 401
    status, body = await rest.call("GET", "/margin/balance")
    assert status == 200 and body["subaccount_balances"][0]["subaccount"] == 0
    assert sim.stats().rest_by_status[401] == 4


async def test_order_lifecycle_and_errors(rest: Rest, sim: Simulator) -> None:
    req = order(BTC, "bid", resting_bid(sim), count="2")
    status, created = await rest.call("POST", "/margin/orders", req)
    assert status == 201 and created["remaining_count"] == "2.00"
    assert created["fill_count"] == "0.00"
    status, body = await rest.call("POST", "/margin/orders", req)
    assert (status, body["error"]["code"]) == (409, "order_already_exists")
    oid = created["order_id"]
    status, got = await rest.call("GET", f"/margin/orders/{oid}")
    assert status == 200 and got["order"]["client_order_id"] == req["client_order_id"]
    status, dec = await rest.call("POST", f"/margin/orders/{oid}/decrease", {"reduce_by": "1"})
    assert status == 200 and dec["remaining_count"] == "1.00"
    status, canc = await rest.call("DELETE", f"/margin/orders/{oid}")
    assert status == 200 and canc["reduced_by"] == "1.00"
    status, body = await rest.call("DELETE", f"/margin/orders/{oid}")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await rest.call("GET", "/margin/orders/nope")
    assert status == 404


async def test_bad_request_bodies(rest: Rest, sim: Simulator) -> None:
    status, body = await rest.call("POST", "/portfolio/margin/subaccounts")
    assert (status, body) == (400, fixture("subaccounts__create_nobody"))
    status, body = await rest.call("POST", "/margin/orders", raw=b"{not json",
                                   headers={"Content-Type": "application/json"})
    assert status == 400 and "error" in body
    status, body = await rest.call("POST", "/margin/orders", {"ticker": BTC})
    assert status == 400 and "error" in body
    bad_tick = order(BTC, "bid", "5.38295")
    status, body = await rest.call("POST", "/margin/orders", bad_tick)
    assert status == 400 and body["error"]["code"] == "invalid_order"
    ro = order(BTC, "bid", resting_bid(sim), reduce_only=True)
    status, body = await rest.call("POST", "/margin/orders", ro)
    assert status == 400 and body["error"]["code"] == "invalid_order"
    status, body = await rest.call("GET", "/margin/funding_history")
    assert (status, body) == (400, fixture("funding__history_no_params"))
    status, body = await rest.call("GET", "/margin/orders?limit=abc")
    assert status == 400 and "msg" in body
    status, _ = await rest.call("GET", "/margin/exchange/status")
    assert status == 200  # the simulator is still serving


async def test_rate_limit_answers_429(rest: Rest, sim: Simulator) -> None:
    sim.set_rate_limits(read=20)
    status, limits = await rest.call("GET", "/account/limits/perps")
    assert status == 200 and limits["read"] == {"refill_rate": 20, "bucket_capacity": 20}
    assert (await rest.call("GET", "/margin/orders"))[0] == 200
    status, body = await rest.call("GET", "/margin/orders")
    assert (status, body) == (429, {"error": "too many requests"})
    assert sim.stats().events["rate_limited"] == 1
    # writes have their own bucket
    status, _ = await rest.call("POST", "/margin/orders", order(BTC, "bid", resting_bid(sim)))
    assert status == 201


# --- WebSocket --------------------------------------------------------------------------


async def test_ws_handshake_rejections(sim: Simulator) -> None:
    assert sim.credentials is not None
    import time

    now = time.time_ns() // 1_000_000
    cases = [
        ws_headers(sim.credentials, timestamp_ms=now - 60_000),
        ws_headers(sim.credentials, timestamp_ms=now + 300_000),
        ws_headers(Credentials("unknown-key", sim.credentials.private_key)),
        {k: v for k, v in ws_headers(sim.credentials).items() if k != "KALSHI-ACCESS-KEY"},
        dict(sim.credentials.headers("GET", "/trade-api/ws/v2", now)),  # event-socket path
    ]
    for headers in cases:
        with pytest.raises(InvalidStatus) as info:
            async with connect(sim.ws_url, additional_headers=headers, open_timeout=5):
                pass
        assert info.value.response.status_code == 401
    assert sim.stats().ws_rejected_handshakes == 5


async def test_snapshot_then_contiguous_deltas(sim: Simulator, ws: Ws) -> None:
    sids = await ws.subscribe(["orderbook_delta"], market_tickers=[BTC, "KXETHPERP"])
    sid = sids["orderbook_delta"]
    first = await ws.until(lambda f: f["type"] == "orderbook_snapshot")
    second = await ws.until(lambda f: f["type"] == "orderbook_snapshot")
    assert {first["msg"]["market_ticker"], second["msg"]["market_ticker"]} == {BTC, "KXETHPERP"}
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["msg"]["bid"] and first["msg"]["ask"]
    sim.step_flow(40)
    await ws.until(lambda f: f["type"] == "orderbook_delta" and f["seq"] >= 6)
    seqs = [f["seq"] for f in ws.frames if f.get("sid") == sid and "seq" in f]
    assert seqs == list(range(1, len(seqs) + 1))
    assert all("sending_ts_ms" in f for f in ws.frames)


async def test_ticker_initial_snapshot_and_trades(sim: Simulator, ws: Ws) -> None:
    sids = await ws.subscribe(["ticker", "trade"], market_ticker=BTC, send_initial_snapshot=True)
    tick = await ws.until(lambda f: f["type"] == "ticker")
    assert tick["sid"] == sids["ticker"] and tick["msg"]["market_ticker"] == BTC
    assert isinstance(tick["msg"]["funding_rate"]["rate"], int | float)
    ask = sim.exchange.market(BTC).ask
    rest_creds = sim.credentials
    assert ask is not None and rest_creds is not None
    result = sim.exchange.create_order(sim.user_id, ticker=BTC, client_order_id="x1",
                                       side="bid", count=Decimal(1), price=ask,
                                       time_in_force="immediate_or_cancel",
                                       now_ms=sim.state.now_ms())
    sim.state.apply(result.events)
    trade = await ws.until(lambda f: f["type"] == "trade")
    assert trade["seq"] == 1 and trade["msg"]["taker_side"] == "bid"


async def test_private_channels_are_scoped_per_user(sim: Simulator, rest: Rest) -> None:
    other_creds = sim.add_user()
    mine = await open_ws(sim)
    theirs = await open_ws(sim, other_creds)
    try:
        for client in (mine, theirs):
            await client.subscribe(["user_orders", "fill", "orderbook_delta"], market_ticker=BTC)
            await client.until(lambda f: f["type"] == "orderbook_snapshot")
        req = order(BTC, "bid", resting_bid(sim))
        status, _ = await rest.call("POST", "/margin/orders", req)
        assert status == 201
        uo = await mine.seen(lambda f: f["type"] == "user_order")
        assert uo["msg"]["client_order_id"] == req["client_order_id"]
        own = await mine.seen(lambda f: f["type"] == "orderbook_delta"
                               and f["msg"].get("client_order_id") == req["client_order_id"])
        assert own["msg"]["subaccount"] == 0
        seen = await theirs.seen(lambda f: f["type"] == "orderbook_delta"
                                  and f["msg"]["price"] == own["msg"]["price"]
                                  and f["msg"]["delta"] == own["msg"]["delta"])
        assert "client_order_id" not in seen["msg"]
        assert not any(f["type"] == "user_order" for f in theirs.frames)
    finally:
        await mine.conn.close()
        await theirs.conn.close()


async def test_bad_ws_input_gets_errors_and_the_session_survives(ws: Ws) -> None:
    await ws.conn.send("{oops")
    assert (await ws.recv())["msg"]["code"] == 1
    await ws.send("dance", {})
    assert (await ws.recv())["msg"]["code"] == 5
    await ws.send("subscribe", {"channels": ["bogus"]})
    assert (await ws.recv())["msg"]["code"] == 8
    await ws.send("list_subscriptions")
    listed = await ws.recv()
    assert listed["type"] == "ok" and listed["msg"] == []


async def test_cursor_pagination_walks_every_order_once(rest: Rest, sim: Simulator) -> None:
    created = set()
    for _ in range(5):
        status, body = await rest.call("POST", "/margin/orders",
                                       order(BTC, "bid", resting_bid(sim)))
        assert status == 201
        created.add(body["order_id"])
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        query = "/margin/orders?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await rest.call("GET", query)
        assert status == 200 and len(page["orders"]) <= 2
        seen.extend(o["order_id"] for o in page["orders"])
        cursor = page["cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(created)
    status, body = await rest.call("GET", "/margin/orders?cursor=garbage")
    assert status == 400


async def test_move_price_moves_the_reference(sim: Simulator, ws: Ws) -> None:
    await ws.subscribe(["ticker"], market_ticker=BTC)
    sim.move_price(BTC, "9.1234")
    sim.flush_tickers()
    tick = await ws.until(lambda f: f["type"] == "ticker")
    assert tick["msg"]["reference_price"]["price"] == "9.1234"
    assert sim.stats().faults["price_moves"] == 1


async def test_fuzzed_order_bodies_never_crash_the_server(rest: Rest, sim: Simulator) -> None:
    import random

    sim.set_rate_limits(read=100_000, write=100_000)
    rng = random.Random(11)
    values: list[Any] = [None, True, 0, -1, 1.5, "", "x", "1", "-3", "0.00001", "1e3", "NaN",
                         "9999999999", [], {}, BTC, "bid", "ask", "fill_or_kill",
                         "good_till_canceled", "immediate_or_cancel", "maker",
                         "taker_at_cross", resting_bid(sim), str(uuid.uuid4())]
    keys = ["ticker", "client_order_id", "side", "count", "price", "time_in_force",
            "self_trade_prevention_type", "post_only", "reduce_only", "subaccount",
            "order_group_id", "expiration_time", "market_version", "cancel_order_on_pause"]
    statuses: set[int] = set()
    for _ in range(150):
        body = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, len(keys)))}
        status, answer = await rest.call("POST", "/margin/orders", body)
        statuses.add(status)
        assert status in (201, 400, 404, 409), (body, status, answer)
        if status != 201:
            assert isinstance(answer, dict) and ("error" in answer or "code" in answer), answer
    assert 400 in statuses
    assert sim.stats().rest_by_status[500] == 0


async def test_fuzzed_bodies_on_every_write_route(rest: Rest, sim: Simulator) -> None:
    import random

    sim.set_rate_limits(read=100_000, write=100_000)
    status, placed = await rest.call("POST", "/margin/orders", order(BTC, "bid", resting_bid(sim)))
    status, group = await rest.call("POST", "/margin/order_groups/create", {"contracts_limit": 9})
    oid, gid = placed["order_id"], group["order_group_id"]
    routes = [("POST", f"/margin/orders/{oid}/decrease"), ("POST", f"/margin/orders/{oid}/amend"),
              ("POST", "/margin/order_groups/create"), ("PUT", f"/margin/order_groups/{gid}/limit"),
              ("POST", "/portfolio/margin/subaccounts/transfer"),
              ("POST", "/portfolio/intra_exchange_instance_transfer")]
    keys = ["reduce_by", "reduce_to", "ticker", "side", "price", "count", "contracts_limit",
            "contracts_limit_fp", "subaccount", "client_transfer_id", "from_subaccount",
            "to_subaccount", "amount_cents", "source", "destination", "amount"]
    values: list[Any] = [None, True, 0, 1, -5, 2.5, "", "1", "0", "-1", "1.001", "abc", [], {},
                         BTC, "bid", "margined", "event_contract", str(uuid.uuid4()), 10**12]
    rng = random.Random(5)
    for _ in range(200):
        method, path = rng.choice(routes)
        body = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, 6))}
        status, answer = await rest.call(method, path, body)
        assert status < 500, (method, path, body, answer)
    assert sim.stats().rest_by_status[500] == 0
