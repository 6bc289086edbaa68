"""FIX -> the shared state cores: ExecutionReports into :class:`MarginState`, MD into books.

ExecutionReports become the WebSocket ``user_order`` / ``fill`` bodies
(:class:`~..messages.UserOrderBody`, :class:`~..messages.FillBody`) and go through
``MarginState.apply_order`` / ``apply_fill``, so a fill seen on both FIX and the
socket is stored once (the state dedupes fills by trade id + order id, and order
snapshots never move ``fill_count`` backwards). Market data feeds
:class:`~..book.OrderBook` through its public snapshot/delta methods: KalshiMD sends
*absolute* level sizes (fix.md §10), turned into deltas against the book here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ...exceptions import BookDesync
from ..book import BookStatus, OrderBook
from ..margin import MarginState
from ..messages import FillBody, Side, UserOrderBody
from ..numbers import ZERO
from .messages import (
    ExecutionReport,
    MarketDataIncrementalRefresh,
    MarketDataSnapshotFullRefresh,
    MDIncEntry,
    parse_utc_timestamp,
)

__all__ = ["BookFeed", "apply_report", "report_fill", "report_order"]

_SIDE: dict[str, Side] = {"1": "bid", "2": "ask"}


def _ts(text: str) -> int | None:
    try:
        return parse_utc_timestamp(text)
    except ValueError:
        return None


def report_order(er: ExecutionReport) -> UserOrderBody | None:
    """The order snapshot an ExecutionReport carries (None for rejects and PENDING)."""
    if er.exec_type in ("8", "A", "6", "E") or er.order_id == "NONE":
        return None
    return UserOrderBody(
        order_id=er.order_id, ticker=er.symbol, side=_SIDE[er.side],
        price=er.price if er.price is not None else ZERO, fill_count=er.cum_qty,
        remaining_count=er.leaves_qty, client_order_id=er.cl_ord_id,
        last_updated_ts_ms=_ts(er.transact_time), subaccount_number=er.alloc_account,
        order_group_id=er.order_group_id)


def report_fill(er: ExecutionReport) -> FillBody | None:
    """The fill of a Trade report (ExecType F), as the ``fill`` channel would send it."""
    if er.exec_type != "F" or er.trd_match_id is None or er.last_qty is None \
            or er.last_px is None:
        return None
    position = (er.long_qty or ZERO) - (er.short_qty or ZERO)
    return FillBody(
        trade_id=er.trd_match_id, order_id=er.order_id, market_ticker=er.symbol,
        is_taker=bool(er.aggressor), side=_SIDE[er.side], ts_ms=_ts(er.transact_time) or 0,
        price=er.last_px, count=er.last_qty,
        fee_cost=sum((f.amount for f in er.misc_fees), ZERO), post_position=position,
        client_order_id=er.cl_ord_id, subaccount=er.alloc_account or 0)


def apply_report(state: MarginState, er: ExecutionReport) -> tuple[bool, bool]:
    """Feed one report to ``state``; ``(fill is new, order snapshot applied)``."""
    fill = report_fill(er)
    new_fill = state.apply_fill(fill) if fill is not None else False
    order = report_order(er)
    applied = state.apply_order(order) if order is not None else False
    return new_fill, applied


@dataclass
class BookFeed:
    """Order books kept from KalshiMD snapshots (35=W) and incremental refreshes (35=X)."""

    books: dict[str, OrderBook] = field(default_factory=dict)
    trades: list[MDIncEntry] = field(default_factory=list)
    desynced: set[str] = field(default_factory=set)
    """Symbols whose book broke (resubscribe them); cleared by their next snapshot."""
    max_trades: int = 10_000

    def book(self, symbol: str) -> OrderBook:
        b = self.books.get(symbol)
        if b is None:
            b = self.books[symbol] = OrderBook(symbol)
        return b

    def apply_snapshot(self, msg: MarketDataSnapshotFullRefresh) -> None:
        book = self.book(msg.symbol)
        bids = [(e.price, e.size) for e in msg.entries
                if e.entry_type == "0" and e.price is not None and e.size is not None]
        asks = [(e.price, e.size) for e in msg.entries
                if e.entry_type == "1" and e.price is not None and e.size is not None]
        try:
            book.apply_snapshot(bids, asks)
            self.desynced.discard(msg.symbol)
        except BookDesync:
            book.clear(BookStatus.RESYNCING)
            self.desynced.add(msg.symbol)

    def apply_incremental(self, msg: MarketDataIncrementalRefresh) -> None:
        for e in msg.entries:
            sym = e.symbol or ""
            if e.entry_type == "2":
                self.trades.append(e)
                if len(self.trades) > self.max_trades:
                    del self.trades[: len(self.trades) - self.max_trades]
                continue
            book = self.books.get(sym)
            if book is None or book.status is not BookStatus.SYNCED or e.price is None:
                continue
            side = "bid" if e.entry_type == "0" else "ask"
            size = ZERO if e.action == "2" else (e.size or ZERO)
            delta: Decimal = size - book.size_at(side, e.price)
            if delta == 0:
                continue
            try:
                book.apply_delta(side, e.price, delta)
            except BookDesync:
                book.clear(BookStatus.RESYNCING)
                self.desynced.add(sym)
