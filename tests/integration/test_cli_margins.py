"""``kalshi-margin-stream margins``: answers a basket file in the Kite-like shape; bad files
and requests give one line and status 2, never a traceback."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.core.auth import ENV_KEY_ID, ENV_KEY_PATH
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.sim.testing import running_simulator

BASKET = {"mode": "full", "orders": [
    {"ticker": "KXBTCPERP", "side": "bid", "count": "10", "price": "8.0962"},
    {"ticker": "KXETHPERP", "side": "ask", "count": "30", "price": "2.5083"},
    {"ticker": "KXBTCPERP", "side": "ask", "count": "4", "price": "8.0960",
     "time_in_force": "immediate_or_cancel"}]}


@pytest.fixture(autouse=True)
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY_ID, raising=False)
    monkeypatch.delenv(ENV_KEY_PATH, raising=False)


def write(tmp_path: Path, body: object, name: str = "basket.json") -> str:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return str(path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_basket_against_a_fresh_simulator_prints_the_kite_like_shape(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "margins", "basket", write(tmp_path, BASKET), "--sim")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"ok", "initial", "final", "sequential", "benefit", "orders",
                           "basis"}
    assert result["basis"]["confidence"]["mm_rate"] == "inferred"
    assert result["basis"]["marks"]["KXBTCPERP"]["price"] == "8.0961"
    assert result["ok"] is True and len(result["orders"]) == 3
    assert result["initial"]["total"] == "36.1415"  # sum of the three standalone totals
    assert sum(float(o["total"]) for o in result["orders"]) == pytest.approx(36.1415)
    assert float(result["final"]["total"]) < float(result["initial"]["total"])
    assert result["benefit"] == f"{36.1415 - float(result['final']['total']):.4f}"
    assert result["orders"][0]["basis"]["confidence"]["im_multiplier"] == "spec"
    assert result["final"]["liquidation_prices_after"].keys() == {"KXBTCPERP", "KXETHPERP"}


def test_orders_from_stdin_compact_and_subaccount_override(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(BASKET["orders"])))
    code, out, err = cli(capsys, "margins", "orders", "-", "--sim", "--compact",
                         "--subaccount", "3")
    assert code == 0, err
    result = json.loads(out)
    assert [set(r) for r in result] == [{"ticker", "subaccount", "total",
                                         "initial_margin_after", "maintenance_margin_after",
                                         "available_balance_after", "ok"}] * 3
    assert {r["subaccount"] for r in result} == {3}
    # Subaccount 3 is empty and has no cash: nothing fits.
    assert [r["ok"] for r in result] == [False, False, False]


@pytest.mark.parametrize(("content", "needle"), [
    ("{\"orders\": [", "malformed JSON"),
    ("{\"orders\": []}", "empty basket"),
    ("{\"orders\": [{}], \"mode\": \"tiny\"}", "mode must be"),
    ("42", "must be an object"),
])
def test_bad_files_and_requests_give_one_line_and_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str) -> None:
    code, out, err = cli(capsys, "margins", "basket", write(tmp_path, content), "--sim")
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_missing_file_or_credentials_is_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "margins", "orders", str(tmp_path / "nope.json"), "--sim")
    assert code == 2 and "cannot read" in err
    code, _, err = cli(capsys, "margins", "orders", write(tmp_path, BASKET),
                       "--rest-url", "http://127.0.0.1:9/trade-api/v2")
    assert code == 2 and "credentials" in err
    with pytest.raises(SystemExit) as stop:
        main(["margins", "basket", "--sim"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "FILE.json" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["margins", "basket", "FILE", "--sim", "--compact"],
    ["margins", "basket", "--sim", "FILE", "--compact"],
    ["margins", "basket", "--sim", "--compact", "FILE"],
    ["margins", "--sim", "basket", "--compact", "FILE"],
    ["margins", "--sim", "--compact", "basket", "FILE"],
    ["--timeout", "30", "margins", "basket", "--sim", "--compact", "FILE"],
])
def test_file_is_accepted_before_or_after_the_flags(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    path = write(tmp_path, BASKET)
    code, out, err = cli(capsys, *[path if a == "FILE" else a for a in argv])
    assert code == 0, err
    result = json.loads(out)
    assert result["initial"]["total"] == "36.1415"
    assert "basis" not in result["orders"][0]  # --compact was taken wherever it stood


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with running_simulator(markets=["KXBTCPERP", "KXETHPERP"]) as s:
        s.write_private_key(tmp_path / "key.pem")
        yield s


async def test_reconcile_against_an_account_with_a_position_prints_ok(
        sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = sim.exchange.orderbook("KXBTCPERP")
    best_ask = book.asks[0][0]
    conn = ["--rest-url", sim.rest_url, "--key-id", sim.key_id,
            "--private-key", str(tmp_path / "key.pem")]
    assert await asyncio.to_thread(main, ["order", *conn, "create", "KXBTCPERP", "bid", "3",
                                          str(best_ask), "--tif", "immediate_or_cancel"]) == 0
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["margins", *conn, "reconcile"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.strip().splitlines()[-1].startswith("OK: ")
    assert int(out.split("OK: ")[1].split()[0]) >= 10


def test_the_readme_basket_and_its_output_are_what_the_cli_prints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Pre-trade margins", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```json\n")[1:]]
    assert len(blocks) == 2
    basket, printed = blocks
    code, out, err = cli(capsys, "margins", "basket", write(tmp_path, basket), "--sim")
    assert code == 0, err
    assert without_times(json.loads(out)) == without_times(json.loads(printed))


def without_times(value: object) -> object:
    """The output with every ``*ts_ms`` value (a clock reading) blanked."""
    if isinstance(value, dict):
        return {k: None if k.endswith("ts_ms") else without_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def test_a_closed_stdout_is_quiet(tmp_path: Path) -> None:
    """``margins ... | head -1``: the reader has gone; no traceback, no error line."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kalshi_margin_stream", "margins", "orders",
             write(tmp_path, BASKET), "--sim"],
            stdout=write_end, stderr=subprocess.PIPE, timeout=120, check=False)
    finally:
        os.close(write_end)
    assert done.stderr.decode() == ""
    assert done.returncode == 0
