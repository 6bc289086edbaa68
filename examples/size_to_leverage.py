"""A bot that sizes an order to a target leverage with the pre-trade calculator, then places it.

Leverage here is the trader's "effective" leverage, position notional / equity (Kalshi's
own ``position_leverage`` is notional / maintenance margin, fixed by the MM rate). The
bot asks ``client.margins`` for the largest whole count whose ``effective_after`` stays
within the target and that the exchange would accept (``ok``), places it as an IOC
against the embedded simulator, and prints the prediction beside what the exchange
then reports.

Run: .venv/bin/python examples/size_to_leverage.py [TARGET] (default 3)
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from typing import Any

from kalshi_margin_stream import Client
from kalshi_margin_stream.sim import Simulator
from kalshi_margin_stream.sim.engine import ExchangeConfig, default_markets

TICKER = "KXBTCPERP"


async def quote(client: Client, count: int, price: Decimal) -> dict[str, Any]:
    orders = [{"ticker": TICKER, "side": "bid", "count": str(count), "price": str(price),
               "time_in_force": "immediate_or_cancel"}]
    result: dict[str, Any] = (await client.margins.orders(orders))[0]
    return result


async def size_for_leverage(client: Client, price: Decimal, target: Decimal) -> int:
    """Largest count with effective leverage <= target that the exchange would accept."""
    def fits(q: dict[str, Any]) -> bool:
        lev = q["leverage"]["effective_after"]
        return bool(q["ok"]) and lev is not None and Decimal(lev) <= target

    low, high = 0, 1
    while fits(await quote(client, high, price)):  # grow until it no longer fits
        low, high = high, high * 2
    while high - low > 1:  # then bisect: low fits, high does not
        mid = (low + high) // 2
        if fits(await quote(client, mid, price)):
            low = mid
        else:
            high = mid
    return low


async def main(target: Decimal = Decimal(3)) -> dict[str, Any]:
    config = ExchangeConfig(markets=default_markets([TICKER]), default_cash=Decimal("100"))
    async with Simulator(markets=[TICKER], rate=0, config=config, seed=5) as sim:
        assert sim.credentials is not None
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url) as client:
            await client.reconcile()
            price = (await client.rest.get_market(TICKER)).ask
            assert price is not None
            # Pay up to 50 ticks through the best ask, so the whole count fills.
            limit = price + 50 * Decimal("0.0001")
            count = await size_for_leverage(client, limit, target)
            predicted = await quote(client, count, limit)
            placed = await client.rest.create_order(TICKER, "bid", count, limit,
                                                    time_in_force="immediate_or_cancel")
            balance = await client.rest.get_balance(compute_available_balance=True)
            risk = await client.rest.get_risk()
            row = next(b for b in balance.subaccount_balances if b.subaccount == 0)
            assert row.account_equity is not None
            notional = risk.total_position_notional
            report = {
                "count": count, "filled": placed.fill_count, "limit": limit,
                "predicted_effective_leverage": predicted["leverage"]["effective_after"],
                "actual_effective_leverage": (notional / row.account_equity).quantize(
                    Decimal("0.0001")),
                "predicted_initial_margin": predicted["initial_margin"]["after"],
                "actual_initial_margin": row.initial_margin,
                "predicted_available": predicted["available_balance"]["after"],
                "actual_available": row.available_balance,
            }
            for key, value in report.items():
                print(f"{key:>30}: {value}")
            return report


if __name__ == "__main__":
    asyncio.run(main(Decimal(sys.argv[1]) if len(sys.argv) > 1 else Decimal(3)))
