"""RestClient against the package's simulator over real sockets on 127.0.0.1.

Every test waits on its calls (no fixed sleeps) and asserts on the simulator's
own ledger and counters, not only on what the client returned.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.exceptions import AuthError, HTTPStatusError, InvalidRequest, Timeout
from kalshi_margin_stream.rest import BucketRate, RateLimits, RestClient, RetryPolicy, Timeouts
from kalshi_margin_stream.rest.transport import AiohttpSender, RestRequest, RestResponse
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.sim.testing import running_simulator

TICKER = "KXBTCPERP"
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)
HIGH = RateLimits(read=BucketRate(100_000, 100_000), write=BucketRate(100_000, 100_000))


@dataclass
class Counting:
    """Wraps the real aiohttp sender: counts ``METHOD /path`` of every request sent, and
    can lose the answer of a request that *was* applied (raising ``Timeout`` after it)."""

    inner: AiohttpSender
    seen: Counter[str]
    lose: Counter[str]

    async def __call__(self, request: RestRequest) -> RestResponse:
        key = f"{request.method} {request.path.removeprefix('/trade-api/v2')}"
        self.seen[key] += 1
        response = await self.inner(request)
        if self.lose[key] > 0:
            self.lose[key] -= 1
            raise Timeout(f"answer lost on purpose: {key}")
        return response


@dataclass
class Env:
    sim: Simulator
    rest: RestClient
    seen: Counter[str]
    lose: Counter[str]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with running_simulator(markets=[TICKER]) as sim:
        sim.set_rate_limits(read=100_000, write=100_000)
        assert sim.credentials is not None
        seen: Counter[str] = Counter()
        lose: Counter[str] = Counter()
        async with aiohttp.ClientSession() as session:
            send = Counting(AiohttpSender(session, Timeouts()), seen, lose)
            async with RestClient(sim.credentials, base_url=sim.rest_url, send=send,
                                  retry=FAST, rate_limits=HIGH) as rest:
                yield Env(sim, rest, seen, lose)


def _ledger_orders(sim: Simulator, client_order_id: str) -> list[str]:
    page = sim.exchange.list_orders(sim.user_id)
    return [o.order_id for o in page.items if o.client_order_id == client_order_id]


async def _resting_price(rest: RestClient) -> Decimal:
    """A bid price well below the touch: rests without filling."""
    book = await rest.get_orderbook(TICKER)
    return book.sorted_bids()[-1][0]


async def test_every_endpoint_round_trips(env: Env) -> None:
    rest, sim = env.rest, env.sim
    assert (await rest.get_exchange_status()).exchange_active is True
    assert await rest.is_margin_enabled() is True
    limits = await rest.load_account_limits()
    assert limits.read.refill_rate == 100_000
    markets = await rest.list_markets()
    assert [m.ticker for m in markets] == [TICKER] and rest.markets[TICKER].tick is not None
    market = await rest.get_market(TICKER)
    book = await rest.get_orderbook(TICKER, depth=3)
    assert len(book.bids) <= 3 and book.sorted_bids()[0][0] < book.sorted_asks()[0][0]
    assert market.bid == book.sorted_bids()[0][0]
    assert (await rest.get_funding_estimate(TICKER)).next_funding_time_ms > 0
    assert isinstance(await rest.get_historical_funding_rates(ticker=TICKER), list)
    assert (await rest.get_risk_parameters()).initial_margin_multiplier[TICKER] > 1
    assert (await rest.get_fee_tiers()).taker_fee_rates[TICKER] > 0
    tiers = await rest.get_fee_tier_rates()
    assert tiers and all(t.maker_fee_rate <= t.taker_fee_rate for t in tiers)

    price = await _resting_price(rest)
    placed = await rest.create_order(TICKER, "bid", 2, price, client_order_id="rt-1")
    assert _ledger_orders(sim, "rt-1") == [placed.order_id]
    order = await rest.get_order(placed.order_id)
    assert (order.client_order_id, order.price) == ("rt-1", price)
    assert order.remaining_count == 2
    assert order.created_time_ms is not None and order.created_time_ms > 1_700_000_000_000
    amended = await rest.amend_order(placed.order_id, ticker=TICKER, side="bid", price=price,
                                     count=3)
    assert amended.remaining_count == 3
    assert (await rest.decrease_order(placed.order_id, reduce_by=1)).remaining_count == 2
    assert (await rest.decrease_order(placed.order_id, reduce_to=1)).remaining_count == 1
    assert (await rest.cancel_order(placed.order_id)).reduced_by == 1
    assert sim.exchange.get_order(sim.user_id, placed.order_id).remaining_count == 0

    group = await rest.create_order_group(10)
    in_group = await rest.create_order(TICKER, "bid", 1, price,
                                       order_group_id=group.order_group_id)
    detail = await rest.get_order_group(group.order_group_id)
    assert in_group.order_id in detail.orders and detail.contracts_limit_fp == 10
    assert [g.id for g in await rest.list_order_groups()] == [group.order_group_id]
    await rest.update_order_group_limit(group.order_group_id, 20)
    await rest.trigger_order_group(group.order_group_id)
    assert sim.exchange.get_order(sim.user_id, in_group.order_id).remaining_count == 0
    await rest.reset_order_group(group.order_group_id)
    await rest.delete_order_group(group.order_group_id)
    assert await rest.list_order_groups() == []

    await rest.create_order(TICKER, "bid", 1, price)
    await rest.cancel_all_orders()
    assert not [o for o in sim.exchange.list_orders(sim.user_id).items if o.remaining_count]

    ask = (await rest.get_orderbook(TICKER)).sorted_asks()[0][0]
    taken = await rest.create_order(TICKER, "bid", 1, ask, time_in_force="immediate_or_cancel")
    assert taken.fill_count == 1
    fills = await rest.list_fills()
    assert [f.order_id for f in fills.fills] == [taken.order_id]
    positions = await rest.get_positions()
    assert [(p.market_ticker, p.position) for p in positions] == [(TICKER, Decimal(1))]
    balance = await rest.get_balance(compute_available_balance=True)
    zero = balance.for_subaccount(0)
    assert zero is not None and zero.available_balance is not None
    assert zero.available_balance < zero.account_equity  # type: ignore[operator]
    risk = await rest.get_risk()
    assert risk.positions[0].position == 1
    assert (await rest.get_notional_risk_limit()).default_notional_value_risk_limit > 0
    trades = await rest.list_trades(ticker=TICKER)
    assert trades.trades and trades.trades[0].price == ask
    assert isinstance(await rest.get_funding_history(start_date="2020-01-01",
                                                     end_date="2030-12-31"), list)

    sub = await rest.create_subaccount()
    assert sub == 1
    await rest.transfer_between_subaccounts(from_subaccount=0, to_subaccount=sub,
                                            amount_cents=12_345)
    moved = (await rest.get_balance()).for_subaccount(sub)
    assert moved is not None and moved.account_equity == Decimal("123.45")
    tid = await rest.intra_exchange_transfer(source="margined", destination="event_contract",
                                             amount_centicents=10_000)
    assert (await rest.get_intra_exchange_transfer(tid)).transfer_id == tid
    listed = await rest.list_intra_exchange_transfers()
    assert [t.transfer_id for t in listed.transfers] == [tid]
    assert env.sim.stats().rest_by_status.get(500, 0) == 0


async def test_pagination_walks_every_page(env: Env) -> None:
    price = await _resting_price(env.rest)
    ids = {(await env.rest.create_order(TICKER, "bid", 1, price)).order_id for _ in range(7)}
    env.seen.clear()
    walked = [o.order_id async for o in env.rest.iter_orders(ticker=TICKER, limit=2)]
    assert sorted(walked) == sorted(ids) and len(walked) == 7
    assert env.seen["GET /margin/orders"] == 4          # 2 + 2 + 2 + 1


async def test_429_without_retry_after_is_waited_out(env: Env) -> None:
    env.sim.fail_rest(429, 3)
    balance = await env.rest.get_balance()
    assert balance.for_subaccount(0) is not None
    assert env.sim.stats().rest_by_status[429] == 3
    assert env.seen["GET /margin/balance"] == 4
    assert env.rest.limiter.stats.rate_limited == 3


async def test_500_on_create_makes_one_order(env: Env) -> None:
    price = await _resting_price(env.rest)
    env.sim.fail_rest(500, 1)
    placed = await env.rest.create_order(TICKER, "bid", 1, price, client_order_id="five-hundred")
    assert _ledger_orders(env.sim, "five-hundred") == [placed.order_id]
    assert env.seen["POST /margin/orders"] == 2          # refused once (not applied), resent


async def test_timeout_on_create_makes_one_order(env: Env) -> None:
    """The simulator hangs past our timeout (and, the connection closed, never applies it):
    the lookup finds nothing, the same id is sent again, one order exists."""
    price = await _resting_price(env.rest)
    env.sim.fail_rest("timeout", 1, hang_s=0.3, then="answer")
    placed = await env.rest.create_order(TICKER, "bid", 1, price, client_order_id="slow-one",
                                         timeout=0.1)
    assert _ledger_orders(env.sim, "slow-one") == [placed.order_id]
    assert env.seen["POST /margin/orders"] == 2


async def test_lost_answer_on_create_is_not_resent(env: Env) -> None:
    """The create is applied but its answer is lost: the lookup finds it; no second POST."""
    price = await _resting_price(env.rest)
    env.lose["POST /margin/orders"] = 1
    placed = await env.rest.create_order(TICKER, "bid", 2, price, client_order_id="lost")
    assert _ledger_orders(env.sim, "lost") == [placed.order_id]
    assert placed.remaining_count == 2
    assert env.seen["POST /margin/orders"] == 1


async def test_lost_answer_twice_resolves_via_409(env: Env) -> None:
    """Applied, answer lost; lookup misses (its answer lost too); the resend gets 409
    order_already_exists, which a second lookup resolves."""
    price = await _resting_price(env.rest)
    env.lose["POST /margin/orders"] = 1
    env.lose["GET /margin/orders"] = FAST.max_attempts     # the whole first lookup fails
    placed = await env.rest.create_order(TICKER, "bid", 1, price, client_order_id="twice")
    assert _ledger_orders(env.sim, "twice") == [placed.order_id]
    assert env.seen["POST /margin/orders"] == 2
    assert env.sim.stats().rest_by_status[409] == 1


async def test_dropped_create_is_resent_once(env: Env) -> None:
    price = await _resting_price(env.rest)
    env.sim.fail_rest("timeout", 1, hang_s=0.05, then="drop")
    placed = await env.rest.create_order(TICKER, "bid", 1, price, client_order_id="dropped")
    assert _ledger_orders(env.sim, "dropped") == [placed.order_id]
    assert env.seen["POST /margin/orders"] == 2


async def test_lost_cancel_answer_is_confirmed_not_resent(env: Env) -> None:
    price = await _resting_price(env.rest)
    placed = await env.rest.create_order(TICKER, "bid", 3, price)
    env.lose["DELETE /margin/orders/" + placed.order_id] = 1
    done = await env.rest.cancel_order(placed.order_id)
    assert done.order_id == placed.order_id
    assert env.sim.exchange.get_order(env.sim.user_id, placed.order_id).remaining_count == 0
    assert env.seen["DELETE /margin/orders/" + placed.order_id] == 1
    assert env.seen["GET /margin/orders/" + placed.order_id] == 1


async def test_failed_cancel_is_resent_after_lookup(env: Env) -> None:
    price = await _resting_price(env.rest)
    placed = await env.rest.create_order(TICKER, "bid", 3, price)
    env.sim.fail_rest(500, 1)
    done = await env.rest.cancel_order(placed.order_id)
    assert done.reduced_by == 3
    assert env.seen["DELETE /margin/orders/" + placed.order_id] == 2


async def test_lost_decrease_to_is_confirmed(env: Env) -> None:
    price = await _resting_price(env.rest)
    placed = await env.rest.create_order(TICKER, "bid", 5, price)
    key = f"POST /margin/orders/{placed.order_id}/decrease"
    env.lose[key] = 1
    done = await env.rest.decrease_order(placed.order_id, reduce_to=2)
    assert done.remaining_count == 2 and env.seen[key] == 1
    assert env.sim.exchange.get_order(env.sim.user_id, placed.order_id).remaining_count == 2
    env.lose[key] = 1
    with pytest.raises(Timeout):                       # reduce_by cannot be confirmed
        await env.rest.decrease_order(placed.order_id, reduce_by=1)
    assert env.seen[key] == 2
    assert env.sim.exchange.get_order(env.sim.user_id, placed.order_id).remaining_count == 1


async def test_transfer_retry_moves_money_once(env: Env) -> None:
    sub = await env.rest.create_subaccount()
    env.lose["POST /portfolio/margin/subaccounts/transfer"] = 1
    await env.rest.transfer_between_subaccounts(from_subaccount=0, to_subaccount=sub,
                                                amount_cents=100)
    moved = (await env.rest.get_balance()).for_subaccount(sub)
    assert moved is not None and moved.account_equity == Decimal("1.00")
    assert env.seen["POST /portfolio/margin/subaccounts/transfer"] == 2
    assert env.sim.stats().rest_by_status[409] == 1    # transfer_already_applied, resolved


async def test_bad_signature_and_stale_timestamp_are_auth_errors(env: Env) -> None:
    sim = env.sim
    wrong = Credentials(sim.key_id, rsa.generate_private_key(public_exponent=65537,
                                                             key_size=2048))
    async with RestClient(wrong, base_url=sim.rest_url, retry=FAST) as rest:
        with pytest.raises(AuthError) as info:
            await rest.get_balance()
    assert isinstance(info.value, HTTPStatusError) and info.value.status == 401
    assert info.value.code == "authentication_error"
    assert sim.credentials is not None
    stale = lambda: time.time_ns() // 1_000_000 - 60_000  # noqa: E731
    async with RestClient(sim.credentials, base_url=sim.rest_url, time_ms=stale) as rest:
        with pytest.raises(AuthError) as info:
            await rest.get_positions()
    assert info.value.code == "header_timestamp_expired"
    assert sim.stats().rest_by_status[401] == 2              # neither was retried


async def test_bad_inputs_give_typed_errors(env: Env) -> None:
    rest = env.rest
    before = sum(env.seen.values())
    for call in (rest.create_order(TICKER, "long", 1, "8.0961"),
                 rest.create_order(TICKER, "bid", -1, "8.0961"),
                 rest.create_order(TICKER, "bid", 1, "8.09615"),
                 rest.create_order(TICKER, "ask", 1, "8.0961", reduce_only=True),
                 rest.decrease_order("x", reduce_by=1, reduce_to=1)):
        with pytest.raises(InvalidRequest):
            await call
    assert sum(env.seen.values()) == before                   # nothing was sent
    with pytest.raises(HTTPStatusError) as info:
        await rest.create_order(TICKER, "bid", 1, "0.0001")    # far outside the band
    assert (info.value.status, info.value.code) == (400, "invalid_price")
    with pytest.raises(HTTPStatusError) as info:
        await rest.get_order("no-such-order")
    assert (info.value.status, info.value.code) == (404, "not_found")
    price = await _resting_price(rest)
    await rest.create_order(TICKER, "bid", 1, price, client_order_id="dup")
    with pytest.raises(HTTPStatusError) as info:
        await rest.create_order(TICKER, "bid", 1, price, client_order_id="dup")
    assert (info.value.status, info.value.code) == (409, "order_already_exists")
    assert len(_ledger_orders(env.sim, "dup")) == 1


async def test_limiter_keeps_a_burst_of_1000_reads_within_budget() -> None:
    budget = 5_000                       # tokens/s and capacity on both sides; reads cost 10
    async with running_simulator(markets=[TICKER]) as sim:
        sim.set_rate_limits(read=budget)
        creds = sim.add_user(key_type="ed25519")
        limits = RateLimits(read=BucketRate(budget, budget), burst_fraction=0.5)
        async with RestClient(creds, base_url=sim.rest_url, rate_limits=limits) as rest:
            start = asyncio.get_running_loop().time()
            answers = await asyncio.gather(*[rest.is_margin_enabled() for _ in range(1000)])
            elapsed = asyncio.get_running_loop().time() - start
            stats = rest.limiter.stats
        assert answers == [True] * 1000
        by_status = sim.stats().rest_by_status
        assert by_status[200] == 1000 and by_status.get(429, 0) == 0
        assert stats.requests["read"] == 1000 and stats.tokens["read"] == 10_000
        assert stats.rate_limited == 0 and stats.waits > 0
        # 10,000 tokens from a half-spent 5,000 bucket refilling at 5,000/s: >= 1.5 s.
        assert elapsed >= (10_000 - budget * 0.5) / budget - 0.05


async def test_lost_exit_trigger_answers_are_neither_doubled_nor_lost(env: Env) -> None:
    rest, sim = env.rest, env.sim
    book = await rest.get_orderbook(TICKER, depth=1)
    await rest.create_order(TICKER, "bid", 2, book.sorted_asks()[0][0],
                            time_in_force="immediate_or_cancel")
    mark = sim.exchange.market(TICKER).liquidation_mark_price.price
    put = f"PUT /margin/cross/positions/{TICKER}/exit_trigger"
    env.lose[put] = 1
    trig = await rest.set_cross_exit_trigger(TICKER, take_profit_price=mark * 2, count=1,
                                             client_trigger_id="ct-lost")
    assert env.seen[put] == 2               # resent once: the replay returned the original
    assert [t.id for t in await rest.get_cross_exit_triggers(TICKER)] == [trig.id]
    delete = f"DELETE /margin/cross/positions/{TICKER}/exit_trigger/{trig.id}"
    env.lose[delete] = 1
    await rest.delete_cross_exit_trigger(TICKER, trig.id)
    assert env.seen[delete] == 1            # confirmed gone by a lookup, not resent
    assert sim.exchange.exit_trigger(sim.user_id, trig.id).status_reason == "user_canceled"


async def test_huge_decimals_are_a_400_and_never_poison_the_triggers(env: Env) -> None:
    """A 29-digit stop price was stored, then every read of the position's triggers 500ed."""
    rest, sim = env.rest, env.sim
    book = await rest.get_orderbook(TICKER, depth=1)
    await rest.create_order(TICKER, "bid", 2, book.sorted_asks()[0][0],
                            time_in_force="immediate_or_cancel")
    assert sim.credentials is not None

    async def raw(method: str, path: str, body: dict[str, object]) -> int:
        url = sim.rest_url + path
        headers = sim.credentials.headers(method, url, time.time_ns() // 1_000_000)
        async with aiohttp.ClientSession() as session, session.request(
                method, url, headers=headers, json=body) as resp:
            return resp.status

    trigger = f"/margin/cross/positions/{TICKER}/exit_trigger"
    for body in ({"stop_loss_price": "99999999999999999999999999999.9999"},
                 {"stop_loss_price": "1e400"},
                 {"kind": "trailing", "trail_amount": "99999999999999999999999999"}):
        assert await raw("PUT", trigger, body) == 400
    assert await rest.get_cross_exit_triggers(TICKER) == []
    assert await raw("POST", "/margin/orders", {
        "ticker": TICKER, "side": "bid", "count": "1", "price": "1e400",
        "client_order_id": "huge-1", "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross"}) == 400
