"""Engine events -> FIX messages for the simulator's acceptor (synchronous, no sockets).

:class:`ReportBook` turns each :class:`~.engine.events.FillEvent` and
:class:`~.engine.events.OrderUpdate` of a FIX-capable user into ExecutionReports
(fix.md §7.4), keeps them for drop-copy replay (§8: ``clock;event`` ExecIDs, a
3-hour window) and remembers which key placed which order. :class:`MdBook` keeps
the aggregated levels of every market from the ``BookDelta`` stream so MD sessions
get *absolute* level sizes (§10) and snapshots.

Choices the spec leaves open (each named here): the ExecID clock is the
simulator's start second (``clock``), fill collateral change = minus the fee
(``COLLATERAL_IS_FEE``), a New ack is sent only for an order that rests before any
fill (never folded ahead of a trade), cancels carry the engine's reason mapped to
Kalshi's Text values (``CANCEL_TEXT``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from ..core.fix.messages import (
    CollateralChange,
    ExecutionReport,
    MDEntry,
    MDIncEntry,
    MiscFee,
    utc_timestamp,
)
from ..core.numbers import ZERO, fmt_count
from .engine.events import BookDelta, Event, FillEvent, OrderUpdate, PublicTrade
from .engine.orders import REASON
from .engine.views import BookView, OrderView

__all__ = ["CANCEL_TEXT", "COLLATERAL_IS_FEE", "REPLAY_WINDOW_MS", "MdBook", "Report",
           "ReportBook", "exec_id_key", "fix_count", "fix_price"]

REPLAY_WINDOW_MS = 3 * 3600 * 1000
COLLATERAL_IS_FEE = True
"""1704 on a fill = -fee (UNCONFIRMED: fix.md §16.13)."""
CANCEL_TEXT = {
    REASON.SELF_TRADE: "TAKER_CANCEL_FOR_SELF_TRADE_PREVENTION",
    REASON.POST_ONLY: "POST_ONLY_CROSS",
    REASON.REDUCE_ONLY: "REDUCE_ONLY",
    REASON.EXPIRY: "EXPIRED",
    REASON.PAUSE_CANCEL: "EXCHANGE_PAUSED",
}
_Q4 = Decimal("0.0001")


def fix_price(p: Decimal) -> Decimal:
    """A price as FIX writes it: 4 places (``11.2345``)."""
    return p.quantize(_Q4)


def fix_count(c: Decimal) -> Decimal:
    """A quantity as reports write it: 2 places (``10.00``)."""
    return Decimal(fmt_count(c))


def exec_id_key(exec_id: str) -> tuple[int, ...]:
    """``"clock;event"`` as comparable ints (our ordering inference, fix.md §16.12).

    Raises:
        ValueError: not ``int;int[;int]``.
    """
    parts = tuple(int(p) for p in exec_id.split(";"))
    if len(parts) not in (2, 3):
        raise ValueError(f"bad ExecID {exec_id!r}")
    return parts


@dataclass(slots=True)
class _Track:
    order_id: str
    cl_ord_id: str
    side: str
    symbol: str
    price: Decimal
    cum: Decimal
    leaves: Decimal
    notional: Decimal
    subaccount: int
    acked: bool = False


@dataclass(frozen=True, slots=True)
class Report:
    """One ExecutionReport for ``user_id``'s order, as kept for replay."""

    user_id: str
    order_id: str
    ts_ms: int
    report: ExecutionReport


