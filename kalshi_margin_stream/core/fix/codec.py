"""FIX tag=value framing: BeginString, BodyLength, CheckSum (fix.md §2.2).

Bytes in, ``(tag, value)`` pairs out, and back. A message is
``8=FIXT.1.1 SOH 9=<len> SOH 35=<type> SOH ... 10=<sum> SOH``; BodyLength counts
the bytes after the SOH ending tag 9 up to and including the SOH before ``10=``,
CheckSum is the byte sum before ``10=`` modulo 256, three digits. Values are kept
as ``str`` (ASCII/UTF-8) so re-encoding gives back the exact bytes.

:class:`FrameReader` cuts a byte stream into messages; a garbled frame raises
:class:`FixGarbled` once and the reader resynchronises on the next ``8=FIXT.1.1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import FixFieldError, FixGarbled, RejectReason

__all__ = ["BEGIN_STRING", "SOH", "FrameReader", "Fields", "checksum", "frame", "frame_body",
           "split_fields"]

SOH = b"\x01"
BEGIN_STRING = "FIXT.1.1"
_BEGIN = b"8=FIXT.1.1\x01"
_MAX_BODY = 1 << 20
"""No Kalshi message is near 1 MiB: a larger BodyLength is garbage."""

Fields = list[tuple[int, str]]

_FIELD = re.compile("([1-9][0-9]*)=([^\x01]+)\x01")
_WELL_FORMED = re.compile("(?:[1-9][0-9]*=[^\x01]+\x01)*")


def checksum(data: bytes) -> int:
    """Sum of the bytes modulo 256."""
    return sum(data) & 0xFF


def frame(msg_type: str, fields: Iterable[tuple[int, str]]) -> bytes:
    """One complete message: header 8/9, then ``35=msg_type``, ``fields``, then 10.

    Raises:
        ValueError: a value contains SOH (it would end the field early).
    """
    pairs = list(fields)
    text = "".join([f"{tag}={value}\x01" for tag, value in pairs])
    if text.count("\x01") != len(pairs):
        raise ValueError("a FIX value cannot contain SOH")
    return frame_body(f"35={msg_type}\x01{text}")


def frame_body(text: str) -> bytes:
    """Add 8, 9 and 10 around an already joined body (``35=...`` through the last SOH)."""
    body = text.encode()
    msg = b"8=FIXT.1.1\x019=%d\x01%s" % (len(body), body)
    return msg + b"10=%03d\x01" % (sum(msg) & 0xFF)


def split_fields(body: bytes) -> Fields:
    """``tag=value`` pairs of a message body (between 9 and 10), in order.

    Raises:
        FixFieldError: an empty or non-numeric tag, a field without ``=``, no value,
            or bytes that are not UTF-8.
    """
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise FixFieldError("message is not UTF-8", reason=RejectReason.INCORRECT_FORMAT) from None
    if _WELL_FORMED.fullmatch(text):  # the common case: checked and split in C
        return [(int(t), v) for t, v in _FIELD.findall(text)]
    out: Fields = []
    append = out.append
    for raw in text.split("\x01")[:-1]:
        tag_text, eq, value = raw.partition("=")
        if not (eq and tag_text.isdigit() and tag_text.isascii()) or tag_text[0] == "0":
            raise FixFieldError(f"malformed field {raw[:20]!r}", reason=RejectReason.INVALID_TAG)
        if not value:
            raise FixFieldError(f"tag {int(tag_text)} without a value",
                                reason=RejectReason.TAG_WITHOUT_VALUE, tag=int(tag_text))
        append((int(tag_text), value))
    return out


class FrameReader:
    """Incremental framer: ``feed(bytes)``, then ``next_frame()`` until it returns None.

    A complete frame comes back as its body fields (35 first, 10 removed).
    """

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def _skip_to_next_begin(self, start: int) -> None:
        nxt = self._buf.find(_BEGIN, start)
        if nxt < 0:
            # keep a tail that may be the start of the next BeginString
            keep = len(_BEGIN) - 1
            del self._buf[:max(0, len(self._buf) - keep)]
            if not _BEGIN.startswith(bytes(self._buf[:len(self._buf)])):
                self._buf.clear()
        else:
            del self._buf[:nxt]

    def next_frame(self) -> tuple[bytes, bytes] | None:
        """``(whole message, body)`` of the next frame, or None if more bytes are needed.

        Raises:
            FixGarbled: bad BeginString/BodyLength/CheckSum; the bad bytes are dropped.
        """
        buf = self._buf
        if not buf:
            return None
        if not buf.startswith(_BEGIN):
            if len(buf) < len(_BEGIN) and _BEGIN.startswith(bytes(buf)):
                return None
            self._skip_to_next_begin(1)
            raise FixGarbled("data does not start with 8=FIXT.1.1")
        len_start = len(_BEGIN)
        end9 = buf.find(SOH, len_start)
        if end9 < 0:
            if len(buf) - len_start > 12:
                self._skip_to_next_begin(1)
                raise FixGarbled("BodyLength (9) missing")
            return None
        field9 = bytes(buf[len_start:end9])
        if not field9.startswith(b"9=") or not field9[2:].isdigit():
            self._skip_to_next_begin(1)
            raise FixGarbled(f"bad BodyLength field {field9[:16]!r}")
        length = int(field9[2:])
        if length > _MAX_BODY:
            self._skip_to_next_begin(1)
            raise FixGarbled(f"BodyLength {length} too large")
        body_start = end9 + 1
        trailer = body_start + length
        total = trailer + 7  # "10=NNN" + SOH
        if len(buf) < total:
            nxt = buf.find(_BEGIN, body_start)
            if nxt >= 0:  # the next message starts inside this one: BodyLength is wrong
                del buf[:nxt]
                raise FixGarbled("BodyLength runs into the next message")
            return None
        msg = bytes(buf[:total])
        tail = msg[trailer:]
        if not (tail.startswith(b"10=") and tail.endswith(SOH) and tail[3:6].isdigit()):
            self._skip_to_next_begin(1)
            raise FixGarbled("BodyLength does not end at CheckSum (10)")
        if int(tail[3:6]) != checksum(msg[:trailer]):
            del buf[:total]
            raise FixGarbled(f"CheckSum {int(tail[3:6]):03d} != {checksum(msg[:trailer]):03d}")
        del buf[:total]
        return msg, msg[body_start:trailer]
