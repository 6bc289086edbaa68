"""Margin state properties: arrival order and duplicates never change the outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_margin_stream.core.margin.state import MarginState
from kalshi_margin_stream.core.messages import (
    FillBody,
    Side,
    TickerBody,
    TickerPrice,
    UserOrderBody,
)
from kalshi_margin_stream.core.rest_models import (
    BalanceResponse,
    Fill,
    MarginMarket,
    Position,
    PositionsResponse,
    SubaccountBalance,
)

D = Decimal
TICKERS = ("KXBTCPERP", "KXETHPERP")
SETTINGS = settings(max_examples=120, deadline=None)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@st.composite
def fill_sequences(draw: st.DrawFn, max_burst: int = 3) -> list[FillBody]:
    """Fills in exchange order: orders of 1..max_burst fills sharing one ms and one side."""
    held = dict.fromkeys(TICKERS, D(0))
    ts = 1_781_268_000_000
    fills: list[FillBody] = []
    for i in range(draw(st.integers(1, 10))):
        ticker = draw(st.sampled_from(TICKERS))
        side: Side = draw(st.sampled_from(["bid", "ask"]))
        ts += draw(st.integers(1, 1000))
        for j in range(draw(st.integers(1, max_burst))):
            count = D(draw(st.integers(1, 5)))
            held[ticker] += count if side == "bid" else -count
            fills.append(FillBody(
                trade_id=f"t{i}.{j}", order_id=f"o{i}", market_ticker=ticker, is_taker=True,
                side=side, ts_ms=ts, price=D(draw(st.integers(50_000, 70_000))).scaleb(-4),
                count=count, fee_cost=D(draw(st.integers(0, 100))).scaleb(-4),
                post_position=held[ticker], subaccount=0))
    return fills


def outcome(state: MarginState) -> tuple[object, ...]:
    snap = state.snapshot()
    acct = snap.account(0)
    positions = {t: (p.count, p.cost_basis, p.realized_pnl, p.fees, p.gaps)
                 for t, p in acct.positions.items()}
    return (positions, acct.realized_pnl, acct.fees, acct.cash, snap.fills_count)


def rest_twin(f: FillBody) -> Fill:
    return Fill(fill_id="f-" + f.trade_id, order_id=f.order_id, ticker=f.market_ticker,
                side=f.side, count=f.count, price=f.price, created_time=iso(f.ts_ms),
                fees=f.fee_cost, is_taker=f.is_taker)


@SETTINGS
@given(data=st.data(), fills=fill_sequences())
def test_any_interleaving_with_duplicates_gives_the_same_state(
        data: st.DataObject, fills: list[FillBody]) -> None:
    reference = MarginState()
    for f in fills:
        assert reference.apply_fill(f)
    order = data.draw(st.permutations(range(len(fills))))
    dupes = data.draw(st.lists(st.integers(0, len(fills) - 1), max_size=len(fills)))
    shuffled = MarginState()
    for i in [*order, *dupes]:
        shuffled.apply_fill(fills[i])
    assert outcome(shuffled) == outcome(reference)
    assert shuffled.snapshot().counters["fills_duplicate"] == len(dupes)
    for ticker in TICKERS:
        last = [f.post_position for f in fills if f.market_ticker == ticker]
        pos = reference.snapshot().account(0).positions.get(ticker)
        assert (pos.count if pos else D(0)) == (last[-1] if last else D(0))


@SETTINGS
@given(data=st.data(), fills=fill_sequences(max_burst=1))
def test_ws_and_rest_sources_in_any_order_count_each_fill_once(
        data: st.DataObject, fills: list[FillBody]) -> None:
    reference = MarginState()
    for f in fills:
        reference.apply_fill(f)
    deliveries: list[tuple[str, int]] = []
    for i in range(len(fills)):
        how = data.draw(st.sampled_from(["ws", "rest", "both"]))
        if how in ("ws", "both"):
            deliveries.append(("ws", i))
        if how in ("rest", "both"):
            deliveries.append(("rest", i))
    deliveries = data.draw(st.permutations(deliveries))
    mixed = MarginState()
    for source, i in deliveries:
        if source == "ws":
            mixed.apply_fill(fills[i])
        else:
            mixed.reconcile_fills([rest_twin(fills[i])])
    got, want = outcome(mixed), outcome(reference)
    assert got == want


@SETTINGS
@given(fills=fill_sequences(), cash=st.integers(0, 10**7),
       marks=st.lists(st.integers(40_000, 80_000), min_size=4, max_size=4),
       bids=st.integers(0, 20), asks=st.integers(0, 20))
def test_equity_and_margin_identities(fills: list[FillBody], cash: int, marks: list[int],
                                      bids: int, asks: int) -> None:
    state = MarginState()
    state.set_markets([MarginMarket(ticker=t, leverage_estimates={"1000": D("5.899"),
                                                                  "1000000": D("4.2")})
                       for t in TICKERS])
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D(cash).scaleb(-4))]), as_of_ms=0)
    for f in fills:
        state.apply_fill(f)
    for k, t in enumerate(TICKERS):
        settle, liq = D(marks[2 * k]).scaleb(-4), D(marks[2 * k + 1]).scaleb(-4)
        state.apply_ticker(TickerBody(
            market_ticker=t, ts_ms=1, settlement_mark_price=TickerPrice(price=settle, ts_ms=1),
            liquidation_mark_price=TickerPrice(price=liq, ts_ms=1)))
    sides: tuple[tuple[Side, int], ...] = (("bid", bids), ("ask", asks))
    for n, (side, count) in enumerate(sides):
        if count:
            state.apply_order(UserOrderBody(order_id=f"r{n}", ticker=TICKERS[0], side=side,
                                            price=D("6.0000"), fill_count=D(0),
                                            remaining_count=D(count)))
    acct = state.snapshot().account(0)
    assert acct.complete
    upnl = sum((p.unrealized_pnl or D(0) for p in acct.positions.values()), D(0))
    assert acct.unrealized_pnl == upnl
    assert acct.equity == acct.cash + acct.unrealized_pnl
    assert acct.cash == D(cash).scaleb(-4) + acct.realized_pnl - acct.fees
    assert acct.margin_used == acct.initial_margin + acct.resting_orders_margin
    assert acct.available_balance == acct.equity - acct.margin_used
    assert acct.resting_orders_margin >= 0
    for p in acct.positions.values():
        assert p.maintenance_margin is not None and p.initial_margin is not None
        assert 0 < p.maintenance_margin <= p.initial_margin
        assert p.unrealized_pnl == p.count * (p.mark or D(0)) - (p.cost_basis or D(0))


@st.composite
def order_histories(draw: st.DrawFn) -> list[UserOrderBody]:
    """Snapshots of one order in exchange order: fills grow, rests shrink, maybe it ends."""
    size = D(draw(st.integers(1, 20)))
    filled = D(0)
    remaining = size
    ts = 1000
    out = []
    for _ in range(draw(st.integers(1, 8))):
        ts += draw(st.integers(0, 5))
        step = draw(st.sampled_from(["fill", "decrease", "amend", "cancel"]))
        if step == "fill":
            k = D(draw(st.integers(1, int(remaining))))
            filled, remaining = filled + k, remaining - k
        elif step == "decrease" and remaining > 1:
            remaining -= 1
        elif step == "cancel":
            remaining = D(0)
        out.append(UserOrderBody(order_id="o", ticker="KXBTCPERP", side="bid",
                                 price=D("5.0000"), fill_count=filled,
                                 remaining_count=remaining, last_updated_ts_ms=ts))
        if remaining == 0:
            break
    return out


@SETTINGS
@given(data=st.data(), history=order_histories())
def test_late_order_snapshots_never_move_fill_count_back(
        data: st.DataObject, history: list[UserOrderBody]) -> None:
    arrivals = data.draw(st.lists(st.sampled_from(history), min_size=1,
                                  max_size=3 * len(history)))
    state = MarginState()
    best = D(-1)
    for body in [*arrivals, *data.draw(st.permutations(history))]:
        state.apply_order(body)
        known = state.order("o")
        assert known is not None and known.fill_count >= best
        best = known.fill_count
    final = state.order("o")
    assert final is not None and final.fill_count == history[-1].fill_count
    ended = history[-1].remaining_count == 0
    assert ("o" in state.snapshot().account(0).open_orders) is not ended


@SETTINGS
@given(data=st.data(), fills=fill_sequences(max_burst=1))
def test_reconnect_reconcile_never_double_counts(data: st.DataObject,
                                                 fills: list[FillBody]) -> None:
    """Live fills up to a disconnect, a REST read at some point, the rest from REST and
    late socket frames in any order: the same positions, fills and cash as live-only."""
    reference = MarginState()
    reference.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D(1000))]), as_of_ms=0)
    for f in fills:
        reference.apply_fill(f)
    cut = data.draw(st.integers(0, len(fills)))  # the REST read sees fills[:cut]
    seen_live = data.draw(st.integers(0, cut))  # the socket delivered fills[:seen_live]
    upto = MarginState()
    upto.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D(1000))]), as_of_ms=0)
    for f in fills[:cut]:
        upto.apply_fill(f)
    then = upto.snapshot().account(0)
    as_of = fills[cut - 1].ts_ms if cut else 0

    state = MarginState()
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D(1000))]), as_of_ms=0)
    for f in fills[:seen_live]:
        state.apply_fill(f)
    rows = [Position(market_ticker=t, position=p.count,
                     entry_price=None if p.cost_basis is None else p.cost_basis / p.count,
                     unrealized_pnl=D(0))
            for t, p in then.positions.items()]
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=then.cash)]), as_of_ms=as_of,
        positions=PositionsResponse(positions=rows))
    rest_rows = [rest_twin(f) for f in fills[seen_live:]]
    late = [("ws", i) for i in range(seen_live, len(fills))
            if data.draw(st.booleans())] + [("rest", 0)]
    for source, i in data.draw(st.permutations(late)):
        if source == "ws":
            state.apply_fill(fills[i])
        else:
            state.reconcile_fills(rest_rows)
    got, want = state.snapshot(), reference.snapshot()
    assert got.fills_count == want.fills_count == len(fills)
    assert {t: p.count for t, p in got.account(0).positions.items()} == {
        t: p.count for t, p in want.account(0).positions.items()}
    assert abs(got.account(0).cash - want.account(0).cash) < D("1e-12")
