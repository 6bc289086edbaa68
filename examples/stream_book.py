"""Stream two order books from the embedded simulator and print the top of book.

Run: .venv/bin/python examples/stream_book.py
Against Kalshi: pass Credentials.from_env() and env="demo" instead of the simulator URLs.
"""

from __future__ import annotations

import asyncio

from kalshi_margin_stream import Books, Client, Stale
from kalshi_margin_stream.sim import Simulator

MARKETS = ("KXBTCPERP", "KXETHPERP")


async def main() -> None:
    # A local exchange with synthetic order flow: no credentials, no network.
    async with Simulator(markets=list(MARKETS), rate=200) as sim:
        assert sim.credentials is not None
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url) as client:
            updates = 0
            async with asyncio.timeout(5):
                # One socket carries every subscription; updates arrive in sequence.
                async for update in client.subscribe(Books(MARKETS)):
                    if isinstance(update, Stale):  # data was missed: fresh snapshots follow
                        print("stale:", update.reason)
                        continue
                    book = client.book(update.msg.market_ticker)
                    if book is not None and book.is_synced:
                        print(f"{book.ticker}: {book.best_bid()} / {book.best_ask()}")
                    updates += 1
                    if updates == 50:
                        break
            print(client.statistics().processing_us)


if __name__ == "__main__":
    asyncio.run(main())
