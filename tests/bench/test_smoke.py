"""A ~1-second smoke run of each benchmark: the harness works, no timing asserted.

kalshi-sdk is left out (``peer=False``): it needs its own Python 3.12 virtualenv,
which the test suite does not build. The end-to-end test runs a real sender
process and real receiver processes on 127.0.0.1 (port 0).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest

from benchmarks import (
    bench_book,
    bench_decode,
    bench_e2e,
    bench_memory,
    bench_pipeline,
    generate_data,
    run_all,
)
from benchmarks.ws_sender import frame_header, parse_client_frames
from kalshi_margin_stream.core.codec import decode_frame
from kalshi_margin_stream.core.messages import OrderbookDelta, OrderbookSnapshot


@pytest.fixture(autouse=True)
def _results_to_tmp(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep smoke results out of benchmarks/results (the real runs write there)."""
    from benchmarks import _common
    monkeypatch.setattr(_common, "RESULTS_DIR", tmp_path)


def test_generator_is_seeded_consistent_and_live_like() -> None:
    a = generate_data.frames(3000, seed=1)
    assert a == generate_data.frames(3000, seed=1)
    assert a != generate_data.frames(3000, seed=2)
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    last: dict[int, int] = {}
    kinds: dict[str, int] = {}
    for f in a:
        m = decode_frame(f)
        kinds[type(m).__name__] = kinds.get(type(m).__name__, 0) + 1
        seq, sid = getattr(m, "seq", None), getattr(m, "sid", None)
        if seq is not None and sid is not None:
            assert last.get(sid, seq - 1) == seq - 1
            last[sid] = seq
        if isinstance(m, OrderbookSnapshot):
            books[m.msg.market_ticker] = {"bid": dict(m.msg.bid), "ask": dict(m.msg.ask)}
        elif isinstance(m, OrderbookDelta):
            side = books[m.msg.market_ticker][m.msg.side]
            new = side.get(m.msg.price, Decimal(0)) + m.msg.delta
            assert new >= 0
            if new:
                side[m.msg.price] = new
            else:
                del side[m.msg.price]
            b = books[m.msg.market_ticker]
            assert not b["bid"] or not b["ask"] or max(b["bid"]) < min(b["ask"])
    assert kinds["OrderbookDelta"] > 0.8 * len(a)
    assert {"Trade", "Ticker", "UserOrder", "Fill", "OrderGroupUpdates"} <= set(kinds)


def test_real_captures_are_shipped_and_decode() -> None:
    frames = generate_data.load_real_frames()
    assert len(frames) > 200
    assert all(not type(decode_frame(f)).__name__ == "Unknown" for f in frames)


def test_send_stamp_placeholder_is_a_valid_fixed_width_int() -> None:
    f = generate_data.frames(10, send_ts=True)[5]
    assert generate_data.SEND_TS_PLACEHOLDER in f
    assert json.loads(f)["sending_ts_ms"] == generate_data.SEND_TS_OFFSET


def test_client_frame_parser_unmasks() -> None:
    mask = b"\x01\x02\x03\x04"
    payload = b'{"cmd":"subscribe"}'
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    buf = bytearray(bytes([0x81, 0x80 | len(payload)]) + mask + masked + b"\x89")
    assert parse_client_frames(buf) == [(1, payload)]
    assert buf == bytearray(b"\x89")  # an incomplete frame stays buffered
    assert frame_header(70_000)[:2] == bytes([0x81, 127])


def test_decode_smoke() -> None:
    r = bench_decode.run(count=2000, repeats=1, peer=False, quiet=True)
    assert set(r["rows"]) == {"ours: decode_frame", "bare msgspec Decoder(ServerMessage)",
                              "stdlib json.loads (dicts only)"}
    assert all(v["ns_per_frame"] > 0 for v in r["rows"].values())


def test_pipeline_smoke() -> None:
    r = bench_pipeline.run(count=3000, repeats=1, peer=False, quiet=True)
    assert set(r["table"]) == {"live-like mix", "deltas only"}
    assert r["deltas"] > 2000


def test_book_smoke() -> None:
    r = bench_book.run(updates=500, repeats=1, peer=False, depths=(10, 200), quiet=True)
    for depth in (10, 200):
        ours = r["depths"][depth]["ours"]
        assert ours["final_depth"][0] > 0 and ours["final_depth"][1] > 0
        assert Decimal(ours["final_best"][0]) < Decimal(ours["final_best"][1])


def test_memory_smoke() -> None:
    r = bench_memory.run(frames=20_000, traced=2_000, quiet=True)
    assert r["frames"] == 20_000 and len(r["points"]) >= 2
    assert isinstance(r["flat"], bool)


def test_e2e_smoke() -> None:
    kinds = ("aiohttp", "core+aiohttp", "client-aiohttp")
    r = bench_e2e.run(count=2000, repeats=1, peer=False, rates=(2000,), seconds=(0.3,),
                      quiet=True, only=kinds)
    assert set(r["throughput"]) == set(kinds), r["notes"]
    assert r["throughput"]["aiohttp"]["rate"] > 0
    assert not math.isnan(r["throughput"]["core+aiohttp"]["rate"])
    for kind in kinds:
        lat = r["latency"][2000][kind]
        assert lat["received"] == lat["expected"] and 0 < lat["p50"] < 5e9


def test_targets_summary_reads_results() -> None:
    res: dict[str, dict[str, Any]] = {
        "pipeline": {"table": {"live-like mix": {
            "ours: Session.receive_frame": {"ns_per_frame": 1200.0},
            bench_pipeline.BARE: {"ns_per_frame": 400.0}}}},
        "e2e": {"throughput": {"aiohttp": {"rate": 1_000_000.0},
                               "client-aiohttp": {"rate": 250_000.0},
                               "client-picows": {"rate": 400_000.0}},
                "latency": {20_000: {"client-aiohttp": {"p99": 900_000.0}},
                            100_000: {"client-picows": {"p99": 3_000_000.0}}}},
        "memory": {"flat": True, "rss_growth": 0, "retained_bytes": 1024, "frames": 10}}
    rows = {t: (measured, met) for t, measured, met in run_all.targets(res)}
    core = rows["core receive_frame on the mix <= 2.8x bare decode (str prices)"]
    assert core == ("3.00x", False)
    assert rows["ours: Client, aiohttp transport >= 0.28x bare aiohttp receive"][1] is False
    picows = "ours: Client, picows transport ([fast]) >= 0.33x bare aiohttp receive"
    assert rows[picows] == ("0.40x = 400k/s", True)
    assert rows["p99 <= 1 ms at 20k msg/s (ours: Client, aiohttp transport)"][1] is True
    assert rows["p99 <= 2 ms at 100k msg/s (ours: Client, picows transport ([fast]))"][1] is False
    assert rows["flat memory over the long replay (10 frames)"][1] is True
    assert "core/ and stream/ modules over ~400 lines say why" in rows


def test_e2e_fine_pacing_smoke() -> None:
    r = bench_e2e.run(count=1000, repeats=1, peer=False, rates=(2000,), seconds=(0.2,),
                      quiet=True, only=("aiohttp",), pacing="fine")
    lat = r["latency"][2000]["aiohttp"]
    assert lat["received"] == lat["expected"] == 400 and 0 < lat["p50"] < 5e9
