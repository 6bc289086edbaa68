"""The `stream` and `demo` commands, run as a user would (subprocesses, loopback only)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from kalshi_margin_stream.sim.testing import running_simulator

CLI = [sys.executable, "-m", "kalshi_margin_stream.cli.main"]


async def run_cli(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    code = proc.returncode
    assert isinstance(code, int)
    return code, out.decode(), err.decode()


async def test_stream_prints_messages_and_a_replay_shaped_summary(tmp_path: Path,
                                                                  transport: str) -> None:
    async with running_simulator(markets=["KXBTCPERP"], rate=200.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        code, out, err = await run_cli(
            "stream", "--rest-url", sim.rest_url, "--ws-url", sim.ws_url,
            "--transport", transport,
            "--key-id", sim.key_id, "--private-key", str(key),
            "--channels", "orderbook_delta", "trade", "--markets", "KXBTCPERP",
            "--duration", "2", "--json")
    assert code == 0, err
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1])
    messages = [json.loads(x) for x in lines[:-1]]
    assert messages[0]["type"] == "orderbook_snapshot"
    assert summary["type"] == "summary" and all("type" in m for m in messages)
    assert {"frames", "gaps", "duplicates", "resyncs", "reconnects", "books",
            "processing_us"} <= set(summary)
    book = summary["books"]["KXBTCPERP"]
    assert book["status"] == "synced" and book["bids"] and book["asks"]
    assert book["bids"][0][0] < book["asks"][0][0]


async def test_stream_reports_bad_credentials_clearly(tmp_path: Path) -> None:
    code, _, err = await run_cli("stream", "--key-id", "k", "--private-key",
                                 str(tmp_path / "missing.pem"), "--channels", "ticker")
    assert code == 2 and "not found" in err


async def test_demo_runs_and_ends_by_itself() -> None:
    code, out, err = await run_cli("demo", "--duration", "4", "--rate", "200")
    assert code == 0, err
    assert "== summary ==" in out and "books synced at the end: yes" in out
    assert "drill: the exchange drops 3 book frames" in out


async def test_stream_fails_clearly_on_a_rejected_key_or_a_dead_socket(tmp_path: Path) -> None:
    async with running_simulator(markets=["KXBTCPERP"]) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        common = ["--rest-url", sim.rest_url, "--private-key", str(key),
                  "--channels", "ticker", "--duration", "1"]
        code, _, err = await run_cli("stream", "--ws-url", sim.ws_url, "--key-id", "wrong",
                                     *common)
        assert code == 1 and "handshake rejected" in err and "Traceback" not in err
        dead = sim.ws_url.replace(str(sim.port), "1")
        code, _, err = await run_cli("stream", "--ws-url", dead, "--key-id", sim.key_id,
                                     *common)
        assert code == 1 and "never connected" in err and "Traceback" not in err
        assert "connect failed" in err  # says why while it retries, by default
