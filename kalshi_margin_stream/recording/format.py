"""The recording line format (version 1): one JSON object per line.

::

    {"k":"f","ns":1764520000123456789,"c":1,"d":"{\\"type\\":\\"orderbook_delta\\",...}"}
    {"k":"e","ns":1764520000000000000,"c":1,"e":"connected","x":"wss://..."}

``k`` is the kind: ``f`` a received text frame (``d`` = the frame exactly as
received, as a JSON string), ``b`` a received binary frame (``d`` = base64),
``e`` an event (``e`` = ``connected``, ``disconnected``, ``connect_failed``,
``sent`` with ``x`` = the command as sent, ``shed`` with ``x`` = frames the
recorder had to drop, ``start``/``stop`` of the recorder). ``ns`` is the receive
time (``time.time_ns()``), ``c`` the connection number (1 for the first).

A line that is not such an object is taken as a bare frame (the older
one-frame-per-line captures), with no receive time.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec

__all__ = ["FORMAT_VERSION", "Record", "decode_line", "encode_event", "encode_frame"]

FORMAT_VERSION = 1


class Record(msgspec.Struct, frozen=True):
    """One line of a recording."""

    k: str
    ns: int | None = None
    c: int = 0
    d: str | None = None
    e: str | None = None
    x: Any = None

    @property
    def is_frame(self) -> bool:
        return self.k in ("f", "b")

    def frame(self) -> bytes | str:
        """The frame as the transport returned it."""
        assert self.d is not None
        return base64.b64decode(self.d) if self.k == "b" else self.d


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)
_PREFIX = b'{"k":'


def encode_frame(conn_id: int, recv_ns: int, data: bytes | str) -> bytes:
    if isinstance(data, str):
        return _encoder.encode(Record("f", recv_ns, conn_id, data)) + b"\n"
    return _encoder.encode(Record("b", recv_ns, conn_id,
                                  base64.b64encode(data).decode())) + b"\n"


def encode_event(conn_id: int, recv_ns: int, kind: str, detail: Any) -> bytes:
    return _encoder.encode(Record("e", recv_ns, conn_id, None, kind, detail)) + b"\n"


def decode_line(line: bytes) -> Record | None:
    """The record on ``line``; a bare frame for older captures; ``None`` if blank.

    Raises:
        msgspec.DecodeError: a line that starts as a record but is cut short or
            garbled (the torn last line of a crashed recorder's file).
    """
    line = line.strip()
    if not line:
        return None
    if line.startswith(_PREFIX):
        return _decoder.decode(line)
    try:
        return Record("f", None, 0, line.decode("utf-8"))
    except UnicodeDecodeError:  # not text: kept as the bytes it is, the decoder refuses it
        return Record("b", None, 0, base64.b64encode(line).decode())
