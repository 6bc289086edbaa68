"""The Klear client against a local aiohttp server on 127.0.0.1 (the simulator has no Klear)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from kalshi_margin_stream.exceptions import AuthError, CredentialsError, HTTPStatusError
from kalshi_margin_stream.rest import RetryPolicy
from kalshi_margin_stream.rest.scm import KLEAR_URLS, KlearClient, KlearCredentials

CREDS = KlearCredentials("admin-1", "s3cret-token")
FAST = RetryPolicy(base_delay=0.001, max_delay=0.002)


class Klear:
    """A tiny Klear stand-in: checks the bearer token and counts calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_next: list[int] = []
        self.withdrawals: list[str] = []

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.auth])
        root = "/klear-api/v1/margin"
        app.router.add_get(f"{root}/settlement_balance", self.balance)
        app.router.add_get(f"{root}/obligation_history", self.history)
        app.router.add_get(f"{root}/reports", self.reports)
        app.router.add_post(f"{root}/withdraw_settlement_balance", self.withdraw)
        app.router.add_get(f"{root}/settlement_balance_withdrawal", self.withdrawal)
        return app

    @web.middleware
    async def auth(self, request: web.Request,
                   handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:
        self.calls[f"{request.method} {request.path}"] += 1
        if request.headers.get("Authorization") != "Bearer admin-1:s3cret-token":
            return web.json_response({"error": {"code": "unauthorized", "message": "no"}},
                                     status=401)
        if self.fail_next:
            return web.json_response({"code": "internal", "message": "boom"},
                                     status=self.fail_next.pop(0))
        return await handler(request)

    async def balance(self, request: web.Request) -> web.Response:
        return web.json_response({"user_id": "admin-1", "balance_available_centicents": 1250000,
                                  "locked_balance_centicents": 5})

    async def history(self, request: web.Request) -> web.Response:
        page = request.query.get("cursor", "")
        rows = {"": ([{"id": "ob-1", "amount_centicents": 10}], "p2"),
                "p2": ([{"id": "ob-2", "amount_centicents": -4}], "")}[page]
        return web.json_response({"obligations": rows[0], "cursor": rows[1]})

    async def reports(self, request: web.Request) -> web.Response:
        if "start_date" not in request.query:
            return web.json_response({"msg": "Query argument start_date is required"},
                                     status=400)
        return web.json_response({"reports": [{"report_type": "trade_audit",
                                                "date": request.query["start_date"]}]})

    async def withdraw(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.withdrawals.append(body["amount"])
        return web.json_response({"id": f"w-{len(self.withdrawals)}"})

    async def withdrawal(self, request: web.Request) -> web.Response:
        return web.json_response({"id": request.query["id"], "amount": "12.50",
                                  "status": "pending", "created_ts": 1781000000})


@pytest.fixture
async def klear() -> AsyncIterator[tuple[Klear, str]]:
    fake = Klear()
    async with TestServer(fake.app(), host="127.0.0.1", port=0) as server:
        yield fake, str(server.make_url("/klear-api/v1"))


async def test_reads_paging_and_bearer_auth(klear: tuple[Klear, str]) -> None:
    fake, url = klear
    async with KlearClient(CREDS, base_url=url, retry=FAST) as client:
        bal = await client.get_settlement_balance()
        assert bal.balance_available_centicents == 1250000
        ids = [o.id async for o in client.iter_obligation_history()]
        assert ids == ["ob-1", "ob-2"]
        reports = await client.get_reports(start_date="2026-06-01", end_date="2026-06-02")
        assert reports[0].report_type == "trade_audit" and reports[0].date == "2026-06-01"
        w = await client.get_withdrawal("w-9")
        assert w.amount == Decimal("12.50") and w.status == "pending"
    assert fake.calls["GET /klear-api/v1/margin/obligation_history"] == 2


async def test_wrong_token_is_auth_error(klear: tuple[Klear, str]) -> None:
    fake, url = klear
    async with KlearClient(KlearCredentials("admin-1", "wrong"), base_url=url,
                           retry=FAST) as client:
        with pytest.raises(AuthError) as info:
            await client.get_settlement_balance()
    assert isinstance(info.value, HTTPStatusError) and info.value.status == 401
    assert fake.calls["GET /klear-api/v1/margin/settlement_balance"] == 1


async def test_reads_retry_but_withdrawals_never_do(klear: tuple[Klear, str]) -> None:
    fake, url = klear
    async with KlearClient(CREDS, base_url=url, retry=FAST) as client:
        fake.fail_next = [500, 503]
        assert (await client.get_settlement_balance()).locked_balance_centicents == 5
        assert fake.calls["GET /klear-api/v1/margin/settlement_balance"] == 3
        fake.fail_next = [500]
        with pytest.raises(HTTPStatusError) as info:
            await client.withdraw_settlement_balance("12.50")
        assert info.value.status == 500 and info.value.code == "internal"
        assert fake.calls["POST /klear-api/v1/margin/withdraw_settlement_balance"] == 1
        assert await client.withdraw_settlement_balance(Decimal("12.5")) == "w-1"
    assert fake.withdrawals == ["12.5"]


def test_token_never_shown_and_validated() -> None:
    assert "s3cret" not in repr(CREDS)
    with pytest.raises(CredentialsError):
        KlearCredentials("admin", "")
    with pytest.raises(CredentialsError):
        KlearCredentials("a:b", "t")
    assert KlearClient(CREDS).base_url == KLEAR_URLS["demo"]
    assert KlearClient(CREDS, env="prod").base_url == "https://api.klear.kalshi.com/klear-api/v1"
