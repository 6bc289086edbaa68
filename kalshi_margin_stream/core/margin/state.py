"""Margin state: balance, positions, orders, groups, marks and funding of one account.

Theory of operation
-------------------
There is no balance, position or risk channel on the socket (margin-model.md §2.8),
so this state is assembled from four private/public feeds and corrected from REST.
It is pure and synchronous: callers (the streaming client) feed it decoded
messages and REST bodies and pass times in; it never reads a clock.

* **Fills** (``apply_fill``, ``reconcile_fills``) are stored once: WS fills are
  deduplicated by ``trade_id`` (with ``order_id``: both legs of a self-trade share a
  trade id), REST fills by ``fill_id``, and a WS fill and its REST twin by their
  common signature (see :class:`~.ledger.FillRecord`). Each new fill goes to
  the ledger of its (subaccount, market).
* **Positions** (:class:`~.ledger.PositionLedger`) are a REST baseline plus
  the fills after it, replayed in exchange order, with ``post_position`` as the
  authority on the count. Entry price: weighted average on increase, kept on
  reduce, reset to the fill price on a flip. Realised PnL and fees accumulate since
  start. The fill's ``fee_cost`` is taken as the fill's total fee (UNCONFIRMED,
  websocket.md §6.4).
* **REST wins when newer.** Every reconcile carries ``as_of_ms``, the time the REST
  request was sent (on the exchange's clock as far as the caller can tell). A REST
  position replaces the baseline unless an even newer one is held; fills at or
  before ``as_of_ms`` are taken as already inside it, fills after it replay on
  top. So a fill seen both live and in REST, or a REST read that races a fill,
  is never counted twice, and the next read corrects a read model that lagged.
  (Clock skew between us and the exchange blurs the boundary by the skew: a fill
  on the wrong side of it is caught by ``post_position``, which fixes the count
  and marks the entry unknown until the next read.)
  Cash is the REST balance's ``account_equity - sum(REST unrealized_pnl)`` (§8.2:
  reconcile positions first, or pass them to ``reconcile_balance``) plus realised
  PnL minus fees of the fills after it. Funding payments and transfers reach cash
  only through the next balance read.
* **Orders** (``apply_order``, ``reconcile_orders``): full snapshots, never moving
  ``fill_count`` backwards; finished orders leave the open set and are remembered
  (bounded) so a late snapshot cannot resurrect them. See :mod:`.orders`.
* **Order groups** (``apply_order_group``, ``reconcile_order_groups``).
* **Marks and funding** (``apply_ticker``, ``set_markets``): each mark is replaced
  only by one with a newer (or equal) ``ts_ms``. Tickers (every second per
  market) are merged in place into a mutable working copy of the market's view
  (:class:`_LiveMarket`); the frozen :class:`~.snapshot.MarketView` is built once,
  when something reads the markets, instead of one ``dataclasses.replace`` (~4-7 µs)
  per ticker. (This module is over 400 lines because it is the one place where the
  four feeds and REST meet; each step it delegates lives in its own module.)
* **Parameters** (``set_markets``, ``set_risk_parameters``, ``reconcile_risk``): the
  MM rate curve per market and side comes from ``leverage_estimates`` (M8, [INF]);
  until markets are known, the rate ``/margin/risk`` showed (MM / notional) is used.

``snapshot()`` computes everything (:mod:`.account`) into an immutable
:class:`~.snapshot.MarginSnapshot`. Where the model chooses (marks,
rounding, ROM, available balance) the choice is a named constant in
:mod:`.account` or :mod:`.formulas`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from ...exceptions import DecodeError
from ..messages import (
    Fill,
    FillBody,
    Message,
    OrderGroupBody,
    OrderGroupUpdates,
    Ticker,
    TickerBody,
    TickerPrice,
    UserOrder,
    UserOrderBody,
)
from ..numbers import ZERO
from .account import CashBase, Pricing, build_account
from .formulas import DEFAULT_IM_MULTIPLIER, RateCurve, market_curve
from .ledger import FillRecord, FillStore, PositionLedger
from .orders import GroupTracker, GroupView, OrderTracker, OrderView
from .snapshot import AccountView, MarginSnapshot, MarketView, PositionView, frozen_map

if TYPE_CHECKING:
    from ..rest_models import (
        BalanceResponse,
        FillsResponse,
        MarginMarket,
        MarginOrder,
        OrderGroup,
        OrderGroupsResponse,
        OrdersResponse,
        Position,
        PositionsResponse,
        RiskParameters,
        RiskResponse,
    )
    from ..rest_models import Fill as RestFill

__all__ = ["AccountView", "GroupView", "MarginSnapshot", "MarginState", "MarketView", "OrderView",
           "PositionView"]

DEFAULT_LIQUIDATION_THRESHOLD = Decimal(1)
DEFAULT_QUEUE_THRESHOLD = Decimal("0.91")
"""Production risk parameters, used until ``set_risk_parameters`` (rest.md §6.6)."""


class MarginState:
    """The account's margin state, fed by WS messages and REST reads (see module doc)."""

    def __init__(self) -> None:
        self._fills = FillStore()
        self._ledgers: dict[tuple[int, str], PositionLedger] = {}
        self._orders = OrderTracker()
        self._groups = GroupTracker()
        self._market_views: dict[str, MarketView] = {}
        self._live: dict[str, _LiveMarket] = {}
        """Markets a ticker changed since their view was last built."""
        self._specs: dict[str, MarginMarket] = {}
        self._multipliers: dict[str, Decimal] = {}
        self._observed_rates: dict[str, Decimal] = {}
        self._curves: dict[tuple[str, bool], RateCurve | None] = {}
        self._cash: dict[int, CashBase] = {}
        self._rest_upnl: dict[int, Decimal] = {}
        self._liq_threshold = DEFAULT_LIQUIDATION_THRESHOLD
        self._queue_threshold = DEFAULT_QUEUE_THRESHOLD
        self._counters: dict[str, int] = {
            "fills_duplicate": 0, "fills_in_baseline": 0, "orders_stale": 0,
            "ticker_unchanged": 0, "group_events_ignored": 0, "rest_reads_older": 0}

    # --- socket -----------------------------------------------------------

    def apply_message(self, message: Message) -> bool:
        """Route any decoded frame; False for frames this state does not use."""
        if isinstance(message, Fill):
            return self.apply_fill(message.msg)
        if isinstance(message, UserOrder):
            return self.apply_order(message.msg)
        if isinstance(message, OrderGroupUpdates):
            return self.apply_order_group(message.msg)
        if isinstance(message, Ticker):
            return self.apply_ticker(message.msg)
        return False

    def apply_fill(self, body: FillBody) -> bool:
        """Record one fill; False for a duplicate (by trade id, or the REST twin)."""
        rec = FillRecord.from_ws(body)
        stored, new = self._fills.add(rec)
        if not new:
            self._counters["fills_duplicate"] += 1
            if stored is not rec:  # a REST twin just learned its post_position
                self._ledger(stored.subaccount, stored.ticker).replay()
            return False
        if not self._ledger(rec.subaccount, rec.ticker).add(rec):
            self._counters["fills_in_baseline"] += 1
        return True

    def apply_order(self, body: UserOrderBody) -> bool:
        """Apply one ``user_order`` snapshot; False when stale (never moves fills back)."""
        view = OrderView.from_ws(body, self._orders.known(body.order_id))
        applied = self._orders.apply(view)
        if not applied:
            self._counters["orders_stale"] += 1
        return applied

    def apply_order_group(self, body: OrderGroupBody) -> bool:
        """Apply one ``order_group_updates`` event; False if unknown or on a deleted group."""
        applied = self._groups.apply(body)
        if not applied:
            self._counters["group_events_ignored"] += 1
        return applied

    def apply_ticker(self, body: TickerBody) -> bool:
        """Take marks, last price and funding from a ticker; False if nothing was newer."""
        ticker = body.market_ticker
        live = self._live.get(ticker)
        if live is None:
            view = self._market_views.get(ticker) or MarketView(ticker)
            live = _LiveMarket.of(view)
            if not live.merge(body):
                self._counters["ticker_unchanged"] += 1
                return False
            self._live[ticker] = live
            return True
        if not live.merge(body):
            self._counters["ticker_unchanged"] += 1
            return False
        return True

    @property
    def _markets(self) -> dict[str, MarketView]:
        """Every market's view, with the tickers merged since the last read built in."""
        live = self._live
        if live:
            views = self._market_views
            for ticker, market in live.items():
                views[ticker] = market.view()
            live.clear()
        return self._market_views

    # --- REST ---------------------------------------------------------------

    def reconcile_positions(self, positions: PositionsResponse | Iterable[Position], *,
                            as_of_ms: int, subaccount: int | None = None) -> bool:
        """Rebase positions on a REST read (of one subaccount, or all when None).

        Positions we hold that REST does not list are flat as of ``as_of_ms``.
        False when every row was older than what we hold.
        """
        rows = list(cast("Iterable[Position]", getattr(positions, "positions", positions)))
        applied = False
        seen: set[tuple[int, str]] = set()
        upnl: dict[int, Decimal] = {}
        for row in rows:
            key = (row.subaccount, row.market_ticker)
            seen.add(key)
            upnl[row.subaccount] = upnl.get(row.subaccount, ZERO) + (row.unrealized_pnl or ZERO)
            applied |= self._ledger(*key).rebase(row.position, row.entry_price, as_of_ms)
        for key, ledger in self._ledgers.items():
            if key not in seen and (subaccount is None or key[0] == subaccount):
                applied |= ledger.rebase(ZERO, None, as_of_ms)
        subs = {k[0] for k in self._ledgers} | set(upnl)
        for sub in subs:
            if subaccount is None or sub == subaccount:
                self._rest_upnl[sub] = upnl.get(sub, ZERO)
        if not applied and rows:
            self._counters["rest_reads_older"] += 1
        return applied

    def reconcile_balance(self, balance: BalanceResponse, *, as_of_ms: int,
                          positions: PositionsResponse | None = None) -> bool:
        """Take cash per subaccount from a balance read: equity - REST unrealised PnL.

        Pass the positions read of the same round (or reconcile them first): cash
        needs their ``unrealized_pnl``. False when every entry was older than ours.
        """
        if positions is not None:
            self.reconcile_positions(positions, as_of_ms=as_of_ms)
        applied = False
        for entry in balance.subaccount_balances:
            held = self._cash.get(entry.subaccount)
            if entry.account_equity is None or (held is not None and held.as_of_ms > as_of_ms):
                continue
            cash = entry.account_equity - self._rest_upnl.get(entry.subaccount, ZERO)
            self._cash[entry.subaccount] = CashBase(cash, as_of_ms, entry)
            for (sub, _), ledger in self._ledgers.items():
                if sub == entry.subaccount:
                    ledger.forget_cash_before(as_of_ms)
            applied = True
        if not applied and balance.subaccount_balances:
            self._counters["rest_reads_older"] += 1
        return applied

    def reconcile_orders(self, orders: OrdersResponse | Iterable[MarginOrder], *,
                         as_of_ms: int, subaccount: int | None = None) -> None:
        """Replace the open orders with a REST read (never moving a fill count back)."""
        rows = list(cast("Iterable[MarginOrder]", getattr(orders, "orders", orders)))
        views = []
        for i, o in enumerate(rows):
            try:
                views.append(OrderView.from_rest(o, self._orders.known(o.order_id), subaccount))
            except ValueError as exc:  # a malformed timestamp: apply nothing of this read
                raise DecodeError(str(exc), path=f"$.orders[{i}]") from exc
        before = self._orders.stale
        self._orders.replace_open(views, as_of_ms, subaccount)
        self._counters["orders_stale"] += self._orders.stale - before

    def reconcile_fills(self, fills: FillsResponse | Iterable[RestFill], *,
                        subaccount: int = 0) -> int:
        """Merge REST fills (e.g. since the disconnect); returns how many were new.

        Raises:
            DecodeError: a fill's ``created_time`` is not a timestamp (nothing is applied).
        """
        records = []
        for i, f in enumerate(cast("Iterable[RestFill]", getattr(fills, "fills", fills))):
            try:
                ts_ms = f.created_time_ms
            except ValueError as exc:
                raise DecodeError(str(exc), path=f"$.fills[{i}].created_time") from exc
            records.append(FillRecord(
                order_id=f.order_id,
                subaccount=f.subaccount if f.subaccount is not None else subaccount,
                ticker=f.ticker, side=f.side, price=f.price, count=f.count,
                fee=f.fees or ZERO, ts_ms=ts_ms, fill_id=f.fill_id, is_taker=f.is_taker,
                order_source=f.order_source))
        new_count = 0
        for rec in records:
            _, new = self._fills.add(rec)
            if not new:
                self._counters["fills_duplicate"] += 1
                continue
            new_count += 1
            if not self._ledger(rec.subaccount, rec.ticker).add(rec):
                self._counters["fills_in_baseline"] += 1
        return new_count

    def reconcile_order_groups(self, groups: OrderGroupsResponse | Iterable[OrderGroup]) -> None:
        """Replace the groups with a REST read (keeping the socket's triggered flags)."""
        self._groups.replace_all(
            list(cast("Iterable[OrderGroup]", getattr(groups, "order_groups", groups))))

    def reconcile_risk(self, risk: RiskResponse) -> None:
        """Remember the MM rate the exchange applied (used where markets give no curve)."""
        for p in risk.positions:
            if p.maintenance_margin_required is not None and p.position_notional:
                self._observed_rates[p.market_ticker] = (
                    p.maintenance_margin_required / p.position_notional)
        self._curves.clear()

    def set_markets(self, markets: Iterable[MarginMarket]) -> None:
        """Contract specs and leverage curves; also seeds marks the ticker has not sent."""
        for m in markets:
            self._specs[m.ticker] = m
            old = self._markets.get(m.ticker) or MarketView(m.ticker)
            new = _merge_marks(old, m.settlement_mark_price, m.liquidation_mark_price,
                               m.reference_price)
            if new.ts_ms is None and new.last_price is None:
                new = replace(new, last_price=m.price, bid=m.bid, ask=m.ask)
            if m.contract_size is not None:
                new = replace(new, contract_size=m.contract_size)
            self._markets[m.ticker] = new
        self._curves.clear()

    def set_risk_parameters(self, params: RiskParameters) -> None:
        """IM multipliers and the liquidation / queue thresholds."""
        self._multipliers = dict(params.initial_margin_multiplier)
        self._liq_threshold = params.liquidation_margin_ratio_threshold
        self._queue_threshold = params.queue_entry_margin_ratio_threshold
        self._curves.clear()

    # --- reading ------------------------------------------------------------

    def order(self, order_id: str) -> OrderView | None:
        """The last known state of an order, open or (recently) finished."""
        return self._orders.known(order_id)

    def snapshot(self, now_ms: int | None = None) -> MarginSnapshot:
        """Everything, computed now, as an immutable value."""
        pricing = Pricing(curve=self._curve, multiplier=self._multiplier,
                          liquidation_threshold=self._liq_threshold)
        subs = {k[0] for k in self._ledgers} | set(self._cash)
        subs |= {o.subaccount for o in self._orders.open.values()}
        accounts: dict[int, AccountView] = {}
        gaps = 0
        for sub in sorted(subs):
            ledgers = {t: lg for (s, t), lg in self._ledgers.items() if s == sub}
            gaps += sum(lg.gaps for lg in ledgers.values())
            orders = [o for o in self._orders.open.values() if o.subaccount == sub]
            accounts[sub] = build_account(sub, ledgers, orders, self._markets, pricing,
                                          self._cash.get(sub))
        counters = dict(self._counters, position_gaps=gaps)
        return MarginSnapshot(
            as_of_ms=now_ms, accounts=frozen_map(accounts),
            markets=frozen_map(dict(self._markets)),
            order_groups=frozen_map(dict(self._groups.groups)),
            fills_count=self._fills.count, liquidation_threshold=self._liq_threshold,
            queue_threshold=self._queue_threshold, counters=frozen_map(counters))

    # --- internals ----------------------------------------------------------

    def _ledger(self, sub: int, ticker: str) -> PositionLedger:
        ledger = self._ledgers.get((sub, ticker))
        if ledger is None:
            ledger = self._ledgers[(sub, ticker)] = PositionLedger()
        return ledger

    def _multiplier(self, ticker: str) -> Decimal:
        return self._multipliers.get(ticker, DEFAULT_IM_MULTIPLIER)

    def _curve(self, ticker: str, is_long: bool) -> RateCurve | None:
        key = (ticker, is_long)
        if key not in self._curves:
            self._curves[key] = self._make_curve(ticker, is_long)
        return self._curves[key]

    def _make_curve(self, ticker: str, is_long: bool) -> RateCurve | None:
        """Side curve, else the market curve, else the rate ``/margin/risk`` showed."""
        spec = self._specs.get(ticker)
        mult = self._multiplier(ticker)
        if spec is not None:
            curve = market_curve(spec, is_long, mult)
            if curve is not None:
                return curve
        observed = self._observed_rates.get(ticker)
        return None if observed is None else RateCurve.flat(observed)


