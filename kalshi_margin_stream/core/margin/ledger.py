"""Fills and positions: deduplication across WS and REST, and a replayable position ledger.

A position is ``baseline (from REST) + the fills after it``, replayed in exchange
order. Keeping the fills after the baseline (instead of folding each one in as it
arrives) makes the result independent of arrival order and of duplicates: a late
fill is inserted at its place and the ledger replays, so any interleaving of the
same fills gives the same position, entry price, realised PnL and fees.

Accounting (the simulator's, margin-model.md §8.3): a signed cost basis ``C``
(sum of price x signed count of the open contracts) instead of a rounded entry:

* increase (or open from flat): ``C += price x signed count`` (entry = weighted average);
* reduce by ``k`` of ``|q|``: ``removed = C x k/|q|`` (4 dp, half-even; all of ``C``
  when closing flat), ``realised = sign(q) x k x price - removed`` (entry unchanged);
* flip: the closing part as above, then the new leg opens at the fill price;
* ``entry = C / q``; ``unrealised = q x mark - C``.

``post_position`` is authoritative: if a fill says the position before it was not
what we hold (a missed fill, or a stale baseline), we adopt it, count a gap, and
the entry is unknown (None) until the position goes flat, flips, or REST rebases it.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from ..messages import FillBody, Side
from ..numbers import ZERO
from .formulas import fill_position

__all__ = ["FillRecord", "FillStore", "PositionLedger", "MAX_FILLS_KEPT"]

MAX_FILLS_KEPT = 200_000
"""How many fill identities are remembered for deduplication (oldest forgotten first)."""


@dataclass(slots=True)
class FillRecord:
    """One execution of ours, from WS (``trade_id``), REST (``fill_id``) or both."""

    order_id: str
    subaccount: int
    ticker: str
    side: Side
    price: Decimal
    count: Decimal
    fee: Decimal
    ts_ms: int
    post_position: Decimal | None = None
    trade_id: str | None = None
    fill_id: str | None = None
    is_taker: bool | None = None
    order_source: str | None = None

    @classmethod
    def from_ws(cls, body: FillBody) -> FillRecord:
        return cls(order_id=body.order_id, subaccount=body.subaccount or 0,
                   ticker=body.market_ticker, side=body.side, price=body.price,
                   count=body.count, fee=body.fee_cost, ts_ms=body.ts_ms,
                   post_position=body.post_position, trade_id=body.trade_id,
                   is_taker=body.is_taker, order_source=body.order_source)

    @property
    def signed_count(self) -> Decimal:
        return self.count if self.side == "bid" else -self.count

    @property
    def key(self) -> str:
        """A stable identity for ordering ties (the first id we learned)."""
        return self.trade_id or self.fill_id or self.order_id

    @property
    def signature(self) -> tuple[str, Decimal, Decimal, int]:
        """What a WS fill and its REST twin share (their ids differ): order, price, count, ms.

        UNCONFIRMED: Kalshi never says whether REST ``fill_id`` equals WS ``trade_id``;
        the simulator uses different ids, so twins are matched by this signature,
        one to one (equal signatures pair up as a multiset).
        """
        return (self.order_id, self.price, self.count, self.ts_ms)

    def sort_key(self) -> tuple[int, Decimal, str]:
        """Exchange order: time, then (same ms) the position path of one order, then id."""
        if self.post_position is None:
            path = ZERO
        else:
            path = self.post_position if self.side == "bid" else -self.post_position
        return (self.ts_ms, path, self.key)


class FillStore:
    """Every fill seen, deduplicated by WS id, REST id and WS/REST twin signature."""

    def __init__(self, max_kept: int = MAX_FILLS_KEPT) -> None:
        self._max = max_kept
        self._by_id: OrderedDict[str, FillRecord] = OrderedDict()
        self._ws_only: dict[tuple[str, Decimal, Decimal, int], list[FillRecord]] = {}
        self._rest_only: dict[tuple[str, Decimal, Decimal, int], list[FillRecord]] = {}
        self.count = 0
        """Distinct fills seen (a WS fill and its REST twin count once)."""

    def add(self, rec: FillRecord) -> tuple[FillRecord, bool]:
        """Store ``rec``; returns ``(the stored record, is_new)``.

        A duplicate returns the earlier record and False. A WS fill whose REST twin
        is already stored is a duplicate too, but it teaches the twin its
        ``post_position`` (the caller should replay that position).
        """
        if rec.trade_id is not None:
            ws_key = f"t:{rec.trade_id}|{rec.order_id}"
            if ws_key in self._by_id:
                return self._by_id[ws_key], False
            twin = _pop(self._rest_only, rec.signature)
            if twin is not None:
                twin.trade_id = rec.trade_id
                twin.post_position = rec.post_position
                twin.is_taker = rec.is_taker if twin.is_taker is None else twin.is_taker
                self._remember(ws_key, twin)
                return twin, False
            self._remember(ws_key, rec)
            self._ws_only.setdefault(rec.signature, []).append(rec)
        else:
            rest_key = f"f:{rec.fill_id}"
            if rest_key in self._by_id:
                return self._by_id[rest_key], False
            twin = _pop(self._ws_only, rec.signature)
            if twin is not None:
                twin.fill_id = rec.fill_id
                self._remember(rest_key, twin)
                return twin, False
            self._remember(rest_key, rec)
            self._rest_only.setdefault(rec.signature, []).append(rec)
        self.count += 1
        return rec, True

    def _remember(self, key: str, rec: FillRecord) -> None:
        self._by_id[key] = rec
        while len(self._by_id) > self._max:
            _, old = self._by_id.popitem(last=False)
            for index in (self._ws_only, self._rest_only):
                bucket = index.get(old.signature)
                if bucket is not None and old in bucket:
                    bucket.remove(old)
                    if not bucket:
                        del index[old.signature]


def _pop(index: dict[tuple[str, Decimal, Decimal, int], list[FillRecord]],
         sig: tuple[str, Decimal, Decimal, int]) -> FillRecord | None:
    bucket = index.get(sig)
    if not bucket:
        return None
    rec = bucket.pop(0)
    if not bucket:
        del index[sig]
    return rec


class PositionLedger:
    """One (subaccount, market) position: a REST baseline plus the fills after it."""

    def __init__(self) -> None:
        self.base_qty = ZERO
        self.base_cost: Decimal | None = ZERO
        self.base_as_of_ms: int | None = None
        self._archived_realized = ZERO
        self._archived_fees = ZERO
        self._archived_cash: list[tuple[int, Decimal]] = []
        """(ts, realised - fee) of fills a rebase dropped, kept until a balance read covers them."""
        self._fills: list[FillRecord] = []
        self._keys: list[tuple[int, Decimal, str]] = []
        self.qty = ZERO
        self.cost: Decimal | None = ZERO
        """Signed cost basis, None when the entry is unknown (after a gap)."""
        self.realized = ZERO
        """Realised PnL since start (fills before the baseline are archived, not lost)."""
        self.fees = ZERO
        """Fees since start."""
        self.gaps = 0
        self.unknown_realized = 0
        self._effects: list[Decimal | None] = []

    @property
    def entry_price(self) -> Decimal | None:
        if self.qty == 0 or self.cost is None:
            return None
        return self.cost / self.qty

    def effects(self) -> list[tuple[FillRecord, Decimal | None]]:
        """The fills after the baseline with the PnL each realised (None = unknown entry)."""
        return list(zip(self._fills, self._effects, strict=True))

    def cash_delta(self, since_ms: int) -> Decimal:
        """Realised PnL minus fees of the fills after ``since_ms`` (a balance read's time).

        Counts fills a position rebase already folded away, so cash does not depend
        on whether positions or the balance were read last.
        """
        delta = sum((d for ts, d in self._archived_cash if ts > since_ms), ZERO)
        for rec, pnl in zip(self._fills, self._effects, strict=True):
            if rec.ts_ms > since_ms:
                delta += (pnl or ZERO) - rec.fee
        return delta

    def forget_cash_before(self, as_of_ms: int) -> None:
        """Drop archived cash effects a balance read at ``as_of_ms`` includes."""
        self._archived_cash = [(ts, d) for ts, d in self._archived_cash if ts > as_of_ms]

    def add(self, rec: FillRecord) -> bool:
        """Place a new fill; False when it is not newer than the REST baseline."""
        if self.base_as_of_ms is not None and rec.ts_ms <= self.base_as_of_ms:
            return False
        key = rec.sort_key()
        at = bisect.bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self._fills.insert(at, rec)
        if at == len(self._fills) - 1:
            self._step(rec)
        else:
            self.replay()
        return True

    def rebase(self, qty: Decimal, entry: Decimal | None, as_of_ms: int) -> bool:
        """Adopt a REST position taken at ``as_of_ms``; False (ignored) if older than ours."""
        if self.base_as_of_ms is not None and as_of_ms < self.base_as_of_ms:
            return False
        self.base_qty = qty
        if qty == 0:
            self.base_cost = ZERO
        elif entry is None:
            self.base_cost = None
        else:
            self.base_cost = qty * entry
        self.base_as_of_ms = as_of_ms
        keep: list[FillRecord] = []
        for rec, realized in zip(self._fills, self._effects, strict=True):
            if rec.ts_ms > as_of_ms:
                keep.append(rec)
            else:
                self._archived_realized += realized or ZERO
                self._archived_fees += rec.fee
                self._archived_cash.append((rec.ts_ms, (realized or ZERO) - rec.fee))
        self._fills = keep
        self._keys = [f.sort_key() for f in keep]
        self.replay()
        return True

    def replay(self) -> None:
        """Recompute everything from the baseline (after an out-of-order insert)."""
        order = sorted(range(len(self._fills)), key=lambda i: self._fills[i].sort_key())
        self._fills = [self._fills[i] for i in order]
        self._keys = [f.sort_key() for f in self._fills]
        self.qty = self.base_qty
        self.cost = self.base_cost
        self.realized = self._archived_realized
        self.fees = self._archived_fees
        self.gaps = 0
        self.unknown_realized = 0
        self._effects = []
        for rec in self._fills:
            self._step(rec)

    def _step(self, rec: FillRecord) -> None:
        c = rec.signed_count
        q = self.qty
        cost = self.cost
        if rec.post_position is not None and rec.post_position - c != q:
            self.gaps += 1
            q = rec.post_position - c
            cost = ZERO if q == 0 else None
        realized: Decimal | None = ZERO
        if cost is not None:
            _, cost, realized = fill_position(q, cost, c, rec.price)
        elif q != 0 and (q > 0) != (c > 0):  # closing with an unknown entry
            realized = None
            if abs(c) > abs(q):
                cost = (q + c) * rec.price
        self.qty = q + c
        if self.qty == 0:
            cost = ZERO
        self.cost = cost
        self.fees += rec.fee
        if realized is None:
            self.unknown_realized += 1
        else:
            self.realized += realized
        self._effects.append(realized)
