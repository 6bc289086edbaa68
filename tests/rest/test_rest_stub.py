"""Over real sockets against a small local aiohttp app: what the simulator does not serve
(candlesticks, fee tier table, premium index, a 429 carrying Retry-After) and the
transport failures (timeouts, refused connections)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from kalshi_margin_stream.core.auth import (
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Credentials,
    verify_signature,
)
from kalshi_margin_stream.exceptions import ConnectError, RateLimited, Timeout
from kalshi_margin_stream.rest import RestClient, RetryPolicy, Timeouts

ROOT = "/trade-api/v2"
FAST = RetryPolicy(base_delay=0.001, max_delay=0.002, max_attempts=2)


@dataclass
class Stub:
    credentials: Credentials
    calls: Counter[str] = field(default_factory=Counter)
    limited: int = 0
    retry_after: str = "0.2"
    hang: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get(f"{ROOT}/margin/markets/{{ticker}}/candlesticks", self.candles)
        r.add_get(f"{ROOT}/margin/fee_tier_rates", self.fee_tier_rates)
        r.add_get(f"{ROOT}/margin/funding_rates/premium_index", self.premium)
        r.add_get(f"{ROOT}/margin/enabled", self.enabled)
        r.add_get(f"{ROOT}/margin/risk", self.stall)
        return app

    def _signed(self, request: web.Request) -> bool:
        self.calls[request.path] += 1
        public = self.credentials.private_key.public_key()
        return verify_signature(public, request.headers.get(HEADER_SIGNATURE, ""),
                                int(request.headers.get(HEADER_TIMESTAMP, "0")),
                                request.method, request.path)

    async def candles(self, request: web.Request) -> web.Response:
        assert self._signed(request)
        q = request.query
        assert (q["start_ts"], q["end_ts"], q["period_interval"]) == ("100", "200", "60")
        assert q["include_latest_before_start"] == "true"
        return web.json_response({"ticker": request.match_info["ticker"], "candlesticks": [{
            "end_period_ts": 200,
            "bid": {"open": "8.0955", "low": "8.0950", "high": "8.0965", "close": "8.0960"},
            "ask": {"open": "8.0957", "low": "8.0952", "high": "8.0967", "close": "8.0962"},
            "price": {"open": None, "low": None, "high": None, "close": None, "mean": None,
                      "previous": "8.0955"},
            "volume": "0.00", "volume_notional_value_dollars": "0.0000",
            "open_interest": "341585.00", "open_interest_notional_value_dollars": "1.0000"}]})

    async def fee_tier_rates(self, request: web.Request) -> web.Response:
        assert self._signed(request)
        return web.json_response({"fee_tier_rates": [
            {"fee_schedule": "kalshi_prime", "tier": 0, "maker_fee_rate": 0.0005,
             "taker_fee_rate": 0.0012},
            {"fee_schedule": "kalshi_prime", "tier": 1, "maker_fee_rate": 0.0004,
             "taker_fee_rate": 0.001}]})

    async def premium(self, request: web.Request) -> web.Response:
        assert self._signed(request)
        return web.json_response({"points": [
            {"second_ts": "2026-10-01T12:00:00Z", "premium_index": "0.000041"},
            {"second_ts": "2026-10-01T12:00:01Z", "premium_index": "0"}]})

    async def enabled(self, request: web.Request) -> web.Response:
        assert self._signed(request)
        if self.limited > 0:
            self.limited -= 1
            return web.json_response({"error": "too many requests"}, status=429,
                                     headers={"Retry-After": self.retry_after})
        return web.json_response({"enabled": True})

    async def stall(self, request: web.Request) -> web.Response:
        self.calls[request.path] += 1
        await self.hang.wait()
        return web.json_response({"total_position_notional": "0",
                                  "total_maintenance_margin": "0", "positions": []})


@pytest.fixture
async def stub(credentials: Credentials) -> AsyncIterator[tuple[Stub, str]]:
    fake = Stub(credentials)
    async with TestServer(fake.app(), host="127.0.0.1", port=0) as server:
        try:
            yield fake, str(server.make_url(ROOT))
        finally:
            fake.hang.set()


async def test_endpoints_the_simulator_lacks(stub: tuple[Stub, str],
                                             credentials: Credentials) -> None:
    fake, url = stub
    async with RestClient(credentials, base_url=url, retry=FAST) as rest:
        candles = await rest.get_candlesticks("KXBTCPERP", start_ts=100, end_ts=200,
                                              period_interval=60,
                                              include_latest_before_start=True)
        assert candles.ticker == "KXBTCPERP"
        first = candles.candlesticks[0]
        assert first.price is not None and first.price.close is None
        assert first.price.previous == Decimal("8.0955")
        rates = await rest.get_fee_tier_rates()
        assert [(r.tier, r.taker_fee_rate) for r in rates] == [(0, Decimal("0.0012")),
                                                               (1, Decimal("0.001"))]
        points = await rest.get_premium_index("KXBTCPERP", start_ts=1_790_000_000,
                                              end_ts=1_790_000_060)
        # 2026-10-01T12:00:00Z = 1790856000 (date -u -d ... +%s)
        assert [p.second_ts_ms for p in points] == [1_790_856_000_000, 1_790_856_001_000]
    assert sum(fake.calls.values()) == 3


async def test_429_with_retry_after_is_waited_out(stub: tuple[Stub, str],
                                                  credentials: Credentials) -> None:
    fake, url = stub
    fake.limited = 2
    loop = asyncio.get_running_loop()
    async with RestClient(credentials, base_url=url, retry=FAST) as rest:
        start = loop.time()
        assert await rest.is_margin_enabled() is True
        waited = loop.time() - start
        assert rest.limiter.stats.rate_limited == 2
    assert fake.calls[f"{ROOT}/margin/enabled"] == 3
    assert waited >= 0.4          # two Retry-After waits of 0.2 s; the backoff is only 1 ms


async def test_429_beyond_the_budget_raises(stub: tuple[Stub, str],
                                            credentials: Credentials) -> None:
    fake, url = stub
    fake.limited, fake.retry_after = 5, "0"
    policy = RetryPolicy(max_rate_limited=2, base_delay=0.001)
    async with RestClient(credentials, base_url=url, retry=policy) as rest:
        with pytest.raises(RateLimited) as info:
            await rest.is_margin_enabled()
    assert info.value.retry_after == 0 and fake.calls[f"{ROOT}/margin/enabled"] == 3


async def test_per_call_timeout_raises_timeout(stub: tuple[Stub, str],
                                               credentials: Credentials) -> None:
    fake, url = stub
    async with RestClient(credentials, base_url=url, retry=FAST,
                          timeouts=Timeouts(request=30)) as rest:
        with pytest.raises(Timeout):
            await rest.get_risk(timeout=0.05)
    assert fake.calls[f"{ROOT}/margin/risk"] == FAST.max_attempts   # reads are retried


async def test_refused_connection_is_connect_error(credentials: Credentials) -> None:
    with socket.socket() as s:          # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with RestClient(credentials, base_url=f"http://127.0.0.1:{port}{ROOT}",
                          retry=FAST) as rest:
        with pytest.raises(ConnectError):
            await rest.get_exchange_status()


async def test_shared_session_is_left_open(stub: tuple[Stub, str],
                                           credentials: Credentials) -> None:
    import aiohttp

    _, url = stub
    async with aiohttp.ClientSession() as session:
        async with RestClient(credentials, base_url=url, session=session) as rest:
            assert await rest.get_fee_tier_rates()
        assert not session.closed                  # the caller's session, the caller's job
    assert session.closed
