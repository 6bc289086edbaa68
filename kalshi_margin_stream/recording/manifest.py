"""What one recording file holds, tallied by the writer thread as it writes.

The manifest is written beside its file (``NAME.manifest.json``) when the file is
closed, through a temporary file and a rename, so a manifest present is whole.
A file without one was open when its recorder died; the reader does not need it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from .format import FORMAT_VERSION

__all__ = ["MANIFEST_SUFFIX", "Manifest", "manifest_path"]

MANIFEST_SUFFIX = ".manifest.json"
"""What a manifest's name ends with; the reader skips such files."""


class _Head(msgspec.Struct):
    type: str = ""
    sid: int | None = None
    seq: int | None = None


_head = msgspec.json.Decoder(_Head)


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


@dataclass
class Manifest:
    """Counts for one file: frames per type, gaps seen in ``seq``, connections."""

    file: str
    compress: str
    first_recv_ns: int | None = None
    last_recv_ns: int | None = None
    frames: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    reconnects: int = 0
    shed: int = 0
    bytes_raw: int = 0
    _last_seq: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    """Last ``seq`` per (connection, sid); the recorder passes one dict to every file,
    so a gap that straddles a rotation is still counted (in the later file)."""

    def note_frame(self, conn_id: int, recv_ns: int, data: bytes | str, size: int) -> None:
        self._times(recv_ns)
        self.frames += 1
        self.bytes_raw += size
        try:
            head = _head.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            name = "undecodable"
        else:
            name = head.type or "untyped"
            if head.sid is not None and head.seq is not None:
                key = (conn_id, head.sid)
                last = self._last_seq.get(key)
                if last is not None and head.seq > last + 1 and name != "orderbook_snapshot":
                    self.gaps += 1
                if last is None or head.seq > last or name == "orderbook_snapshot":
                    self._last_seq[key] = head.seq
        self.by_type[name] = self.by_type.get(name, 0) + 1

    def note_event(self, conn_id: int, recv_ns: int, kind: str, detail: Any, size: int) -> None:
        self._times(recv_ns)
        self.bytes_raw += size
        self.events[kind] = self.events.get(kind, 0) + 1
        if kind == "connected" and conn_id > 1:
            self.reconnects += 1
        elif kind == "shed" and isinstance(detail, int):
            self.shed += detail

    def _times(self, ns: int) -> None:
        if self.first_recv_ns is None:
            self.first_recv_ns = ns
        self.last_recv_ns = ns

    def to_json(self, bytes_disk: int) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "file": self.file, "compress": self.compress,
                "first_recv_ns": self.first_recv_ns, "last_recv_ns": self.last_recv_ns,
                "frames": self.frames, "by_type": dict(sorted(self.by_type.items())),
                "events": dict(sorted(self.events.items())), "gaps": self.gaps,
                "reconnects": self.reconnects, "shed": self.shed,
                "bytes_raw": self.bytes_raw, "bytes_disk": bytes_disk}

    def write(self, path: Path, bytes_disk: int) -> None:
        target = manifest_path(path)
        tmp = target.with_name(target.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(bytes_disk), fh, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
