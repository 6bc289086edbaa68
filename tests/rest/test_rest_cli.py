"""``rest`` and ``order`` subcommands against the simulator (the CLI runs its own loop in a
worker thread; the simulator serves from the test's loop, over 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.core.auth import ENV_KEY_ID, ENV_KEY_PATH
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.sim.testing import running_simulator

TICKER = "KXBTCPERP"


@pytest.fixture
async def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    monkeypatch.delenv(ENV_KEY_ID, raising=False)
    monkeypatch.delenv(ENV_KEY_PATH, raising=False)
    async with running_simulator(markets=[TICKER]) as s:
        s.write_private_key(tmp_path / "key.pem")
        yield s


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def _conn(sim: Simulator, tmp_path: Path, signed: bool = True) -> list[str]:
    args = ["--rest-url", sim.rest_url]
    if signed:
        args += ["--key-id", sim.key_id, "--private-key", str(tmp_path / "key.pem")]
    return args


async def test_reads_print_json(sim: Simulator, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await _cli(capsys, "rest", *_conn(sim, tmp_path, signed=False), "status")
    assert code == 0 and out == {"exchange_active": True, "trading_active": True}
    code, out, _ = await _cli(capsys, "rest", *_conn(sim, tmp_path), "balance")
    assert code == 0 and isinstance(out, dict)
    assert out["subaccount_balances"][0]["account_equity"] == "10000.0000"
    code, out, _ = await _cli(capsys, "rest", *_conn(sim, tmp_path, signed=False),
                              "orderbook", TICKER, "--depth", "2")
    assert code == 0 and isinstance(out, dict) and len(out["bids"]) == 2
    assert out["bids"][0][0] > out["bids"][1][0]          # best first
    for what in (["positions"], ["risk"], ["fees"], ["funding"], ["markets"], ["groups"],
                 ["fills"], ["orders"], ["enabled"], ["limits"]):
        code, out, err = await _cli(capsys, "rest", *_conn(sim, tmp_path), *what)
        assert code == 0, (what, err)


async def test_order_lifecycle(sim: Simulator, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    book = sim.exchange.orderbook(TICKER)
    price = str(book.bids[-1][0])
    code, out, err = await _cli(capsys, "order", *_conn(sim, tmp_path), "create", TICKER,
                                "bid", "3", price, "--client-order-id", "cli-1")
    assert code == 0, err
    assert isinstance(out, dict) and out["client_order_id"] == "cli-1"
    order_id = out["order_id"]
    code, out, _ = await _cli(capsys, "order", *_conn(sim, tmp_path), "decrease", order_id,
                              "--to", "1")
    assert code == 0 and isinstance(out, dict) and out["remaining_count"] == "1.00"
    code, out, _ = await _cli(capsys, "order", *_conn(sim, tmp_path), "amend", order_id,
                              "--ticker", TICKER, "--side", "bid", "--price", price,
                              "--count", "2")
    assert code == 0 and isinstance(out, dict) and out["remaining_count"] == "2.00"
    code, out, _ = await _cli(capsys, "order", *_conn(sim, tmp_path), "cancel", order_id)
    assert code == 0 and isinstance(out, dict) and out["reduced_by"] == "2.00"
    code, out, _ = await _cli(capsys, "order", *_conn(sim, tmp_path), "cancel", "--all")
    assert code == 0
    code, out, _ = await _cli(capsys, "rest", *_conn(sim, tmp_path), "orders", "--id",
                              order_id)
    assert code == 0 and isinstance(out, dict) and out["remaining_count"] == "0.00"


async def test_errors_and_exit_codes(sim: Simulator, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = sum(sim.stats().rest_by_status.values())
    code, _, err = await _cli(capsys, "order", *_conn(sim, tmp_path), "create", TICKER,
                              "buy", "1", "8.0961")
    assert code == 2 and json.loads(err)["error"] == "InvalidRequest"
    code, _, err = await _cli(capsys, "rest", *_conn(sim, tmp_path, signed=False), "balance")
    assert code == 2 and "needs credentials" in err
    assert sum(sim.stats().rest_by_status.values()) == before     # nothing was sent
    code, _, err = await _cli(capsys, "rest", *_conn(sim, tmp_path), "orders", "--id", "nope")
    assert code == 1
    body = json.loads(err)
    assert (body["error"], body["status"], body["code"]) == ("HTTPStatusError", 404, "not_found")


async def test_order_trigger_commands(sim: Simulator, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    conn = _conn(sim, tmp_path)
    book = sim.exchange.orderbook(TICKER)
    best_ask = book.asks[0][0]
    code, _, err = await _cli(capsys, "order", *conn, "create", TICKER, "bid", "2",
                              str(best_ask), "--tif", "immediate_or_cancel")
    assert code == 0, err
    mark = sim.exchange.market(TICKER).liquidation_mark_price.price
    low, high = str(mark - 1), str(mark + 1)
    code, out, err = await _cli(capsys, "order", *conn, "trigger", "set", TICKER,
                                "--stop-loss", low, "--take-profit", high)
    assert code == 0 and isinstance(out, dict) and out["status"] == "active", err
    trigger_id = out["id"]
    code, out, _ = await _cli(capsys, "order", *conn, "trigger", "update", TICKER, trigger_id,
                              "--stop-loss", low)
    assert code == 0 and isinstance(out, dict) and "take_profit_price" not in out
    code, out, _ = await _cli(capsys, "rest", *conn, "triggers", TICKER)
    assert code == 0 and isinstance(out, list) and [t["id"] for t in out] == [trigger_id]
    code, out, _ = await _cli(capsys, "order", *conn, "trigger", "set", TICKER, "--isolated",
                              "--kind", "trailing", "--trail-bps", "100")
    assert code == 0 and isinstance(out, dict) and out["kind"] == "trailing"
    code, out, _ = await _cli(capsys, "order", *conn, "trigger", "get", TICKER, "--isolated")
    assert code == 0 and isinstance(out, list) and len(out) == 1
    code, out, _ = await _cli(capsys, "order", *conn, "trigger", "delete", TICKER, trigger_id)
    assert code == 0 and isinstance(out, dict) and out["deleted"] == trigger_id
    code, _, _ = await _cli(capsys, "order", *conn, "trigger", "delete", TICKER, "--isolated")
    assert code == 0
    code, out, _ = await _cli(capsys, "rest", *conn, "triggers", TICKER, "--isolated")
    assert code == 0 and out == []
    for bad in (["set", TICKER, "--kind", "trailing", "--trail-bps", "0"],
                ["set", TICKER, "--kind", "trailing", "--trail-bps", "10000"],
                ["set", TICKER, "--take-profit", high, "--count", "1"],
                ["set", TICKER, "--isolated", "--stop-loss", low, "--count", "1"],
                ["set", TICKER, "--stop-loss", "8.00001"]):
        code, _, err = await _cli(capsys, "order", *conn, "trigger", *bad)
        assert code == 2 and json.loads(err)["error"] == "InvalidRequest", (bad, err)
    # Nothing was written: no trigger is live on either position slot.
    for scope in ("cross", "isolated"):
        assert sim.exchange.exit_triggers(sim.user_id, scope=scope, ticker=TICKER) == []
