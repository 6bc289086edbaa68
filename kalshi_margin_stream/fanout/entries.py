"""What one stream entry holds, encoded and decoded in one place (pure: no I/O).

Two or three fields (few fields: each one costs the gateway an encode and Redis
memory, in every entry):

=====  ==================================================================
``h``  the header, six ASCII words separated by spaces (``-`` when absent):

       1. kind: ``m`` a message, ``s`` a book snapshot, ``x`` a stale marker
       2. the gateway's epoch (one per gateway run): a new one means a restart
       3. the stream's version: entries written to this stream in this epoch,
          counted from 1 with no hole, so a consumer sees any entry it missed
       4. the gateway's receive time, Unix microseconds
       5. the exchange's event time ``ts_ms``
       6. the exchange's ``sending_ts_ms``
``f``  the frame: the decoded message re-encoded with msgspec (``m``/``s``)
``r``  why the data went stale (``x``)
=====  ==================================================================

The frame is not the exact bytes the exchange sent but the message's own JSON
(``msgspec.json.encode(msg)``): the wire shape, which ``core.codec.decode_frame``
turns back into the same Struct. This keeps the gateway on the client's public
API (no raw-frame tap needed) and consumers on the very same decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..core.book import OrderBook
from ..core.codec import Unknown, decode_frame, encode
from ..core.messages import (
    CHANNEL_OF,
    DataMessage,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderbookSnapshotBody,
    ServerMessage,
)
from ..exceptions import DecodeError

__all__ = [
    "MESSAGE", "SNAPSHOT", "STALE", "Entry", "apply_to_book", "book_snapshot", "decode_entry",
    "decode_message", "encode_entry", "encode_message", "exchange_ts_ms",
]

MESSAGE: Final = "m"
SNAPSHOT: Final = "s"
STALE: Final = "x"
_KINDS = frozenset({MESSAGE, SNAPSHOT, STALE})


@dataclass(frozen=True, slots=True)
class Entry:
    """One decoded stream entry (the frame is decoded separately, on demand)."""

    kind: str
    epoch: str
    version: int
    received_us: int
    frame: bytes = b""
    ts_ms: int | None = None
    sending_ts_ms: int | None = None
    reason: str = ""


def exchange_ts_ms(msg: ServerMessage) -> int | None:
    """The exchange's event time of a data message, when it carries one."""
    body = getattr(msg, "msg", None)
    ts = getattr(body, "ts_ms", None)
    return ts if isinstance(ts, int) else None


def encode_entry(entry: Entry) -> dict[str, str | bytes]:
    """The field map handed to ``XADD``."""
    ts = "-" if entry.ts_ms is None else entry.ts_ms
    st = "-" if entry.sending_ts_ms is None else entry.sending_ts_ms
    fields: dict[str, str | bytes] = {
        "h": f"{entry.kind} {entry.epoch} {entry.version} {entry.received_us} {ts} {st}"}
    if entry.frame:
        fields["f"] = entry.frame
    if entry.reason:
        fields["r"] = entry.reason
    return fields


def _int(word: bytes, name: str, optional: bool = False) -> int | None:
    if optional and word == b"-":
        return None
    try:
        return int(word)
    except ValueError:
        raise DecodeError(f"stream entry header: {name} is not an int: {word[:40]!r}",
                          path="h") from None


def decode_entry(fields: dict[bytes, bytes]) -> Entry:
    """Read the field map ``XREAD`` returns.

    Raises:
        DecodeError: a field is missing or malformed (not written by a gateway).
    """
    words = fields.get(b"h", b"").split(b" ")
    if len(words) != 6:
        raise DecodeError("stream entry without a six-word header", path="h")
    kind = words[0].decode("ascii", "replace")
    if kind not in _KINDS:
        raise DecodeError(f"stream entry of unknown kind {kind!r}", path="h")
    version = _int(words[2], "version")
    received = _int(words[3], "receive time")
    assert version is not None and received is not None
    frame = fields.get(b"f", b"")
    if kind != STALE and not frame:
        raise DecodeError("stream entry without its frame", path="f")
    return Entry(kind=kind, epoch=words[1].decode("utf-8", "replace"), version=version,
                 received_us=received, frame=frame, ts_ms=_int(words[4], "ts_ms", True),
                 sending_ts_ms=_int(words[5], "sending_ts_ms", True),
                 reason=fields.get(b"r", b"").decode("utf-8", "replace"))


def decode_message(entry: Entry) -> DataMessage:
    """The message an entry carries, decoded by the core's own decoder.

    Raises:
        DecodeError: the frame is not a known data message.
    """
    msg = decode_frame(entry.frame)
    if isinstance(msg, Unknown) or type(msg) not in CHANNEL_OF:
        raise DecodeError(f"stream entry frame is not a data message ({type(msg).__name__})",
                          path="f")
    return msg  # type: ignore[return-value]


def encode_message(msg: DataMessage) -> bytes:
    """The frame of a message (its wire JSON)."""
    return encode(msg)


def book_snapshot(book: OrderBook, *, sid: int = 0, seq: int = 0) -> OrderbookSnapshot:
    """A snapshot message holding every level of ``book`` (made here, not by the exchange)."""
    return OrderbookSnapshot(sid=sid, seq=seq, msg=OrderbookSnapshotBody(
        market_ticker=book.ticker, bid=book.bids(), ask=book.asks()))


def apply_to_book(book: OrderBook, msg: OrderbookSnapshot | OrderbookDelta) -> None:
    """Apply one book message as the core session does (same ``OrderBook`` rules).

    Raises:
        BookDesync: the update is impossible for this book (nothing changed).
    """
    if type(msg) is OrderbookSnapshot:
        book.apply_snapshot(msg.msg.bid, msg.msg.ask)
    else:
        assert type(msg) is OrderbookDelta
        body = msg.msg
        book.apply_delta(body.side, body.price_text, body.delta_text)
    book.last_update = msg


