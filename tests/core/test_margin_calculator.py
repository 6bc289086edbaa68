"""The pre-trade calculator on the recorded real demo account, and on bad input.

The demo fixture (2026-06-12, margin-model.md §3.2, copied in tests/data/rest):
long 1 KXBTCPERP1 at 6.3587, settled funds 50.0500, mark 6.3329 (the mark
``/margin/risk`` used, which equalled the last trade: ``mark_source="last"``).
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kalshi_margin_stream.core.margin.calculator import (
    MarginCalculator,
    OrderRequest,
    evaluate_request,
)
from kalshi_margin_stream.core.margin.reconcile import reconcile
from kalshi_margin_stream.core.rest_models import (
    BalanceResponse,
    FeeTiers,
    MarketResponse,
    NotionalRiskLimit,
    PositionsResponse,
    RiskParameters,
    RiskResponse,
)
from kalshi_margin_stream.exceptions import InvalidRequest
from kalshi_margin_stream.rest.margins import MarginReads, build_margin_reads

DATA = Path(__file__).parent.parent / "data" / "rest"
D = Decimal
T = "KXBTCPERP1"


def load(name: str, model: type[Any]) -> Any:
    return msgspec.json.decode((DATA / f"{name}.json").read_bytes(), type=model)


def demo_reads(risk_body: bytes | None = None) -> MarginReads:
    risk = load("risk__account", RiskResponse) if risk_body is None else \
        msgspec.json.decode(risk_body, type=RiskResponse)
    return build_margin_reads(
        params=load("risk__parameters", RiskParameters),
        markets=[load("markets__single", MarketResponse).market],
        fee_tiers=load("fees__tiers", FeeTiers),
        notional_limit=load("risk__notional_limit", NotionalRiskLimit),
        positions=load("positions__open", PositionsResponse).positions,
        balance=load("balance__compute_available", BalanceResponse), risk=risk, orders=[],
        static_ms=1_781_268_000_000, account_ms=1_781_268_000_000,
        orders_ms=1_781_268_000_000, now_ms=1_781_268_000_500)


def calc() -> MarginCalculator:
    return demo_reads().calculator(mark_source="last")


def order(**kw: Any) -> dict[str, Any]:
    base = {"ticker": T, "side": "bid", "count": "1", "price": "6.3416"}
    base.update(kw)
    return base


def test_the_recorded_demo_account_reproduces_to_the_hundredth_of_a_cent() -> None:
    result = calc().order_margins([order()])[0]
    assert result["ok"], result["errors"]
    assert result["equity"]["before"] == "50.0242"
    assert result["initial_margin"]["before"] == "1.0737"
    assert result["maintenance_margin"]["before"] == "0.8259"
    assert result["available_balance"]["before"] == "48.9505"
    assert result["resting_orders_margin"]["before"] == "0.0000"
    assert result["liquidation_price"]["before"] is None  # the exchange omitted it too
    assert result["position"] == {"before": "1.00", "after": "2.00", "opening": "1.00",
                                  "closing": "0.00"}
    basis = result["basis"]
    assert basis["mark"] == "6.3329" and basis["mark_source"] == "last"
    assert basis["confidence"]["im_multiplier"] == "spec"
    assert basis["confidence"]["mm_rate"] == "inferred"
    assert basis["risk_params_ts_ms"] == 1_781_268_000_000


def test_a_reduce_to_flat_shows_the_leverage_the_exchange_reported() -> None:
    c = calc()
    add = c.order_margins([order(price="6.3329", post_only=True)])[0]
    assert add["liquidity"] == "maker"  # 6.3329 is the best bid: it would rest
    flat = c.order_margins([order(side="ask", price="6.3329", time_in_force="fill_or_kill",
                                  reduce_only=True)])[0]
    assert flat["initial_margin"] == {"before": "1.0737", "after": "0.0000",
                                      "delta": "-1.0737"}
    assert flat["pnl"]["realised"] == "-0.0258"
    assert flat["total"] == D(flat["fees"]["amount"]).quantize(D("0.0001")).to_eng_string()
    # Leverage of the held position: 6.3329 / 0.8259 = 7.6679 (what /margin/risk said).
    assert flat["leverage"]["position_before"] == "7.6679"
    assert flat["leverage"]["account_before"] == "7.6679"
    assert flat["leverage"]["position_after"] is None


def test_reconcile_finds_the_recorded_reads_consistent() -> None:
    report = demo_reads().reconcile()
    assert report.ok, report.lines()
    assert report.mismatches == ()
    assert report.checked >= 10
    assert report.lines()[-1].startswith("OK")


def test_reconcile_checks_equity_against_the_settled_funds() -> None:
    """M4 without circularity: 50.0500 settled + 1 x (6.3329 - 6.3587) = 50.0242 reported."""
    reads = demo_reads()
    assert reads.snapshot.account(0).cash == reads.balance.settled_funds == D("50.0500")
    body = json.loads((DATA / "balance__compute_available.json").read_text())
    body["settled_funds"] = "50.0600"
    balance = msgspec.json.decode(json.dumps(body).encode(), type=BalanceResponse)
    report = reconcile(balance, reads.risk, reads.positions, reads.model)
    [bad] = report.mismatches
    assert bad.field.startswith("settled_funds") and bad.ours == D("50.0500")
    assert report.lines()[0].startswith("ERROR identity account settled_funds")


def test_reconcile_reports_one_line_per_mismatch() -> None:
    body = json.loads((DATA / "risk__account.json").read_text())
    body["positions"][0]["maintenance_margin_required"] = "0.9000"
    body["positions"][0]["position_notional"] = "6.4000"
    reads = demo_reads(json.dumps(body).encode())
    report = reconcile(reads.balance, reads.risk, reads.positions, reads.model)
    assert not report.ok
    fields = {m.field for m in report.mismatches}
    assert {"position_notional", "maintenance_margin_required", "margin_used"} <= fields
    mm = next(m for m in report.mismatches if m.check == "model_mm")
    assert mm.severity == "recalibrate" and mm.ours == D("0.8259")
    lines = report.lines()
    assert len(lines) == len(report.mismatches) + 1
    assert any("model_mm sub 0 KXBTCPERP1 maintenance_margin_required" in ln for ln in lines)


@pytest.mark.parametrize(("changes", "code"), [
    ({"ticker": "KXNOPE"}, "unknown_ticker"),
    ({"price": "6.34165"}, "invalid_price"),
    ({"count": "1e3"}, "invalid_count"),
    ({"price": "6.3e0"}, "invalid_price"),
    ({"count": "-5"}, "invalid_count"),
    ({"count": "0"}, "invalid_count"),
    ({"count": "0.00"}, "invalid_count"),
    ({"count": "1.5"}, "invalid_count"),
    ({"count": 2.0}, "invalid_count"),
    ({"price": 6.3416}, "invalid_price"),
    ({"price": "0"}, "invalid_price"),
    ({"side": "buy"}, "invalid_side"),
    ({"reduce_only": True}, "reduce_only_tif"),
    ({"time_in_force": "day"}, "invalid_time_in_force"),
    ({"post_only": "yes"}, "invalid_flag"),
    ({"cout": "1"}, "unknown_field"),
])
def test_bad_orders_get_a_clear_error_each_and_the_others_still_compute(
        changes: dict[str, Any], code: str) -> None:
    results = calc().order_margins([order(**changes), order()])
    bad, good = results
    assert bad["ok"] is False and bad["error"]["code"] == code
    assert bad["error"]["message"]
    assert good["ok"] is True and "error" not in good


def test_huge_counts_and_prices_are_a_clear_error_never_a_decimal_exception() -> None:
    """A count of 10^23 used to end in decimal.InvalidOperation from the MM quantize."""
    results = calc().basket_margins([order(count="99999999999999999999999"),
                                     order(side="ask", price="99999999999999999999.9999")])
    assert results["ok"] is False
    assert [o["error"]["code"] for o in results["orders"]] == ["invalid_count",
                                                               "invalid_price"]
    assert "above 1,000,000,000" in results["orders"][0]["error"]["message"]
    at_limit = calc().basket_margins([order(count="1000000000"), order(count="1000000000"),
                                      order(side="ask", count="1000000000",
                                            price="1000000000")])
    assert all("error" not in o for o in at_limit["orders"])  # computed, however refused
    assert D(at_limit["final"]["total"]) > 0


def test_an_off_tick_price_is_refused() -> None:
    c = demo_reads()
    market = c.model.markets[T]
    assert market.tick == D("0.0001")  # the demo sent tick_size "": the perps tick
    other = MarginCalculator(c.model, c.snapshot)
    object.__setattr__(market, "tick", D("0.0005"))
    try:
        res = other.order_margins([order(price="6.3416")])[0]
    finally:
        object.__setattr__(market, "tick", D("0.0001"))
    assert res["error"]["code"] == "off_tick"


def test_a_price_outside_the_band_is_an_error_with_the_band_in_the_message() -> None:
    res = calc().order_margins([order(price="4.0000")])[0]
    assert res["ok"] is False and res["checks"]["price_band"] is False
    assert res["errors"][0]["code"] == "price_band"
    assert "5.0663" in res["errors"][0]["message"]  # min(0.8 x 6.3329, 6.3329 - 0.1)
    ask = calc().order_margins([order(side="ask", price="9.0000")])[0]
    assert ask["checks"]["price_band"] is False  # > max(1.2 x 6.3416, 6.3416 + 0.1)


def test_request_level_mistakes_raise_one_clear_error() -> None:
    reads = demo_reads()
    with pytest.raises(InvalidRequest, match="empty basket"):
        reads.calculator().basket_margins([])
    with pytest.raises(InvalidRequest, match="list of order"):
        reads.calculator().order_margins("not a list")  # type: ignore[arg-type]
    for body, match in [({"orders": [order()], "mode": "tiny"}, "mode"),
                        ({"orders": [order()], "subaccount": 64}, "subaccount"),
                        ({"orders": [order()], "subaccount": True}, "subaccount"),
                        ({"orders": [order()], "mark_source": "vibes"}, "mark_source"),
                        ({"orders": [order()], "extra": 1}, "unknown request field"),
                        ({"order": [order()]}, "unknown request field"),
                        ("[]", "must be an object")]:
        with pytest.raises(InvalidRequest, match=match):
            evaluate_request(reads.model, reads.snapshot, body, "basket")


def test_a_basket_with_a_bad_leg_computes_no_totals_and_names_the_leg() -> None:
    res = calc().basket_margins([order(), order(count="1e3"), order(ticker="X")])
    assert res["ok"] is False and res["initial"] is None and res["final"] is None
    assert res["error"]["indices"] == [1, 2]
    assert [r["ok"] for r in res["orders"]] == [True, False, False]


def test_a_basket_of_a_thousand_orders_answers_quickly() -> None:
    orders = [order(side="bid" if i % 2 else "ask", count=str(1 + i % 7),
                    price="6.3416" if i % 2 else "6.3329") for i in range(1000)]
    started = time.perf_counter()
    res = calc().basket_margins(orders, mode="compact")
    elapsed = time.perf_counter() - started
    assert len(res["orders"]) == 1000 and res["initial"] is not None
    assert len(res["sequential"]["order"]) == 1000
    # $50 cannot carry hundreds of contracts: some legs do not fit, and the basket says so.
    assert res["ok"] is False and res["sequential"]["ok"] is False
    assert elapsed < 5.0, elapsed  # about 0.2 s alone on the reference machine


def test_compact_mode_is_genuinely_smaller_and_agrees_with_full() -> None:
    c = calc()
    orders = [order(), order(side="ask", price="6.3329", count="3")]
    full = c.order_margins(orders)
    compact = c.order_margins(orders, mode="compact")
    for f, k in zip(full, compact, strict=True):
        assert set(k) == {"ticker", "subaccount", "total", "initial_margin_after",
                          "maintenance_margin_after", "available_balance_after", "ok"}
        assert k["total"] == f["total"] and k["ok"] == f["ok"]
        assert k["initial_margin_after"] == f["initial_margin"]["after"]
        assert k["available_balance_after"] == f["available_balance"]["after"]
    assert len(json.dumps(compact)) * 4 < len(json.dumps(full))


def test_order_requests_and_dicts_give_the_same_answer() -> None:
    c = calc()
    typed = OrderRequest(T, "bid", D(2), D("6.3416"))
    assert c.order_margins([typed]) == c.order_margins([order(count="2")])


def test_without_positions_the_basket_starts_from_an_empty_subaccount() -> None:
    res = calc().basket_margins([order()], consider_positions=False)
    assert res["orders"][0]["initial_margin"]["before"] == "0.0000"
    assert res["orders"][0]["equity"]["before"] == "50.0500"  # the same cash
    assert res["final"]["im_after"] == res["final"]["initial_margin"]


def test_account_margins_mirror_the_exchange_reads() -> None:
    acct = calc().account_margins(0)
    assert acct["account_equity"] == "50.0242" and acct["available_balance"] == "48.9505"
    assert acct["initial_margin"] == "1.0737" and acct["maintenance_margin"] == "0.8259"
    assert acct["account_leverage"] == "7.6679" and acct["liquidatable"] is False
    [row] = acct["positions"]
    assert row["position_leverage"] == "7.6679"
    assert row["unrealized_pnl"] == "-0.0258" and row["entry_price"] == "6.3587"
    assert row["estimated_liquidation_price"] is None
    assert row["max_leverage_at_size"] == "5.8990"  # the published leverage estimate


def test_the_funding_preview_uses_the_running_estimate() -> None:
    from kalshi_margin_stream.core.messages import FundingRate, TickerBody
    base = demo_reads()
    reads = build_margin_reads(
        params=load("risk__parameters", RiskParameters),
        markets=[load("markets__single", MarketResponse).market],
        fee_tiers=None, notional_limit=None,
        positions=load("positions__open", PositionsResponse).positions,
        balance=base.balance, risk=base.risk, orders=[], static_ms=1, account_ms=1,
        orders_ms=1, now_ms=2, funding=[TickerBody(market_ticker=T, funding_rate=FundingRate(
            rate=D("0.0001"), next_funding_time_ms=1_781_280_000_000, ts_ms=1))])
    preview = reads.calculator().funding_preview(0)
    # -q x settlement mark x rate = -1 x 6.3332 x 0.0001 (a long pays a positive rate)
    assert preview == {"subaccount": 0, "positions": {T: "-0.0006"}, "total": "-0.0006",
                       "complete": True}
    res = reads.calculator().order_margins([order(count="9")])[0]
    assert res["funding"] == {"rate_estimate": "0.0001", "next_funding_time_ms": 1_781_280_000_000,
                              "est_payment_next": "-0.0063"}
    assert res["basis"]["confidence"]["fees"] == "assumed"  # no fee tiers were read


def test_liquidation_prices_of_the_spec_worked_example() -> None:
    """margin-model.md §3.6: C = $10, 10 @ 6.3600, m = 0.1304 -> long 6.1638, short 6.5110."""
    from kalshi_margin_stream.core.margin.formulas import RateCurve
    from kalshi_margin_stream.core.margin.model import MarginModel, MarketModel
    from kalshi_margin_stream.core.margin.snapshot import frozen_map
    from kalshi_margin_stream.core.margin.state import MarginState
    from kalshi_margin_stream.core.rest_models import MarginMarket, SubaccountBalance
    flat = RateCurve.flat(D("0.1304"))
    model = MarginModel(markets=frozen_map({"X": MarketModel(
        "X", long_curve=flat, short_curve=flat, maker_rate=D(0), taker_rate=D(0))}))
    state = MarginState()
    state.set_markets([MarginMarket(ticker="X", price=D("6.3600"))])
    state.reconcile_balance(BalanceResponse(subaccount_balances=[
        SubaccountBalance(subaccount=0, account_equity=D("10"))]), as_of_ms=1)
    c = MarginCalculator(model, state.snapshot(2))
    assert c.liquidation_price("X") is None
    bid = {"ticker": "X", "side": "bid", "count": "10", "price": "6.3600"}
    assert c.liquidation_price("X", hypothetical_orders=[bid]) == D("6.1638")
    assert c.liquidation_price("X", hypothetical_orders=[{**bid, "side": "ask"}]) == D("6.5110")
    assert c.order_margins([bid])[0]["liquidation_price"]["after"] == "6.1638"


def test_hedge_first_places_the_exposure_reducing_legs_first() -> None:
    c = calc()
    legs = [order(count="3"), order(side="ask", price="6.3329", count="1",
                                    time_in_force="immediate_or_cancel", reduce_only=True)]
    as_given = c.basket_margins(legs)
    hedged = c.basket_margins(legs, sequence="hedge_first")
    assert as_given["sequential"]["order"] == [0, 1]
    assert hedged["sequential"]["order"] == [1, 0]
    assert D(hedged["sequential"]["peak_total"]) <= D(as_given["sequential"]["peak_total"])
    assert hedged["final"]["total"] == as_given["final"]["total"]
