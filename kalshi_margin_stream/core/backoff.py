"""The reconnect delay schedule: jittered, capped, exponential, reset when healthy.

Pure: randomness comes from an injected ``random.Random`` and time from the
caller, so the schedule is reproducible in tests.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Full-jitter exponential backoff.

    The n-th delay (from 0) is uniform in ``[cap/2, cap]`` with
    ``cap = min(maximum, initial * 2**n)``: never zero (no hot loop against a
    down server), never above ``maximum``.
    """

    __slots__ = ("initial", "maximum", "attempts", "_rng")

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, *,
                 rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self.attempts = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt; counts the attempt."""
        cap = min(self.maximum, self.initial * (1 << min(self.attempts, 60)))
        self.attempts += 1
        return cap / 2 + self._rng.random() * cap / 2

    def reset(self) -> None:
        """Start again from ``initial`` (after a healthy period)."""
        self.attempts = 0
