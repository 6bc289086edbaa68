"""Profile the hot paths: where the time of a frame goes.

``core``: ``Session.receive_frame`` on the live-like mix (replay mode, no socket).
``client``: our ``Client`` receiving from the loopback sender (both in this
process tree: the sender in its own process, the client under the profiler).

Uses pyinstrument when installed (``pip install pyinstrument`` into .venv; it is
not a project dependency), else the stdlib's cProfile (top functions by own time;
cProfile inflates small calls, so read it for *where*, and the benchmark
scripts for *how much*).

    .venv/bin/python benchmarks/profile_hot_path.py core --frames 200000
    .venv/bin/python benchmarks/profile_hot_path.py client --frames 100000 --transport aiohttp
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import cProfile
import importlib.util
import io
import pstats
from collections.abc import Callable, Sequence

from benchmarks import generate_data

__all__ = ["main", "profile"]


def profile(fn: Callable[[], object], top: int = 20, use_pyinstrument: bool = True) -> str:
    """Run ``fn`` under a profiler; returns the report text."""
    if use_pyinstrument and importlib.util.find_spec("pyinstrument") is not None:
        from pyinstrument import Profiler
        prof = Profiler(interval=0.0005)
        prof.start()
        fn()
        prof.stop()
        text: str = prof.output_text(unicode=True, color=False, show_all=False)
        return text
    cp = cProfile.Profile()
    cp.enable()
    fn()
    cp.disable()
    out = io.StringIO()
    pstats.Stats(cp, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _core(frames: int) -> Callable[[], object]:
    from kalshi_margin_stream.core.replay import PassiveSession
    data = generate_data.frames(frames)

    def run() -> object:
        session = PassiveSession()
        receive = session.receive_frame
        for f in data:
            receive(f)
        return session.stats

    return run


def _client(frames: int, transport: str) -> Callable[[], object]:
    from benchmarks.bench_e2e import sender
    from benchmarks.ws_receivers import KINDS, Counter

    def run() -> object:
        with sender("throughput", frames) as port:
            url = f"ws://127.0.0.1:{port}/trade-api/ws/v2/margin"
            counter = Counter(frames, latency=False)
            asyncio.run(KINDS[f"client-{transport}"](url, counter))
            return counter.result(False)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("target", choices=("core", "client"))
    p.add_argument("--frames", type=int, default=200_000)
    p.add_argument("--transport", choices=("aiohttp", "websockets", "picows"),
                   default="aiohttp")
    p.add_argument("--cprofile", action="store_true", help="cProfile even if pyinstrument is there")
    a = p.parse_args(argv)
    fn = _core(a.frames) if a.target == "core" else _client(a.frames, a.transport)
    print(profile(fn, use_pyinstrument=not a.cprofile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
