"""Benchmark 5: memory over a long replay through the core (default 5M frames).

A ``Session`` in replay mode takes a live-like stream that never ends: a block of
synthetic frames (books kept consistent) followed by the deltas that bring every
book back to where the block started, rendered again and again with fresh
``seq`` numbers. RSS is sampled from the end of the warm-up (the first block) to
the end of the replay; then the same session takes a further window of frames
under ``tracemalloc``.

Flat means: RSS grows by less than ``FLAT_RSS_BYTES`` over the replay, and the
objects allocated during the traced window that are still alive after it stay
under ``FLAT_TRACED_BYTES``. Both limits are far below one byte per frame.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import gc
import os
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

from benchmarks import generate_data
from benchmarks._common import fmt_rate, print_header, print_table, save_results
from kalshi_margin_stream.core.book import BookStatus
from kalshi_margin_stream.core.replay import PassiveSession

__all__ = ["FLAT_RSS_BYTES", "FLAT_TRACED_BYTES", "main", "replay_stream", "run"]

FLAT_TRACED_BYTES = 1 << 20  # 1 MiB of objects retained, whatever the frame count
FLAT_RSS_BYTES = 8 << 20  # 8 MiB of RSS (allocator slack, the sampling list)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


def replay_stream(total: int, block: int = 100_000, seed: int = 6) -> Iterator[bytes]:
    """``total`` frames of an endless but bounded stream (see the module docstring)."""
    gen = generate_data.TrafficGenerator(seed=seed)
    first = gen.snapshots()
    start = gen.checkpoint()
    body = [gen.next() for _ in range(max(1, block - len(first)))]
    body += generate_data.restore_deltas(gen, start)
    seq: dict[int, int] = {}
    n = 0
    for frame in generate_data.render(first):
        seq[1] = seq.get(1, 0) + 1
        n += 1
        yield frame
    while True:
        for t in body:
            if n >= total:
                return
            n += 1
            sid = t.sid
            if sid is None:
                yield t.head
            else:
                s = seq.get(sid, 0) + 1
                seq[sid] = s
                yield t.head + b"%d" % s + t.tail


def run(frames: int = 5_000_000, traced: int = 250_000, samples: int = 25,
        block: int = 100_000, quiet: bool = False) -> dict[str, Any]:
    """Replay ``frames`` frames watching RSS, then ``traced`` more under tracemalloc.

    tracemalloc slows the replay about tenfold, so it watches a window at the end
    of the run (same session, same stream) rather than all of it.
    """
    block = min(block, max(1000, frames // 4))
    total = frames + traced
    session = PassiveSession()
    receive = session.receive_frame
    every = max(1, (frames - block) // samples)
    points: list[tuple[int, int]] = []  # (frames so far, RSS)
    stream = replay_stream(total, block)
    gc.collect()
    t0 = time.perf_counter()
    for i, frame in enumerate(stream, start=1):
        receive(frame)
        if i >= block and (i - block) % every == 0:
            points.append((i, _rss()))
        if i == frames:
            break
    elapsed = time.perf_counter() - t0
    points.append((frames, _rss()))
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for frame in stream:
        receive(frame)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    st = session.stats
    clean = (st.frames == total and not st.gaps and not st.desyncs and not st.decode_errors
             and all(b.status is BookStatus.SYNCED for b in session.books.values()))
    if not clean:
        raise AssertionError(f"replay not clean: {st}")
    rss_growth = points[-1][1] - points[0][1]
    flat = retained < FLAT_TRACED_BYTES and rss_growth < FLAT_RSS_BYTES
    levels = sum(sum(b.depth) for b in session.books.values())
    if not quiet:
        print_header(f"5. memory over a long replay: {frames:,} frames through Session "
                     f"(RSS from the end of a {block:,}-frame warm-up), then {traced:,} "
                     f"more under tracemalloc")
        step = max(1, len(points) // 6)
        shown = points[::step] + ([points[-1]] if (len(points) - 1) % step else [])
        print_table(["frames replayed", "RSS"],
                    [[f"{n:,}", f"{r / 2**20:.1f} MiB"] for n, r in shown])
        print(f"   RSS growth {rss_growth / 2**20:+.2f} MiB over {frames - block:,} frames "
              f"({fmt_rate(frames / elapsed)}); objects retained by {traced:,} traced frames: "
              f"{retained / 1024:.1f} KiB; {levels} book levels at the end")
        print(f"   flat (retained < {FLAT_TRACED_BYTES >> 20} MiB and RSS growth < "
              f"{FLAT_RSS_BYTES >> 20} MiB): {'YES' if flat else 'NO'}")
    result = {"frames": frames, "traced_frames": traced, "block": block, "points": points,
              "rss_growth": rss_growth, "retained_bytes": retained, "flat": flat,
              "seconds": elapsed, "book_levels": levels}
    save_results("bench_memory", result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="memory over a long replay")
    p.add_argument("--frames", type=int, default=5_000_000)
    p.add_argument("--traced", type=int, default=250_000)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.frames, a.traced = min(a.frames, 500_000), min(a.traced, 50_000)
    return 0 if run(a.frames, a.traced)["flat"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
