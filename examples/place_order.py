"""Place, amend and cancel an order over REST against the embedded simulator.

Run: .venv/bin/python examples/place_order.py
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from kalshi_margin_stream.rest import RestClient
from kalshi_margin_stream.sim import Simulator


async def main() -> None:
    async with Simulator(markets=["KXBTCPERP"], rate=0) as sim:
        assert sim.credentials is not None
        async with RestClient(sim.credentials, base_url=sim.rest_url) as rest:
            book = await rest.get_orderbook("KXBTCPERP", depth=1)
            best_bid = book.sorted_bids()[0][0]
            # A client_order_id is generated before the first attempt and reused on
            # retries, so a timeout can never create the order twice.
            order = await rest.create_order("KXBTCPERP", "bid", 2, best_bid - Decimal("0.0010"))
            print("created", order)
            print("balance", await rest.get_balance())
            print("cancelled", await rest.cancel_order(order.order_id))


if __name__ == "__main__":
    asyncio.run(main())