class ReportBook:
    """ExecutionReports of the users that have FIX keys, in exchange order."""

    def __init__(self, *, clock: int) -> None:
        self.clock = clock
        self._event = 0
        self._tracks: dict[str, _Track] = {}
        self.origin: dict[str, str] = {}
        """order id -> key id of the FIX session that placed it."""
        self.pending: dict[str, tuple[str, str]] = {}
        """order id -> (ClOrdID, OrigClOrdID) of a cancel/amend in flight."""
        self.by_cl_ord_id: dict[tuple[str, str], str] = {}
        self.history: deque[Report] = deque()

    def _exec_id(self) -> str:
        self._event += 1
        return f"{self.clock};{self._event}"

    def order_for(self, user_id: str, cl_ord_id: str) -> str | None:
        return self.by_cl_ord_id.get((user_id, cl_ord_id))

    def translate(self, events: list[Event], users: set[str]) -> list[Report]:
        out: list[Report] = []
        for ev in events:
            if isinstance(ev, FillEvent) and ev.user_id in users:
                out.append(self._fill(ev))
            elif isinstance(ev, OrderUpdate) and ev.order.user_id in users:
                rep = self._update(ev.order)
                if rep is not None:
                    out.append(rep)
        for rep in out:
            self.history.append(rep)
        if out:
            cutoff = out[-1].ts_ms - REPLAY_WINDOW_MS
            while self.history and self.history[0].ts_ms < cutoff:
                self.history.popleft()
        return out

    def replay(self, user_id: str, begin: tuple[int, ...],
               end: tuple[int, ...] | None) -> list[ExecutionReport]:
        return [r.report for r in self.history if r.user_id == user_id
                and begin <= exec_id_key(r.report.exec_id)
                and (end is None or exec_id_key(r.report.exec_id) <= end)]

    def prime(self, v: OrderView, key_id: str) -> None:
        """Register an order placed over FIX before its events are translated, so its
        fills count down from the full size and its reports go to ``key_id``."""
        self.origin[v.order_id] = key_id
        if v.order_id not in self._tracks:
            self._tracks[v.order_id] = _Track(
                v.order_id, v.client_order_id, "1" if v.side == "bid" else "2", v.ticker,
                v.price, ZERO, v.initial_count, ZERO, v.subaccount)
            self.by_cl_ord_id[(v.user_id, v.client_order_id)] = v.order_id

    def _track(self, v: OrderView) -> _Track:
        t = self._tracks.get(v.order_id)
        if t is None:
            t = _Track(v.order_id, v.client_order_id, "1" if v.side == "bid" else "2", v.ticker,
                       v.price, ZERO, v.remaining_count + v.fill_count, ZERO, v.subaccount)
            self._tracks[v.order_id] = t
            self.by_cl_ord_id[(v.user_id, v.client_order_id)] = v.order_id
        return t

    def _report(self, t: _Track, *, exec_type: str, status: str, ts_ms: int,
                text: str | None = None, orig: str | None = None,
                **fill: object) -> ExecutionReport:
        avg = fix_price(t.notional / t.cum) if t.cum else Decimal("0.0000")
        return ExecutionReport(
            avg_px=avg, cl_ord_id=t.cl_ord_id, cum_qty=fix_count(t.cum),
            exec_id=self._exec_id(), last_mkt="0", order_id=t.order_id,
            order_qty=fix_count(t.cum + t.leaves), ord_status=status,  # type: ignore[arg-type]
            orig_cl_ord_id=orig, price=fix_price(t.price), side=t.side,  # type: ignore[arg-type]
            symbol=t.symbol, text=text, transact_time=utc_timestamp(ts_ms),
            exec_type=exec_type, leaves_qty=fix_count(t.leaves),  # type: ignore[arg-type]
            alloc_account=t.subaccount or None, **fill)  # type: ignore[arg-type]

    def _fill(self, f: FillEvent) -> Report:
        t = self._tracks.get(f.order_id)
        if t is None:
            t = _Track(f.order_id, f.client_order_id, "1" if f.side == "bid" else "2", f.ticker,
                       f.price, ZERO, ZERO, ZERO, f.subaccount)
            self._tracks[f.order_id] = t
            self.by_cl_ord_id[(f.user_id, f.client_order_id)] = f.order_id
            t.leaves = f.count  # corrected by the order's update that follows
        t.acked = True
        t.cum += f.count
        t.notional += f.price * f.count
        t.leaves = max(ZERO, t.leaves - f.count)
        pos = f.post_position
        fee = fix_price(f.fee_cost)
        rep = self._report(
            t, exec_type="F", status="2" if t.leaves == 0 else "1", ts_ms=f.ts_ms,
            last_px=fix_price(f.price), last_qty=fix_count(f.count),
            long_qty=fix_count(max(pos, ZERO)), short_qty=fix_count(max(-pos, ZERO)),
            misc_fees=[MiscFee(amount=fee, currency="USD", fee_type="4", basis=0)],
            trd_match_id=f.trade_id, aggressor=f.is_taker,
            collateral_changes=[CollateralChange(amount=-fee, kind="BALANCE")]
            if COLLATERAL_IS_FEE else [],
            clearing_business_date=utc_timestamp(f.ts_ms)[:8])
        return Report(f.user_id, f.order_id, f.ts_ms, rep)

    def _update(self, v: OrderView) -> Report | None:
        t = self._track(v)
        pending = self.pending.pop(v.order_id, None)
        old_total, old_price, old_leaves = t.cum + t.leaves, t.price, t.leaves
        if v.fill_count > t.cum:  # fills we did not see (should not happen): catch up
            t.cum = v.fill_count
        t.leaves = v.remaining_count
        t.price = v.price
        orig = None
        if pending is not None:
            t.cl_ord_id, orig = pending
        elif v.client_order_id != t.cl_ord_id:
            orig, t.cl_ord_id = t.cl_ord_id, v.client_order_id
        self.by_cl_ord_id[(v.user_id, t.cl_ord_id)] = v.order_id
        ts = v.last_update_ts_ms
        if not t.acked:
            t.acked = True
            if v.remaining_count > 0:
                rep = self._report(t, exec_type="0", status="0", ts_ms=ts)
            else:
                rep = self._report(t, exec_type="4", status="4", ts_ms=ts,
                                   text=CANCEL_TEXT.get(v.last_update_reason,
                                                        "IMMEDIATE_OR_CANCELLED"))
            return Report(v.user_id, v.order_id, ts, rep)
        if v.remaining_count == 0 and old_leaves > 0:
            text = None if pending is not None else CANCEL_TEXT.get(
                v.last_update_reason, "IMMEDIATE_OR_CANCELLED")
            rep = self._report(t, exec_type="4", status="4", ts_ms=ts, text=text, orig=orig)
            return Report(v.user_id, v.order_id, ts, rep)
        if v.remaining_count > 0 and (t.cum + t.leaves != old_total or t.price != old_price
                                      or pending is not None):
            status = "5"
            rep = self._report(t, exec_type="5", status=status, ts_ms=ts, orig=orig,
                               time_in_force="6" if v.expiration_ts_ms else "1")
            return Report(v.user_id, v.order_id, ts, rep)
        return None


