"""Latency histograms with cheap recording and percentile reads.

Values are recorded in microseconds into log-linear buckets (HDR-style: 16
sub-buckets per power of two, so any reported percentile is within ~6 % of the
true value). Recording is an ``int.bit_length`` and a list increment.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Histogram", "LatencySummary"]

_SUB = 16
_SUB_BITS = 4


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Percentiles in microseconds."""

    count: int
    p50_us: float
    p99_us: float
    p999_us: float
    max_us: float


class Histogram:
    """A log-linear histogram of non-negative integer microseconds."""

    __slots__ = ("_counts", "count", "max")

    def __init__(self) -> None:
        self._counts = [0] * (64 * _SUB)
        self.count = 0
        self.max = 0

    def record(self, value_us: int) -> None:
        v = value_us if value_us > 0 else 0
        self._counts[_index(v)] += 1
        self.count += 1
        if v > self.max:
            self.max = v

    def percentile(self, q: float) -> float:
        """Upper edge of the bucket holding the ``q``-quantile (0 < q <= 1)."""
        if not self.count:
            return 0.0
        rank = max(1, int(q * self.count + 0.999999))
        seen = 0
        for i, c in enumerate(self._counts):
            seen += c
            if seen >= rank:
                return float(min(_upper(i), self.max))
        return float(self.max)  # pragma: no cover

    def summary(self) -> LatencySummary:
        return LatencySummary(self.count, self.percentile(0.5), self.percentile(0.99),
                              self.percentile(0.999), float(self.max))


def _index(v: int) -> int:
    if v < _SUB:
        return v
    exp = v.bit_length() - _SUB_BITS - 1
    return (exp + 1) * _SUB + ((v >> exp) - _SUB)


def _upper(i: int) -> int:
    if i < _SUB:
        return i
    exp = i // _SUB - 1
    return ((i % _SUB + _SUB + 1) << exp) - 1
