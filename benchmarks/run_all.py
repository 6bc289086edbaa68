"""Run the five benchmarks in order (what ``make bench`` calls), then the targets summary.

``--quick`` is a short pass (about a minute and a half); the full run keeps
under ten minutes on the 2-core reference machine. ``--no-peer`` leaves
kalshi-sdk out. The closing note quotes each of issue 6's targets against the
figures just measured: met or not.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import math
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import bench_book, bench_decode, bench_e2e, bench_memory, bench_pipeline
from benchmarks._common import fmt_ns, fmt_rate, save_results

__all__ = ["main", "targets"]


def _get(d: dict[Any, Any], *path: Any) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def targets(res: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of issue 6's targets; met is None when unmeasured."""
    out: list[tuple[str, str, bool | None]] = []
    deltas = _get(res, "pipeline", "table", "deltas only") or {}
    ours = _get(deltas, "ours: Session.receive_frame", "ns_per_frame")
    bare = _get(deltas, "bare msgspec decode (reference)", "ns_per_frame")
    sdk = _get(deltas, "kalshi-sdk: PerpsWebSocket._process_frame", "ns_per_frame")
    if ours is not None:
        out.append(("decode+seq+book <= 1.5 µs per delta frame", fmt_ns(ours), ours <= 1500))
    if ours is not None and bare:
        out.append(("... within 3x of bare msgspec decode", f"{ours / bare:.2f}x",
                     ours <= 3 * bare))
    if ours is not None and sdk:
        out.append((">= 10x faster than kalshi-sdk on the same path", f"{sdk / ours:.1f}x",
                    sdk >= 10 * ours))
    depths = _get(res, "book", "depths") or {}
    reads = [r["ours"].get("read_top1", r["ours"]["apply_top1"] - r["ours"]["apply"])
             for r in depths.values()]
    if reads:
        worst = max(reads)
        out.append(("top-of-book read <= 1 µs at every depth", f"worst {fmt_ns(worst)}",
                    worst <= 1000))
    tp = _get(res, "e2e", "throughput") or {}
    for kind, transport in (("client-aiohttp", "aiohttp"), ("client-websockets", "websockets"),
                            ("core+aiohttp", "aiohttp")):
        rate = _get(tp, kind, "rate")
        ceiling = _get(tp, transport, "rate")
        if rate is None or (isinstance(rate, float) and math.isnan(rate)):
            continue
        label = bench_e2e.LABELS[kind]
        out.append((f">= 200k msg/s end to end ({label})", fmt_rate(rate), rate >= 200_000))
        if ceiling:
            out.append((f"... >= 0.5x bare {transport} receive", f"{rate / ceiling:.2f}x",
                        rate >= 0.5 * ceiling))
    lat = _get(res, "e2e", "latency", 20_000) or {}
    for kind in ("client-aiohttp", "client-websockets", "core+aiohttp"):
        p99 = _get(lat, kind, "p99")
        if p99 is not None:
            out.append((f"p99 <= 1 ms at 20k msg/s ({bench_e2e.LABELS[kind]})", fmt_ns(p99),
                        p99 <= 1_000_000))
    flat = _get(res, "memory", "flat")
    if flat is not None:
        grow = _get(res, "memory", "rss_growth") or 0
        out.append(("flat memory over the long replay",
                    f"RSS {grow / 2**20:+.2f} MiB, retained "
                    f"{(_get(res, 'memory', 'retained_bytes') or 0) / 1024:.0f} KiB", flat))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="run every benchmark")
    p.add_argument("--quick", action="store_true", help="a short pass")
    p.add_argument("--no-peer", action="store_true", help="leave kalshi-sdk out")
    a = p.parse_args(argv)
    peer = not a.no_peer
    t0 = time.monotonic()
    res: dict[str, dict[str, Any]] = {}
    if a.quick:
        res["decode"] = bench_decode.run(20_000, 3, peer)
        res["pipeline"] = bench_pipeline.run(30_000, 3, peer)
        res["book"] = bench_book.run(10_000, 3, peer)
        res["e2e"] = bench_e2e.run(30_000, 1, peer, seconds=(1.0, 0.5, 0.3),
                                   peer_count=20_000)
        res["memory"] = bench_memory.run(500_000, 50_000)
    else:
        res["decode"] = bench_decode.run(100_000, 5, peer)
        res["pipeline"] = bench_pipeline.run(200_000, 5, peer)
        res["book"] = bench_book.run(100_000, 5, peer)
        res["e2e"] = bench_e2e.run(300_000, 3, peer)
        res["memory"] = bench_memory.run(5_000_000, 250_000)
    from benchmarks import bench_fanout  # issue 13; needs the [redis] extra and redis-server
    res["fanout"] = (bench_fanout.run(entries=10_000, paced_rate=2_000.0, paced_s=1.0,
                                      sim_rate=500.0, sim_s=2.0) if a.quick
                     else bench_fanout.run())
    rows = targets(res)
    print("\n== Targets (issue 6), medians from the runs above")
    width = max(len(t) for t, _, _ in rows) if rows else 10
    for target, measured, met in rows:
        verdict = "met" if met else ("NOT met" if met is not None else "not measured")
        print(f"   {target.ljust(width)}  {measured:>22}  {verdict}")
    print(f"   (all five in {time.monotonic() - t0:.0f} s)")
    save_results("targets", {"targets": [list(r) for r in rows]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
