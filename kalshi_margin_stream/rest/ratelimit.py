"""Client-side token buckets that mirror Kalshi's read and write buckets (rest.md §5).

The maths is pure: :class:`TokenBucket` takes ``now`` on every call, so tests
drive a fake clock and never sleep. :class:`RateLimiter` is the thin asyncio
shell that sleeps for the delay the bucket computes, so calls *wait* rather
than fail.

The bucket works by reservation: ``reserve(cost, now)`` refills, subtracts the
cost (the balance may go negative) and returns how long the caller must wait
before sending. Later callers queue behind the debt, so over any interval
``[t0, t1]`` the tokens spent never exceed ``capacity + rate * (t1 - t0)``,
which is exactly the server's budget. A caller cancelled while waiting gives its
tokens back with ``refund``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BALANCE_COST",
    "BALANCE_COMPUTE_COST",
    "DEFAULT_COST",
    "TIERS",
    "BucketKind",
    "BucketRate",
    "LimiterStats",
    "RateLimiter",
    "RateLimits",
    "TokenBucket",
    "bucket_for",
    "request_cost",
]

BucketKind = Literal["read", "write"]

DEFAULT_COST = 10
"""Tokens a request costs unless listed below (rest.md §5)."""
BALANCE_COST = 5
"""``GET /margin/balance``."""
BALANCE_COMPUTE_COST = 50
"""``GET /margin/balance?compute_available_balance=true`` (scans resting orders)."""


@dataclass(frozen=True, slots=True)
class BucketRate:
    """``refill_rate`` tokens per second, holding at most ``capacity`` tokens."""

    refill_rate: float
    capacity: float

    def __post_init__(self) -> None:
        if self.refill_rate <= 0 or self.capacity <= 0:
            raise ValueError("refill_rate and capacity must be positive")


def _tier(read: int, write: int, write_seconds: int = 2) -> tuple[BucketRate, BucketRate]:
    return BucketRate(read, read), BucketRate(write, write * write_seconds)


# UNCONFIRMED: perps budgets per tier. rest.md §5 gives the event-contract table
# (Basic read 200); a June 2026 perps doc and a demo Basic account both showed
# read 400, and Advanced read 600, so those two use the perps numbers. Read buckets
# hold one second; write buckets two seconds above Basic. Prefer
# RateLimits.from_account_limits(GET /account/limits/perps) over this table.
TIERS: Mapping[str, tuple[BucketRate, BucketRate]] = {
    "basic": _tier(400, 100, write_seconds=1),
    "advanced": _tier(600, 300),
    "expert": _tier(600, 600),
    "premier": _tier(1000, 1000),
    "paragon": _tier(2000, 2000),
    "prime": _tier(4000, 4000),
    "prestige": _tier(10000, 8000),
}


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The client's read and write budgets.

    ``RateLimits(tier="premier")`` uses the tier table; ``RateLimits(read=BucketRate(...),
    write=BucketRate(...))`` sets the buckets directly (either one overrides the tier's);
    ``RateLimits(enabled=False)`` turns client-side limiting off.

    ``burst_fraction`` of each bucket's capacity is all we spend in one burst: a burst
    queued behind new connections reaches the server later than we sent it, while our
    bucket already refills, so it arrives compressed. The held-back slice (10% =
    0.1 s of a one-second bucket) absorbs that transit delay; the refill rate is
    used in full.
    """

    tier: str = "basic"
    read: BucketRate | None = None
    write: BucketRate | None = None
    enabled: bool = True
    burst_fraction: float = 0.9

    def __post_init__(self) -> None:
        if self.tier.lower() not in TIERS:
            raise ValueError(f"unknown tier {self.tier!r}; one of {', '.join(TIERS)}")
        if not 0 < self.burst_fraction <= 1:
            raise ValueError("burst_fraction must be in (0, 1]")

    def rates(self) -> tuple[BucketRate, BucketRate]:
        """(read, write) after overrides."""
        read, write = TIERS[self.tier.lower()]
        return self.read or read, self.write or write

    @classmethod
    def from_account_limits(cls, usage_tier: str, read: tuple[float, float],
                            write: tuple[float, float]) -> RateLimits:
        """From ``GET /account/limits/perps``: (refill_rate, bucket_capacity) pairs."""
        tier = usage_tier.lower() if usage_tier.lower() in TIERS else "basic"
        return cls(tier=tier, read=BucketRate(*read), write=BucketRate(*write))


