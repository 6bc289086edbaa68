"""Recorder ↔ replay, end to end over loopback: faults, rotation, a stalled disk."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.recording.reader import ReadStats, read_records
from kalshi_margin_stream.recording.recorder import Recorder
from kalshi_margin_stream.recording.replay import replay_records
from kalshi_margin_stream.stream.subscriptions import Books, Subscription, Trades
from kalshi_margin_stream.testing import MARKETS, books_match, eventually, sim_and_client


async def drain(sub: Subscription[Any]) -> None:
    async for _ in sub:
        pass


def levels(books: dict[str, Any]) -> dict[str, tuple[Any, Any, str]]:
    return {t: (b.bids(), b.asks(), b.status.value) for t, b in sorted(books.items())}


@pytest.mark.parametrize("compress", ["zstd", "gzip", "none"])
async def test_replay_of_a_faulty_session_gives_the_live_books(tmp_path: Path,
                                                               compress: str) -> None:
    recorder = Recorder(tmp_path, compress=compress, rotate_minutes=0.004)  # ~0.25 s files
    async with sim_and_client(recorder=recorder) as (sim, client):
        subs = [client.subscribe(Books(tuple(MARKETS))), client.subscribe(Trades())]
        tasks = [asyncio.ensure_future(drain(s)) for s in subs]
        await eventually(lambda: books_match(sim, client, MARKETS))
        for _ in range(20):
            sim.step_flow(20)
            await asyncio.sleep(0.02)
        # Fault 1: the exchange drops book frames (a real seq gap, repaired in band).
        ch = client.session.channel("orderbook_delta")
        assert ch is not None and ch.sid is not None
        sim.drop_frames(ch.sid, 3)
        sim.step_flow(60)
        await eventually(lambda: client.session.stats.gaps >= 1
                         and books_match(sim, client, MARKETS))
        # Fault 2: the connection is aborted; the client reconnects and resubscribes.
        sim.close_connections()
        await eventually(lambda: client.statistics().connections >= 2
                         and books_match(sim, client, MARKETS), timeout=10)
        for _ in range(10):
            sim.step_flow(20)
            await asyncio.sleep(0.03)
        await eventually(lambda: books_match(sim, client, MARKETS))
        live_synced = levels(client.session.books)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    live_closed = levels(client.session.books)  # the close marks them stale, as recorded

    stats = ReadStats()
    report = replay_records(read_records([str(tmp_path)], stats))
    assert len(stats.files) >= 2 and stats.truncated == [] and stats.bad_lines == 0
    assert report.errors == []
    assert report.session.stats.gaps == client.session.stats.gaps >= 1
    assert levels(report.session.books) == live_closed
    assert {t: v[:2] for t, v in live_closed.items()} == \
        {t: v[:2] for t, v in live_synced.items()}
    assert all(v[2] == "synced" for v in live_synced.values())
    manifests = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.manifest.json"))]
    assert len(manifests) == len(stats.files)
    assert sum(m["frames"] for m in manifests) == client.session.stats.frames
    assert sum(m["reconnects"] for m in manifests) == 1
    assert sum(m["gaps"] for m in manifests) >= 1


async def test_a_stalled_disk_never_delays_the_reader(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    """While the writer thread is blocked the socket reader keeps up; the overflow is
    shed, counted, written as a ``shed`` event, and nothing else is lost."""
    recorder = Recorder(tmp_path, compress="gzip", buffer_frames=100, rotate_minutes=None)
    gate = threading.Event()
    blocked = threading.Event()
    write = recorder._write_frame

    def stalled(*args: Any) -> None:
        if not gate.is_set():
            blocked.set()
            gate.wait(30)
        write(*args)

    recorder._write_frame = stalled  # type: ignore[method-assign]
    try:
        async with sim_and_client(recorder=recorder) as (sim, client):
            sub = client.subscribe(Books(tuple(MARKETS)))
            task = asyncio.ensure_future(drain(sub))
            await eventually(lambda: blocked.is_set() and books_match(sim, client, MARKETS))
            before = client.session.stats.frames
            t0 = time.monotonic()
            for _ in range(10):
                sim.step_flow(100)
                await asyncio.sleep(0)
            # The reader applies every frame the exchange sent while the disk is stuck.
            await eventually(lambda: books_match(sim, client, MARKETS))
            during = client.session.stats.frames - before
            elapsed = time.monotonic() - t0
            stats = recorder.stats()
            assert during >= 500 and stats.written == 0 and stats.shed >= during - 100
            assert elapsed < 5
            gate.set()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        gate.set()
    s = recorder.stats()
    assert s.written + s.shed == s.frames == client.session.stats.frames
    assert any("frames shed" in r.getMessage() for r in caplog.records), caplog.records
    records = list(read_records([str(tmp_path)]))
    shed_events = [r for r in records if r.k == "e" and r.e == "shed"]
    assert sum(r.x for r in shed_events) == s.shed
    manifest = json.loads(next(tmp_path.glob("*.manifest.json")).read_text())
    assert manifest["shed"] == s.shed and manifest["frames"] == s.written
    assert main(["replay", str(tmp_path), "--json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["shed_while_recording"] == s.shed
