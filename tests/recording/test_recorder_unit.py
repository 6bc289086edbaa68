"""The recorder on its own: restarts into the same directory, a writer that fails."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from kalshi_margin_stream.recording import recorder as recorder_module
from kalshi_margin_stream.recording.reader import ReadStats, read_records
from kalshi_margin_stream.recording.recorder import Recorder


def test_a_restart_within_the_same_second_writes_a_new_file(tmp_path: Path) -> None:
    ns = time.time_ns()
    for run in range(3):  # same receive second, same prefix: file names would collide
        with Recorder(tmp_path, compress="gzip") as rec:
            rec.frame(1, ns, f'{{"type":"trade","run":{run}}}')
        assert rec.error is None, rec.error
        assert rec.stats().written == 1
    files = sorted(p.name for p in tmp_path.glob("*.jsonl.gz"))
    assert len(files) == 3, files
    frames = [r for r in read_records([str(tmp_path)]) if r.is_frame]
    assert len(frames) == 3


def test_frames_buffered_when_the_writer_fails_are_counted_as_shed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder_module._Sink, "write", broken)
    rec = Recorder(tmp_path, compress="none")
    ns = time.time_ns()
    for i in range(100):  # buffered before the writer starts: all in the queue
        rec.frame(1, ns + i, '{"type":"trade"}')
    rec.start()
    rec.close(timeout=10)
    for i in range(5):  # after the failure: shed at once
        rec.frame(1, ns + 100 + i, '{"type":"trade"}')
    stats = rec.stats()
    assert isinstance(rec.error, OSError)
    assert stats.frames == 105 and stats.written == 0
    assert stats.shed == 105  # nothing vanished without being counted


async def test_record_ends_with_status_1_when_the_disk_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """It used to run on, shedding everything and repeating the error every second."""
    from kalshi_margin_stream.cli.main import main
    from kalshi_margin_stream.sim.testing import running_simulator

    def broken(self: object, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder_module._Sink, "write", broken)
    async with running_simulator(markets=["KXBTCPERP"], rate=50.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        argv = ["record", "--rest-url", sim.rest_url, "--ws-url", sim.ws_url, "--key-id",
                sim.key_id, "--private-key", str(key), "--channels", "trade", "--markets",
                "KXBTCPERP", "--output", str(tmp_path / "rec"), "--compress", "gzip",
                "--quiet"]  # no --duration: it must end by itself
        code = await asyncio.wait_for(asyncio.to_thread(main, argv), 30)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("record: writing failed: [Errno 28] No space left on device") == 1, err


def test_replay_of_a_file_that_is_not_text_counts_errors_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kalshi_margin_stream.cli.main import main

    path = tmp_path / "garbage.bin"
    path.write_bytes(b"\xef\xbb\xff\xfe not utf-8 \x80\x81\n{\"type\":\n" + bytes(range(256)))
    code = main(["replay", "--json", str(path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # undecodable frames are errors of the recording
    # four lines (bytes(range(256)) holds a newline), none a message: four errors
    assert out["frames"] == 4 and len(out["errors"]) == 4 and out["by_type"] == {}


REC = Path(__file__).parents[1] / "data" / "recording"  # a simulator session, zstd and gzip


@pytest.mark.parametrize("suffix", ["zst", "gz"])
@pytest.mark.parametrize("cut", [1_500, 9_000, -1])
def test_a_cut_compressed_file_is_reported_cut_short(tmp_path: Path, suffix: str,
                                                     cut: int) -> None:
    """A zstd file cut at 1,500 bytes read as ``0 frames, truncated: []`` (zstandard's
    stream reader ends quietly inside a frame); like gzip, it is cut short now."""
    pytest.importorskip("zstandard", reason="the [record] extra reads zstd")
    whole = (REC / f"sim.jsonl.{suffix}").read_bytes()
    name = tmp_path / f"cut.jsonl.{suffix}"
    name.write_bytes(whole[:cut])
    stats = ReadStats()
    records = list(read_records([str(name)], stats))
    assert stats.truncated == [str(name)]
    complete = list(read_records([str(REC / f"sim.jsonl.{suffix}")], ReadStats()))
    assert records == complete[:len(records)]  # up to the last complete record


def test_zstd_frames_one_after_another_are_all_read(tmp_path: Path) -> None:
    """Two closed files concatenated (two frames) read whole, and not as cut."""
    pytest.importorskip("zstandard", reason="the [record] extra reads zstd")
    one = (REC / "sim.jsonl.zst").read_bytes()
    (tmp_path / "two.jsonl.zst").write_bytes(one + one)
    stats = ReadStats()
    records = list(read_records([str(tmp_path / "two.jsonl.zst")], stats))
    single = list(read_records([str(REC / "sim.jsonl.zst")]))
    assert records == single + single and stats.truncated == []
