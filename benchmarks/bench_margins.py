"""Benchmark 6: the pre-trade margin calculator (issue 10).

An account with 10 open positions (the simulator's six markets and four more
BTC-like ones) and resting orders, read in process from the simulator's engine
through the REST JSON it would send. Timed, each as the median of ``repeats``:

* one ``order_margins`` call with one order (full result) on a new calculator, as
  ``client.margins.orders`` makes one per call: target < 1 ms (and again on the same
  calculator, which keeps the account's priced base between calls);
* one ``basket_margins`` call with 50 legs over the 10 markets (full): target < 20 ms;
* the same basket in compact mode, and ``order_margins`` with 50 orders (per order).

Each call parses its orders, builds the what-if scenario from the snapshot and
renders the JSON-ready result, as a user's call does.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import gc
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from benchmarks._common import fmt_ns, print_header, print_table, save_results
from kalshi_margin_stream.core.margin.calculator import MarginCalculator
from kalshi_margin_stream.sim.engine import Exchange, ExchangeConfig, default_markets
from kalshi_margin_stream.sim.testing import engine_margin_reads

__all__ = ["TARGETS", "account", "main", "run", "targets"]

D = Decimal
T0 = 1_788_500_000_000
USER = "f50604b8-d25a-4b0c-b3c9-ce5b48ffcad0"
MAKER = "00000000-0000-4000-8000-00000000c0de"
TICKERS = ("KXBTCPERP", "KXETHPERP", "KXSOLPERP", "KXXRPPERP", "KXDOGEPERP", "KXLTCPERP",
           "KXAAAPERP", "KXBBBPERP", "KXCCCPERP", "KXDDDPERP")
TARGETS = {"one order": 1_000_000.0, "50-leg basket": 20_000_000.0}
"""Nanoseconds per call (issue 10)."""


def account() -> tuple[MarginCalculator, list[dict[str, str]], list[dict[str, str]]]:
    """A calculator over a 10-position account, one order, and a 50-leg basket."""
    ex = Exchange(ExchangeConfig(markets=default_markets(list(TICKERS))), seed=1, now_ms=T0)
    ex.add_user(USER, cash=D("100000"))
    ex.add_user(MAKER, cash=D("100000000"))
    ex.set_notional_limit(MAKER, D("1000000000"))
    now = T0
    quotes: dict[str, tuple[Decimal, Decimal]] = {}
    for i, t in enumerate(TICKERS):
        mark = ex.market(t).config.initial_reference_price
        bid, ask = mark - D("0.0050"), mark + D("0.0050")
        quotes[t] = (bid, ask)
        for side, price in (("bid", bid), ("ask", ask)):
            now += 1
            ex.create_order(MAKER, ticker=t, client_order_id=f"m{t}{side}", side=side,  # type: ignore[arg-type]
                            count=D(1_000_000), price=price, time_in_force="good_till_canceled",
                            now_ms=now)
        now += 1
        side = "bid" if i % 2 == 0 else "ask"
        ex.create_order(USER, ticker=t, client_order_id=f"u{t}", side=side,  # type: ignore[arg-type]
                        count=D(20 + 5 * i), price=ask if side == "bid" else bid,
                        time_in_force="immediate_or_cancel", now_ms=now)
        now += 1
        ex.create_order(USER, ticker=t, client_order_id=f"r{t}", side="bid", count=D(3),
                        price=bid - D("0.0100"), time_in_force="good_till_canceled",
                        now_ms=now)
    calc = engine_margin_reads(ex, USER).calculator()
    assert len(calc.snapshot.account(0).positions) == 10
    one = [{"ticker": "KXBTCPERP", "side": "bid", "count": "10",
            "price": str(quotes["KXBTCPERP"][1])}]
    basket = []
    for i in range(50):
        t = TICKERS[i % 10]
        side = "bid" if i % 3 else "ask"
        basket.append({"ticker": t, "side": side, "count": str(1 + i % 9),
                       "price": str(quotes[t][1] if side == "bid" else quotes[t][0])})
    return calc, one, basket


def _median_ns(call: Callable[[], object], calls: int, repeats: int) -> tuple[float, list[float]]:
    figures = []
    call()  # warm-up
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            call()
        figures.append((time.perf_counter_ns() - t0) / calls)
    return statistics.median(figures), figures


def run(calls: int = 200, repeats: int = 5) -> dict[str, Any]:
    calc, one, basket = account()
    print_header("Benchmark 6: pre-trade margins (10-position account)")
    rows: dict[str, dict[str, Any]] = {}
    model, snapshot = calc.model, calc.snapshot
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("one order", lambda: MarginCalculator(model, snapshot).order_margins(one), calls),
        ("one order, same calculator", lambda: calc.order_margins(one), calls),
        ("50-leg basket", lambda: MarginCalculator(model, snapshot).basket_margins(basket),
         max(1, calls // 20)),
        ("50-leg basket, compact", lambda: calc.basket_margins(basket, mode="compact"),
         max(1, calls // 20)),
        ("50 orders (per order)", lambda: calc.order_margins(basket), max(1, calls // 20)),
    ]
    for name, call, n in cases:
        median, figures = _median_ns(call, n, repeats)
        if name.endswith("(per order)"):
            median, figures = median / len(basket), [f / len(basket) for f in figures]
        rows[name] = {"ns_per_call": median, "runs": figures}
    print_table(["call", "median", "min", "target"],
                [[k, fmt_ns(v["ns_per_call"]), fmt_ns(min(v["runs"])),
                  fmt_ns(TARGETS[k]) if k in TARGETS else "-"] for k, v in rows.items()])
    result = {"calls": calls, "repeats": repeats, "table": rows}
    save_results("margins", result)
    return result


def targets(res: dict[str, Any] | None) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) rows for run_all's summary."""
    table = (res or {}).get("table") or {}
    out: list[tuple[str, str, bool | None]] = []
    for name, limit in TARGETS.items():
        ns = (table.get(name) or {}).get("ns_per_call")
        if ns is not None:
            out.append((f"{name} margins < {fmt_ns(limit)} (10 positions)", fmt_ns(ns),
                        ns < limit))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args(argv)
    res = run(a.calls, a.repeats)
    for target, measured, met in targets(res):
        print(f"   {target}: {measured} ({'met' if met else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