class MdBook:
    """Aggregated levels per market, kept from BookDelta, for KalshiMD (absolute sizes)."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[str, dict[Decimal, Decimal]]] = {}

    def seed(self, view: BookView) -> None:
        self.levels[view.ticker] = {"bid": dict(view.bids), "ask": dict(view.asks)}

    def snapshot(self, ticker: str, ts_ms: int) -> list[MDEntry]:
        book = self.levels.get(ticker)
        if book is None:
            return []
        stamp = utc_timestamp(ts_ms)
        out = [MDEntry(entry_type="0", price=fix_price(p), size=fix_count(s), date=stamp[:8],
                       time=stamp[9:]) for p, s in sorted(book["bid"].items(), reverse=True)]
        out += [MDEntry(entry_type="1", price=fix_price(p), size=fix_count(s), date=stamp[:8],
                        time=stamp[9:]) for p, s in sorted(book["ask"].items())]
        return out

    def apply(self, events: list[Event]) -> list[MDIncEntry]:
        """Apply the batch; the X entries it produces (level changes and trades)."""
        out: list[MDIncEntry] = []
        for ev in events:
            if isinstance(ev, BookDelta):
                side = self.levels.setdefault(ev.ticker, {"bid": {}, "ask": {}})[ev.side]
                old = side.get(ev.price, ZERO)
                new = old + ev.delta
                if new > 0:
                    side[ev.price] = new
                else:
                    side.pop(ev.price, None)
                    new = ZERO
                stamp = utc_timestamp(ev.ts_ms)
                out.append(MDIncEntry(
                    action="0" if old == 0 else ("2" if new == 0 else "1"), symbol=ev.ticker,
                    entry_type="0" if ev.side == "bid" else "1", price=fix_price(ev.price),
                    size=fix_count(new), date=stamp[:8], time=stamp[9:]))
            elif isinstance(ev, PublicTrade):
                stamp = utc_timestamp(ev.ts_ms)
                out.append(MDIncEntry(
                    action="0", symbol=ev.ticker, entry_type="2", price=fix_price(ev.price),
                    size=fix_count(ev.count), date=stamp[:8], time=stamp[9:],
                    aggressor_side="1" if ev.taker_side == "bid" else "2",
                    trade_id=ev.trade_id))
        return out
