"""Cross-check against the simulator's engine, in process (no sockets, no clock).

Our fills, orders and ticker updates from a seeded session, fed to ``MarginState``
(with duplicates, and fills arriving late), must give the engine's own ledger:
positions and cost basis, realised PnL, fees, cash and resting orders exactly,
and margin within margin-model.md §8.6's tolerance (the published leverage
estimates are rounded to 4 places, so the MM rate is not bit-exact).
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from kalshi_margin_stream.core.margin.state import MarginState
from kalshi_margin_stream.core.messages import FillBody, TickerBody, TickerPrice, UserOrderBody
from kalshi_margin_stream.core.rest_models import (
    BalanceResponse,
    MarginMarket,
    RiskParameters,
    SubaccountBalance,
)
from kalshi_margin_stream.sim.engine import (
    Event,
    Exchange,
    ExchangeConfig,
    FillEvent,
    MarketStats,
    OrderUpdate,
    Rejection,
    SyntheticFlow,
    TickerUpdate,
    default_markets,
)

D = Decimal
TICKERS = ["KXBTCPERP", "KXETHPERP"]
T0 = 1_781_268_000_000
USER = "f50604b8-d25a-4b0c-b3c9-ce5b48ffcad0"
TICK = D("0.0001")


def ticker_body(s: MarketStats) -> TickerBody:
    return TickerBody(
        market_ticker=s.config.ticker, price=s.price, bid=s.bid, ask=s.ask, ts_ms=s.ts_ms,
        settlement_mark_price=TickerPrice(price=s.settlement_mark_price.price,
                                          ts_ms=s.settlement_mark_price.ts_ms),
        liquidation_mark_price=TickerPrice(price=s.liquidation_mark_price.price,
                                           ts_ms=s.liquidation_mark_price.ts_ms))


def to_ws(ev: Event) -> FillBody | UserOrderBody | TickerBody | None:
    if isinstance(ev, FillEvent) and ev.user_id == USER:
        return FillBody(trade_id=ev.trade_id, order_id=ev.order_id, market_ticker=ev.ticker,
                        is_taker=ev.is_taker, side=ev.side, ts_ms=ev.ts_ms, price=ev.price,
                        count=ev.count, fee_cost=ev.fee_cost, post_position=ev.post_position,
                        client_order_id=ev.client_order_id, subaccount=ev.subaccount,
                        order_source=ev.order_source)
    if isinstance(ev, OrderUpdate) and ev.order.user_id == USER:
        o = ev.order
        return UserOrderBody(order_id=o.order_id, ticker=o.ticker, side=o.side, price=o.price,
                             fill_count=o.fill_count, remaining_count=o.remaining_count,
                             created_ts_ms=o.created_ts_ms, last_updated_ts_ms=o.last_update_ts_ms,
                             last_update_reason=o.last_update_reason,
                             subaccount_number=o.subaccount, order_group_id=o.order_group_id)
    if isinstance(ev, TickerUpdate):
        return ticker_body(ev.stats)
    return None


def run_session(seed: int) -> tuple[Exchange, list[FillBody | UserOrderBody | TickerBody]]:
    ex = Exchange(ExchangeConfig(markets=default_markets(TICKERS)), seed=seed, now_ms=T0)
    ex.add_user(USER)
    flow = SyntheticFlow(ex, seed=seed)
    rng = random.Random(seed)
    events: list[Event] = list(flow.seed_books(T0))
    now = T0
    for i in range(40):
        now += 150
        events += flow.step(now, actions=4)
        t = rng.choice(TICKERS)
        m = ex.market(t)
        side = rng.choice(["bid", "ask"])
        count = D(rng.randint(1, 6))
        aggressive = rng.random() < 0.7
        if side == "bid":
            assert m.ask is not None and m.bid is not None
            price = m.ask + 5 * TICK if aggressive else m.bid - 20 * TICK
        else:
            assert m.ask is not None and m.bid is not None
            price = m.bid - 5 * TICK if aggressive else m.ask + 20 * TICK
        try:
            res = ex.create_order(USER, ticker=t, client_order_id=f"c{i}", side=side,  # type: ignore[arg-type]
                                  count=count, price=price, now_ms=now,
                                  time_in_force="immediate_or_cancel" if aggressive
                                  else "good_till_canceled")
        except Rejection:
            continue
        events += res.events
    ws = [b for b in (to_ws(ev) for ev in events) if b is not None]
    return ex, ws


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_margin_state_matches_the_simulator_ledger(seed: int) -> None:
    ex, ws = run_session(seed)
    state = MarginState()
    cfgs = {m.config.ticker: m.config for m in ex.markets()}
    state.set_markets([
        MarginMarket(ticker=t, leverage_estimates={
            k: cfgs[t].leverage_estimate(D(k)).quantize(TICK) for k in ("1000", "10000",
                                                                         "100000", "1000000")})
        for t in TICKERS])
    params = ex.risk_parameters()
    state.set_risk_parameters(RiskParameters(
        liquidation_margin_ratio_threshold=params.liquidation_margin_ratio_threshold,
        queue_entry_margin_ratio_threshold=params.queue_entry_margin_ratio_threshold,
        initial_margin_multiplier=dict(params.initial_margin_multiplier)))
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D("10000.0000"))]), as_of_ms=T0 - 1)

    fills = [b for b in ws if isinstance(b, FillBody)]
    assert len(fills) >= 10, "the session should trade"
    rng = random.Random(3)
    late = set(rng.sample(range(len(fills)), len(fills) // 3))
    held_back = [f for i, f in enumerate(fills) if i in late]
    for body in ws:
        if isinstance(body, FillBody):
            if fills.index(body) in late:
                continue
            assert state.apply_fill(body)
            assert not state.apply_fill(body)
        elif isinstance(body, UserOrderBody):
            state.apply_order(body)
        else:
            state.apply_ticker(body)
    for body in reversed(held_back):
        assert state.apply_fill(body)
    for m in ex.markets():
        state.apply_ticker(ticker_body(m))

    snap = state.snapshot()
    acct = snap.account(0)
    sim_positions = {p.ticker: p for p in ex.positions(USER) if p.position != 0}
    assert {t: (p.count, p.cost_basis) for t, p in acct.positions.items()} == {
        t: (p.position, p.cost_basis) for t, p in sim_positions.items()}
    sim_fills = ex.fills(USER, limit=1000).items
    assert snap.fills_count == len(sim_fills) == len(fills)
    assert acct.realized_pnl == sum((f.realized_pnl for f in sim_fills), D(0))
    assert acct.fees == sum((f.fee_cost for f in sim_fills), D(0))
    sim_bal = ex.balance(USER).subaccount_balances[0]
    assert sim_bal.subaccount == 0
    assert acct.cash == sim_bal.cash
    resting = {o.order_id for o in ex.list_orders(USER, status="resting").items}
    assert set(acct.open_orders) == resting
    # The engine values everything at the liquidation mark: compare like with like.
    assert acct.margin_equity == sim_bal.account_equity
    tolerance = max(D("0.0002") * (len(sim_positions) + 1),
                    D("0.005") * sim_bal.maintenance_margin)
    assert abs(acct.maintenance_margin - sim_bal.maintenance_margin) <= tolerance
    assert abs(acct.initial_margin - sim_bal.initial_margin) <= tolerance * D("1.3")
    assert abs(acct.resting_orders_margin - sim_bal.resting_orders_margin) <= tolerance * 3
