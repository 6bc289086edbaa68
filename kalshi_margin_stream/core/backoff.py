"""The one retry-delay policy of the stream: jittered, capped, exponential, reset.

One :class:`Backoff` object serves the reconnects and the resubscriptions of a
client: each thing retried has its own attempt counter under a key (``None``
for the connection, the channel name for a refused subscribe), reset once that
thing is healthy again. Pure: randomness comes from an injected
``random.Random``, so the schedule is reproducible in tests.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

__all__ = ["Backoff"]


class Backoff:
    """Exponential backoff with jitter in ``[cap/2, cap]``, per key.

    The n-th delay (from 0) of a key is uniform in ``[cap/2, cap]`` with
    ``cap = min(maximum, initial * 2**n)``: never zero (no hot loop against a
    down server), never above ``maximum``; the jitter keeps many clients (or
    many channels) from retrying in step.
    """

    __slots__ = ("initial", "maximum", "_attempts", "_rng")

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, *,
                 rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._attempts: dict[Hashable, int] = {}
        self._rng = rng or random.Random()

    @property
    def attempts(self) -> int:
        """Attempts counted for the connection (key ``None``) since its last reset."""
        return self._attempts.get(None, 0)

    def attempts_of(self, key: Hashable) -> int:
        return self._attempts.get(key, 0)

    def next_delay(self, key: Hashable = None) -> float:
        """The delay before the next attempt of ``key``; counts the attempt."""
        n = self._attempts.get(key, 0)
        cap = min(self.maximum, self.initial * (1 << min(n, 60)))
        self._attempts[key] = n + 1
        return cap / 2 + self._rng.random() * cap / 2

    def reset(self, key: Hashable = None) -> None:
        """Start ``key`` again from ``initial`` (it is healthy again)."""
        self._attempts.pop(key, None)
