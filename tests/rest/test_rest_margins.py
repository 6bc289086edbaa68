"""The one-shot margins' request helpers (``rest/margins.py``) without a network."""

from __future__ import annotations

from kalshi_margin_stream.rest.margins import MAX_FUNDING_READS, request_tickers


def test_request_tickers_are_distinct_and_a_late_market_is_not_cut_off() -> None:
    """The cap used to cut the list of orders, not of markets: a basket of 25 BTC legs
    and one ETH leg read no ETH funding estimate."""
    orders = [{"ticker": "KXBTCPERP"}] * 25 + [{"ticker": "KXETHPERP"}]
    assert request_tickers(orders) == ["KXBTCPERP", "KXETHPERP"]
    assert request_tickers({"orders": orders}) == ["KXBTCPERP", "KXETHPERP"]
    many = [{"ticker": f"T{i}"} for i in range(MAX_FUNDING_READS + 5)]
    assert request_tickers(many) == [f"T{i}" for i in range(MAX_FUNDING_READS)]
    assert request_tickers([{"ticker": 5}, "x", {"side": "bid"}]) == []
    assert request_tickers("not orders") == []
