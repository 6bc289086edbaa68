"""Read-only answers for the REST routes. Nothing here changes state."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from .errors import invalid_parameters
from .events import FillEvent, FundingPayment, PublicTrade
from .ledger import q4
from .margin import liquidation_price, mm_for, summarize
from .orders import Order
from .risk import user_usage
from .state import State
from .views import (
    BalanceView,
    BookView,
    FeeTiers,
    FundingEstimate,
    FundingRateRecord,
    NotionalLimitView,
    OrderView,
    Page,
    PositionView,
    RiskParameters,
    RiskPositionView,
    RiskView,
    SubaccountBalance,
)

__all__ = ["page_newest_first", "orderbook", "trades", "list_orders", "fills", "positions",
           "balance", "risk", "risk_parameters", "notional_limit", "fee_tiers",
           "funding_estimate", "funding_rates", "funding_history", "FEE_TIER_ROWS"]

T = TypeVar("T")
ZERO = Decimal(0)
MAX_LIMIT = 10_000
# Fee schedule rows (tier, maker, taker) from the 2026-06-24 filing (market-facts.md §7).
FEE_TIER_ROWS: tuple[tuple[int, str, str], ...] = (
    (0, "0.0005", "0.0012"), (1, "0.0004", "0.0010"), (2, "0.00032", "0.0008"),
    (3, "0.00024", "0.0006"), (4, "0.0002", "0.0005"), (5, "0.00016", "0.0004"),
    (6, "0.00014", "0.00035"), (7, "0.00012", "0.00032"), (8, "0.0001", "0.0003"),
    (9, "0.00008", "0.00028"), (10, "0.00006", "0.00026"),
)


def _parse_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(cursor)
    except ValueError:
        raise invalid_parameters(f"invalid cursor: {cursor!r}") from None
    if value < 0:
        raise invalid_parameters(f"invalid cursor: {cursor!r}")
    return value


def page_newest_first(items: Sequence[tuple[int, T]] | deque[tuple[int, T]], limit: int,
                      cursor: str | None, keep: Callable[[T], bool]) -> Page[T]:
    """Page ``(seq, item)`` pairs (ascending seq) newest first.

    The cursor is the seq of the last item returned: the next page starts strictly
    below it, so items added meanwhile never shift a page (a stable cursor). Walks from
    the newest end without copying, so recent pages are cheap.
    """
    if limit < 1 or limit > MAX_LIMIT:
        raise invalid_parameters(f"limit must be 1..{MAX_LIMIT}")
    before = _parse_cursor(cursor)
    out: list[T] = []
    last_seq = 0
    more = False
    for seq, item in reversed(items):
        if before is not None and seq >= before:
            continue
        if not keep(item):
            continue
        if len(out) == limit:
            more = True
            break
        out.append(item)
        last_seq = seq
    return Page(items=out, cursor=str(last_seq) if more else "")


def orderbook(st: State, ticker: str, depth: int) -> BookView:
    if depth < 0:
        raise invalid_parameters("depth must be >= 0")
    book = st.market(ticker).book
    return BookView(ticker=ticker, bids=book.bids.depth(depth), asks=book.asks.depth(depth))


def trades(st: State, ticker: str | None, min_ts: int | None, max_ts: int | None, limit: int,
           cursor: str | None) -> Page[PublicTrade]:
    pairs = st.market(ticker).trades if ticker is not None else st.trades

    def keep(t: PublicTrade) -> bool:
        return (min_ts is None or t.ts_ms >= min_ts) and (max_ts is None or t.ts_ms <= max_ts)

    return page_newest_first(pairs, limit, cursor, keep)


STATUS_ALIASES = {"open": "resting", "resting": "resting", "executed": "executed",
                  "canceled": "canceled", "cancelled": "canceled"}


def list_orders(st: State, user_id: str, ticker: str | None, status: str | None,
                subaccount: int | None, min_ts: int | None, max_ts: int | None, limit: int,
                cursor: str | None) -> Page[OrderView]:
    acct = st.account(user_id)
    want = STATUS_ALIASES.get(status or "")
    pairs = [(s, st.orders[o]) for s, o in zip(acct.order_seqs, acct.orders, strict=True)]

    def keep(o: Order) -> bool:
        if ticker is not None and o.ticker != ticker:
            return False
        if subaccount is not None and o.subaccount != subaccount:
            return False
        if min_ts is not None and o.created_ts_ms < min_ts:
            return False
        if max_ts is not None and o.created_ts_ms > max_ts:
            return False
        return want is None or o.view().status == want

    page = page_newest_first(pairs, limit, cursor, keep)
    return Page(items=[o.view() for o in page.items], cursor=page.cursor)


def fills(st: State, user_id: str, subaccount: int | None, ticker: str | None,
          min_ts: int | None, max_ts: int | None, limit: int,
          cursor: str | None) -> Page[FillEvent]:
    if limit > 1000:
        raise invalid_parameters("limit must be 1..1000")

    def keep(f: FillEvent) -> bool:
        return ((subaccount is None or f.subaccount == subaccount)
                and (ticker is None or f.ticker == ticker)
                and (min_ts is None or f.ts_ms >= min_ts)
                and (max_ts is None or f.ts_ms <= max_ts))

    return page_newest_first(st.account(user_id).fills, limit, cursor, keep)


def positions(st: State, user_id: str, subaccount: int | None,
              ticker: str | None) -> list[PositionView]:
    acct = st.account(user_id)
    out: list[PositionView] = []
    for number in sorted(acct.subaccounts):
        if subaccount is not None and number != subaccount:
            continue
        sub = acct.subaccounts[number]
        for t, pos in sub.positions.items():
            if pos.qty == 0 or (ticker is not None and t != ticker):
                continue
            m = st.markets[t]
            mark = m.mark
            upnl = q4(pos.qty * mark - pos.cost)
            mm = mm_for(m.cfg, pos.qty, mark)
            roe = None if mm == 0 else upnl / mm * 100
            out.append(PositionView(user_id=user_id, subaccount=number, ticker=t,
                                    position=pos.qty, entry_price=pos.entry_price(),
                                    cost_basis=pos.cost, mark_price=mark, unrealized_pnl=upnl,
                                    realized_pnl=pos.realized, margin_used=mm, fees=pos.fees,
                                    roe=roe))
    return out


def balance(st: State, user_id: str) -> BalanceView:
    acct = st.account(user_id)
    marks = st.marks()
    rows: list[SubaccountBalance] = []
    settled = ZERO
    for number in sorted(acct.subaccounts):
        sub = acct.subaccounts[number]
        s = summarize(sub, st.configs, marks)
        settled += sub.cash
        rows.append(SubaccountBalance(
            subaccount=number, cash=sub.cash, position_value=q4(s.position_value),
            account_equity=q4(s.equity), maintenance_margin=s.mm, initial_margin=s.im,
            resting_orders_margin=s.rom, available_balance=q4(s.available),
            margin_ratio=s.margin_ratio))
    return BalanceView(settled_funds=settled, subaccount_balances=rows)


def risk(st: State, user_id: str, subaccount: int | None) -> RiskView:
    acct = st.account(user_id)
    threshold = st.config.liquidation_margin_ratio_threshold
    rows: list[RiskPositionView] = []
    total_n = total_mm = ZERO
    for number in sorted(acct.subaccounts):
        if subaccount is not None and number != subaccount:
            continue
        sub = acct.subaccounts[number]
        open_positions = [(t, p) for t, p in sub.positions.items() if p.qty != 0]
        for t, pos in open_positions:
            m = st.markets[t]
            mark = m.mark
            notional = abs(pos.qty) * mark
            mm = mm_for(m.cfg, pos.qty, mark)
            liq = None
            if len(open_positions) == 1:
                liq = liquidation_price(m.cfg, pos.qty, pos.cost, sub.cash, threshold, mark)
            rows.append(RiskPositionView(
                subaccount=number, ticker=t, position=pos.qty, mark_price=mark,
                position_notional=q4(notional), maintenance_margin_required=mm,
                position_leverage=None if mm == 0 else q4(notional / mm),
                estimated_liquidation_price=liq))
            total_n += notional
            total_mm += mm
    lev = None if total_mm == 0 else q4(total_n / total_mm)
    return RiskView(account_leverage=lev, total_position_notional=q4(total_n),
                    total_maintenance_margin=total_mm, positions=rows)


def risk_parameters(st: State) -> RiskParameters:
    return RiskParameters(
        liquidation_margin_ratio_threshold=st.config.liquidation_margin_ratio_threshold,
        queue_entry_margin_ratio_threshold=st.config.queue_entry_margin_ratio_threshold,
        initial_margin_multiplier={t: c.initial_margin_multiplier
                                   for t, c in st.configs.items()})


def notional_limit(st: State, user_id: str) -> NotionalLimitView:
    acct = st.account(user_id)
    usage = {t: q4(u) for t, u in user_usage(st, acct).items()}
    return NotionalLimitView(
        default_notional_value_risk_limit=acct.notional_limit,
        notional_value_risk_limits_by_market_ticker=dict(acct.market_limits),
        total_current_usage=q4(sum(usage.values(), ZERO)),
        current_usage_by_market_ticker=usage)


def fee_tiers(st: State) -> FeeTiers:
    return FeeTiers(
        maker_fee_rates={t: c.maker_fee_rate for t, c in st.configs.items()},
        taker_fee_rates={t: c.taker_fee_rate for t, c in st.configs.items()},
        fee_schedule=st.config.fee_schedule,
        tier_rates=[(n, Decimal(mk), Decimal(tk)) for n, mk, tk in FEE_TIER_ROWS])


def funding_estimate(st: State, ticker: str, now_ms: int | None) -> FundingEstimate:
    m = st.market(ticker)
    if now_ms is not None:
        st.tick(now_ms)
    now = st.now_ms
    m.accumulate(now)
    return FundingEstimate(ticker=ticker, computed_time_ms=now, funding_rate=m.funding_estimate,
                           mark_price=m.settlement_mark.price,
                           next_funding_time_ms=m.next_funding_time(now),
                           premium_index=m.premium_index().quantize(Decimal("1E-6")),
                           premium_index_ts_ms=now)


def funding_rates(st: State, ticker: str | None, start: int | None,
                  end: int | None) -> list[FundingRateRecord]:
    markets = [st.market(ticker)] if ticker is not None else list(st.markets.values())
    out = [FundingRateRecord(ticker=r.ticker, funding_time_ms=r.funding_time_ms,
                             funding_rate=r.funding_rate, mark_price=r.mark_price)
           for m in markets for r in m.funding_history
           if (start is None or r.funding_time_ms >= start)
           and (end is None or r.funding_time_ms <= end)]
    out.sort(key=lambda r: (-r.funding_time_ms, r.ticker))
    return out


def funding_history(st: State, user_id: str, ticker: str | None, subaccount: int | None,
                    start: int | None, end: int | None) -> list[FundingPayment]:
    rows = [p for p in st.account(user_id).funding
            if (ticker is None or p.ticker == ticker)
            and (subaccount is None or p.subaccount == subaccount)
            and (start is None or p.funding_time_ms >= start)
            and (end is None or p.funding_time_ms <= end)]
    rows.reverse()
    return rows
