"""``client.margins`` on a live client agrees with the REST one-shot and with the simulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kalshi_margin_stream.rest.margins import order_margins, read_margin_inputs
from kalshi_margin_stream.stream.client import Client
from kalshi_margin_stream.stream.subscriptions import Tickers
from kalshi_margin_stream.testing import eventually, sim_and_client

TICKER = "KXBTCPERP"


def without_times(result: dict[str, Any]) -> dict[str, Any]:
    basis = {k: v for k, v in result["basis"].items() if not k.endswith("_ts_ms")}
    basis["mm_source"] = basis["mm_source"].split("@")[0]
    return {**result, "basis": basis}


def untimed(value: object) -> object:
    """``value`` with every ``*ts_ms`` (a clock reading) blanked."""
    if isinstance(value, dict):
        return {k: None if k.endswith("ts_ms") else untimed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


async def marks_agree(client: Client) -> bool:
    """The live snapshot's marks and best prices are the exchange's (one REST read)."""
    market = await client.rest.get_market(TICKER)
    live = client.margin.markets.get(TICKER)
    return live is not None and market.liquidation_mark_price is not None \
        and live.liquidation_mark == market.liquidation_mark_price.price \
        and live.bid == market.bid and live.ask == market.ask


async def test_live_margins_equal_the_rest_one_shot_before_and_after_a_fill() -> None:
    async with sim_and_client() as (sim, client):
        sub = client.subscribe(Tickers((TICKER,)))
        await client.reconcile()
        market = await client.rest.get_market(TICKER)
        assert market.ask is not None
        o = {"ticker": TICKER, "side": "bid", "count": "5", "price": str(market.ask)}
        live = (await client.margins.orders([o]))[0]
        assert live["ok"] and live["liquidity"] == "taker"
        one_shot = (await order_margins(client.rest, [o]))[0]
        assert without_times(live) == without_times(one_shot)

        await client.rest.create_order(TICKER, "bid", 5, str(market.ask),
                                       time_in_force="immediate_or_cancel")
        sim.flush_tickers()
        await client.reconcile()
        await eventually(lambda: marks_agree(client), what="live marks")
        account = client.margin.account(0)
        assert account.positions[TICKER].count == Decimal(5)
        reduce = {"ticker": TICKER, "side": "ask", "count": "2", "price": str(market.bid)}
        live_basket = await client.margins.basket([reduce, o], mode="compact")
        rest_reads = await read_margin_inputs(client.rest)
        assert untimed(live_basket) == untimed(
            rest_reads.calculator().basket_margins([reduce, o], mode="compact"))
        assert Decimal(live_basket["orders"][0]["initial_margin_after"]) < \
            Decimal(live_basket["orders"][1]["initial_margin_after"])
        report = await client.margins.reconcile()
        assert report.ok, report.lines()
        await sub.aclose()


async def test_the_rest_one_shot_reads_only_what_it_needs_within_the_rate_limits() -> None:
    from kalshi_margin_stream.rest import RestClient
    from kalshi_margin_stream.sim.testing import running_simulator
    async with running_simulator(markets=["KXBTCPERP", "KXETHPERP"]) as sim:
        assert sim.credentials is not None
        async with RestClient(sim.credentials, base_url=sim.rest_url) as rest:
            before = sum(sim.stats().rest_by_status.values())
            o = {"ticker": TICKER, "side": "bid", "count": "1", "price": "8.0962"}
            for _ in range(3):
                assert (await order_margins(rest, [o, {**o, "count": "2"}]))[0]["ok"]
            requests = sum(sim.stats().rest_by_status.values()) - before
            # risk parameters, markets, fee tiers, limit, positions, balance, risk, orders
            # and one funding estimate (one ticker), three times; no 429 on the way.
            assert requests == 3 * 9
            assert sim.stats().rest_by_status[429] == 0
