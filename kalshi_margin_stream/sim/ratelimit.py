"""Per-key read/write token buckets, as Kalshi meters REST calls (rest.md §5).

Pure: every call takes ``now`` (monotonic seconds) so tests drive the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "BASIC_TIER",
    "DEFAULT_COST",
    "BucketLimit",
    "RateLimiter",
    "Tier",
    "TokenBucket",
    "request_cost",
]

DEFAULT_COST = 10
"""Tokens a request costs unless listed in :func:`request_cost`."""


@dataclass(frozen=True, slots=True)
class BucketLimit:
    """``refill_rate`` tokens per second up to ``bucket_capacity``."""

    refill_rate: int
    bucket_capacity: int


@dataclass(frozen=True, slots=True)
class Tier:
    """A usage tier: one read and one write bucket per key."""

    name: str
    read: BucketLimit
    write: BucketLimit


# What a Basic demo account reported on GET /account/limits/perps (fixture
# account__limits_perps.json): read 400/400, write 100/100.
BASIC_TIER = Tier("basic", BucketLimit(400, 400), BucketLimit(100, 100))


@dataclass(slots=True)
class TokenBucket:
    limit: BucketLimit
    tokens: float
    updated: float

    def take(self, cost: int, now: float) -> bool:
        """Refill up to ``now``, then take ``cost`` tokens if there are enough."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.limit.bucket_capacity),
                          self.tokens + elapsed * self.limit.refill_rate)
        self.updated = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


def _is_write(method: str, path: str) -> bool:
    """Kalshi's Write bucket: order and order-group mutations, transfers."""
    if method == "GET":
        return False
    return "/margin/orders" in path or "/margin/order_groups" in path or "/portfolio/" in path


def request_cost(method: str, path: str, query: dict[str, str] | None = None) -> tuple[str, int]:
    """``(bucket, cost)`` for one request (``path`` from ``/trade-api/v2``, no query)."""
    if path.endswith("/margin/balance") and method == "GET":
        flag = (query or {}).get("compute_available_balance", "").lower()
        return "read", 50 if flag == "true" else 5
    return ("write" if _is_write(method, path) else "read"), DEFAULT_COST


@dataclass(slots=True)
class RateLimiter:
    """Token buckets per ``(key_id, bucket)``; anonymous calls share the key ``""``."""

    tier: Tier = BASIC_TIER
    enabled: bool = True
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)

    def set_tier(self, tier: Tier) -> None:
        """Change the limits; buckets restart full."""
        self.tier = tier
        self._buckets.clear()

    def allow(self, key_id: str, bucket: str, cost: int, now: float) -> bool:
        if not self.enabled:
            return True
        limit = self.tier.write if bucket == "write" else self.tier.read
        b = self._buckets.get((key_id, bucket))
        if b is None:
            b = TokenBucket(limit, float(limit.bucket_capacity), now)
            self._buckets[(key_id, bucket)] = b
        return b.take(cost, now)
