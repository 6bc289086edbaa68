"""Smoke run of benchmarks/bench_exit_triggers.py (no timing asserted)."""

from __future__ import annotations

from benchmarks import bench_exit_triggers


def test_exit_trigger_bench_runs() -> None:
    (row,) = bench_exit_triggers.run(actions=50, users=(3,), repeats=1)
    assert row["users"] == 3 and row["without_us"] > 0 and row["with_us"] > 0
