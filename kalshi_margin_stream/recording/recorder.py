"""``Recorder``: raw frames to rotating compressed files, off the event loop.

The socket reader calls :meth:`Recorder.frame` (a deque append, no lock, no
I/O). A writer thread drains the deque, encodes each record, compresses and
writes it, flushing the compressor every ``flush_seconds`` so that a killed
process leaves its open file readable up to the last flush (the reader drops a
torn last line). When the disk falls behind and the buffer holds
``buffer_frames`` frames, new frames are shed — counted, logged and written to
the file as a ``shed`` event, never dropped silently. Files rotate every
``rotate_minutes`` of receive time; each closed file gets a manifest.

::

    async with Client(creds, recorder=Recorder("rec/")) as client: ...
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import logging
import os
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from .format import encode_event, encode_frame
from .manifest import Manifest

__all__ = ["COMPRESSIONS", "Recorder", "RecorderStats", "default_compression"]

Compression = Literal["zstd", "gzip", "none"]
COMPRESSIONS: tuple[Compression, ...] = ("zstd", "gzip", "none")
_SUFFIX = {"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}
_LAG_SAMPLES = 1 << 16
_log = logging.getLogger("kalshi_margin_stream.recording")


def _have_zstd() -> bool:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def default_compression() -> Compression:
    """zstd when the ``zstandard`` package is installed (the ``[record]`` extra), else gzip."""
    return "zstd" if _have_zstd() else "gzip"


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters of a recorder (``Recorder.stats()``)."""

    frames: int
    """Frames handed to the recorder."""
    written: int
    """Frames written to a file."""
    shed: int
    """Frames dropped because the buffer was full (the disk fell behind)."""
    queued: int
    """Frames waiting for the writer (``buffer_frames`` at most)."""
    bytes_raw: int
    """Uncompressed bytes of the lines written."""
    bytes_disk: int
    """Compressed bytes of the files closed so far plus the open one's flushed part."""
    files: int
    current_file: str | None
    gaps: int
    reconnects: int
    lag_p99_ms: float
    """Receive → written to the compressor, 99th percentile of the last 65,536 frames."""
    lag_max_ms: float


class _Sink:
    """One open file behind a compressor; ``flush`` makes what was written readable."""

    def __init__(self, path: Path, compress: Compression) -> None:
        self.raw: BinaryIO = open(path, "xb")  # noqa: SIM115 - closed by close()
        self.compress = compress
        self._gz: gzip.GzipFile | None = None
        self._zw: Any = None
        try:
            if compress == "gzip":
                self._gz = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=6, mtime=0)
            elif compress == "zstd":
                import zstandard

                self._zstd = zstandard
                self._zw = zstandard.ZstdCompressor(level=3).stream_writer(
                    self.raw, closefd=False)
        except BaseException:
            self.raw.close()
            raise

    def write(self, data: bytes) -> None:
        if self._gz is not None:
            self._gz.write(data)
        elif self._zw is not None:
            self._zw.write(data)
        else:
            self.raw.write(data)

    def flush(self) -> None:
        if self._gz is not None:
            self._gz.flush(zlib.Z_SYNC_FLUSH)
        elif self._zw is not None:
            self._zw.flush(self._zstd.FLUSH_BLOCK)
        self.raw.flush()

    def close(self) -> int:
        try:
            if self._gz is not None:
                self._gz.close()
            elif self._zw is not None:
                self._zw.flush(self._zstd.FLUSH_FRAME)
                self._zw.close()
            self.raw.flush()
            os.fsync(self.raw.fileno())
            return self.raw.tell()
        finally:
            self.raw.close()

    def size(self) -> int:
        return self.raw.tell()