def _newer(old_ts: int | None, new_ts: int | None) -> bool:
    return old_ts is None or new_ts is None or new_ts >= old_ts


def _mark_changes(view: MarketView, settlement: TickerPrice | None,
                  liquidation: TickerPrice | None,
                  reference: TickerPrice | None) -> dict[str, Any]:
    """The mark fields a newer price would change (collected, then applied once)."""
    changes: dict[str, Any] = {}
    if settlement is not None and _newer(view.settlement_mark_ts_ms, settlement.ts_ms):
        changes.update(settlement_mark=settlement.price, settlement_mark_ts_ms=settlement.ts_ms)
    if liquidation is not None and _newer(view.liquidation_mark_ts_ms, liquidation.ts_ms):
        changes.update(liquidation_mark=liquidation.price,
                       liquidation_mark_ts_ms=liquidation.ts_ms)
    if reference is not None and _newer(view.reference_price_ts_ms, reference.ts_ms):
        changes.update(reference_price=reference.price, reference_price_ts_ms=reference.ts_ms)
    return changes


def _merge_marks(view: MarketView, settlement: TickerPrice | None,
                 liquidation: TickerPrice | None,
                 reference: TickerPrice | None) -> MarketView:
    changes = _mark_changes(view, settlement, liquidation, reference)
    return replace(view, **changes) if changes else view