@dataclass(slots=True)
class TokenBucket:
    """Pure token bucket; ``now`` is any monotonic clock in seconds."""

    rate: BucketRate
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: BucketRate, now: float) -> TokenBucket:
        return cls(rate=rate, tokens=rate.capacity, updated=now)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.rate.capacity,
                              self.tokens + (now - self.updated) * self.rate.refill_rate)
            self.updated = now

    def reserve(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens; return the seconds to wait before sending (0 = now)."""
        self._refill(now)
        self.tokens -= cost
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate.refill_rate

    def refund(self, cost: float, now: float) -> None:
        """Give back a reservation that was never sent (the caller was cancelled)."""
        self._refill(now)
        self.tokens = min(self.rate.capacity, self.tokens + cost)

    def drain(self, now: float) -> None:
        """The server said 429: assume its bucket is empty, whatever ours thinks."""
        self._refill(now)
        self.tokens = min(self.tokens, 0.0)

    def available(self, now: float) -> float:
        self._refill(now)
        return self.tokens



# Paths (after the API root) that count against the write bucket when not a GET.
# UNCONFIRMED: rest.md names order and order-group calls as writes ("and ...");
# we count every non-GET as a write, which can only make us slower, never 429.
def bucket_for(method: str, path: str) -> BucketKind:
    """Which bucket a request draws from: GETs read, everything else writes."""
    return "read" if method.upper() in ("GET", "HEAD") else "write"


def request_cost(method: str, path: str, params: Mapping[str, str] | None = None) -> int:
    """Tokens one request costs (rest.md §5).

    ``path`` is relative to the API root (``/margin/balance``). Cancel-all costs one
    cancel, which is the default cost.
    """
    if method.upper() == "GET" and path.rstrip("/") == "/margin/balance":
        flag = (params or {}).get("compute_available_balance", "")
        return BALANCE_COMPUTE_COST if str(flag).lower() == "true" else BALANCE_COST
    return DEFAULT_COST


@dataclass(slots=True)
class LimiterStats:
    """What the limiter did: requests let through, tokens spent, time spent waiting."""

    requests: dict[str, int] = field(default_factory=lambda: {"read": 0, "write": 0})
    tokens: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "write": 0.0})
    waits: int = 0
    waited_seconds: float = 0.0
    rate_limited: int = 0


class RateLimiter:
    """Two buckets and the asyncio waiting around them.

    Args:
        limits: the budgets.
        clock: monotonic seconds; defaults to the running loop's clock.
    """

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float] | None = None):
        self.limits = limits
        self._clock = clock
        self._buckets: dict[str, TokenBucket] | None = None
        self.stats = LimiterStats()

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def buckets(self) -> dict[str, TokenBucket]:
        if self._buckets is None:
            now = self._now()
            frac = self.limits.burst_fraction
            self._buckets = {
                kind: TokenBucket.full(BucketRate(rate.refill_rate, rate.capacity * frac), now)
                for kind, rate in zip(("read", "write"), self.limits.rates(), strict=True)}
        return self._buckets

    def set_limits(self, limits: RateLimits) -> None:
        """Replace the budgets (e.g. after reading ``/account/limits/perps``)."""
        self.limits = limits
        self._buckets = None

    async def acquire(self, kind: BucketKind, cost: float) -> float:
        """Wait until ``cost`` tokens of ``kind`` may be spent; return the seconds waited."""
        if not self.limits.enabled:
            return 0.0
        bucket = self.buckets()[kind]
        delay = bucket.reserve(cost, self._now())
        if delay > 0:
            self.stats.waits += 1
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                bucket.refund(cost, self._now())
                raise
            self.stats.waited_seconds += delay
        self.stats.requests[kind] += 1
        self.stats.tokens[kind] += cost
        return delay

    def rate_limited(self, kind: BucketKind) -> None:
        """Record a 429 and empty our bucket so the next calls wait for a refill."""
        self.stats.rate_limited += 1
        if self.limits.enabled:
            self.buckets()[kind].drain(self._now())
