"""The FIX example and CLI run against the simulator (real processes, real sockets)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.exceptions import InvalidRequest
from kalshi_margin_stream.fix import FixClient
from kalshi_margin_stream.fix.client import check_price
from kalshi_margin_stream.sim.server import write_private_key
from kalshi_margin_stream.testing import MARKETS, running_simulator

ROOT = Path(__file__).parent.parent.parent


async def run(*argv: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_example_runs() -> None:
    code, out, err = await run(sys.executable, str(ROOT / "examples" / "fix_order_entry.py"))
    assert code == 0, err
    lines = out.splitlines()
    assert [ln.split()[1] for ln in lines] == ["150=0", "150=5", "150=4"]


async def test_cli_order_new_and_replay(tmp_path: Path) -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        base = [sys.executable, "-m", "kalshi_margin_stream", "fix", "--key-id", sim.key_id,
                "--private-key", str(key), "--fix-host", "127.0.0.1",
                "--fix-port", str(sim.fix_port), "--plain"]
        bid, _, _ = sim.exchange.best_prices(MARKETS[0])
        assert bid is not None
        code, out, err = await run(*base, "order", "new", "--ticker", MARKETS[0], "--side",
                                   "bid", "--count", "2", "--price", str(bid))
        assert code == 0, err
        rep = json.loads(out)
        assert rep["35"] == "8" and rep["150"] == "0" and rep["38"] == "2.00"
        code, out, err = await run(*base, "replay")
        assert code == 0, err
        assert [json.loads(ln)["17"] for ln in out.splitlines()] == [rep["17"]]


def test_cli_bad_arguments_exit_2(capsys: object) -> None:
    assert main(["fix", "--key-id", "k", "order", "new"]) == 2
    assert main(["fix", "--key-id", "k", "--private-key", "/nonexistent.pem", "md", "X"]) == 2


def test_cli_bad_numbers_exit_2_before_connecting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A price like 1e400 once ended in a decimal.InvalidOperation traceback (status 1)."""
    key = write_private_key(Credentials("k", ed25519.Ed25519PrivateKey.generate()),
                            tmp_path / "k.pem")
    base = ["fix", "--key-id", "k", "--private-key", str(key), "--fix-host", "127.0.0.1",
            "--fix-port", "9", "--plain"]  # port 9: nothing listens; never reached
    new = ["order", "new", "--ticker", "KXBTCPERP", "--side", "bid"]
    for price, count in [("1e400", "1"), ("5.00001", "1"), ("5", "1.5"), ("5", "-1"),
                         ("nan", "1")]:
        assert main([*base, *new, "--count", count, "--price", price]) == 2
        err = capsys.readouterr().err
        assert err.startswith("fix: ") and err.count("\n") == 1 and "Traceback" not in err
    assert main([*base, "--wait", "-1", "order", "mass-cancel"]) == 2
    assert "--wait" in capsys.readouterr().err
    for when in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00"):
        assert main([*base, *new, "--count", "1", "--price", "5", "--tif", "gtd",
                     "--expire-time", when]) == 2
        assert "out of range" in capsys.readouterr().err
    assert main([*base, "md", "KXBTCPERP", " "]) == 2
    assert "non-empty symbols" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("garbage")
    for store in (tmp_path / "bad.json", tmp_path):
        assert main([*base, "--session", "rt", "--store", str(store), "order",
                     "mass-cancel"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("fix: ") and "sequence store" in err and err.count("\n") == 1
    with pytest.raises(InvalidRequest):
        check_price("1e400")


async def test_sim_cli_serves_fix_for_the_fix_cli() -> None:
    """``sim --fix`` prints fix_port; ``fix --plain`` trades against it (by hand, too)."""
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kalshi_margin_stream", "sim", "--fix", "--rate", "0",
        "--markets", "KXBTCPERP", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        assert sim.stdout is not None
        info = json.loads(await asyncio.wait_for(sim.stdout.readline(), 60))
        code, out, err = await run(
            sys.executable, "-m", "kalshi_margin_stream", "fix", "--key-id", info["key_id"],
            "--private-key", info["private_key_path"], "--fix-host", "127.0.0.1",
            "--fix-port", str(info["fix_port"]), "--plain", "order", "mass-cancel")
        assert code == 0, err
        assert json.loads(out)["35"] == "r"  # OrderMassCancelReport
    finally:
        sim.terminate()
        await asyncio.wait_for(sim.communicate(), 30)


async def test_forgetting_plain_gives_a_reason_and_a_hint(tmp_path: Path) -> None:
    """TLS at a plain ``sim --fix``: it said ``FIX connect to H:P failed: `` (no reason),
    then ``FIX connection closed: link lost``."""
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        key, port = sim.write_private_key(tmp_path / "key.pem"), sim.fix_port
        code, out, err = await run(
            sys.executable, "-m", "kalshi_margin_stream", "fix", "--key-id", sim.key_id,
            "--private-key", str(key), "--fix-host", "127.0.0.1",
            "--fix-port", str(port), "order", "mass-cancel")
    assert code == 1 and out == "" and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"fix: ConnectError: FIX connect to 127.0.0.1:{port} "
                           "failed: ConnectionResetError"), last
    assert "is the server plain TCP? try --plain" in last and "link lost" not in err
    assert "failed: \n" not in err and not err.rstrip().endswith("failed:")


def test_a_bad_side_is_an_invalid_request_on_every_order_call() -> None:
    """amend/cancel once raised KeyError for a side the type hints do not allow."""
    creds = Credentials("k", ed25519.Ed25519PrivateKey.generate())
    fix = FixClient(creds, host="127.0.0.1", port=9, tls=False)  # never started
    for call in (lambda: fix.new_order("KXBTCPERP", "long", 1, "1"),  # type: ignore[arg-type]
                 lambda: fix.amend("c", "KXBTCPERP", "long", 1, "1"),  # type: ignore[arg-type]
                 lambda: fix.cancel("c", "KXBTCPERP", "long")):  # type: ignore[arg-type]
        with pytest.raises(InvalidRequest, match="side"):
            call()
