"""kalshi-sdk 22.4.0 (the official SDK, pydantic models of "spec 3.30.0") runs against our
simulator with zero validation errors: its REST client and its WebSocket client.

The SDK needs Python >= 3.12 and lives in its own virtualenv, made and cached by
``benchmarks/peer.py`` (``benchmarks/.venv-kalshi-sdk``; reused when already there).
Skipped, with the reason, only when no Python 3.12 interpreter exists; any other setup
failure fails the test.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from kalshi_margin_stream.sim.testing import running_simulator

pytestmark = pytest.mark.conformance

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("kalshi_sdk_interop_runner.py")
BTC = "KXBTCPERP"
UPDATES = 20


def _peer_python() -> Path:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.peer import ensure_peer, find_python312
    finally:
        sys.path.remove(str(ROOT))
    status = ensure_peer(log=False)
    if not status.available and find_python312() is None:
        pytest.skip(status.reason)
    assert status.available and status.python is not None, status.reason
    return status.python


async def test_kalshi_sdk_reads_everything_the_simulator_sends(tmp_path: Path) -> None:
    python = await asyncio.to_thread(_peer_python)
    async with running_simulator(markets=[BTC, "KXETHPERP"], rate=60.0,
                                 ticker_interval=0.2, rate_limits=False) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        proc = await asyncio.create_subprocess_exec(
            str(python), str(RUNNER), "--rest-url", sim.rest_url, "--ws-url", sim.ws_url,
            "--key-id", sim.key_id, "--key-path", str(key), "--ticker", BTC,
            "--updates", str(UPDATES), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["warnings"] == [], "\n".join(result["warnings"])
    assert set(result["calls"]) >= {
        "exchange.status", "markets.list", "markets.get", "markets.orderbook",
        "margin.balance", "margin.risk", "margin.fee_tiers", "margin.notional_risk_limit",
        "orders.create", "orders.get", "orders.cancel", "orders.list",
        "portfolio.set_cross_exit_trigger", "portfolio.isolated_exit_triggers"}
    assert result["ws"]["orderbook"] >= UPDATES and result["ws"]["ticker"] >= 2, result["ws"]
