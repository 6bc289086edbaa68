"""A short run of the margin calculator benchmark: the harness works (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks import bench_margins


def test_the_margins_benchmark_runs_and_reports_both_targets(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import _common
    monkeypatch.setattr(_common, "RESULTS_DIR", tmp_path)
    res = bench_margins.run(calls=2, repeats=1)
    assert set(res["table"]) >= set(bench_margins.TARGETS)
    rows = bench_margins.targets(res)
    assert [r[0].split(" margins")[0] for r in rows] == list(bench_margins.TARGETS)
    assert all(isinstance(met, bool) for _, _, met in rows)
    calc, one, basket = bench_margins.account()
    assert len(basket) == 50 and calc.basket_margins(basket)["initial"] is not None
