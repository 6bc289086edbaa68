"""Engine errors belong to the package tree (its purity is checked in tests/test_purity.py)."""

from __future__ import annotations

import kalshi_margin_stream.sim.engine as engine


def test_rejection_is_a_package_error() -> None:
    from kalshi_margin_stream.exceptions import KalshiError

    assert issubclass(engine.Rejection, KalshiError)
