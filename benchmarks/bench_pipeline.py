"""Benchmark 2: decode + sequence check + book apply, per frame.

Ours is ``Session.receive_frame`` (decode, per-sid ``seq`` check, book apply, the
event list) in replay mode. kalshi-sdk's equivalent is
``PerpsWebSocket._process_frame`` (json, seq tracking, pydantic, its
``PerpsOrderbookManager``, dispatch to the subscription queue), run in its own
virtualenv without a socket. Two streams: the live-like mix, and delta frames
alone. The reference row is a bare msgspec decode of the same frames into
Structs shaped like ours but with every decimal as ``str`` (issue 9's yardstick:
what decoding alone costs before any number is converted); the core's target is
2.8x that on the mix.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import statistics
import tempfile
import types
import typing
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec

from benchmarks import generate_data
from benchmarks._common import (
    fmt_ns,
    fmt_ratio,
    median_ns_per_item,
    print_header,
    print_table,
    save_results,
)
from kalshi_margin_stream.core.book import BookStatus
from kalshi_margin_stream.core.messages import ServerMessage
from kalshi_margin_stream.core.replay import PassiveSession

__all__ = ["main", "run", "split_streams"]


def split_streams(frames: Sequence[bytes]) -> tuple[list[bytes], list[bytes]]:
    """The snapshots, and the delta frames that follow them (sid 1, consecutive seq)."""
    snaps = [f for f in frames if f.startswith(b'{"type":"orderbook_snapshot"')]
    deltas = [f for f in frames if f.startswith(b'{"type":"orderbook_delta"')]
    return snaps, deltas


def _check(session: PassiveSession, frames: int) -> None:
    """A harness that lost sync would time the wrong path: refuse to report it."""
    st = session.stats
    if st.frames != frames or st.gaps or st.desyncs or st.decode_errors or st.orphans:
        raise AssertionError(f"replay not clean: {st}")
    if any(b.status is not BookStatus.SYNCED for b in session.books.values()):
        raise AssertionError("a book is not synced after the replay")


BARE = "bare msgspec decode, str prices (reference)"


def _str_prices(tp: Any, memo: dict[type, type]) -> Any:
    """``tp`` with every ``Decimal`` replaced by ``str`` (Structs copied, recursively).

    A JSON number where we take a ``Decimal`` (the funding rate) becomes a float.
    """
    if tp is Decimal:
        return str | float
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if tp not in memo:
            cfg = tp.__struct_config__
            fields: list[Any] = []
            for f in msgspec.structs.fields(tp):
                default = (msgspec.field(default_factory=f.default_factory)
                           if f.default_factory is not msgspec.NODEFAULT else f.default)
                spec = (f.name, _str_prices(f.type, memo))
                fields.append(spec if default is msgspec.NODEFAULT else (*spec, default))
            memo[tp] = msgspec.defstruct(
                f"Str{tp.__name__}", fields, kw_only=True, frozen=True, gc=False,
                tag_field=cfg.tag_field, tag=cfg.tag,
                rename={f.name: f.encode_name for f in msgspec.structs.fields(tp)})
        return memo[tp]
    origin = typing.get_origin(tp)
    if origin is None or origin is typing.Literal:
        return tp
    args = tuple(_str_prices(a, memo) for a in typing.get_args(tp))
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[args]  # noqa: UP007
    return origin[args]


def str_price_decoder() -> msgspec.json.Decoder[Any]:
    """A decoder of every server message into str-price twins of our Structs."""
    return msgspec.json.Decoder(_str_prices(ServerMessage, {}))


def _rotated(frames: Sequence[bytes], prime: Sequence[bytes], repeats: int
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ours and the bare decoder, rounds rotated (ours, bare, ours, bare, ...).

    Rotating keeps a burst of load on this shared machine from landing on one
    contender only; the ratio is the median of the per-round ratios.
    """
    sessions: list[PassiveSession] = []
    decode = str_price_decoder().decode

    def ours() -> int:
        session = PassiveSession()
        for f in prime:
            session.receive_frame(f)
        sessions.append(session)
        receive = session.receive_frame
        for f in frames:
            receive(f)
        return len(frames)

    def bare() -> int:
        for f in frames:
            decode(f)
        return len(frames)

    ours()
    bare()  # warm-ups
    ours_figs: list[float] = []
    bare_figs: list[float] = []
    for _ in range(repeats):
        ours_figs += median_ns_per_item(ours, 1)[1]
        bare_figs += median_ns_per_item(bare, 1)[1]
    for s in sessions:
        _check(s, len(prime) + len(frames))
    books = {t: list(b.depth) for t, b in sessions[-1].books.items()}
    ratio = statistics.median(o / b for o, b in zip(ours_figs, bare_figs, strict=True))
    return ({"ns_per_frame": statistics.median(ours_figs), "runs": ours_figs, "books": books,
             "ratio_to_bare": ratio},
            {"ns_per_frame": statistics.median(bare_figs), "runs": bare_figs})


