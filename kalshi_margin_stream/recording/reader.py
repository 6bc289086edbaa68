"""Reading recordings: files, directories, stdin; compressed or not; paced.

Files are recognised by their first bytes (gzip, zstd, else plain text), so a
renamed file still reads. A directory means every recording file in it (not the
manifests); a manifest named as a path (``replay data/*``) is skipped too, and
:attr:`ReadStats.skipped` says so. Files are ordered by the receive time of their first record (by
name for files without receive times), which puts rotated files in order.

A crashed recorder leaves its last file cut: a compressed stream without its
end, a last line torn in half. Reading stops cleanly there — everything before
the last complete record is returned — and :attr:`ReadStats.truncated` says so.
"""

from __future__ import annotations

import gzip
import io
import logging
import sys
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from .format import Record, decode_line
from .manifest import MANIFEST_SUFFIX

__all__ = ["ReadStats", "RecordingError", "discover", "open_recording", "paced",
           "read_records"]

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_log = logging.getLogger("kalshi_margin_stream.recording")


class RecordingError(Exception):
    """A path that is not a readable recording (missing, unreadable, needs an extra)."""


@dataclass
class ReadStats:
    files: list[str] = field(default_factory=list)
    records: int = 0
    truncated: list[str] = field(default_factory=list)
    """Files whose end was cut (a crash): read up to their last complete record."""
    bad_lines: int = 0
    """Records that could not be read (a torn last line) and were skipped."""
    skipped: list[str] = field(default_factory=list)
    """Paths named explicitly that are manifests, not recordings (``replay data/*``)."""


def discover(paths: Sequence[str], skipped: list[str] | None = None) -> list[str]:
    """The recording files named by ``paths`` (``-`` = stdin), in receive order.

    Manifests are not recordings: skipped, in a directory or named (appended to
    ``skipped``, so the caller can say so).
    """
    found: list[str] = []
    for p in paths:
        if p == "-":
            found.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found.extend(str(f) for f in sorted(path.iterdir())
                         if f.is_file() and ".jsonl" in f.name
                         and not f.name.endswith((MANIFEST_SUFFIX, ".tmp")))
        elif path.exists():
            if path.name.endswith(MANIFEST_SUFFIX):
                if skipped is not None:
                    skipped.append(p)
                continue
            found.append(p)
        else:
            raise RecordingError(f"{p}: no such file or directory")
    files = [f for f in found if f != "-"]
    firsts = {f: _first_ns(f) for f in files}
    files.sort(key=lambda f: (firsts[f] is None, firsts[f] or 0, f))
    return (["-"] if "-" in found else []) + files


def _first_ns(path: str) -> int | None:
    try:
        with open_recording(path) as fh:
            for raw in fh:
                try:
                    rec = decode_line(raw)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    return None
                if rec is not None:
                    return rec.ns
    except (OSError, EOFError, zlib.error, RecordingError):
        return None
    except Exception:  # zstandard.ZstdError, a cut file: sorted last, read anyway
        return None
    return None


class _OwningGzip(gzip.GzipFile):
    """A gzip reader that also closes the file under it."""

    def __init__(self, raw: Any) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._raw is not sys.stdin.buffer:
                self._raw.close()


class _ZstdFrames(io.RawIOBase):
    """The decompressed text of zstd frames one after another; closes the file under it.

    A stream that ends inside a frame (a recorder killed before closing its file)
    raises ``EOFError``, as gzip does: zstandard's ``stream_reader`` ends quietly
    there, so a cut file read as an empty one (``0 frames``, not "cut short").
    """

    _CHUNK = 1 << 16

    def __init__(self, raw: Any, zstandard: Any) -> None:
        super().__init__()
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._frame: Any = None  # the frame being decoded, None between frames
        self._out = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._out):
            chunk = self._raw.read1(self._CHUNK)
            if not chunk:
                if self._frame is not None:
                    raise EOFError("the zstd stream ended inside a frame")
                return 0
            out: list[bytes] = []
            while chunk:
                if self._frame is None:
                    self._frame = self._dctx.decompressobj()
                out.append(self._frame.decompress(chunk))
                if not self._frame.eof:
                    break
                chunk, self._frame = self._frame.unused_data, None  # the next frame
            self._out, self._pos = b"".join(out), 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._raw is not sys.stdin.buffer:
                self._raw.close()


def open_recording(path: str) -> IO[bytes]:
    """A binary line-iterable stream of ``path``'s decompressed text."""
    raw: Any
    if path == "-":
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise RecordingError(f"{path}: {exc.strerror}") from None
    peekable: Any = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    head = peekable.peek(4)[:4]
    if head.startswith(_GZIP):
        return cast(IO[bytes], _OwningGzip(peekable))
    if head.startswith(_ZSTD):
        try:
            import zstandard
        except ImportError:
            peekable.close()
            raise RecordingError(f"{path} is zstd-compressed: pip install "
                                 "'kalshi-margin-stream[record]' to read it") from None
        return cast(IO[bytes], io.BufferedReader(_ZstdFrames(peekable, zstandard), 1 << 18))
    return cast(IO[bytes], peekable)


def _lines(fh: IO[bytes], name: str, stats: ReadStats) -> Iterator[bytes]:
    """Complete lines of ``fh``; a cut stream or torn last line ends it quietly."""
    pending = b""
    try:
        for chunk in fh:
            if pending:
                chunk, pending = pending + chunk, b""
            if chunk.endswith(b"\n"):
                yield chunk
            else:
                pending = chunk  # no newline: the last line, maybe torn
    except (EOFError, zlib.error, OSError) as exc:
        _truncated(name, stats, exc)
        pending = b""
    except Exception as exc:  # zstandard.ZstdError on a cut frame
        if type(exc).__module__.startswith("zstandard"):
            _truncated(name, stats, exc)
            pending = b""
        else:
            raise
    if pending:
        yield pending  # decode_line decides whether it is whole


def _truncated(name: str, stats: ReadStats, exc: BaseException) -> None:
    stats.truncated.append(name)
    _log.warning("%s ends early (%s): read up to its last complete record", name, exc)


def read_records(paths: Sequence[str], stats: ReadStats | None = None) -> Iterator[Record]:
    """Every record of the recordings at ``paths``, in receive order."""
    stats = stats if stats is not None else ReadStats()
    for name in discover(paths, stats.skipped):
        stats.files.append(name)
        fh = open_recording(name)
        try:
            lines = _lines(fh, name, stats)
            last: Record | None = None
            for raw in lines:
                try:
                    rec = decode_line(raw)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    # The torn last line of a crashed file (or damage): said, not hidden.
                    stats.bad_lines += 1
                    _log.warning("%s: an unreadable record after %s; skipped", name,
                                 "the start" if last is None else f"ns {last.ns}")
                    continue
                if rec is None:
                    continue
                stats.records += 1
                last = rec
                yield rec
        finally:
            if name != "-":
                fh.close()


def paced(records: Iterable[Record], speed: float | None) -> Iterator[Record]:
    """``records`` at ``speed`` × real time from their receive times (``None``: at once)."""
    if speed is None:
        yield from records
        return
    start_ns: int | None = None
    start = time.monotonic()
    for rec in records:
        if rec.ns is not None:
            if start_ns is None:
                start_ns = rec.ns
            due = (rec.ns - start_ns) / 1e9 / speed - (time.monotonic() - start)
            if due > 0:
                time.sleep(due)
        yield rec
