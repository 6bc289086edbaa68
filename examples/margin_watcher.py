"""Watch an account's margin live: equity, margin used, available, positions.

Run: .venv/bin/python examples/margin_watcher.py [--seconds 8]
A small bot trades on the embedded simulator so the numbers move; against
Kalshi, drop the simulator and the bot and pass Credentials.from_env().
The client keeps the margin state from the fill/order channels and REST
reconciliation; ``client.margin`` is an immutable snapshot of it.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal

from kalshi_margin_stream import Books, Client, Fills, Orders, Tickers
from kalshi_margin_stream.sim import Simulator

MARKETS = ("KXBTCPERP", "KXETHPERP")
ALERT = Decimal("0.5")
"""Warn when margin used exceeds this share of equity."""


async def bot(client: Client) -> None:
    """Cross the spread now and then, so fills arrive."""
    n = 0
    while True:
        await asyncio.sleep(0.5)
        ticker = MARKETS[n % 2]
        n += 1
        book = client.book(ticker)
        if book is None or not book.is_synced or (ask := book.best_ask()) is None:
            continue
        await client.rest.create_order(ticker, "bid", 2, ask[0],
                                       time_in_force="immediate_or_cancel")


async def main(seconds: float) -> None:
    async with Simulator(markets=list(MARKETS), rate=200) as sim:
        assert sim.credentials is not None
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url) as client:
            subs = [client.subscribe(s) for s in (Books(MARKETS), Tickers(MARKETS), Fills(),
                                                  Orders())]

            async def drain(sub: object) -> None:
                async for _ in sub:  # type: ignore[attr-defined]
                    pass

            tasks = [asyncio.ensure_future(drain(s)) for s in subs]
            tasks.append(asyncio.ensure_future(bot(client)))
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while loop.time() < end:
                await asyncio.sleep(1.0)
                acct = client.margin.account(0)
                used = acct.margin_used / acct.equity if acct.equity else Decimal(0)
                positions = {t: str(p.count) for t, p in acct.positions.items() if p.count}
                flag = "  ALERT: margin above 50% of equity" if used > ALERT else ""
                print(f"equity {acct.equity:.4f}  margin used {acct.margin_used:.4f} "
                      f"({used:.1%})  available {acct.available_balance:.4f}  "
                      f"positions {positions}  fills {client.margin.fills_count}{flag}",
                      flush=True)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    asyncio.run(main(parser.parse_args().seconds))