def run(count: int = 200_000, repeats: int = 5, peer: bool = True, seed: int = 6,
        quiet: bool = False) -> dict[str, Any]:
    """Time both streams for ours, the bare decoder and (when available) kalshi-sdk."""
    mixed = generate_data.frames(count, seed=seed)
    snaps, deltas = split_streams(mixed)
    streams = {"live-like mix": (mixed, []), "deltas only": (deltas, snaps)}
    table: dict[str, dict[str, Any]] = {}
    for label, (frames, prime) in streams.items():
        ours, bare = _rotated(frames, prime, repeats)
        table[label] = {"ours: Session.receive_frame": ours, BARE: bare}
    peer_note = ""
    if peer:
        from benchmarks.peer import ensure_peer, peer_label, run_peer
        status = ensure_peer()
        peer_note = peer_label(status)
        if status.available:
            with tempfile.TemporaryDirectory() as tmp:
                for label, (frames, prime) in streams.items():
                    path = Path(tmp) / "frames.jsonl"
                    generate_data.write_jsonl(path, [*prime, *frames])
                    try:
                        res = run_peer(["pipeline", "--frames", str(path),
                                        "--repeats", str(repeats)])
                    except RuntimeError as exc:
                        peer_note = str(exc)
                        continue
                    ours_books = table[label]["ours: Session.receive_frame"]["books"]
                    if res["books"] != ours_books:  # both must have built the same books
                        peer_note = (f"books disagree after {label}: ours {ours_books}, "
                                     f"kalshi-sdk {res['books']}")
                        continue
                    table[label]["kalshi-sdk: PerpsWebSocket._process_frame"] = {
                        "ns_per_frame": res["ns_per_frame"], "runs": res["runs"],
                        "books": res["books"]}
    if not quiet:
        print_header(f"2. decode + seq + book apply per frame ({len(mixed):,} synthetic frames, "
                     f"{len(deltas):,} deltas), median of {repeats}",
                     {"peer": peer_note} if peer_note else None)
        rows = []
        for label, contenders in table.items():
            ours = contenders["ours: Session.receive_frame"]["ns_per_frame"]
            bare = contenders[BARE]["ns_per_frame"]
            for name, r in contenders.items():
                rows.append([f"{label}: {name}", fmt_ns(r["ns_per_frame"]),
                             fmt_ratio(r["ns_per_frame"] / bare),
                             fmt_ratio(r["ns_per_frame"] / ours)])
        print_table(["stream: pipeline", "per frame", "vs bare decode", "vs ours"], rows)
    result = {"frames": len(mixed), "deltas": len(deltas), "repeats": repeats, "table": table,
              "peer": peer_note}
    save_results("bench_pipeline", result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="decode + seq + book benchmark")
    p.add_argument("--count", type=int, default=200_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.count, a.repeats = min(a.count, 30_000), min(a.repeats, 3)
    run(a.count, a.repeats, peer=not a.no_peer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