_VIEW_FIELDS = tuple(MarketView.__dataclass_fields__)


class _LiveMarket:
    """A mutable working copy of one :class:`MarketView`, merged in place by tickers."""

    __slots__ = _VIEW_FIELDS
    ticker: str
    last_price: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    settlement_mark: Decimal | None
    settlement_mark_ts_ms: int | None
    liquidation_mark: Decimal | None
    liquidation_mark_ts_ms: int | None
    reference_price: Decimal | None
    reference_price_ts_ms: int | None
    funding_rate: Decimal | None
    next_funding_time_ms: int | None
    funding_ts_ms: int | None
    ts_ms: int | None
    contract_size: Decimal | None

    @classmethod
    def of(cls, view: MarketView) -> _LiveMarket:
        live = cls.__new__(cls)
        for name in _VIEW_FIELDS:
            setattr(live, name, getattr(view, name))
        return live

    def view(self) -> MarketView:
        return MarketView(*[getattr(self, name) for name in _VIEW_FIELDS])

    def merge(self, body: TickerBody) -> bool:
        """Take what is newer in ``body``; True if any field changed."""
        before = (self.settlement_mark, self.settlement_mark_ts_ms, self.liquidation_mark,
                  self.liquidation_mark_ts_ms, self.reference_price,
                  self.reference_price_ts_ms, self.ts_ms, self.last_price, self.bid,
                  self.ask, self.funding_rate, self.next_funding_time_ms, self.funding_ts_ms)
        mark = body.settlement_mark_price
        if mark is not None and _newer(self.settlement_mark_ts_ms, mark.ts_ms):
            self.settlement_mark, self.settlement_mark_ts_ms = mark.price, mark.ts_ms
        mark = body.liquidation_mark_price
        if mark is not None and _newer(self.liquidation_mark_ts_ms, mark.ts_ms):
            self.liquidation_mark, self.liquidation_mark_ts_ms = mark.price, mark.ts_ms
        mark = body.reference_price
        if mark is not None and _newer(self.reference_price_ts_ms, mark.ts_ms):
            self.reference_price, self.reference_price_ts_ms = mark.price, mark.ts_ms
        if _newer(self.ts_ms, body.ts_ms):
            if body.ts_ms is not None:
                self.ts_ms = body.ts_ms
            if body.price is not None:
                self.last_price = body.price
            if body.bid is not None:
                self.bid = body.bid
            if body.ask is not None:
                self.ask = body.ask
        fr = body.funding_rate
        if fr is not None and _newer(self.funding_ts_ms, fr.ts_ms):
            self.funding_rate = fr.rate
            self.next_funding_time_ms = fr.next_funding_time_ms
            self.funding_ts_ms = fr.ts_ms
        return before != (
            self.settlement_mark, self.settlement_mark_ts_ms, self.liquidation_mark,
            self.liquidation_mark_ts_ms, self.reference_price, self.reference_price_ts_ms,
            self.ts_ms, self.last_price, self.bid, self.ask, self.funding_rate,
            self.next_funding_time_ms, self.funding_ts_ms)
