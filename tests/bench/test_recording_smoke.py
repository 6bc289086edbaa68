"""A few-second run of the recording benchmark: the harness works, nothing is lost."""

from __future__ import annotations

import pytest

from benchmarks import bench_recording


@pytest.fixture(autouse=True)
def _results_to_tmp(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import _common
    monkeypatch.setattr(_common, "RESULTS_DIR", tmp_path)


def test_recording_benchmark_smoke() -> None:
    res = bench_recording.run(4.0, rate=500.0, compress="gzip")
    assert res["received"] > 100 and res["lost"] == 0 and res["shed"] == 0
    assert 0 < res["bytes_per_frame"] < res["raw_bytes_per_frame"]
    assert res["rss_start"] > 0 and res["rss_end"] > 0
