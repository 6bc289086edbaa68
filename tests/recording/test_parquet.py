"""convert --parquet: typed tables that read back to exactly what was recorded."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.recording.reader import read_records
from kalshi_margin_stream.recording.recorder import Recorder
from kalshi_margin_stream.recording.replay import replay_records
from kalshi_margin_stream.stream.subscriptions import Books, Subscription, Tickers, Trades
from kalshi_margin_stream.testing import MARKETS, books_match, eventually, sim_and_client

pa = pytest.importorskip("pyarrow", reason="the [parquet] extra is not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="the [parquet] extra is not installed")


async def drain(sub: Subscription[Any]) -> None:
    async for _ in sub:
        pass


@pytest.fixture
async def recording(tmp_path: Path) -> Path:
    rec_dir = tmp_path / "rec"
    async with sim_and_client(recorder=Recorder(rec_dir, compress="gzip")) as (sim, client):
        subs = [client.subscribe(Books(tuple(MARKETS))), client.subscribe(Trades()),
                client.subscribe(Tickers(tuple(MARKETS)))]
        tasks = [asyncio.ensure_future(drain(s)) for s in subs]
        for _ in range(10):
            sim.step_flow(30)
            await asyncio.sleep(0.02)
        await eventually(lambda: books_match(sim, client, MARKETS)
                         and client.session.stats.by_type.get("trade", 0) > 0
                         and client.session.stats.by_type.get("ticker", 0) > 0)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return rec_dir


def test_parquet_round_trip(recording: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pq"
    assert main(["convert", str(recording), "--parquet", str(out), "--levels", "3"]) == 0
    counts = json.loads(capsys.readouterr().out)["tables"]
    frames = [r for r in read_records([str(recording)]) if r.k == "f"]
    raw = [json.loads(r.d or "") for r in frames]
    deltas = [(r, f) for r, f in zip(frames, raw, strict=True) if f["type"] == "orderbook_delta"]
    assert counts["orderbook_delta"] == len(deltas) > 0

    table = pq.read_table(out / "orderbook_delta.parquet")
    assert table.schema.field("msg.price").type == pa.decimal128(38, 10)
    assert table.schema.field("msg.ts_ms").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("recv_time").type == pa.timestamp("ns", tz="UTC")
    prices = table.column("msg.price").to_pylist()
    sizes = table.column("msg.delta").to_pylist()
    recv = table.column("recv_time").cast(pa.int64()).to_pylist()
    ts = table.column("msg.ts_ms").cast(pa.int64()).to_pylist()
    for i, (rec, f) in enumerate(deltas):
        assert prices[i] == Decimal(f["msg"]["price"]) and sizes[i] == Decimal(f["msg"]["delta"])
        assert recv[i] == rec.ns and ts[i] == f["msg"]["ts_ms"]
    for name in ("trade", "ticker", "orderbook_snapshot", "subscribed"):
        assert pq.read_table(out / f"{name}.parquet").num_rows == counts[name] > 0
    levels = pq.read_table(out / "orderbook_snapshot.parquet").column("msg.bid").to_pylist()
    assert all(set(level) == {"price", "size"} for row in levels for level in row)

    # The last book row of each market is the replayed book's top of book.
    books = pq.read_table(out / "book_snapshots.parquet").drop_columns(["recv_time"]).to_pydict()
    report = replay_records(read_records([str(recording)]))
    for ticker in MARKETS:
        last = max(i for i, m in enumerate(books["market"]) if m == ticker)
        book = report.session.books[ticker]
        top = book.top("bid", 3)
        assert [books[f"bid_price_{i + 1}"][last] for i in range(3)] == [p for p, _ in top]
        assert [books[f"bid_size_{i + 1}"][last] for i in range(3)] == [s for _, s in top]


def test_sampled_book_snapshots(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "pq"
    assert main(["convert", str(recording), "--parquet", str(out), "--book-every-ms", "20"]) == 0
    books = pq.read_table(out / "book_snapshots.parquet")
    times = books.column("recv_time").cast(pa.int64()).to_pylist()
    assert times == sorted(times) and len(set(times)) >= 2
    steps = {b - a for a, b in zip(sorted(set(times)), sorted(set(times))[1:], strict=False)}
    assert all(s % 20_000_000 == 0 for s in steps)
