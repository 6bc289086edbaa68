"""Shared plumbing of the benchmark scripts: timing, machine facts, tables, results.

Every script reports medians over repeated runs (the machine is shared, so a single
run says little) and prints one small table. Results also go to
``benchmarks/results/<name>.json`` (git-ignored) so the README can quote them.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_DIR",
    "ROOT",
    "fmt_ns",
    "fmt_rate",
    "fmt_ratio",
    "machine_info",
    "median_ns_per_item",
    "percentile",
    "print_header",
    "print_table",
    "save_results",
    "versions",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """CPU model, core count, load and OS: what a figure needs to be read."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on Linux
        load = (0.0, 0.0, 0.0)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "load_1m": round(load[0], 2),
        "os": f"{platform.system()} {platform.release()}",
    }


def versions(packages: Iterable[str] = ("msgspec", "aiohttp", "websockets", "picows")
             ) -> dict[str, str]:
    """Python and package versions of this interpreter (``absent`` when not installed)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    try:
        out["kalshi-margin-stream"] = metadata.version("kalshi-margin-stream")
    except metadata.PackageNotFoundError:
        out["kalshi-margin-stream"] = "source"
    return out


def print_header(title: str, extra: dict[str, str] | None = None) -> None:
    """The title, then machine and versions on two lines."""
    m = machine_info()
    v = versions()
    if extra:
        v.update(extra)
    print(f"\n== {title}")
    print(f"   machine: {m['cpu']}, {m['cores']} cores, load {m['load_1m']}, {m['os']}")
    print("   versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))


def median_ns_per_item(run: Callable[[], int], repeats: int) -> tuple[float, list[float]]:
    """Call ``run`` (which returns how many items it processed) ``repeats`` times.

    Returns the median nanoseconds per item and every run's figure. A collection
    runs before each repeat so one run's garbage does not land on the next.
    """
    figures = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter_ns()
        n = run()
        elapsed = time.perf_counter_ns() - t0
        figures.append(elapsed / max(n, 1))
    return statistics.median(figures), figures


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of an already sorted sequence, nearest rank."""
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return float(sorted_values[k])


def fmt_ns(ns: float | None) -> str:
    """Nanoseconds as a short human figure (``812 ns``, ``3.41 µs``, ``2.1 ms``)."""
    if ns is None or ns != ns:
        return "-"
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.2f} µs"
    return f"{ns / 1_000_000:.2f} ms"


def fmt_rate(per_s: float | None) -> str:
    """Messages per second (``612k/s``)."""
    if per_s is None or per_s != per_s:
        return "-"
    if per_s >= 1_000_000:
        return f"{per_s / 1_000_000:.2f}M/s"
    if per_s >= 1_000:
        return f"{per_s / 1_000:.0f}k/s"
    return f"{per_s:.0f}/s"


def fmt_ratio(x: float | None) -> str:
    """A ratio to the reference row (``1.00x``)."""
    if x is None or x != x:
        return "-"
    return f"{x:.2f}x"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain aligned text table (first column left-aligned, the rest right)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])
                 for i, c in enumerate(cells)]
        return "   " + "  ".join(parts)
    print(line(headers))
    print("   " + "  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def save_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` plus machine and versions to ``results/<name>.json``."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    doc = {"machine": machine_info(), "versions": versions(), "argv": sys.argv, **payload}
    path.write_text(json.dumps(doc, indent=2, default=str))
    return path
