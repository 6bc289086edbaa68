"""Run the five benchmarks in order (what ``make bench`` calls), then the targets summary.

``--quick`` is a short pass (about a minute and a half); the full run keeps
under ten minutes on the 2-core reference machine. ``--no-peer`` leaves
kalshi-sdk out. The closing note quotes each of issue 9's targets against the
figures just measured (ratios within this one run), met or not, with kalshi-sdk
beside where it ran.
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

import benchmarks.bench_margins as bench_margins
import benchmarks.bench_recording as bench_recording  # issue 11
from benchmarks import bench_book, bench_decode, bench_e2e, bench_memory, bench_pipeline
from benchmarks._common import fmt_ns, fmt_rate, save_results

__all__ = ["main", "targets"]


def _get(d: dict[Any, Any], *path: Any) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _module_sizes(limit: int = 400) -> tuple[list[str], list[str]]:
    """Modules of core/ and stream/ over ``limit`` lines: (explained, unexplained).

    Explained = the module docstring has a sentence about its size ("... lines").
    """
    import ast
    root = Path(__file__).resolve().parents[1] / "kalshi_margin_stream"
    explained, unexplained = [], []
    for path in sorted([*root.glob("core/**/*.py"), *root.glob("stream/**/*.py")]):
        text = path.read_text()
        if text.count("\n") <= limit:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        name = str(path.relative_to(root))
        (explained if " lines" in doc else unexplained).append(name)
    return explained, unexplained


def targets(res: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of issue 9's targets; met is None when unmeasured.

    Ratios are taken within one run (same machine load); kalshi-sdk's figure is
    quoted beside ours where the peer ran.
    """
    out: list[tuple[str, str, bool | None]] = []
    mix = _get(res, "pipeline", "table", "live-like mix") or {}
    ours = _get(mix, "ours: Session.receive_frame", "ns_per_frame")
    bare = _get(mix, bench_pipeline.BARE, "ns_per_frame")
    sdk = _get(mix, "kalshi-sdk: PerpsWebSocket._process_frame", "ns_per_frame")
    if ours is not None and bare:
        ratio = _get(mix, "ours: Session.receive_frame", "ratio_to_bare") or ours / bare
        peer = f" (kalshi-sdk {sdk / bare:.1f}x)" if sdk else ""
        out.append(("core receive_frame on the mix <= 2.8x bare decode (str prices)",
                    f"{ratio:.2f}x{peer}", ratio <= 2.8))
    tp = _get(res, "e2e", "throughput") or {}
    ceiling = _get(tp, "aiohttp", "rate")
    sdk_rate = _get(tp, "kalshi-sdk", "rate")
    for kind, goal in (("client-aiohttp", 0.28), ("client-picows", 0.33)):
        rate = _get(tp, kind, "rate")
        if rate is None or not ceiling or (isinstance(rate, float) and math.isnan(rate)):
            continue
        peer = f" (kalshi-sdk {sdk_rate / ceiling:.2f}x)" if sdk_rate else ""
        out.append((f"{bench_e2e.LABELS[kind]} >= {goal}x bare aiohttp receive",
                     f"{rate / ceiling:.2f}x = {fmt_rate(rate)}{peer}", rate >= goal * ceiling))
    latency = _get(res, "e2e", "latency") or {}
    for kind, rate, limit in (("client-aiohttp", 20_000, 1_000_000),
                              ("client-picows", 100_000, 2_000_000)):
        p99 = _get(latency, rate, kind, "p99")
        if p99 is not None:
            peer = _get(latency, rate, "kalshi-sdk", "p99")
            beside = f" (kalshi-sdk {fmt_ns(peer)})" if peer is not None else ""
            out.append((f"p99 <= {limit // 1_000_000} ms at {rate // 1000}k msg/s "
                        f"({bench_e2e.LABELS[kind]})", fmt_ns(p99) + beside, p99 <= limit))
    depths = _get(res, "book", "depths") or {}
    reads = [r["ours"].get("read_top1", r["ours"]["apply_top1"] - r["ours"]["apply"])
             for r in depths.values()]
    if reads:
        worst = max(reads)
        out.append(("top-of-book read (bid+ask pair) <= 0.25 µs at every depth",
                    f"worst {fmt_ns(worst)}",
                    worst <= 250))
    flat = _get(res, "memory", "flat")
    if flat is not None:
        grow = _get(res, "memory", "rss_growth") or 0
        frames = _get(res, "memory", "frames") or 0
        out.append((f"flat memory over the long replay ({frames:,} frames)",
                    f"RSS {grow / 2**20:+.2f} MiB, retained "
                    f"{(_get(res, 'memory', 'retained_bytes') or 0) / 1024:.0f} KiB", flat))
    explained, unexplained = _module_sizes()
    out.append(("core/ and stream/ modules over ~400 lines say why",
                f"{len(explained)} over, {len(unexplained)} unexplained"
                + (f": {', '.join(unexplained)}" if unexplained else ""), not unexplained))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="run every benchmark")
    p.add_argument("--quick", action="store_true", help="a short pass")
    p.add_argument("--no-peer", action="store_true", help="leave kalshi-sdk out")
    p.add_argument("--recording-seconds", type=float, default=None,  # issue 11
                   help="length of the recording benchmark (default 3600; --quick 60; 0 skips)")
    a = p.parse_args(argv)
    peer = not a.no_peer
    t0 = time.monotonic()
    res: dict[str, dict[str, Any]] = {}
    from benchmarks import bench_fix  # issue 14: FIX codec and order round trip
    if a.quick:
        res["decode"] = bench_decode.run(20_000, 3, peer)
        res["pipeline"] = bench_pipeline.run(30_000, 3, peer)
        res["book"] = bench_book.run(10_000, 3, peer)
        res["e2e"] = bench_e2e.run(30_000, 1, peer, seconds=(1.0, 0.5, 0.3),
                                   peer_count=20_000)
        res["memory"] = bench_memory.run(500_000, 50_000)
        res["fix"] = bench_fix.run(3_000, 3, 100)
    else:
        res["decode"] = bench_decode.run(100_000, 5, peer)
        res["pipeline"] = bench_pipeline.run(200_000, 5, peer)
        res["book"] = bench_book.run(100_000, 5, peer)
        res["e2e"] = bench_e2e.run(300_000, 3, peer)
        res["memory"] = bench_memory.run(5_000_000, 250_000)
        res["fix"] = bench_fix.run()
    res["margins"] = bench_margins.run(50 if a.quick else 200, 3 if a.quick else 5)
    rec_s = a.recording_seconds if a.recording_seconds is not None else (60 if a.quick else 3600)
    if rec_s > 0:  # issue 11: simulator at 2,000 msg/s through Client(recorder=...)
        res["recording"] = bench_recording.run(rec_s)
    from benchmarks import bench_fanout  # issue 13; needs the [redis] extra and redis-server
    res["fanout"] = (bench_fanout.run(entries=10_000, paced_rate=2_000.0, paced_s=1.0,
                                      sim_rate=500.0, sim_s=2.0) if a.quick
                     else bench_fanout.run())
    rows = targets(res) + bench_margins.targets(res["margins"])
    print("\n== Targets (issues 9-14), medians from the runs above")
    width = max(len(t) for t, _, _ in rows) if rows else 10
    for target, measured, met in rows:
        verdict = "met" if met else ("NOT met" if met is not None else "not measured")
        print(f"   {target.ljust(width)}  {measured:>22}  {verdict}")
    print(f"   (all in {time.monotonic() - t0:.0f} s)")
    save_results("targets", {"targets": [list(r) for r in rows]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
