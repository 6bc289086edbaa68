"""Replay a recording into a strategy, through the same core as live streaming.

Run: .venv/bin/python examples/replay_strategy.py RECORDING_DIR_OR_FILE
(make one with examples/record_session.py or ``kalshi-margin-stream record``).

The strategy is a toy: it follows each market's mid price and counts the times a
fast moving average crosses a slow one. The point is the loop: records in
receive order, frames into a passive Session, decisions on trusted books only.
"""

from __future__ import annotations

import sys
from collections import deque
from decimal import Decimal

from kalshi_margin_stream.core.messages import OrderbookDelta, OrderbookSnapshot
from kalshi_margin_stream.core.replay import PassiveSession
from kalshi_margin_stream.recording import read_records


class Crossover:
    def __init__(self, fast: int = 5, slow: int = 20) -> None:
        self.fast: dict[str, deque[Decimal]] = {}
        self.slow: dict[str, deque[Decimal]] = {}
        self.sizes = (fast, slow)
        self.above: dict[str, bool] = {}
        self.signals = 0

    def on_mid(self, ticker: str, mid: Decimal) -> None:
        fast = self.fast.setdefault(ticker, deque(maxlen=self.sizes[0]))
        slow = self.slow.setdefault(ticker, deque(maxlen=self.sizes[1]))
        fast.append(mid)
        slow.append(mid)
        if len(slow) < slow.maxlen:  # type: ignore[operator]
            return
        above = sum(fast) / len(fast) > sum(slow) / len(slow)
        if ticker in self.above and above != self.above[ticker]:
            self.signals += 1
        self.above[ticker] = above


def main(paths: list[str]) -> None:
    session = PassiveSession()
    strategy = Crossover()
    updates = skipped = 0
    for rec in read_records(paths):
        if rec.k == "e":  # connection events: the books go stale exactly as they did live
            if rec.e == "connected":
                session.connection_opened()
            elif rec.e == "disconnected":
                session.connection_lost()
            continue
        for event in session.receive_frame(rec.frame()):
            if not isinstance(event, OrderbookDelta | OrderbookSnapshot):
                continue
            book = session.books.get(event.msg.market_ticker)
            mid = book.mid() if book is not None and book.is_synced else None
            if mid is None:
                skipped += 1  # never trade on a book that is not trusted
                continue
            updates += 1
            strategy.on_mid(event.msg.market_ticker, mid)
    print(f"{updates} book updates, {skipped} skipped, {strategy.signals} crossover signals, "
          f"{session.stats.gaps} gaps")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: replay_strategy.py RECORDING...")
    main(sys.argv[1:])
