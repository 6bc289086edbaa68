"""kalshi-sdk 22.4.0 against our simulator. Runs ONLY inside kalshi-sdk's own Python 3.12
virtualenv (benchmarks/.venv-kalshi-sdk, see benchmarks/peer.py), started by
test_kalshi_sdk_interop.py; it imports nothing from kalshi_margin_stream.

It drives the SDK's async REST client and WebSocket client, catches every exception
(a pydantic ``ValidationError`` is what a body the SDK cannot read looks like) and
every warning the SDK logs (it logs and skips a WS frame it cannot validate), and
prints one JSON line: the calls made, the errors, and the WS message counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import uuid
from decimal import Decimal
from typing import Any

from kalshi.auth import KalshiAuth
from kalshi.perps.async_client import AsyncPerpsClient
from kalshi.perps.config import PerpsConfig
from kalshi.perps.models.portfolio import (
    SetCrossExitTriggerRequest,
    SetIsolatedExitTriggerRequest,
)
from kalshi.perps.ws.client import PerpsWebSocket


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}"
                            + (f" ({record.exc_info[1]!r})" if record.exc_info else ""))


async def _rest(client: AsyncPerpsClient, ticker: str, calls: list[str],
                errors: list[str]) -> None:
    async def call(name: str, coro: Any) -> Any:
        calls.append(name)
        try:
            return await coro
        except Exception as exc:  # every failure is reported, none is fatal
            errors.append(f"{name}: {type(exc).__name__}: {exc}"[:2000])
            return None

    await call("exchange.status", client.exchange.status())
    await call("markets.list", client.markets.list())
    await call("markets.get", client.markets.get(ticker))
    book = await call("markets.orderbook", client.markets.orderbook(ticker))
    await call("markets.bulk_orderbooks", client.markets.bulk_orderbooks(tickers=[ticker]))
    await call("margin.balance", client.margin.balance())
    await call("margin.risk", client.margin.risk())
    await call("margin.fee_tiers", client.margin.fee_tiers())
    await call("margin.fee_tier_rates", client.margin.fee_tier_rates())
    await call("margin.notional_risk_limit", client.margin.notional_risk_limit())
    await call("margin.corporate_actions", client.margin.corporate_actions())
    if book is None or not book.bids:
        errors.append("no bid in the order book to price a resting order")
        return
    best_bid = max(Decimal(str(level.price)) for level in book.bids)
    price = best_bid - Decimal("0.0100")
    created = await call("orders.create", client.orders.create(
        ticker=ticker, client_order_id=str(uuid.uuid4()), side="bid", count="1",
        price=str(price), time_in_force="good_till_canceled",
        self_trade_prevention_type="taker_at_cross"))
    if created is None:
        return
    await call("orders.get", client.orders.get(created.order_id))
    await call("orders.list", client.orders.list(ticker=ticker))
    await call("orders.cancel", client.orders.cancel(created.order_id))
    # Exit triggers need a position: buy one at the best ask, then set, read and cancel.
    best_ask = min(Decimal(str(level.price)) for level in book.asks)
    await call("orders.create(ioc)", client.orders.create(
        ticker=ticker, client_order_id=str(uuid.uuid4()), side="bid", count="1",
        price=str(best_ask + Decimal("0.0100")), time_in_force="immediate_or_cancel",
        self_trade_prevention_type="taker_at_cross"))
    await call("portfolio.positions", client.portfolio.positions())
    stop = str((best_bid / 2).quantize(Decimal("0.0001")))
    await call("portfolio.set_cross_exit_trigger", client.portfolio.set_cross_exit_trigger(
        ticker, request=SetCrossExitTriggerRequest(stop_loss_price=stop)))
    await call("portfolio.cross_exit_triggers", client.portfolio.cross_exit_triggers(ticker))
    await call("portfolio.cancel_cross_exit_triggers",
               client.portfolio.cancel_cross_exit_triggers(ticker))
    await call("portfolio.set_isolated_exit_trigger",
               client.portfolio.set_isolated_exit_trigger(
                   ticker, request=SetIsolatedExitTriggerRequest(kind="trailing",
                                                                 trail_bps=250)))
    await call("portfolio.isolated_exit_triggers",
               client.portfolio.isolated_exit_triggers(ticker))
    await call("portfolio.cancel_isolated_exit_triggers",
               client.portfolio.cancel_isolated_exit_triggers(ticker))


async def _ws(config: PerpsConfig, auth: KalshiAuth, ticker: str, want: int,
              timeout: float, errors: list[str]) -> dict[str, int]:
    counts = {"orderbook": 0, "ticker": 0}
    ws = PerpsWebSocket(auth=auth, config=config)

    async def consume(stream: Any, key: str) -> None:
        async for _msg in stream:
            counts[key] += 1

    async with ws.connect() as session:
        # The order book last: while a command waits for its answer the SDK discards the
        # data frames it reads (kalshi-sdk 22.4.0), which would lose book frames.
        tickers = await session.subscribe_ticker(tickers=[ticker], send_initial_snapshot=True)
        books = await session.subscribe_orderbook_delta(tickers=[ticker])
        tasks = [asyncio.create_task(consume(books, "orderbook")),
                 asyncio.create_task(consume(tickers, "ticker"))]
        try:
            async with asyncio.timeout(timeout):
                while counts["orderbook"] < want or counts["ticker"] < 2:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            errors.append(f"timed out waiting for WS updates: {counts}")
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


async def main(args: argparse.Namespace) -> dict[str, Any]:
    collect = _Collect()
    logging.getLogger("kalshi").addHandler(collect)
    config = PerpsConfig(base_url=args.rest_url, ws_base_url=args.ws_url)
    calls: list[str] = []
    errors: list[str] = []
    auth = KalshiAuth.from_key_path(args.key_id, args.key_path)
    async with AsyncPerpsClient(auth=auth, config=config) as client:
        await _rest(client, args.ticker, calls, errors)
    counts = await _ws(config, auth, args.ticker, args.updates, args.timeout, errors)
    return {"calls": calls, "errors": errors, "warnings": collect.records, "ws": counts}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("rest-url", "ws-url", "key-id", "key-path", "ticker"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