class Recorder:
    """Records frames and events to ``directory`` (see module docstring).

    Args:
        directory: created if missing; files are ``PREFIX-YYYYmmddTHHMMSSZ-NNNNN.jsonl.zst``.
        rotate_minutes: start a new file after this much receive time (``None``: never).
        compress: ``"zstd"``, ``"gzip"`` or ``"none"`` (default: zstd if installed).
        buffer_frames: frames held in memory while the disk is behind; more are shed.
        flush_seconds: how often the compressor is flushed (the most a crash loses).
    """

    def __init__(self, directory: str | os.PathLike[str], *,
                 rotate_minutes: float | None = 60.0, compress: Compression | None = None,
                 buffer_frames: int = 500_000, flush_seconds: float = 1.0,
                 prefix: str = "kalshi") -> None:
        if rotate_minutes is not None and rotate_minutes <= 0:
            raise ValueError("rotate_minutes must be > 0")
        if buffer_frames < 1:
            raise ValueError("buffer_frames must be >= 1")
        compress = compress or default_compression()
        if compress not in COMPRESSIONS:
            raise ValueError(f"compress must be one of {', '.join(COMPRESSIONS)}")
        if compress == "zstd" and not _have_zstd():
            raise ValueError("zstd needs the zstandard package: "
                             "pip install 'kalshi-margin-stream[record]' (or use gzip)")
        self.directory = Path(directory)
        self.compress: Compression = compress
        self.rotate_ns = None if rotate_minutes is None else int(rotate_minutes * 60e9)
        self.flush_seconds = flush_seconds
        self.prefix = prefix
        self.files: list[Path] = []
        """Every file written so far, oldest first (the last one may still be open)."""
        self._cap = buffer_frames
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._frames = 0
        self._shed = 0
        self._shed_written = 0
        self._written = 0
        self._bytes_raw = 0
        self._bytes_closed = 0
        self._gaps_closed = 0
        self._reconnects_closed = 0
        self._lag = [0] * _LAG_SAMPLES
        self._lag_n = 0
        self._lag_max = 0
        self._sink: _Sink | None = None
        self._manifest: Manifest | None = None
        self._file_start_ns = 0
        self._seq = 0
        self._last_seq: dict[tuple[int, int], int] = {}
        self._behind_said = 0.0
        self.error: BaseException | None = None
        """Set when the writer thread failed (a full disk...); frames are then shed."""

    # --- the reader's side (event loop thread): never blocks ----------------------

    def frame(self, conn_id: int, recv_ns: int, data: bytes | str) -> None:
        self._frames += 1
        if len(self._queue) >= self._cap or self.error is not None:
            self._shed += 1
            return
        self._queue.append((conn_id, recv_ns, data))

    def event(self, conn_id: int, recv_ns: int, kind: str, detail: Any) -> None:
        self._queue.append((conn_id, recv_ns, kind, detail))  # rare: never shed

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.event(0, time.time_ns(), "start", {"format": 1, "compress": self.compress})
        self._thread = threading.Thread(target=self._run, name="kalshi-recorder", daemon=True)
        self._thread.start()

    def close(self, timeout: float | None = 60.0) -> None:
        """Write everything buffered, close the file (and its manifest); idempotent.

        Raises:
            TimeoutError: the disk did not take the buffered frames within ``timeout``.
        """
        thread = self._thread
        if thread is None:
            return
        if not self._closing:
            self.event(0, time.time_ns(), "stop", None)
            self._closing = True
        self._wake.set()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"recorder: {len(self._queue)} records still unwritten after "
                               f"{timeout}s")

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> RecorderStats:
        n = min(self._lag_n, _LAG_SAMPLES)
        lags = sorted(self._lag[:n]) if n else [0]
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        m = self._manifest
        sink = self._sink
        return RecorderStats(
            frames=self._frames, written=self._written, shed=self._shed,
            queued=len(self._queue), bytes_raw=self._bytes_raw,
            bytes_disk=self._bytes_closed + (sink.size() if sink is not None else 0),
            files=len(self.files), current_file=str(self.files[-1]) if sink else None,
            gaps=self._gaps_closed + (m.gaps if m else 0),
            reconnects=self._reconnects_closed + (m.reconnects if m else 0),
            lag_p99_ms=p99 / 1e6, lag_max_ms=self._lag_max / 1e6)

    # --- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # a full disk, a removed directory...
            self.error = exc
            lost = 0
            while self._queue:  # what was buffered is lost too: counted, never silent
                lost += len(self._queue.popleft()) == 3
            self._shed += lost
            _log.error("recorder: writing failed (%s); %d buffered frames lost, frames are "
                       "now shed", exc, lost)
        finally:
            if self._sink is not None:
                try:
                    self._close_file()
                except OSError as exc:
                    self.error = self.error or exc
                    _log.error("recorder: closing %s failed: %s", self.files[-1], exc)

    def _loop(self) -> None:
        queue = self._queue
        last_flush = time.monotonic()
        while True:
            if self._shed != self._shed_written:  # first, so the last count is never lost
                shed = self._shed - self._shed_written
                self._shed_written = self._shed
                _log.warning("recorder: the disk is behind; %d frames shed", shed)
                self._write_event(0, time.time_ns(), "shed", shed)
            if not queue:
                if self._closing and self._shed == self._shed_written:
                    return
                self._wake.wait(0.005)  # idle: at most 5 ms before a frame is written
                self._wake.clear()
            if len(queue) > self._cap // 2 and time.monotonic() - self._behind_said > 10:
                self._behind_said = time.monotonic()  # said before anything has to be shed
                _log.warning("recorder: the disk is behind: %d of %d buffer places taken",
                             len(queue), self._cap)
            batch = 0
            while queue and batch < 4096:
                item = queue.popleft()
                try:
                    if len(item) == 3:
                        self._write_frame(*item)
                    else:
                        self._write_event(*item)
                except BaseException:
                    self._shed += len(item) == 3  # the frame being written is lost too
                    raise
                batch += 1
            now = time.monotonic()
            if self._sink is not None and now - last_flush >= self.flush_seconds:
                self._sink.flush()
                last_flush = now
            if (self._sink is not None and self.rotate_ns is not None and not queue
                    and time.time_ns() - self._file_start_ns >= self.rotate_ns):
                self._close_file()

    def _open_for(self, recv_ns: int) -> tuple[_Sink, Manifest]:
        sink, manifest = self._sink, self._manifest
        if sink is not None and manifest is not None:
            if self.rotate_ns is None or recv_ns - self._file_start_ns < self.rotate_ns:
                return sink, manifest
            self._close_file()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(recv_ns / 1e9))
        while True:  # a run restarted within the same second into the same directory
            self._seq += 1
            path = self.directory / (f"{self.prefix}-{stamp}-{self._seq:05d}"
                                     f"{_SUFFIX[self.compress]}")
            try:
                self._sink = sink = _Sink(path, self.compress)
                break
            except FileExistsError:
                continue
        self._manifest = manifest = Manifest(path.name, self.compress, _last_seq=self._last_seq)
        self._file_start_ns = recv_ns
        self.files.append(path)
        return sink, manifest

    def _close_file(self) -> None:
        sink, manifest = self._sink, self._manifest
        self._sink = self._manifest = None
        if sink is None or manifest is None:
            return
        size = sink.close()
        self._bytes_closed += size
        self._gaps_closed += manifest.gaps
        self._reconnects_closed += manifest.reconnects
        manifest.write(self.files[-1], size)

    def _write_frame(self, conn_id: int, recv_ns: int, data: bytes | str) -> None:
        sink, manifest = self._open_for(recv_ns)
        line = encode_frame(conn_id, recv_ns, data)
        sink.write(line)
        manifest.note_frame(conn_id, recv_ns, data, len(line))
        self._written += 1
        self._bytes_raw += len(line)
        lag = time.time_ns() - recv_ns
        self._lag[self._lag_n & (_LAG_SAMPLES - 1)] = lag
        self._lag_n += 1
        if lag > self._lag_max:
            self._lag_max = lag

    def _write_event(self, conn_id: int, recv_ns: int, kind: str, detail: Any) -> None:
        sink, manifest = self._open_for(recv_ns)
        line = encode_event(conn_id, recv_ns, kind, detail)
        sink.write(line)
        manifest.note_event(conn_id, recv_ns, kind, detail, len(line))
        self._bytes_raw += len(line)
