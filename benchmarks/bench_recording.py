"""Recording benchmark: a long ``Client(recorder=Recorder(...))`` session (issue 11).

The simulator runs in its own process (``kalshi-margin-stream sim``) with its flow
set to about ``--rate`` messages per second over every market; this process runs
the client with a recorder (zstd, 10-minute files) and drains every
subscription. Reported: messages received and their rate, frames lost (received
by the client but not in the files' manifests, plus any shed: must be 0), bytes
per frame on disk, writer lag p99 (receive → compressor; worst of the per-minute
p99s), and this process's RSS after warm-up and at the end (flat = the recorder
holds nothing per frame).

::

    .venv/bin/python benchmarks/bench_recording.py                  # one hour (make bench)
    .venv/bin/python benchmarks/bench_recording.py --duration 90    # a short look
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import os
import tempfile
import time
from typing import Any

from benchmarks._common import print_header, print_table, save_results
from kalshi_margin_stream import Books, Client, Credentials, Tickers, Trades
from kalshi_margin_stream.recording.recorder import Recorder

__all__ = ["run"]

MARKETS = ("KXBTCPERP", "KXETHPERP", "KXSOLPERP")
FRAMES_PER_ACTION = 1.15
"""Simulator frames per flow action (deltas plus the trades some actions make), measured."""


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _session(seconds: float, rate: float, compress: str, out: str,
                   record: bool = True) -> dict[str, Any]:
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kalshi_margin_stream", "sim", "--markets", *MARKETS,
        "--rate", str(rate / FRAMES_PER_ACTION), stdout=asyncio.subprocess.PIPE)
    try:
        assert sim.stdout is not None
        info = json.loads(await asyncio.wait_for(sim.stdout.readline(), 60))
        creds = Credentials.from_pem_file(info["key_id"], info["private_key_path"])
        recorder = Recorder(out, compress=compress, rotate_minutes=10)  # type: ignore[arg-type]
        samples: list[tuple[float, int, float]] = []
        async with Client(creds, rest_url=info["rest_url"], ws_url=info["ws_url"],
                          recorder=recorder if record else None, reconcile=False) as client:
            subs = [client.subscribe(s) for s in (Books(MARKETS), Trades(MARKETS),
                                                  Tickers(MARKETS))]

            async def drain(sub: Any) -> None:
                async for _ in sub:
                    pass

            tasks = [asyncio.ensure_future(drain(s)) for s in subs]
            start = time.monotonic()
            warm = min(10.0, seconds / 6)
            await asyncio.sleep(warm)
            rss_start = rss_bytes()
            frames_start = client.session.stats.frames
            t_start = time.monotonic()
            period = min(60.0, max(1.0, seconds / 20))
            while (left := start + seconds - time.monotonic()) > 0:
                await asyncio.sleep(min(period, left))
                s = recorder.stats()
                samples.append((time.monotonic() - start, rss_bytes(), s.lag_p99_ms))
            rss_end = rss_bytes()
            rate_seen = (client.session.stats.frames - frames_start) / (time.monotonic() - t_start)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        s = recorder.stats()  # closed: every file flushed, every manifest written
        received = client.session.stats.frames  # after the close: nothing more arrives
    finally:
        sim.terminate()
        await sim.wait()
    manifests = [json.loads(p.read_text()) for p in Path(out).glob("*.manifest.json")]
    in_files = sum(m["frames"] for m in manifests)
    disk = sum(m["bytes_disk"] for m in manifests)
    return {"seconds": seconds, "target_rate": rate, "rate": rate_seen, "received": received,
            "in_files": in_files, "lost": received - in_files, "shed": s.shed,
            "files": len(manifests), "bytes_per_frame": disk / max(in_files, 1),
            "raw_bytes_per_frame": s.bytes_raw / max(s.written, 1),
            "lag_p99_ms": max((p for _, _, p in samples), default=s.lag_p99_ms),
            "lag_max_ms": s.lag_max_ms, "rss_start": rss_start, "rss_end": rss_end,
            "rss_samples": [(round(t, 1), r) for t, r, _ in samples], "compress": compress}


def run(seconds: float, rate: float = 2000.0, compress: str = "zstd",
        record: bool = True) -> dict[str, Any]:
    what = compress if record else "no recorder (the control run)"
    print_header(f"recording: {seconds:.0f} s at ~{rate:,.0f} msg/s, {what}")
    with tempfile.TemporaryDirectory(prefix="kalshi-bench-rec-") as out:
        res = asyncio.run(_session(seconds, rate, compress, out, record))
    mib = 2**20
    print_table(["figure", "value"], [
        ["messages received", f"{res['received']:,} ({res['rate']:,.0f}/s)"],
        ["frames lost (must be 0)", f"{res['lost']} (+{res['shed']} shed)"],
        ["files", str(res["files"])],
        ["bytes per frame on disk", f"{res['bytes_per_frame']:.1f} "
                                    f"(raw lines {res['raw_bytes_per_frame']:.0f})"],
        ["writer lag p99 / max", f"{res['lag_p99_ms']:.1f} / {res['lag_max_ms']:.1f} ms"],
        ["RSS start -> end", f"{res['rss_start'] / mib:.1f} -> {res['rss_end'] / mib:.1f} MiB"],
    ])
    save_results("recording" if record else "recording-control", res)
    return res


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=3600.0, help="seconds (default 3600)")
    p.add_argument("--rate", type=float, default=2000.0, help="messages per second")
    p.add_argument("--compress", choices=["zstd", "gzip", "none"], default="zstd")
    p.add_argument("--no-recorder", action="store_true",
                   help="the same client without a recorder: a baseline for the RSS figures")
    a = p.parse_args()
    run(a.duration, a.rate, a.compress, record=not a.no_recorder)
