"""Benchmark 4: end to end over loopback, sender process -> client -> consumer.

``ws_sender.py`` (its own process, no WebSocket library) writes pre-framed
frames; each receiver (``ws_receivers.py``, or kalshi-sdk's ``PerpsWebSocket``
through its runner) runs in a fresh process of its own.

* Sustained throughput: the sender writes the whole stream as fast as the socket
  takes it; the receiver's rate from its first to its last data message. Bare
  library receivers (no decoding) give each transport's ceiling; the other rows
  decode, sequence and apply books, and are compared with the ceiling of the
  transport they use.
* Latency: the sender paces the stream at 1k, 20k and 100k msg/s and stamps
  each frame's ``sending_ts_ms`` with CLOCK_MONOTONIC (shared by every process on
  Linux) just before writing; the consumer subtracts it from its own clock when
  the message reaches it. Frames are written in batches, one per asyncio timer
  tick (about 1 ms), each frame stamped at its batch's write, so later frames of
  a batch also measure the receiver working through the earlier ones.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import statistics
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from benchmarks._common import (
    fmt_ns,
    fmt_rate,
    fmt_ratio,
    percentile,
    print_header,
    print_table,
    save_results,
)
from benchmarks.ws_receivers import client_available

__all__ = ["RATES", "ensure_picows", "main", "run", "sender"]

HERE = Path(__file__).resolve().parent
PY = sys.executable
RATES = (1_000, 20_000, 100_000)
# Which bare receiver is the ceiling of each row's transport.
TRANSPORT_OF = {"aiohttp": "aiohttp", "websockets": "websockets", "picows": "picows",
                "core+aiohttp": "aiohttp", "client-aiohttp": "aiohttp",
                "client-websockets": "websockets", "client-picows": "picows",
                "kalshi-sdk": "websockets"}
LABELS = {
    "aiohttp": "bare aiohttp receive (no decode)",
    "websockets": "bare websockets receive (no decode)",
    "picows": "bare picows receive (no decode)",
    "core+aiohttp": "ours: Session on bare aiohttp",
    "client-aiohttp": "ours: Client, aiohttp transport",
    "client-websockets": "ours: Client, websockets transport",
    "client-picows": "ours: Client, picows transport ([fast])",
    "kalshi-sdk": "kalshi-sdk: PerpsWebSocket",
}


def ensure_picows(install: bool = True) -> str | None:
    """``None`` when picows imports; else try ``pip install picows`` once, else say why."""
    probe = [PY, "-c", "import picows"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return None
    if not install:
        return "picows not installed"
    r = subprocess.run([PY, "-m", "pip", "install", "--quiet", "picows"], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0 or subprocess.run(probe, capture_output=True).returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        return f"pip install picows failed: {tail[0]}"
    return None


@contextmanager
def sender(mode: str, count: int, rate: float = 0.0, pacing: str = "tick") -> Iterator[int]:
    """Start ``ws_sender.py``; yields its port; stops it (closing its stdin) on exit."""
    proc = subprocess.Popen([PY, str(HERE / "ws_sender.py"), "--mode", mode, "--count",
                             str(count), "--rate", str(rate), "--pacing", pacing],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the sender did not start")
        yield int(json.loads(line)["port"])
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _receive(kind: str, port: int, count: int, repeats: int, latency: bool,
             timeout: float) -> list[dict[str, Any]]:
    if kind == "kalshi-sdk":
        from benchmarks.peer import run_peer
        argv = ["e2e", "--port", str(port), "--count", str(count), "--repeats", str(repeats),
                "--timeout", str(timeout)] + (["--latency"] if latency else [])
        runs: list[dict[str, Any]] = run_peer(argv, timeout=repeats * (timeout + 30))["runs"]
        return runs
    argv = [PY, str(HERE / "ws_receivers.py"), kind, "--port", str(port), "--count",
            str(count), "--repeats", str(repeats), "--timeout", str(timeout)]
    if latency:
        argv.append("--latency")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=repeats * (timeout + 30))
    if r.returncode != 0:
        tail = "\n".join(r.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"receiver {kind} failed: {tail}")
    out: list[dict[str, Any]] = json.loads(r.stdout.strip().splitlines()[-1])["runs"]
    return out


def _kinds(peer: bool, notes: list[str], only: Sequence[str] | None) -> list[str]:
    kinds = ["aiohttp", "websockets"]
    why = ensure_picows(install=only is None)
    if why is None:
        kinds.append("picows")
    else:
        notes.append(why)
    kinds.append("core+aiohttp")
    why = client_available()
    if why is None:
        kinds += ["client-aiohttp", "client-websockets"]
        if "picows" in kinds:
            kinds.append("client-picows")
    else:
        notes.append(f"ours: Client rows missing: {why}")
    if only is not None:
        kinds = [k for k in kinds if k in only]
    if peer:
        from benchmarks.peer import ensure_peer, peer_label
        status = ensure_peer()
        notes.append(peer_label(status))
        if status.available:
            kinds.append("kalshi-sdk")
    return kinds


def run(count: int = 300_000, repeats: int = 3, peer: bool = True,
        rates: Sequence[int] = RATES, seconds: Sequence[float] = (5.0, 3.0, 2.0),
        peer_count: int = 100_000, quiet: bool = False,
        only: Sequence[str] | None = None, pacing: str = "tick") -> dict[str, Any]:
    """Throughput of every receiver, then latency at each rate; prints both tables.

    ``only`` limits the receivers to those kinds (and then never installs picows).
    """
    notes: list[str] = []
    kinds = _kinds(peer, notes, only)
    throughput: dict[str, dict[str, Any]] = {}
    with sender("throughput", count) as port:
        for kind in kinds:
            n = min(count, peer_count) if kind == "kalshi-sdk" else count
            try:
                runs = _receive(kind, port, n, repeats, False, timeout=120)
            except RuntimeError as exc:
                notes.append(str(exc))
                continue
            ok = [r["rate"] for r in runs if not r["timed_out"] and r["received"] >= n]
            throughput[kind] = {"rate": statistics.median(ok) if ok else float("nan"),
                                "runs": [r["rate"] for r in runs], "count": n}
    latency: dict[int, dict[str, dict[str, Any]]] = {}
    for rate, secs in zip(rates, seconds, strict=False):
        n = max(100, int(rate * secs))
        latency[rate] = {}
        with sender("rate", n, rate, pacing) as port:
            for kind in kinds:
                try:
                    r = _receive(kind, port, n, 1, True, timeout=secs * 3 + 15)[0]
                except RuntimeError as exc:
                    notes.append(str(exc))
                    continue
                lat = sorted(r["latencies_ns"])
                latency[rate][kind] = {
                    "p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99),
                    "p999": percentile(lat, 0.999), "max": lat[-1] if lat else float("nan"),
                    "received": r["received"], "expected": n, "rate": r["rate"],
                    "timed_out": r["timed_out"]}
    if not quiet:
        _print(count, repeats, throughput, latency, notes, pacing)
    result = {"count": count, "repeats": repeats, "throughput": throughput,
              "latency": latency, "notes": notes, "pacing": pacing}
    save_results("bench_e2e", result)
    return result


def _print(count: int, repeats: int, throughput: dict[str, dict[str, Any]],
           latency: dict[int, dict[str, dict[str, Any]]], notes: list[str],
           pacing: str) -> None:
    peer = [n for n in notes if n.startswith("kalshi-sdk")]
    others = [n for n in notes if not n.startswith("kalshi-sdk")]
    print_header(f"4a. end to end over loopback, sustained msg/s ({count:,} frames, "
                 f"median of {repeats})", {"peer": peer[0]} if peer else None)
    sdk = throughput.get("kalshi-sdk", {}).get("rate")
    rows = []
    for kind, t in throughput.items():
        ceiling = throughput.get(TRANSPORT_OF[kind], {}).get("rate")
        rows.append([LABELS[kind], fmt_rate(t["rate"]),
                     fmt_ratio(t["rate"] / ceiling) if ceiling else "-",
                     fmt_ratio(t["rate"] / sdk) if sdk else "-"])
    print_table(["receiver", "msg/s", "vs bare transport", "vs kalshi-sdk"], rows)
    for note in others:
        print(f"   note: {note}")
    how = ("one batch per ~1 ms asyncio tick" if pacing == "tick"
           else "fine pacing: a frame or two per write")
    print_header(f"4b. latency send -> consumer (CLOCK_MONOTONIC across processes; {how})")
    rows = []
    for rate, per in latency.items():
        for kind, r in per.items():
            # Behind: it could not take the stream at the rate it was sent.
            behind = (r["timed_out"] or r["received"] < r["expected"]
                      or r["rate"] < 0.95 * rate)
            rows.append([f"{rate // 1000}k/s: {LABELS[kind]}", fmt_ns(r["p50"]),
                         fmt_ns(r["p99"]), fmt_ns(r["p999"]), fmt_ns(r["max"]),
                         f"{r['received']:,}/{r['expected']:,}"
                         + (" FELL BEHIND" if behind else "")])
    print_table(["rate: receiver", "p50", "p99", "p99.9", "max", "received"], rows)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="end-to-end loopback benchmark")
    p.add_argument("--count", type=int, default=300_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--fine-pacing", action="store_true",
                   help="latency runs with a frame or two per write instead of 1 ms batches")
    a = p.parse_args(argv)
    pacing = "fine" if a.fine_pacing else "tick"
    if a.quick:
        run(min(a.count, 30_000), 1, peer=not a.no_peer, seconds=(1.0, 0.5, 0.3),
            peer_count=20_000, pacing=pacing)
    else:
        run(a.count, a.repeats, peer=not a.no_peer, pacing=pacing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
