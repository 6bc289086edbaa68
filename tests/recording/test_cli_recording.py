"""The recording commands as a user runs them: subprocesses, loopback, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from kalshi_margin_stream.recording.reader import ReadStats, read_records
from kalshi_margin_stream.sim.testing import running_simulator
from kalshi_margin_stream.testing import eventually

CLI = [sys.executable, "-m", "kalshi_margin_stream"]
WS = Path(__file__).parents[1] / "data" / "ws"
REC = Path(__file__).parents[1] / "data" / "recording"  # a simulator session, zstd and gzip


async def run_cli(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def conn_args(sim: object, key: Path) -> list[str]:
    return ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url,  # type: ignore[attr-defined]
            "--key-id", sim.key_id, "--private-key", str(key)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("compress", ["zstd", "gzip"])
async def test_kill_9_mid_run_leaves_every_file_readable(tmp_path: Path, compress: str) -> None:
    out = tmp_path / "rec"
    async with running_simulator(markets=["KXBTCPERP", "KXETHPERP"], rate=400.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        proc = await asyncio.create_subprocess_exec(
            *CLI, "record", *conn_args(sim, key), "--channels", "orderbook_delta", "trade",
            "--markets", "KXBTCPERP", "KXETHPERP", "--output", str(out), "--compress",
            compress, "--rotate-minutes", "0.01", "--quiet",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            # At least two closed files and a third open one with flushed data in it.
            def ready() -> bool:
                files = sorted(p for p in out.glob("*.jsonl*") if "manifest" not in p.name)
                return len(files) >= 3 and files[-1].stat().st_size > 100
            await eventually(ready, timeout=30)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            assert proc.stderr is not None
            await proc.stderr.read()
    files = sorted(p for p in out.glob("*.jsonl*") if "manifest" not in p.name)
    manifests = {p.name.removesuffix(".manifest.json") for p in out.glob("*.manifest.json")}
    assert len(manifests) >= 2
    for f in files:  # each file on its own: readable, with frames in it
        stats = ReadStats()
        records = list(read_records([str(f)], stats))
        assert any(r.k == "f" for r in records), f
        if f.name in manifests:  # closed before the kill: whole, and as its manifest says
            m = json.loads((out / f"{f.name}.manifest.json").read_text())
            assert stats.truncated == [] and stats.bad_lines == 0
            assert m["frames"] == sum(1 for r in records if r.k == "f")
    code, text, err = await run_cli("replay", str(out), "--json")
    assert code == 0, err
    summary = json.loads(text)
    assert summary["errors"] == [] and len(summary["files"]) == len(files)
    assert {b["status"] for b in summary["books"].values()} == {"synced"}


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
async def test_record_stops_cleanly_on_a_signal_then_replay_from_stdin(
        tmp_path: Path, sig: int, status: int) -> None:
    out = tmp_path / "rec"
    async with running_simulator(markets=["KXBTCPERP"], rate=300.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        proc = await asyncio.create_subprocess_exec(
            *CLI, "record", "--channels", "orderbook_delta", "--markets", "KXBTCPERP",
            "--output", str(out), "--compress", "gzip", *conn_args(sim, key), "--json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await eventually(lambda: any(out.glob("*.jsonl.gz")), timeout=30)
        await eventually(lambda: next(out.glob("*.jsonl.gz")).stat().st_size > 500,
                         timeout=30)
        proc.send_signal(sig)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == status, stderr.decode()
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert summary["type"] == "summary" and summary["shed"] == 0
    assert summary["written"] == summary["frames"] > 0
    assert "frames in 1 file" in stderr.decode() and "Traceback" not in stderr.decode()
    (rec,) = out.glob("*.jsonl.gz")
    manifest = json.loads((out / f"{rec.name}.manifest.json").read_text())
    assert manifest["frames"] == summary["frames"]
    proc = await asyncio.create_subprocess_exec(
        *CLI, "replay", "-", "--json", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(rec.read_bytes()), 60)
    assert proc.returncode == 0, stderr.decode()
    assert json.loads(stdout)["frames"] == summary["frames"]


async def test_replay_marks_a_book_left_by_a_malformed_delta_untrusted(tmp_path: Path) -> None:
    frames = (WS / "ws__public_orderbook_ticker.jsonl").read_text().splitlines()
    last_delta = max(i for i, x in enumerate(frames) if '"type":"orderbook_delta"' in x)
    bad = json.loads(frames[last_delta])
    bad["seq"] += 1
    bad["msg"]["delta"] = "lots"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(frames[:last_delta + 1] + [json.dumps(bad)]) + "\n")
    code, out, _ = await run_cli("replay", str(path), "--json")
    summary = json.loads(out)
    assert code == 1 and summary["errors"]
    assert summary["books"]["KXBTCPERP1"]["status"] == "resyncing"
    code, out, _ = await run_cli("replay", str(path))
    assert code == 1 and "KXBTCPERP1 [resyncing]" in out


async def test_speed_paces_by_the_recorded_receive_times(tmp_path: Path) -> None:
    def recording(name: str, step_ns: int) -> Path:
        lines = [json.dumps({"k": "f", "ns": 1_000_000_000 + i * step_ns, "c": 1,
                             "d": json.dumps({"type": "ticker_v2", "sid": 1, "msg": {}})})
                 for i in range(6)]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    # Lower bounds only (a loaded machine makes everything slower, never faster).
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    code, _, err = await run_cli("replay", str(recording("half.jsonl", 100_000_000)),
                                 "--speed", "0.5")  # 0.5 s recorded, 1 s at half speed
    assert code == 0, err
    assert loop.time() - t0 >= 1.0
    t0 = loop.time()
    code, _, err = await run_cli("replay", str(recording("long.jsonl", 20_000_000_000)),
                                 "--speed", "max")  # 100 s recorded, not paced
    assert code == 0, err
    assert loop.time() - t0 < 50
    code, _, err = await run_cli("replay", str(recording("bad.jsonl", 1)), "--speed", "0")
    assert code == 2 and len(err.strip().splitlines()) == 1


async def test_book_off_a_terminal_prints_plain_lines_then_the_summary(tmp_path: Path) -> None:
    async with running_simulator(markets=["KXBTCPERP", "KXETHPERP"], rate=200.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        code, out, err = await run_cli("book", "--markets", "KXBTCPERP", "KXETHPERP",
                                       "--duration", "5", *conn_args(sim, key))
    assert code == 0, err
    lines = out.splitlines()
    plain = [x for x in lines if x.startswith("[")]
    assert plain and "KXBTCPERP synced" in plain[-1] and "\x1b" not in out
    assert any(x.split()[:1] == ["frames"] for x in lines)  # the summary table
    frames = int(plain[-1].split(": ", 1)[1].split(" frames")[0])
    assert any(x.split()[:2] == ["frames", f"{frames:,}"] for x in lines)  # same figure


async def test_book_piped_into_head_ends_quietly_when_the_reader_goes(tmp_path: Path) -> None:
    """``book ... | head -1``: it used to run on until a signal once the pipe closed,
    then for 8 s more (it noticed only at its next line, 4 s on, and checked 4 s later)."""
    async with running_simulator(markets=["KXBTCPERP"], rate=100.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        read, write = os.pipe()
        proc = await asyncio.create_subprocess_exec(
            *CLI, "book", "--markets", "KXBTCPERP", *conn_args(sim, key),
            stdout=write, stderr=asyncio.subprocess.PIPE)
        os.close(write)
        try:
            with os.fdopen(read, "rb") as pipe:
                first = await asyncio.wait_for(asyncio.to_thread(pipe.readline), 40)
            loop = asyncio.get_running_loop()
            gone = loop.time()  # the reader has gone: as ``head -1`` does
            assert proc.stderr is not None
            err = await asyncio.wait_for(proc.stderr.read(), 40)
            await asyncio.wait_for(proc.wait(), 40)
            after = loop.time() - gone
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert first.startswith(b"[") and first.endswith(b"\n")
    assert b"Traceback" not in err
    assert after < 4.0, after  # within a few redraw periods, not at the next line


async def test_replay_of_a_glob_skips_the_manifests_and_errors_give_status_1(
        tmp_path: Path) -> None:
    """``replay data/*`` also names ``*.manifest.json``: they were parsed as frames (26
    errors). Named manifests are skipped with a note, as a directory skips them; and any
    error gives status 1, whatever the number of paths."""
    rec, manifest = REC / "sim.jsonl.zst", REC / "sim.jsonl.zst.manifest.json"
    code, out, err = await run_cli("replay", str(rec), str(manifest), "--json")
    summary = json.loads(out)
    assert code == 0, err
    assert summary["errors"] == [] and summary["files"] == [str(rec)]
    assert summary["skipped"] == [str(manifest)]
    assert summary["frames"] == json.loads(manifest.read_text())["frames"]
    assert f"skipped {manifest}: a manifest, not a recording" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "orderbook_delta", "sid": 1, "seq": 1, "msg": 7}\n')
    for paths in ([bad], [rec, bad], [rec, manifest, bad], [REC, bad]):
        code, out, err = await run_cli("replay", *map(str, paths))
        assert code == 1, (paths, out, err)
        assert ", 1 errors, " in out.splitlines()[0], out
