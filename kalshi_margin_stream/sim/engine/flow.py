"""Seeded synthetic order flow from other participants.

Simulated makers keep both sides of every book stocked around the reference price;
takers cross the spread now and then; the reference price drifts by a small random
walk. Everything comes from one ``random.Random(seed)`` and the exchange's own seeded
ids, so the same seed and the same calls give the same event stream.
"""

from __future__ import annotations

from collections.abc import Sequence

from .events import Event
from .exchange import Exchange

__all__ = ["SyntheticFlow"]


class SyntheticFlow:
    """Drives simulated participants on an :class:`Exchange`.

    Args:
        exchange: the exchange to trade on (participants are added as synthetic users).
        seed: seeds this flow's choices (independent of the exchange's id seed).
        tickers: markets to animate (default: every active market).
        levels: target number of resting price levels per side (50-300 realistic).
        makers: simulated market makers per market.
        takers: simulated aggressive traders per market.
        drift_bps: standard deviation of one reference-price step, in basis points.
    """

    def __init__(self, exchange: Exchange, seed: int = 0, *,
                 tickers: Sequence[str] | None = None, levels: int = 150, makers: int = 3,
                 takers: int = 2, drift_bps: float = 0.5) -> None:
        raise NotImplementedError

    def seed_books(self, now_ms: int) -> list[Event]:
        """Fill every book to about ``levels`` levels per side (call once at start)."""
        raise NotImplementedError

    def step(self, now_ms: int, actions: int = 1) -> list[Event]:
        """Perform ``actions`` random participant actions (place, cancel, take, drift)."""
        raise NotImplementedError

    @property
    def participant_ids(self) -> list[str]:
        """User ids of the synthetic participants."""
        raise NotImplementedError
