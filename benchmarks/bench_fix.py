"""FIX cost: encode/decode per message, and NewOrderSingle -> ExecutionReport over loopback.

The round trip runs against the in-process simulator (plain TCP on 127.0.0.1, no
flow): send a resting post-only bid, wait for its New report; next to it, the REST
client's create-order round trip against the same simulator (HTTP/1.1 keep-alive,
client-side rate limiting off, as the FIX client has none).
Both sides share one event loop, so the figures include the simulator's own work.

    .venv/bin/python benchmarks/bench_fix.py [--quick]
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import statistics
import time
from decimal import Decimal
from typing import Any

from benchmarks._common import fmt_ns, median_ns_per_item, print_header, save_results
from kalshi_margin_stream.core.fix import (
    CollateralChange,
    ExecutionReport,
    Header,
    MiscFee,
    NewOrderSingle,
    decode,
    encode,
)

__all__ = ["run"]

_HEADER = Header(sender_comp_id="9f3c2a1e-5b7d-4c8e-a1f2-3d4e5f607182",
                 target_comp_id="KalshiNR", msg_seq_num=4, sending_time="20261016-14:03:06.001")
_NOS = NewOrderSingle(cl_ord_id="6f1d2c4b-8a9e-4f0b-9c3d-2e1a5b7c9d01", exec_inst="6",
                      order_qty=Decimal("10"), price=Decimal("11.2345"), side="1",
                      symbol="KXBTCPERP", time_in_force="1", self_trade_prevention="1")
_FILL = ExecutionReport(
    avg_px=Decimal("11.2345"), cl_ord_id="6f1d2c4b-8a9e-4f0b-9c3d-2e1a5b7c9d01",
    cum_qty=Decimal("4.00"), exec_id="1843;22071", last_mkt="0", last_px=Decimal("11.2345"),
    last_qty=Decimal("4.00"), order_id="0c9b8a76-5e4d-4c3b-8a29-1f0e9d8c7b6a",
    order_qty=Decimal("10.00"), ord_status="1", price=Decimal("11.2345"), side="1",
    symbol="KXBTCPERP", transact_time="20261016-14:03:07.409", exec_type="F",
    leaves_qty=Decimal("6.00"), long_qty=Decimal("4.00"), short_qty=Decimal("0.00"),
    misc_fees=[MiscFee(amount=Decimal("0.0090"), currency="USD", fee_type="4", basis=0)],
    trd_match_id="5d2e7f10-3a4b-4c5d-8e6f-7a8b9c0d1e2f", aggressor=False,
    collateral_changes=[CollateralChange(amount=Decimal("-0.0090"), kind="BALANCE")],
    clearing_business_date="20261016")


def codec_costs(n: int, repeats: int) -> dict[str, float]:
    """ns per message: encode and decode of a NewOrderSingle and of a fill report."""
    out: dict[str, float] = {}
    for name, body in (("NewOrderSingle", _NOS), ("ExecutionReport fill", _FILL)):
        raw = encode(_HEADER, body)

        def enc(body: Any = body) -> int:
            for _ in range(n):
                encode(_HEADER, body)
            return n

        def dec(raw: bytes = raw) -> int:
            for _ in range(n):
                decode(raw)
            return n

        out[f"encode {name}"] = median_ns_per_item(enc, repeats)[0]
        out[f"decode {name}"] = median_ns_per_item(dec, repeats)[0]
    return out


async def _round_trips(orders: int) -> dict[str, dict[str, float]]:
    from kalshi_margin_stream.fix import FixClient, SessionKind
    from kalshi_margin_stream.rest.client import RestClient
    from kalshi_margin_stream.rest.ratelimit import RateLimits
    from kalshi_margin_stream.sim.server import Simulator

    async with Simulator(markets=["KXBTCPERP"], rate=0, fix=True, fix_tls=False,
                         rate_limits=False) as sim:
        assert sim.credentials is not None
        bid, _, _ = sim.exchange.best_prices("KXBTCPERP")
        assert bid is not None
        price = bid - Decimal("0.0500")
        fix_ns: list[float] = []
        async with FixClient(sim.credentials, kind=SessionKind.NR, host="127.0.0.1",
                             port=sim.fix_port, tls=False) as fix:
            for i in range(orders + 10):
                t0 = time.perf_counter_ns()
                cl = fix.new_order("KXBTCPERP", "bid", 1, price, post_only=True)
                await fix.expect(lambda m, cl=cl: isinstance(m.body, ExecutionReport)
                                 and m.body.cl_ord_id == cl, since=fix.received - 1)
                if i >= 10:
                    fix_ns.append(time.perf_counter_ns() - t0)
        rest_ns: list[float] = []
        # no client-side token bucket on either side: the FIX client has none either
        async with RestClient(sim.credentials, base_url=sim.rest_url,
                              rate_limits=RateLimits(enabled=False)) as rest:
            for i in range(orders + 10):
                t0 = time.perf_counter_ns()
                await rest.create_order("KXBTCPERP", "bid", 1, price, post_only=True)
                if i >= 10:
                    rest_ns.append(time.perf_counter_ns() - t0)

    def summary(xs: list[float]) -> dict[str, float]:
        xs = sorted(xs)
        return {"median_ns": statistics.median(xs), "p99_ns": xs[int(0.99 * (len(xs) - 1))],
                "n": len(xs)}

    return {"FIX NewOrderSingle -> ExecutionReport": summary(fix_ns),
            "REST POST /margin/orders -> 201": summary(rest_ns)}


def run(n: int = 20_000, repeats: int = 5, orders: int = 500) -> dict[str, Any]:
    print_header("FIX: codec cost and order round trip (loopback, simulator)")
    codec = codec_costs(n, repeats)
    for name, ns in codec.items():
        print(f"  {name:<32} {fmt_ns(ns):>12} per message")
    trips = asyncio.run(_round_trips(orders))
    for name, row in trips.items():
        print(f"  {name:<40} median {fmt_ns(row['median_ns']):>10}   "
              f"p99 {fmt_ns(row['p99_ns']):>10}   ({int(row['n'])} orders)")
    res = {"codec_ns": codec, "round_trip": trips}
    save_results("fix", res)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        run(3_000, 3, 100)
    else:
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
