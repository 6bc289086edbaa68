"""The client pipeline through a scripted ``send``: signing, retries, reconcile, paging."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal

import msgspec
import pytest

from kalshi_margin_stream.core.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Credentials,
    verify_signature,
)
from kalshi_margin_stream.exceptions import (
    AuthError,
    ClientClosed,
    ConnectError,
    ConnectionLost,
    DecodeError,
    HTTPStatusError,
    InvalidRequest,
    ProtocolError,
    RateLimited,
    Timeout,
)
from kalshi_margin_stream.rest import BucketRate, RateLimits, RestClient, RetryPolicy
from kalshi_margin_stream.rest.testing import ScriptedSend as Script
from kalshi_margin_stream.rest.testing import error_response as err
from kalshi_margin_stream.rest.testing import json_response as ok
from kalshi_margin_stream.rest.transport import RestRequest, RestResponse

MakeClient = Callable[..., RestClient]

ORDER = {"order_id": "o-1", "client_order_id": "cid-1", "ticker": "KXBTCPERP", "side": "bid",
         "price": "8.0961", "fill_count": "0.00", "remaining_count": "1.00",
         "user_id": "u", "last_update_reason": ""}
CREATED = {"order_id": "o-1", "client_order_id": "cid-1", "fill_count": "0.00",
           "remaining_count": "1.00"}


def _order(**over: object) -> dict[str, object]:
    return {**ORDER, **over}


async def test_every_request_is_signed_without_query(make_client: MakeClient,
                                                     credentials: Credentials) -> None:
    script = Script([err(500), ok({"orders": [], "cursor": ""})])
    async with make_client(script) as rest:
        await rest.list_orders(ticker="KXBTCPERP", limit=5)
    public = credentials.private_key.public_key()
    stamps = []
    for req in script.requests:
        assert req.url == ("http://sim.invalid/trade-api/v2/margin/orders"
                           "?ticker=KXBTCPERP&limit=5")
        assert req.path == "/trade-api/v2/margin/orders"
        assert req.headers[HEADER_KEY] == "test-key-id"
        ts = int(req.headers[HEADER_TIMESTAMP])
        assert verify_signature(public, req.headers[HEADER_SIGNATURE], ts, "GET",
                                "/trade-api/v2/margin/orders")
        stamps.append(ts)
        assert "KALSHI-ACCESS-SIGNATURE" not in repr(req)
    assert stamps[1] > stamps[0]           # a fresh timestamp on every attempt


async def test_post_always_has_a_json_body(make_client: MakeClient) -> None:
    script = Script([ok({"subaccount_number": 3}, status=201)])
    async with make_client(script) as rest:
        assert await rest.create_subaccount() == 3
    req = script.requests[0]
    assert req.body == b"{}" and req.headers["Content-Type"] == "application/json"


async def test_reads_retry_5xx_timeouts_and_connect_errors(make_client: MakeClient) -> None:
    script = Script([err(503, "service_unavailable"), Timeout("slow"), ConnectError("down"),
                     ok({"exchange_active": True, "trading_active": False})])
    async with make_client(script) as rest:
        status = await rest.get_exchange_status()
    assert status.trading_active is False and len(script.requests) == 4


async def test_reads_give_up_after_max_attempts(make_client: MakeClient) -> None:
    script = Script([err(500)] * 2)
    async with make_client(script,
                               retry=RetryPolicy(max_attempts=2, base_delay=0.001)) as rest:
        with pytest.raises(HTTPStatusError) as info:
            await rest.get_risk()
    assert info.value.status == 500 and len(script.requests) == 2


async def test_4xx_is_not_retried(make_client: MakeClient) -> None:
    script = Script([err(400, "invalid_order")])
    async with make_client(script) as rest:
        with pytest.raises(HTTPStatusError, match="invalid_order"):
            await rest.get_risk()
    assert len(script.requests) == 1


async def test_401_is_auth_error_and_not_retried(make_client: MakeClient) -> None:
    script = Script([err(401, "authentication_error")])
    async with make_client(script) as rest:
        with pytest.raises(AuthError) as info:
            await rest.get_balance()
    assert isinstance(info.value, HTTPStatusError) and info.value.status == 401
    assert len(script.requests) == 1


async def test_429_retry_after_is_waited_out(make_client: MakeClient) -> None:
    script = Script([err(429, headers={"Retry-After": "0.02"}), err(429),
                     ok({"enabled": True})])
    async with make_client(script) as rest:
        assert await rest.is_margin_enabled() is True
        assert rest.limiter.stats.rate_limited == 2
    assert len(script.requests) == 3


async def test_429_gives_up_eventually(make_client: MakeClient) -> None:
    script = Script([err(429)] * 3)
    policy = RetryPolicy(max_rate_limited=2, base_delay=0.001)
    async with make_client(script, retry=policy) as rest:
        with pytest.raises(RateLimited):
            await rest.get_fee_tiers()
    assert len(script.requests) == 3


async def test_create_generates_one_id_and_reuses_it(make_client: MakeClient) -> None:
    """Timeout -> lookup finds nothing -> resend same id -> 409 -> lookup finds it."""
    seen: list[str] = []

    def capture(req: RestRequest) -> RestResponse:
        seen.append(json.loads(req.body or b"{}")["client_order_id"])
        return err(409, "order_already_exists")

    def listing(req: RestRequest) -> RestResponse:
        return ok({"orders": [_order(client_order_id=seen[0])], "cursor": ""})

    script = Script([lambda r: _timeout(r, seen),
                     ok({"orders": [], "cursor": ""}), capture, listing])
    async with make_client(script) as rest:
        placed = await rest.create_order("KXBTCPERP", "bid", 1, "8.0961")
    assert placed.order_id == "o-1" and placed.client_order_id == seen[0]
    assert len(seen) == 2 and seen[0] == seen[1]
    assert script.calls() == ["POST /margin/orders", "GET /margin/orders?ticker=KXBTCPERP",
                                "POST /margin/orders", "GET /margin/orders?ticker=KXBTCPERP"]


def _timeout(req: RestRequest, seen: list[str]) -> RestResponse:
    seen.append(json.loads(req.body or b"")["client_order_id"])
    raise Timeout("no answer")


async def test_create_timeout_that_landed_is_not_resent(make_client: MakeClient) -> None:
    script = Script([Timeout("slow"), lambda r: ok({"orders": [
        _order(client_order_id="mine", order_id="o-9", fill_count="1.00",
               remaining_count="0.00")], "cursor": ""})])
    async with make_client(script) as rest:
        placed = await rest.create_order("KXBTCPERP", "bid", 1, "8.0961", client_order_id="mine")
    assert placed.order_id == "o-9" and placed.fill_count == Decimal("1.00")
    assert [m.split("?")[0] for m in script.calls()] == ["POST /margin/orders",
                                                            "GET /margin/orders"]


async def test_duplicate_id_on_first_attempt_is_the_callers_error(
        make_client: MakeClient) -> None:
    script = Script([err(409, "order_already_exists")])
    async with make_client(script) as rest:
        with pytest.raises(HTTPStatusError) as info:
            await rest.create_order("KXBTCPERP", "bid", 1, "8.0961", client_order_id="used")
    assert info.value.code == "order_already_exists" and len(script.requests) == 1


async def test_create_found_order_must_match(make_client: MakeClient) -> None:
    """A lookup hit with other parameters is not ours: the 409 is raised."""
    script = Script([ConnectionLost("reset"), ok({"orders": [], "cursor": ""}),
                     err(409, "order_already_exists"),
                     ok({"orders": [_order(client_order_id="mine", side="ask")],
                         "cursor": ""})])
    async with make_client(script) as rest:
        with pytest.raises(HTTPStatusError, match="order_already_exists"):
            await rest.create_order("KXBTCPERP", "bid", 1, "8.0961", client_order_id="mine")
    assert len(script.requests) == 4


async def test_create_connect_error_is_resent_without_lookup(make_client: MakeClient) -> None:
    script = Script([ConnectError("refused"), ok(CREATED, status=201)])
    async with make_client(script) as rest:
        placed = await rest.create_order("KXBTCPERP", "bid", 1, "8.0961", client_order_id="c")
    assert placed.order_id == "o-1"
    assert script.calls() == ["POST /margin/orders", "POST /margin/orders"]


async def test_ambiguous_cancel_confirmed_by_lookup(make_client: MakeClient) -> None:
    script = Script([Timeout("slow"), ok({"order": _order(remaining_count="0.00")})])
    async with make_client(script) as rest:
        done = await rest.cancel_order("o-1")
    assert done.order_id == "o-1" and done.reduced_by == 0
    assert script.calls() == ["DELETE /margin/orders/o-1", "GET /margin/orders/o-1"]


async def test_ambiguous_cancel_not_applied_is_resent(make_client: MakeClient) -> None:
    script = Script([err(502), ok({"order": _order()}),
                     ok({"order_id": "o-1", "reduced_by": "1.00"})])
    async with make_client(script) as rest:
        done = await rest.cancel_order("o-1", subaccount=2)
    assert done.reduced_by == Decimal("1.00")
    assert script.calls() == ["DELETE /margin/orders/o-1?subaccount=2",
                                "GET /margin/orders/o-1",
                                "DELETE /margin/orders/o-1?subaccount=2"]


async def test_retried_cancel_404_confirmed_then_done(make_client: MakeClient) -> None:
    script = Script([Timeout("slow"), ok({"order": _order()}), err(404, "not_found"),
                     err(404, "not_found")])
    async with make_client(script) as rest:
        done = await rest.cancel_order("o-1")
    assert done.reduced_by == 0 and len(script.requests) == 4


async def test_first_cancel_404_is_raised(make_client: MakeClient) -> None:
    script = Script([err(404, "not_found")])
    async with make_client(script) as rest:
        with pytest.raises(HTTPStatusError, match="not_found"):
            await rest.cancel_order("nope")
    assert len(script.requests) == 1


async def test_decrease_by_is_never_resent_after_ambiguity(make_client: MakeClient) -> None:
    script = Script([Timeout("slow")])
    async with make_client(script) as rest:
        with pytest.raises(Timeout):
            await rest.decrease_order("o-1", reduce_by=1)
    assert len(script.requests) == 1


async def test_decrease_to_confirmed_by_lookup(make_client: MakeClient) -> None:
    script = Script([ConnectionLost("reset"), ok({"order": _order(remaining_count="2.00")})])
    async with make_client(script) as rest:
        done = await rest.decrease_order("o-1", reduce_to=2)
    assert done.remaining_count == 2 and len(script.requests) == 2
    assert json.loads(script.requests[0].body or b"") == {"reduce_to": "2"}


async def test_amend_confirmed_by_lookup(make_client: MakeClient) -> None:
    script = Script([Timeout("slow"),
                     ok({"order": _order(price="8.1000", remaining_count="3.00")})])
    async with make_client(script) as rest:
        done = await rest.amend_order("o-1", ticker="KXBTCPERP", side="bid", price="8.1",
                                      count=3)
    assert done.remaining_count == 3 and len(script.requests) == 2


async def test_unsafe_writes_are_not_resent(make_client: MakeClient) -> None:
    script = Script([Timeout("slow")])
    async with make_client(script) as rest:
        with pytest.raises(Timeout):
            await rest.create_order_group(10)
    assert len(script.requests) == 1


async def test_subaccount_transfer_replay_on_retry_is_success(make_client: MakeClient) -> None:
    script = Script([Timeout("slow"), err(409, "transfer_already_applied")])
    async with make_client(script) as rest:
        tid = await rest.transfer_between_subaccounts(from_subaccount=0, to_subaccount=1,
                                                      amount_cents=500)
    bodies = [json.loads(r.body or b"") for r in script.requests]
    assert bodies[0] == bodies[1] == {"client_transfer_id": tid, "from_subaccount": 0,
                                      "to_subaccount": 1, "amount_cents": 500}


async def test_invalid_arguments_send_nothing(make_client: MakeClient) -> None:
    script = Script([])
    async with make_client(script) as rest:
        for bad in (
            rest.create_order("KXBTCPERP", "buy", 1, "8.0961"),
            rest.create_order("KXBTCPERP", "bid", 0, "8.0961"),
            rest.create_order("KXBTCPERP", "bid", 1, "8.09615"),
            rest.create_order("KXBTCPERP", "bid", 1, "8.0961", reduce_only=True),
            rest.decrease_order("o-1"),
            rest.decrease_order("o-1", reduce_by=1, reduce_to=0),
            rest.cancel_order(""),
            rest.get_funding_history(start_date="June", end_date="2026-06-12"),
            rest.get_candlesticks("KXBTCPERP", start_ts=0, end_ts=1, period_interval=5),
            rest.get_orderbook("KXBTCPERP", depth=-1),
            rest.transfer_between_subaccounts(from_subaccount=0, to_subaccount=1,
                                              amount_cents=0),
        ):
            with pytest.raises(InvalidRequest):
                await bad
    assert script.requests == []


async def test_cached_market_drives_tick_and_whole_counts(make_client: MakeClient) -> None:
    market = {"ticker": "KXGOLD", "tick_size": "0.05", "fractional_trading_enabled": False}
    script = Script([ok({"market": market})])
    async with make_client(script) as rest:
        await rest.get_market("KXGOLD")
        with pytest.raises(InvalidRequest, match="tick"):
            await rest.create_order("KXGOLD", "bid", 1, "10.01")
        with pytest.raises(InvalidRequest, match="whole"):
            await rest.create_order("KXGOLD", "bid", "1.5", "10.05")
    assert len(script.requests) == 1


async def test_pagination_walks_every_page(make_client: MakeClient) -> None:
    script = Script([ok({"orders": [_order(order_id="a")], "cursor": "c1"}),
                     ok({"orders": [_order(order_id="b")], "cursor": "c2"}),
                     ok({"orders": [_order(order_id="c")]})])
    async with make_client(script) as rest:
        ids = [o.order_id async for o in rest.iter_orders(limit=1)]
    assert ids == ["a", "b", "c"]
    assert script.calls() == ["GET /margin/orders?limit=1",
                                "GET /margin/orders?limit=1&cursor=c1",
                                "GET /margin/orders?limit=1&cursor=c2"]


async def test_pagination_refuses_a_repeated_cursor(make_client: MakeClient) -> None:
    script = Script([ok({"fills": [], "cursor": "same"}), ok({"fills": [], "cursor": "x"}),
                     ok({"fills": [], "cursor": "same"})])
    async with make_client(script) as rest:
        with pytest.raises(ProtocolError, match="repeated cursor"):
            async for _ in rest.iter_fills():
                pass
    assert len(script.requests) == 3


async def test_bad_success_body_is_a_decode_error(make_client: MakeClient) -> None:
    script = Script([ok({"orders": "nope"}), RestResponse(200, b"{not json", {})])
    async with make_client(script) as rest:
        with pytest.raises(DecodeError) as info:
            await rest.list_orders()
        assert info.value.path == "$.orders"
        with pytest.raises(DecodeError):
            await rest.get_risk()
    assert len(script.requests) == 2


async def test_empty_2xx_bodies(make_client: MakeClient) -> None:
    script = Script([RestResponse(204, b"", {}), ok({}), ok({})])
    async with make_client(script) as rest:
        await rest.cancel_all_orders()
        assert await rest.list_order_groups() == []
        await rest.trigger_order_group("g-1")
    assert script.calls() == ["DELETE /margin/orders", "GET /margin/order_groups",
                                "PUT /margin/order_groups/g-1/trigger"]


async def test_closed_and_unopened_clients_refuse(make_client: MakeClient) -> None:
    script = Script([])
    rest = make_client(script)
    with pytest.raises(ClientClosed):
        await rest.get_risk()
    async with rest:
        pass
    with pytest.raises(ClientClosed):
        await rest.get_risk()
    with pytest.raises(ClientClosed):
        await rest.open()


async def test_public_calls_without_credentials() -> None:
    script = Script([ok({"exchange_active": True, "trading_active": True})])
    async with RestClient(None, base_url="http://sim.invalid/trade-api/v2", send=script) as rest:
        await rest.get_exchange_status()
    assert HEADER_SIGNATURE not in script.requests[0].headers


async def test_balance_costs_reach_the_limiter(make_client: MakeClient) -> None:
    script = Script([ok({"subaccount_balances": []}), ok({"subaccount_balances": []})])
    limits = RateLimits(read=BucketRate(10_000, 10_000))
    async with make_client(script, rate_limits=limits) as rest:
        await rest.get_balance()
        await rest.get_balance(compute_available_balance=True)
        assert rest.limiter.stats.tokens["read"] == 55
    assert script.calls()[1] == "GET /margin/balance?compute_available_balance=true"


def test_env_urls() -> None:
    assert RestClient(None, env="prod").base_url == \
        "https://external-api.kalshi.com/trade-api/v2"
    assert RestClient(None).base_url == "https://external-api.demo.kalshi.co/trade-api/v2"
    with pytest.raises(ValueError):
        RestClient(None, env="staging")
    assert msgspec  # imported for symmetry with the other tests


async def test_in_flight_cap_bounds_concurrent_sends(make_client: MakeClient) -> None:
    active = peak = 0
    release = asyncio.Event()

    async def send(request: RestRequest) -> RestResponse:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await release.wait()
        active -= 1
        return ok({"enabled": True})

    async with make_client(Script(), send=send, max_in_flight=3) as rest:
        calls = [asyncio.ensure_future(rest.is_margin_enabled()) for _ in range(10)]
        while active < 3:
            await asyncio.sleep(0)
        for _ in range(20):                        # let the others try to get in
            await asyncio.sleep(0)
        assert peak == 3
        release.set()
        assert await asyncio.gather(*calls) == [True] * 10
    assert peak == 3


async def test_decode_error_path_at_top_level(make_client: MakeClient) -> None:
    script = Script([ok([1, 2])])
    async with make_client(script) as rest:
        with pytest.raises(DecodeError) as info:
            await rest.get_risk()
    assert info.value.path == "$"
