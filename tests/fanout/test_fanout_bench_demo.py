"""The fan-out benchmark and ``make demo-fanout`` run (tiny sizes; no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import _common, bench_fanout


def test_the_benchmark_measures_every_consumer_count_and_every_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "RESULTS_DIR", tmp_path)
    res = bench_fanout.run(entries=400, consumers=(1, 3), paced_rate=400.0, paced_s=0.5,
                           sim_rate=100.0, sim_s=0.8)
    assert [r["consumers"] for r in res["throughput"]] == [1, 3]
    for r in [*res["throughput"], res["paced"]]:
        assert r["synced"] and r["dropped"] == 0 and r["gateway_rate"] > 0
        assert r["hop_p99_us"] >= r["hop_p50_us"] > 0
    beside = res["beside_client"]
    assert beside["published"] > 0 and beside["remote_p99_us"] >= beside["remote_p50_us"]
    assert (tmp_path / "fanout.json").exists()


def test_the_demo_shows_gateway_and_two_consumers_ending_equal() -> None:
    out = subprocess.run([sys.executable, "-m", "kalshi_margin_stream.fanout.demo",
                          "--duration", "2", "--rate", "200"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "books equal to the exchange: yes" in out.stdout
    assert "recorder:" in out.stdout and "plain:" in out.stdout
