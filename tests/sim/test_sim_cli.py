"""``kalshi-margin-stream sim`` as a subprocess: JSON line, a signed call, clean SIGINT."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import sys
import time
from pathlib import Path

import aiohttp

from kalshi_margin_stream.core.auth import Credentials


async def test_cli_starts_serves_and_stops_on_sigint() -> None:
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kalshi_margin_stream.cli.main", "sim", "--seed", "3",
        "--markets", "KXBTCPERP", "--rate", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(10):
            line = await proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"rest_url", "ws_url", "key_id", "private_key_path"}
        assert info["rest_url"].startswith("http://127.0.0.1:")
        assert info["ws_url"].endswith("/trade-api/ws/v2/margin")
        key_path = info["private_key_path"]
        assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
        creds = Credentials.from_pem_file(info["key_id"], key_path)
        url = info["rest_url"] + "/margin/balance"
        headers = creds.headers("GET", url, time.time_ns() // 1_000_000)
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["subaccount_balances"][0]["subaccount"] == 0
        assert time.monotonic() - started < 8  # import + start + one call
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(5):
            code = await proc.wait()
        assert code == 130  # Ctrl-C: the same status in every command (cli/common.py)
        assert not os.path.exists(key_path)  # the temp key is removed on exit
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_reports_bad_arguments(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        cases = [(["--public-key", str(bad)], 2, "not a PEM public key"),
                 (["--public-key", str(tmp_path / "missing.pem")], 2, "cannot read"),
                 (["--rate", "-1"], 2, "--rate"),
                 (["--port", str(busy.getsockname()[1]), "--markets", "KXBTCPERP"], 1,
                  "cannot listen")]
        for extra, code, text in cases:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kalshi_margin_stream.cli.main", "sim", *extra,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            async with asyncio.timeout(10):
                out, err = await proc.communicate()
            assert (proc.returncode, out) == (code, b""), (extra, err)
            assert text in err.decode(), err
    finally:
        busy.close()
