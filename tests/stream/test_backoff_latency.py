"""The one backoff policy and the latency histogram."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core.backoff import Backoff
from kalshi_margin_stream.stream.latency import Histogram


def test_delays_double_within_jitter_up_to_the_cap_and_reset() -> None:
    b = Backoff(0.5, 4.0, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(7)]
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert len(set(delays)) == len(delays)  # jittered: no two alike
    assert b.attempts == 7
    b.reset()
    assert b.attempts == 0 and 0.25 <= b.next_delay() <= 0.5


def test_each_key_has_its_own_schedule() -> None:
    b = Backoff(1.0, 8.0, rng=random.Random(1))
    for _ in range(3):
        b.next_delay(("subscribe", "trade"))
    assert b.attempts_of(("subscribe", "trade")) == 3 and b.attempts == 0
    assert 0.5 <= b.next_delay(("subscribe", "fill")) <= 1.0
    assert 4.0 <= b.next_delay(("subscribe", "trade")) <= 8.0
    b.reset(("subscribe", "trade"))
    assert b.attempts_of(("subscribe", "trade")) == 0
    assert b.attempts_of(("subscribe", "fill")) == 1


def test_same_seed_same_schedule() -> None:
    a, b = Backoff(rng=random.Random(5)), Backoff(rng=random.Random(5))
    assert [a.next_delay() for _ in range(5)] == [b.next_delay() for _ in range(5)]


@pytest.mark.parametrize(("initial", "maximum"), [(0, 1), (-1, 1), (2, 1)])
def test_bad_bounds_are_refused(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, maximum)


def test_histogram_of_nothing_and_of_one_value() -> None:
    h = Histogram()
    assert h.summary().count == 0 and h.percentile(0.99) == 0.0
    h.record(-5)  # clock skew: counted as zero
    h.record(1234)
    s = h.summary()
    assert s.count == 2 and s.max_us == 1234 and s.p50_us == 0


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=300))
def test_percentiles_are_within_the_bucket_error(values: list[int]) -> None:
    h = Histogram()
    for v in values:
        h.record(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99, 1.0):
        true = ordered[max(1, int(q * len(values) + 0.999999)) - 1]
        got = h.percentile(q)
        assert true <= got <= max(true * 1.07, true + 1)  # log-linear: ~6 % above
        assert got <= max(values)
    assert h.max == max(values) and h.count == len(values)
