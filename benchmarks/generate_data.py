"""Seeded synthetic margin-socket traffic, shaped like the live stream, plus the real captures.

Why synthetic: the real captures are a few hundred frames; the benchmarks need
millions, with a book that stays consistent (no delta ever takes a level below
zero) and one ``seq`` stream per ``sid`` that never gaps, so that every client
under test does its full work on every frame instead of bailing out on a desync.

The mix follows the live stream: mostly ``orderbook_delta``, some ``trade`` and
``ticker``, a few private ``user_order`` / ``fill`` / ``order_group_updates``.
Frames are rendered from templates split around ``seq`` (``head + seq + tail``)
so a block can be replayed forever with fresh sequence numbers (the memory
benchmark does that): :func:`restore_deltas` appends the deltas that bring every
book back to its starting state, which makes a block repeatable.

Run ``python benchmarks/generate_data.py --count 100000 --out frames.jsonl`` to
write frames to a file (one frame per line); the peer runner reads such files.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DATA_DIR",
    "MIX",
    "SEND_TS_OFFSET",
    "SEND_TS_PLACEHOLDER",
    "SIDS",
    "Template",
    "TrafficGenerator",
    "book_frames",
    "frames",
    "load_real_frames",
    "render",
    "restore_deltas",
    "write_jsonl",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

# One subscription id per channel, as a server would hand them out.
SIDS: dict[str, int] = {
    "orderbook_delta": 1,
    "trade": 2,
    "ticker": 3,
    "user_orders": 4,
    "fill": 5,
    "order_group_updates": 6,
}
# Channels whose messages carry ``seq`` (websocket.md section 7).
_SEQUENCED_SIDS = frozenset({1, 2, 6})

# Share of each message type after the initial snapshots (live traffic: mostly deltas).
MIX: tuple[tuple[str, float], ...] = (
    ("orderbook_delta", 0.90),
    ("trade", 0.04),
    ("ticker", 0.04),
    ("user_order", 0.01),
    ("fill", 0.006),
    ("order_group_updates", 0.004),
)

# The end-to-end sender stamps each frame with CLOCK_MONOTONIC nanoseconds in
# ``sending_ts_ms`` (a JSON int: msgspec, json and pydantic all accept it). The
# offset keeps the number at a fixed 19 digits (no leading zeros in JSON) so the
# sender can overwrite the placeholder in place without re-encoding the frame.
SEND_TS_OFFSET = 10**18
SEND_TS_PLACEHOLDER = b"1000000000000000000"

_TICK = 1  # prices are integer ticks of 0.0001 dollars
_MARKETS: tuple[tuple[str, int], ...] = (
    ("KXBTCPERP1", 63352),
    ("KXETHPERP1", 25084),
    ("KXSOLPERP1", 14210),
)
_BASE_TS_MS = 1781268270490


def _px(tick: int) -> str:
    return f"{tick // 10000}.{tick % 10000:04d}"


def _ct(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Template:
    """One frame split around its ``seq`` value: ``head + str(seq) + tail``.

    ``sid`` is ``None`` for unsequenced messages (then ``tail`` is empty and
    ``head`` is the whole frame).
    """

    head: bytes
    sid: int | None
    tail: bytes = b""


@dataclass
class _Book:
    ticker: str
    start_mid: int
    mid: int
    bid: dict[int, int] = field(default_factory=dict)  # tick -> size in cents
    ask: dict[int, int] = field(default_factory=dict)


class TrafficGenerator:
    """A deterministic market simulator that emits frame templates.

    Books are mean-reverting random walks around a fixed mid, so their size stays
    bounded however long the stream runs.
    """

    def __init__(
        self,
        seed: int = 6,
        depth: int = 50,
        markets: Sequence[tuple[str, int]] = _MARKETS,
        send_ts: bool = False,
        mix: Sequence[tuple[str, float]] = MIX,
    ) -> None:
        self.rng = random.Random(seed)
        self.depth = depth
        self.send_ts = send_ts
        self.books = [_Book(t, m, m) for t, m in markets]
        self.ts_ms = _BASE_TS_MS
        self._counter = 0
        self._types = [t for t, _ in mix]
        self._weights = [w for _, w in mix]
        self._group = f"{self.rng.getrandbits(128):032x}"

    # -- envelope ----------------------------------------------------------------

    def _env(self, type_: str, sid: int, body: str) -> Template:
        ts = b',"sending_ts_ms":' + SEND_TS_PLACEHOLDER if self.send_ts else b""
        start = b'{"type":"' + type_.encode() + b'"' + ts + b',"sid":%d' % sid
        if sid in _SEQUENCED_SIDS:
            return Template(start + b',"seq":', sid, b',"msg":' + body.encode() + b"}")
        return Template(start + b',"msg":' + body.encode() + b"}", None)

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # -- messages ---------------------------------------------------------------

    def snapshots(self) -> list[Template]:
        """One full ``orderbook_snapshot`` per market (the stream's first frames)."""
        out = []
        for book in self.books:
            book.bid.clear()
            book.ask.clear()
            for i in range(self.depth):
                book.bid[book.mid - 1 - 2 * i] = self.rng.randint(1, 800) * 100
                book.ask[book.mid + 2 * i] = self.rng.randint(1, 800) * 100
            bids = ",".join(f'["{_px(p)}","{_ct(s)}"]' for p, s in sorted(book.bid.items()))
            asks = ",".join(
                f'["{_px(p)}","{_ct(s)}"]' for p, s in sorted(book.ask.items(), reverse=True)
            )
            body = f'{{"market_ticker":"{book.ticker}","bid":[{bids}],"ask":[{asks}]}}'
            out.append(self._env("orderbook_snapshot", SIDS["orderbook_delta"], body))
        return out

    def _delta(self, book: _Book, side: str, price: int, delta: int) -> Template:
        levels = book.bid if side == "bid" else book.ask
        new = levels.get(price, 0) + delta
        if new < 0:
            raise AssertionError("generator bug: negative level")
        if new == 0:
            levels.pop(price, None)
        else:
            levels[price] = new
        body = (
            f'{{"market_ticker":"{book.ticker}","price":"{_px(price)}",'
            f'"delta":"{_ct(delta)}","side":"{side}","ts_ms":{self.ts_ms}}}'
        )
        return self._env("orderbook_delta", SIDS["orderbook_delta"], body)

    def _book_update(self, book: _Book) -> Template:
        rng = self.rng
        if rng.random() < 0.02:  # the mid drifts, pulled back towards where it started
            step = 1 if rng.random() < 0.5 + (book.start_mid - book.mid) * 0.01 else -1
            if step > 0 and book.mid in book.ask:  # keep the book uncrossed
                book.mid += step
                return self._delta(book, "ask", book.mid - 1, -book.ask[book.mid - 1])
            if step < 0 and book.mid - 1 in book.bid:
                book.mid += step
                return self._delta(book, "bid", book.mid, -book.bid[book.mid])
            book.mid += step
        side = "bid" if rng.random() < 0.5 else "ask"
        offset = min(int(rng.expovariate(1 / (self.depth / 2))), 2 * self.depth)
        price = book.mid - 1 - offset if side == "bid" else book.mid + offset
        levels = book.bid if side == "bid" else book.ask
        size = levels.get(price)
        if size is None:
            return self._delta(book, side, price, rng.randint(1, 20) * 100)
        r = rng.random()
        if r < 0.3:
            return self._delta(book, side, price, -size)
        if r < 0.65 and size > 100:
            return self._delta(book, side, price, -rng.randint(1, size // 100 - 1) * 100)
        return self._delta(book, side, price, rng.randint(1, 20) * 100)

    def _trade(self, book: _Book) -> Template:
        side = "bid" if self.rng.random() < 0.5 else "ask"
        price = book.mid if side == "bid" else book.mid - 1
        body = (
            f'{{"trade_id":"{self._uuid()}","market_ticker":"{book.ticker}",'
            f'"price":"{_px(price)}","count":"{_ct(self.rng.randint(1, 700) * 100)}",'
            f'"taker_side":"{side}","ts_ms":{self.ts_ms}}}'
        )
        return self._env("trade", SIDS["trade"], body)

    def _ticker(self, book: _Book) -> Template:
        r = self.rng.randint
        bid, ask = book.mid - 1, book.mid
        body = (
            f'{{"market_ticker":"{book.ticker}","price":"{_px(bid)}","bid":"{_px(bid)}",'
            f'"ask":"{_px(ask)}","bid_size_fp":"{_ct(r(1, 900) * 100)}",'
            f'"ask_size_fp":"{_ct(r(1, 900) * 100)}","last_trade_size_fp":"0.00",'
            f'"volume":"{_ct(r(10**9, 10**12))}",'
            f'"volume_notional_value_dollars":"{r(10**9, 10**10)}.{r(0, 999999):06d}",'
            f'"volume_24h":"{_ct(r(10**7, 10**9))}",'
            f'"volume_24h_notional_value_dollars":"{r(10**6, 10**8)}.{r(0, 9999):04d}00",'
            f'"open_interest":"{_ct(r(10**7, 10**9))}",'
            f'"open_interest_notional_value_dollars":"{r(10**6, 10**8)}.{r(0, 9999):04d}00",'
            f'"reference_price":{{"price":"{_px(bid)}","ts_ms":{self.ts_ms - 490}}},'
            f'"settlement_mark_price":{{"price":"{_px(ask)}","ts_ms":{self.ts_ms - 259442}}},'
            f'"liquidation_mark_price":{{"price":"{_px(bid)}","ts_ms":{self.ts_ms - 490}}},'
            f'"funding_rate":{{"rate":0.0000{r(1, 99)},"next_funding_time_ms":'
            f'{self.ts_ms + 3_000_000},"ts_ms":{self.ts_ms}}},"ts_ms":{self.ts_ms}}}'
        )
        return self._env("ticker", SIDS["ticker"], body)

    def _user_order(self, book: _Book) -> Template:
        price = book.mid - 1 - self.rng.randint(0, 20)
        body = (
            f'{{"order_id":"{self._uuid()}","user_id":"f50604b8-d25a-4b0c-b3c9-ce5b48ffcad0",'
            f'"client_order_id":"{self._uuid()}","ticker":"{book.ticker}","side":"bid",'
            f'"price":"{_px(price)}","fill_count":"0.00",'
            f'"remaining_count":"{_ct(self.rng.randint(1, 20) * 100)}",'
            f'"self_trade_prevention_type":"taker_at_cross","created_ts_ms":{self.ts_ms},'
            f'"last_updated_ts_ms":{self.ts_ms},"subaccount_number":0,"order_source":"user"}}'
        )
        return self._env("user_order", SIDS["user_orders"], body)

    def _fill(self, book: _Book) -> Template:
        body = (
            f'{{"trade_id":"{self._uuid()}","order_id":"{self._uuid()}",'
            f'"client_order_id":"{self._uuid()}","market_ticker":"{book.ticker}",'
            f'"is_taker":true,"side":"bid","ts_ms":{self.ts_ms},"price":"{_px(book.mid)}",'
            f'"count":"1.00","fee_cost":"0.0000","post_position":"2.00","subaccount":0,'
            f'"order_source":"user"}}'
        )
        return self._env("fill", SIDS["fill"], body)

    def _order_group(self) -> Template:
        event = self.rng.choice(("created", "limit_updated", "triggered", "reset"))
        limit = f',"contracts_limit_fp":"{_ct(self.rng.randint(1, 50) * 100)}"'
        body = (
            f'{{"event_type":"{event}","order_group_id":"{self._group}"'
            f'{limit if event in ("created", "limit_updated") else ""},"ts_ms":{self.ts_ms}}}'
        )
        return self._env("order_group_updates", SIDS["order_group_updates"], body)

    def next(self) -> Template:
        """The next message after the snapshots."""
        self.ts_ms += self.rng.randint(0, 3)
        kind = self.rng.choices(self._types, self._weights)[0]
        book = self.books[0 if self.rng.random() < 0.6 else self.rng.randrange(len(self.books))]
        if kind == "orderbook_delta":
            return self._book_update(book)
        if kind == "trade":
            return self._trade(book)
        if kind == "ticker":
            return self._ticker(book)
        if kind == "user_order":
            return self._user_order(book)
        if kind == "fill":
            return self._fill(book)
        return self._order_group()

    def checkpoint(self) -> list[_Book]:
        """A copy of every book, for :func:`restore_deltas`."""
        return [_Book(b.ticker, b.start_mid, b.mid, dict(b.bid), dict(b.ask)) for b in self.books]

    def templates(self, count: int) -> list[Template]:
        """Snapshots for every market, then ``count`` minus that many mixed messages."""
        out = self.snapshots()
        while len(out) < count:
            out.append(self.next())
        return out


def restore_deltas(gen: TrafficGenerator, start: Sequence[_Book]) -> list[Template]:
    """Deltas that bring every book of ``gen`` back to ``start`` (makes a block repeatable).

    Every decrease comes before any increase: the intermediate books are then
    subsets of the final one, so none of them is ever crossed.
    """
    out = []
    for shrink in (True, False):
        for book, first in zip(gen.books, start, strict=True):
            for side, now, then in (("bid", book.bid, first.bid), ("ask", book.ask, first.ask)):
                for price in sorted(set(now) | set(then)):
                    diff = then.get(price, 0) - now.get(price, 0)
                    if diff and (diff < 0) == shrink:
                        out.append(gen._delta(book, side, price, diff))
    for book, first in zip(gen.books, start, strict=True):
        book.mid = first.mid
    return out


def render(templates: Iterable[Template], first_seq: dict[int, int] | None = None,
           ) -> Iterator[bytes]:
    """Frames with consecutive ``seq`` per sid (from ``first_seq``, default 1)."""
    seq = dict(first_seq or {})
    for t in templates:
        if t.sid is None:
            yield t.head
        else:
            n = seq.get(t.sid, 1)
            seq[t.sid] = n + 1
            yield t.head + b"%d" % n + t.tail


def frames(count: int, seed: int = 6, depth: int = 50, send_ts: bool = False) -> list[bytes]:
    """``count`` synthetic frames: snapshots first, then the live-like mix."""
    gen = TrafficGenerator(seed=seed, depth=depth, send_ts=send_ts)
    return list(render(gen.templates(count)))


def book_frames(updates: int, depth: int, seed: int = 6) -> list[bytes]:
    """One market: its snapshot (``depth`` levels a side), then ``updates`` deltas."""
    gen = TrafficGenerator(seed=seed, depth=depth, markets=_MARKETS[:1],
                           mix=(("orderbook_delta", 1.0),))
    return list(render(gen.templates(updates + 1)))


def load_real_frames(data_dir: Path = DATA_DIR) -> list[bytes]:
    """Every frame of the recorded demo captures (``ws__*.jsonl``), in file order."""
    out: list[bytes] = []
    for path in sorted(data_dir.glob("ws__*.jsonl")):
        out.extend(line for line in path.read_bytes().splitlines() if line.strip())
    return out


def write_jsonl(path: Path, lines: Iterable[bytes]) -> int:
    """Write one frame per line; returns the number written."""
    n = 0
    with path.open("wb") as fh:
        for line in lines:
            fh.write(line + b"\n")
            n += 1
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--real", action="store_true", help="prepend the real captures")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    lines = (load_real_frames() if args.real else []) + frames(args.count, args.seed, args.depth)
    n = write_jsonl(args.out, lines)
    print(f"wrote {n} frames to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
