"""Benchmark 1: decode only, per frame, on the same live-like frames.

Rows: our ``decode_frame``; bare ``msgspec.json.Decoder`` into the same Structs
(the floor: ours adds only the unknown-type fallback around it); stdlib
``json.loads`` (dicts, no validation, for scale); kalshi-sdk's ``json.loads`` +
pydantic ``model_validate`` (in its own 3.12 virtualenv).

The frames are the real demo captures plus seeded synthetic frames (mostly
deltas, some trades and tickers, a few private messages), as bytes.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from benchmarks import generate_data
from benchmarks._common import (
    fmt_ns,
    fmt_ratio,
    median_ns_per_item,
    print_header,
    print_table,
    save_results,
)
from kalshi_margin_stream.core.codec import decode_frame
from kalshi_margin_stream.core.messages import ServerMessage

__all__ = ["main", "run"]


def _loop(fn: Callable[[bytes], object], frames: Sequence[bytes]) -> Callable[[], int]:
    def run() -> int:
        for f in frames:
            fn(f)
        return len(frames)
    return run


def run(count: int = 100_000, repeats: int = 5, peer: bool = True, seed: int = 6,
        quiet: bool = False) -> dict[str, Any]:
    """Time every decoder; returns the figures (ns per frame) and prints the table."""
    frames = generate_data.load_real_frames() + generate_data.frames(count, seed=seed)
    bare = msgspec.json.Decoder(ServerMessage)
    # Sanity: the decoders agree on what they read (a broken harness must not time).
    for f in frames[:2000]:
        a, b = decode_frame(f), json.loads(f)
        assert getattr(a, "sid", None) == b.get("sid"), f
    rows: dict[str, dict[str, Any]] = {}
    contenders: list[tuple[str, Callable[[bytes], object]]] = [
        ("ours: decode_frame", decode_frame),
        ("bare msgspec Decoder(ServerMessage)", bare.decode),
        ("stdlib json.loads (dicts only)", json.loads),
    ]
    for name, fn in contenders:
        loop = _loop(fn, frames)
        loop()  # warm-up
        med, figs = median_ns_per_item(loop, repeats)
        rows[name] = {"ns_per_frame": med, "runs": figs}
    peer_note = ""
    if peer:
        from benchmarks.peer import ensure_peer, peer_label, run_peer
        status = ensure_peer()
        if status.available:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "frames.jsonl"
                generate_data.write_jsonl(path, frames)
                try:
                    res = run_peer(["decode", "--frames", str(path), "--repeats", str(repeats)])
                    rows["kalshi-sdk: json + pydantic"] = {
                        "ns_per_frame": res["ns_per_frame"], "runs": res["runs"]}
                except RuntimeError as exc:
                    peer_note = str(exc)
        peer_note = peer_note or peer_label(status)
    ref = rows["bare msgspec Decoder(ServerMessage)"]["ns_per_frame"]
    ours = rows["ours: decode_frame"]["ns_per_frame"]
    if not quiet:
        print_header(f"1. decode only: {len(frames):,} frames (real captures + synthetic mix), "
                     f"median of {repeats}", {"peer": peer_note} if peer_note else None)
        print_table(["decoder", "per frame", "vs bare msgspec", "ours is faster by"],
                    [[n, fmt_ns(r["ns_per_frame"]), fmt_ratio(r["ns_per_frame"] / ref),
                      fmt_ratio(r["ns_per_frame"] / ours)] for n, r in rows.items()])
    result = {"frames": len(frames), "repeats": repeats, "rows": rows, "peer": peer_note}
    save_results("bench_decode", result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="decode-only benchmark")
    p.add_argument("--count", type=int, default=100_000, help="synthetic frames")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-peer", action="store_true", help="skip kalshi-sdk")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.count, a.repeats = min(a.count, 20_000), min(a.repeats, 3)
    run(a.count, a.repeats, peer=not a.no_peer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
