"""FIX order entry against the local simulator: logon, rest an order, amend, cancel.

    python examples/fix_order_entry.py

Starts a simulator with its FIX acceptor (TLS, self-signed certificate), connects a
KalshiNR session with the simulator's generated key, and prints each ExecutionReport.
"""

from __future__ import annotations

import asyncio
import ssl
from decimal import Decimal

from kalshi_margin_stream.core.fix import ExecutionReport, FixMessage
from kalshi_margin_stream.fix import FixClient, SessionKind
from kalshi_margin_stream.sim.server import Simulator


def report(msg: FixMessage) -> str:
    b = msg.body
    assert isinstance(b, ExecutionReport)
    return (f"35=8 150={b.exec_type} 39={b.ord_status} {b.symbol} {b.side} "
            f"qty={b.order_qty} px={b.price} cum={b.cum_qty} leaves={b.leaves_qty}")


async def main() -> None:
    async with Simulator(markets=["KXBTCPERP"], rate=0, fix=True) as sim:
        assert sim.credentials is not None and sim.fix is not None and sim.fix.cert_pem
        tls = ssl.create_default_context(cadata=sim.fix.cert_pem.decode())
        async with FixClient(sim.credentials, kind=SessionKind.NR, host="127.0.0.1",
                             port=sim.fix_port, tls=tls) as fix:
            bid, _, _ = sim.exchange.best_prices("KXBTCPERP")
            assert bid is not None
            price = bid - Decimal("0.0100")
            cl = fix.new_order("KXBTCPERP", "bid", 5, price)
            new = await fix.expect(lambda m: isinstance(m.body, ExecutionReport)
                                   and m.body.cl_ord_id == cl)
            print(report(new))
            cl2 = fix.amend(cl, "KXBTCPERP", "bid", 3, price)
            print(report(await fix.expect(lambda m: isinstance(m.body, ExecutionReport)
                                          and m.body.cl_ord_id == cl2)))
            fix.cancel(cl2, "KXBTCPERP", "bid")
            print(report(await fix.expect(lambda m: isinstance(m.body, ExecutionReport)
                                          and m.body.exec_type == "4")))


if __name__ == "__main__":
    asyncio.run(main())
