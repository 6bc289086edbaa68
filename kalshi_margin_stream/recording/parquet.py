"""``convert --parquet``: a recording as Parquet tables (needs the ``[parquet]`` extra).

One table per message type (``orderbook_delta.parquet``, ``ticker.parquet``, …)
with typed columns taken from the message definitions in ``core/messages.py``:

* ``recv_time`` — the receive time, ``timestamp[ns, UTC]``; ``conn`` — connection number;
* ``*_ts_ms`` / ``ts_ms`` fields — ``timestamp[ms, UTC]``;
* prices, sizes and money — ``decimal128(38, 10)``: exact (never binary floats);
  a value with more than 10 decimal places stops the conversion rather than being rounded;
* nested bodies are flattened (``msg.price``, ``msg.funding_rate.rate``); book levels
  are ``list<struct<price, size>>``; anything else is kept as a JSON string.

``book_snapshots.parquet`` holds the top ``levels`` of every book, after every
update (``every_ms=None``) or sampled every ``every_ms`` of receive time, built
by replaying the frames through the same session as live streaming, with each
book's ``status``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi

from ..core import messages
from ..core.codec import Unknown, decode_frame
from ..core.messages import OrderbookDelta, OrderbookSnapshot
from ..core.replay import PassiveSession
from ..exceptions import DecodeError
from .format import Record

__all__ = ["MISSING_EXTRA", "PRICE_TYPE", "convert_to_parquet"]

MISSING_EXTRA = ("Parquet output needs pyarrow: pip install 'kalshi-margin-stream[parquet]'")
_BATCH = 50_000

try:
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - checked by the CLI before use
    pa = None
    pq = None

PRICE_TYPE = "decimal128(38, 10)"
"""How prices, sizes and money are stored (see the module docstring)."""

Getter = Callable[[Any], Any]


def _arrow_type(info: Any, name: str) -> tuple[Any, Callable[[Any], Any]]:
    """(arrow type, value converter) for one msgspec field type."""
    if isinstance(info, mi.UnionType):
        inner = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(inner) == 1:
            return _arrow_type(inner[0], name)
    if isinstance(info, mi.DecimalType):
        return pa.decimal128(38, 10), lambda v: v
    if isinstance(info, mi.IntType):
        if name == "ts_ms" or name.endswith("_ts_ms"):
            return pa.timestamp("ms", tz="UTC"), lambda v: v
        return pa.int64(), lambda v: v
    if isinstance(info, mi.FloatType):
        return pa.float64(), lambda v: v
    if isinstance(info, mi.BoolType):
        return pa.bool_(), lambda v: v
    if isinstance(info, mi.StrType | mi.LiteralType | mi.EnumType):
        return pa.string(), lambda v: None if v is None else str(getattr(v, "value", v))
    if isinstance(info, mi.ListType | mi.VarTupleType):
        item = info.item_type
        if (isinstance(item, mi.TupleType) and len(item.item_types) == 2
                and all(isinstance(t, mi.DecimalType) for t in item.item_types)):
            level = pa.struct([("price", pa.decimal128(38, 10)),
                               ("size", pa.decimal128(38, 10))])
            return pa.list_(level), lambda v: None if v is None else [
                {"price": p, "size": s} for p, s in v]
    return pa.string(), lambda v: None if v is None else msgspec.json.encode(v).decode()


def _columns(struct: type, prefix: str = "") -> list[tuple[str, Any, Getter]]:
    """Flattened (column, arrow type, getter) for a message struct."""
    out: list[tuple[str, Any, Getter]] = []
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    for f in info.fields:
        name = prefix + f.encode_name  # the wire's name: "price", not "price_text"
        if f.encode_name != f.name and isinstance(getattr(struct, f.encode_name, None), property):
            # A number kept as wire text on the hot path (OrderbookDeltaBody.price_text);
            # its property of the wire's name reads the exact Decimal.
            out.append((name, pa.decimal128(38, 10), _field(f.encode_name, lambda v: v)))
            continue
        ftype = f.type
        if isinstance(ftype, mi.UnionType):
            inner = [t for t in ftype.types if not isinstance(t, mi.NoneType)]
            ftype = inner[0] if len(inner) == 1 else ftype
        if isinstance(ftype, mi.StructType):
            for col, typ, get in _columns(ftype.cls, name + "."):
                out.append((col, typ, _chain(f.name, get)))
            continue
        typ, conv = _arrow_type(f.type, f.name)
        out.append((name, typ, _field(f.name, conv)))
    return out


def _field(attr: str, conv: Callable[[Any], Any]) -> Getter:
    return lambda obj: conv(getattr(obj, attr, None))


def _chain(attr: str, get: Getter) -> Getter:
    def getter(obj: Any) -> Any:
        inner = getattr(obj, attr, None)
        return None if inner is None else get(inner)
    return getter


class _Table:
    """Rows of one message type, written to Parquet in batches."""

    def __init__(self, path: Path, columns: list[tuple[str, Any, Getter]]) -> None:
        self.path = path
        self.columns = columns
        self.schema = pa.schema([("recv_time", pa.timestamp("ns", tz="UTC")),
                                 ("conn", pa.int32())]
                                + [(name, typ) for name, typ, _ in columns])
        self.rows: list[list[Any]] = []
        self.writer: Any = None
        self.count = 0

    def add(self, rec: Record, msg: Any) -> None:
        self.rows.append([rec.ns, rec.c] + [get(msg) for _, _, get in self.columns])
        if len(self.rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        cols = list(zip(*self.rows, strict=True))
        arrays = [pa.array(list(values), type=field.type)
                  for values, field in zip(cols, self.schema, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_batch(batch)
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


def _book_table(path: Path, levels: int) -> _Table:
    dec = pa.decimal128(38, 10)
    cols: list[tuple[str, Any, Getter]] = [("market", pa.string(), lambda r: r[0]),
                                           ("status", pa.string(), lambda r: r[1])]
    for side in ("bid", "ask"):
        for i in range(levels):
            cols.append((f"{side}_price_{i + 1}", dec, _level(side, i, 0)))
            cols.append((f"{side}_size_{i + 1}", dec, _level(side, i, 1)))
    return _Table(path, cols)


def _level(side: str, i: int, j: int) -> Getter:
    def get(row: Any) -> Decimal | None:
        levels = row[2] if side == "bid" else row[3]
        return levels[i][j] if i < len(levels) else None
    return get


def convert_to_parquet(records: Iterable[Record], out_dir: str | Path, *, levels: int = 5,
                       every_ms: int | None = None) -> dict[str, int]:
    """Write the tables; returns rows per table. ``every_ms=None``: a book row per update."""
    if pa is None:
        raise RuntimeError(MISSING_EXTRA)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    types = {cls.__struct_config__.tag: cls for cls in _message_types()}
    tables: dict[str, _Table] = {}
    books = _book_table(out / "book_snapshots.parquet", levels)
    session = PassiveSession()
    step = None if every_ms is None else every_ms * 1_000_000
    next_tick: int | None = None

    def snapshot_all(at: int) -> None:
        for ticker, book in sorted(session.books.items()):
            books.add(Record("f", at, 0), (ticker, book.status.value, book.top("bid", levels),
                                           book.top("ask", levels)))

    try:
        for rec in records:
            if rec.k == "e":
                if rec.e == "connected":
                    session.connection_opened()
                elif rec.e == "disconnected":
                    session.connection_lost()
                continue
            if step is not None and rec.ns is not None:
                if next_tick is None:
                    next_tick = rec.ns + step
                if rec.ns >= next_tick:
                    snapshot_all(next_tick)
                    next_tick += step * max(1, (rec.ns - next_tick) // step + 1)
            frame = rec.frame()
            try:
                msg = decode_frame(frame)
            except DecodeError:
                msg = None
            if msg is not None:
                name = msg.type if isinstance(msg, Unknown) else msg.__struct_config__.tag
                table = tables.get(str(name))
                if table is None:
                    cls = types.get(name)
                    table = tables[str(name)] = _Table(
                        out / f"{name}.parquet",
                        _columns(cls) if cls is not None else
                        [("raw", pa.string(), lambda m: bytes(m.raw).decode("utf-8",
                                                                            "replace"))])
                table.add(rec, msg)
            for event in session.receive_frame(frame):
                if step is None and isinstance(event, OrderbookDelta | OrderbookSnapshot):
                    ticker = event.msg.market_ticker
                    book = session.books.get(ticker)
                    if book is not None:
                        books.add(rec, (ticker, book.status.value, book.top("bid", levels),
                                        book.top("ask", levels)))
    finally:
        for table in tables.values():
            table.close()
        books.close()
    counts = {name: t.count for name, t in sorted(tables.items())}
    counts["book_snapshots"] = books.count
    return counts


def _message_types() -> list[Any]:
    return [obj for obj in vars(messages).values()
            if isinstance(obj, type) and issubclass(obj, messages.Message)
            and obj is not messages.Message and obj.__struct_config__.tag is not None]


