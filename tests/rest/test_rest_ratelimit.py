"""Token-bucket maths with a fake clock: no sleeping, exact accounting."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_margin_stream.rest.ratelimit import (
    TIERS,
    BucketRate,
    RateLimiter,
    RateLimits,
    TokenBucket,
    bucket_for,
    request_cost,
)


def test_full_bucket_lets_a_burst_through_then_waits() -> None:
    bucket = TokenBucket.full(BucketRate(refill_rate=100, capacity=100), now=0.0)
    assert [bucket.reserve(10, 0.0) for _ in range(10)] == [0.0] * 10
    assert bucket.reserve(10, 0.0) == pytest.approx(0.1)   # 10 tokens at 100/s
    assert bucket.reserve(10, 0.0) == pytest.approx(0.2)   # queued behind the first
    assert bucket.available(0.3) == pytest.approx(10)       # debt repaid, 10 spare


def test_refill_is_capped_at_capacity() -> None:
    bucket = TokenBucket.full(BucketRate(10, 20), now=0.0)
    bucket.reserve(20, 0.0)
    assert bucket.available(1.0) == pytest.approx(10)
    assert bucket.available(100.0) == pytest.approx(20)


def test_refund_and_drain() -> None:
    bucket = TokenBucket.full(BucketRate(10, 20), now=0.0)
    bucket.reserve(15, 0.0)
    bucket.refund(15, 0.0)
    assert bucket.available(0.0) == pytest.approx(20)
    bucket.drain(0.0)
    assert bucket.reserve(10, 0.0) == pytest.approx(1.0)


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    bucket = TokenBucket.full(BucketRate(10, 10), now=5.0)
    bucket.reserve(10, 5.0)
    assert bucket.available(4.0) == pytest.approx(0)


@settings(max_examples=100, deadline=None)
@given(rate=st.integers(1, 1000), capacity=st.integers(50, 2000),
       steps=st.lists(st.tuples(st.floats(0, 0.5), st.sampled_from([5, 10, 50])),
                      min_size=1, max_size=80))
def test_sends_never_exceed_the_server_budget(rate: int, capacity: int,
                                              steps: list[tuple[float, int]]) -> None:
    """Over any window [s_i, s_j] the tokens *sent* fit in capacity + rate * (s_j - s_i)."""
    bucket = TokenBucket.full(BucketRate(rate, capacity), now=0.0)
    now = 0.0
    sends: list[tuple[float, int]] = []
    for gap, cost in steps:
        now += gap
        sends.append((now + bucket.reserve(cost, now), cost))
    assert sends == sorted(sends, key=lambda s: s[0])     # first come, first served
    for i, (start, _) in enumerate(sends):
        spent = 0
        for when, cost in sends[i:]:
            spent += cost
            assert spent <= capacity + rate * (when - start) + 1e-6


def test_costs_and_buckets() -> None:
    assert request_cost("GET", "/margin/orders") == 10
    assert request_cost("GET", "/margin/balance") == 5
    assert request_cost("GET", "/margin/balance", {"compute_available_balance": "true"}) == 50
    assert request_cost("DELETE", "/margin/orders") == 10        # cancel-all = one cancel
    assert bucket_for("GET", "/margin/orders") == "read"
    assert bucket_for("POST", "/margin/orders") == "write"
    assert bucket_for("DELETE", "/margin/orders/x") == "write"


def test_tiers_and_overrides() -> None:
    read, write = RateLimits(tier="Premier").rates()
    assert (read.refill_rate, read.capacity) == (1000, 1000)
    assert (write.refill_rate, write.capacity) == (1000, 2000)   # two seconds of burst
    assert TIERS["basic"][1].capacity == 100                      # Basic write: one second
    custom = RateLimits(read=BucketRate(5000, 5000))
    assert custom.rates()[0].refill_rate == 5000
    assert custom.rates()[1] == TIERS["basic"][1]
    acct = RateLimits.from_account_limits("basic", (400, 400), (100, 100))
    assert acct.rates() == (BucketRate(400, 400), BucketRate(100, 100))
    with pytest.raises(ValueError):
        RateLimits(tier="platinum")
    with pytest.raises(ValueError):
        BucketRate(0, 10)


async def test_limiter_waits_with_fake_clock_and_counts() -> None:
    clock = [0.0]
    limiter = RateLimiter(RateLimits(read=BucketRate(1000, 20), burst_fraction=1.0),
                          clock=lambda: clock[0])
    assert await limiter.acquire("read", 10) == 0.0
    assert await limiter.acquire("read", 10) == 0.0
    waited = await limiter.acquire("read", 10)        # sleeps 10 ms for real
    assert waited == pytest.approx(0.01)
    assert limiter.stats.requests["read"] == 3 and limiter.stats.tokens["read"] == 30
    assert limiter.stats.waits == 1


async def test_cancelled_waiter_gives_tokens_back() -> None:
    clock = [0.0]
    limiter = RateLimiter(RateLimits(read=BucketRate(1, 10), burst_fraction=1.0),
                          clock=lambda: clock[0])
    await limiter.acquire("read", 10)
    task = asyncio.create_task(limiter.acquire("read", 10))   # would wait 10 s
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limiter.buckets()["read"].available(0.0) == pytest.approx(0)
    assert limiter.stats.requests["read"] == 1


async def test_burst_fraction_holds_back_part_of_the_capacity() -> None:
    limiter = RateLimiter(RateLimits(read=BucketRate(100, 100), burst_fraction=0.5),
                          clock=lambda: 0.0)
    assert limiter.limits.rates()[0].capacity == 100      # the configured budget
    assert limiter.buckets()["read"].available(0.0) == 50  # what one burst may spend
    with pytest.raises(ValueError):
        RateLimits(burst_fraction=0)


async def test_disabled_limiter_never_waits() -> None:
    limiter = RateLimiter(RateLimits(enabled=False), clock=lambda: 0.0)
    for _ in range(100):
        assert await limiter.acquire("write", 50) == 0.0
