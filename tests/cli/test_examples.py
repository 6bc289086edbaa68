"""Every example runs against the simulator and says what it should."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"


def run(*args: str) -> str:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return out.stdout


def test_record_then_replay_into_a_strategy(tmp_path: Path) -> None:
    summary = json.loads(run(str(EXAMPLES / "record_session.py"), str(tmp_path),
                             "--seconds", "1.5"))
    assert summary["written"] == summary["frames"] > 0 and summary["shed"] == 0
    assert summary["files"] and all(Path(f).exists() for f in summary["files"])
    line = run(str(EXAMPLES / "replay_strategy.py"), str(tmp_path)).strip()
    updates = int(line.split()[0])
    assert updates > 0 and "crossover signals" in line and "0 gaps" in line


def test_margin_watcher_sees_fills_move_the_margin() -> None:
    lines = run(str(EXAMPLES / "margin_watcher.py"), "--seconds", "3").strip().splitlines()
    assert len(lines) >= 2
    last = lines[-1]
    assert "margin used" in last and "fills 0" not in last


def test_stream_book_prints_the_top_of_both_books() -> None:
    lines = run(str(EXAMPLES / "stream_book.py")).strip().splitlines()
    assert any(line.startswith("KXBTCPERP: (Decimal(") for line in lines)
    assert any(line.startswith("KXETHPERP: (Decimal(") for line in lines)


def test_place_order_creates_then_cancels() -> None:
    out = run(str(EXAMPLES / "place_order.py"))
    assert "created CreateOrderResponse(" in out and "cancelled CancelOrderResponse(" in out
    assert "reduced_by=Decimal('2.00')" in out
