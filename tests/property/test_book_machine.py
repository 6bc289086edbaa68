"""OrderBook against two plain price -> size dicts, under random snapshots and deltas."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kalshi_margin_stream.core.book import OrderBook
from kalshi_margin_stream.exceptions import BookDesync

prices = st.integers(1, 60).map(lambda i: Decimal(i).scaleb(-2))
sizes = st.integers(1, 500).map(lambda i: Decimal(i).scaleb(-2))
sides = st.sampled_from(["bid", "ask"])


def crossed(bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]) -> bool:
    return bool(bids) and bool(asks) and max(bids) >= min(asks)


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook("T")
        self.model: dict[str, dict[Decimal, Decimal]] = {"bid": {}, "ask": {}}

    @rule(bids=st.dictionaries(prices, sizes, max_size=15),
          asks=st.dictionaries(prices, sizes, max_size=15))
    def snapshot(self, bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]) -> None:
        try:
            self.book.apply_snapshot(bids.items(), asks.items())
        except BookDesync:
            assert crossed(bids, asks)
            return
        assert not crossed(bids, asks)
        self.model = {"bid": dict(bids), "ask": dict(asks)}

    @rule(side=sides, price=prices, delta=st.integers(-500, 500).map(
        lambda i: Decimal(i).scaleb(-2)))
    def delta(self, side: str, price: Decimal, delta: Decimal) -> None:
        levels = self.model[side]
        new = levels.get(price, Decimal(0)) + delta
        trial = {"bid": dict(self.model["bid"]), "ask": dict(self.model["ask"])}
        if new > 0:
            trial[side][price] = new
        else:
            trial[side].pop(price, None)
        expect_error = new < 0 or (price not in levels and new > 0
                                   and crossed(trial["bid"], trial["ask"]))
        try:
            self.book.apply_delta(side, price, delta)
        except BookDesync:
            assert expect_error
            return
        assert not expect_error
        self.model = trial

    @rule(side=sides, price=prices)
    def remove_level_exactly(self, side: str, price: Decimal) -> None:
        size = self.model[side].get(price)
        if size is not None:
            self.book.apply_delta(side, price, -size)
            del self.model[side][price]

    @invariant()
    def matches_model(self) -> None:
        bids = sorted(self.model["bid"].items(), reverse=True)
        asks = sorted(self.model["ask"].items())
        assert self.book.bids() == bids
        assert self.book.asks() == asks
        assert self.book.best_bid() == (bids[0] if bids else None)
        assert self.book.best_ask() == (asks[0] if asks else None)
        assert self.book.top("bid", 3) == bids[:3]
        assert all(size > 0 for _, size in bids + asks)
        assert not crossed(self.model["bid"], self.model["ask"])


TestBookMachine = BookMachine.TestCase
# A stateful run is ~50 steps: in CI (1,000-example profile) 300 runs keep it near 15 s.
TestBookMachine.settings = settings(max_examples=min(300, settings.default.max_examples))
