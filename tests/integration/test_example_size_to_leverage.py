"""examples/size_to_leverage.py runs: it sizes to the target, the whole count fills, and the
exchange's numbers afterwards are what the calculator predicted (or better, since the
prediction assumes the fill at the limit price)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).parents[2] / "examples" / "size_to_leverage.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("size_to_leverage", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_bot_sizes_to_the_target_leverage_and_the_exchange_agrees() -> None:
    report = await load().main(Decimal(3))
    assert report["count"] > 0 and report["filled"] == report["count"]
    target = Decimal(3)
    assert Decimal(report["predicted_effective_leverage"]) <= target
    assert report["actual_effective_leverage"] <= target
    assert report["actual_effective_leverage"] > target * Decimal("0.9")  # sized, not timid
    assert str(report["actual_initial_margin"]) == report["predicted_initial_margin"]
    assert report["actual_available"] >= Decimal(report["predicted_available"])
