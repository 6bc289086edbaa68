"""What users expect of every command: argument handling, pipes, signals, timeouts."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from kalshi_margin_stream import __version__
from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.sim.testing import running_simulator

CLI = [sys.executable, "-m", "kalshi_margin_stream"]
WS = Path(__file__).parents[1] / "data" / "ws"


def read_line(fd: int) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return line


async def run_cli(*args: str, timeout: float = 60, **kw: Any) -> tuple[int, str, str]:
    kw.setdefault("stdout", asyncio.subprocess.PIPE)
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stderr=asyncio.subprocess.PIPE,
                                                **kw)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, (out or b"").decode(), err.decode()


@pytest.mark.parametrize("argv", [
    ["demo", "--rate", "-1"],
    ["demo", "--duration", "-5"],
    ["demo", "--duration", "nan"],
    ["rest", "--rest-url", "not-a-url", "status"],
    ["rest", "status", "--rest-url", "not-a-url"],
    ["--rest-url", "ftp://x", "rest", "status"],
    ["stream", "--ws-url", "http://x", "--channels", "ticker"],
    ["order", "create", "KXBTCPERP", "bid", "1", "1e3"],
    ["order", "create", "KXBTCPERP", "bid", "1e2", "8.1"],
    ["order", "amend", "ID", "--ticker", "T", "--side", "bid", "--price", "-1", "--count", "1"],
    ["stream", "--channels", "nope"],
    ["record", "--channels", "trade"],
    ["record", "--channels", "trade", "-o", "x", "--rotate-minutes", "0"],
    ["replay"],
    ["replay", "x", "--speed", "fast"],
    ["--log-level", "loud", "replay", "x"],
    ["book"],
    ["no-such-command"],
])
def test_bad_arguments_give_one_line_and_status_2(argv: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kalshi-margin-stream {__version__}"


async def test_python_dash_m_and_a_missing_recording() -> None:
    code, out, err = await run_cli("--version")
    assert code == 0 and __version__ in out
    code, _, err = await run_cli("replay", "/nonexistent/rec")
    assert code == 2 and err.strip().count("\n") == 0 and "no such file" in err


async def test_connection_options_before_or_after_the_sub_command(tmp_path: Path) -> None:
    async with running_simulator(markets=["KXBTCPERP"]) as sim:
        key = str(sim.write_private_key(tmp_path / "key.pem"))
        creds = ["--key-id", sim.key_id, "--private-key", key]
        after = await run_cli("rest", "balance", "--rest-url", sim.rest_url, *creds)
        before = await run_cli("--rest-url", sim.rest_url, *creds, "rest", "balance")
        middle = await run_cli("rest", "--rest-url", sim.rest_url, "balance", *creds)
    for code, out, err in (after, before, middle):
        assert code == 0, err
        assert json.loads(out) == json.loads(after[1])
    assert "balance" in json.loads(after[1]) or json.loads(after[1])


async def test_closed_stdout_is_a_quiet_exit_0(tmp_path: Path) -> None:
    """`rest … | head`, `replay … | head`, `stream | head -1`: no BrokenPipe traceback."""
    async with running_simulator(markets=["KXBTCPERP"], rate=300.0) as sim:
        key = str(sim.write_private_key(tmp_path / "key.pem"))
        conn = ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url, "--key-id", sim.key_id,
                "--private-key", key]
        for argv in (["rest", "markets", "--rest-url", sim.rest_url],
                     ["replay", str(WS / "ws__public_orderbook_ticker.jsonl"), "--json"]):
            read, write = os.pipe()
            os.close(read)  # the reader is gone before the first write
            try:
                code, _, err = await run_cli(*argv, stdout=write)
            finally:
                os.close(write)
            assert code == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
        # stream | head -1: read one line, then close the pipe.
        read, write = os.pipe()
        proc = await asyncio.create_subprocess_exec(
            *CLI, "stream", *conn, "--channels", "orderbook_delta", "trade",
            "--markets", "KXBTCPERP", stdout=write, stderr=asyncio.subprocess.PIPE)
        os.close(write)
        try:
            first = await asyncio.wait_for(asyncio.to_thread(read_line, read), 30)
        finally:
            os.close(read)
        assert json.loads(first)["type"] == "orderbook_snapshot"
        assert proc.stderr is not None
        err_bytes = await asyncio.wait_for(proc.stderr.read(), 30)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0 and b"Traceback" not in err_bytes, err_bytes.decode()


async def into_head(argv: list[str], lines: int = 1,
                    timeout: float = 60) -> tuple[int, bytes, bytes]:
    """``CLI argv | head -LINES`` in bash: the command's own status, what head printed, stderr."""
    command = " ".join(shlex.quote(a) for a in [*CLI, *argv])
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", f"{command} | head -{lines}; exit ${{PIPESTATUS[0]}}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)  # bash and the command behind the pipe
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out, err


@pytest.mark.parametrize("lines", [1, 3])
async def test_demo_piped_into_head_ends_quietly_with_0(lines: int) -> None:
    """``demo | head -1``: rich's Console raised SystemExit(1) inside a task (a 70-line
    "Task exception was never retrieved" traceback, status 1)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    code, out, err = await into_head(["demo", "--duration", "20", "--rate", "50"], lines)
    assert code == 0, err.decode()
    assert out.count(b"\n") == lines and out.startswith(b"[")
    assert b"Traceback" not in err and b"SystemExit" not in err, err.decode()
    assert loop.time() - t0 < 20  # it ends when the reader goes, not at --duration


async def test_ctrl_c_gives_the_summary_then_130(tmp_path: Path) -> None:
    async with running_simulator(markets=["KXBTCPERP"], rate=200.0) as sim:
        key = str(sim.write_private_key(tmp_path / "key.pem"))
        proc = await asyncio.create_subprocess_exec(
            *CLI, "stream", "--channels", "orderbook_delta", "--markets", "KXBTCPERP",
            "--rest-url", sim.rest_url, "--ws-url", sim.ws_url, "--key-id", sim.key_id,
            "--private-key", key, "--json", stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        await asyncio.wait_for(proc.stdout.readline(), 30)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130, err.decode()
    last = json.loads(out.decode().strip().splitlines()[-1])
    assert last["type"] == "summary" and last["books"]["KXBTCPERP"]["bids"]


async def test_a_silent_server_fails_within_the_timeout_saying_how_many_attempts(
        tmp_path: Path) -> None:
    held: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(reader: asyncio.StreamReader,
                                     writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        code, _, err = await run_cli("rest", "status", "--rest-url",
                                     f"http://127.0.0.1:{port}/trade-api/v2", "--timeout", "1.5")
        elapsed = loop.time() - t0
        async with running_simulator(markets=["KXBTCPERP"]) as sim:  # only for a key file
            key = str(sim.write_private_key(tmp_path / "key.pem"))
            key_id = sim.key_id
        for command in (["stream", "--channels", "ticker"],
                        ["record", "--channels", "ticker", "-o", str(tmp_path / "rec")],
                        ["book", "--markets", "KXBTCPERP"]):
            t1 = loop.time()
            ws_code, _, ws_err = await run_cli(
                *command, "--ws-url", f"ws://127.0.0.1:{port}/trade-api/ws/v2/margin",
                "--key-id", key_id, "--private-key", key, "--timeout", "1.5")
            assert ws_code == 1 and "Traceback" not in ws_err, ws_err
            assert "within --timeout 1.5s after" in ws_err and "attempt" in ws_err, ws_err
            assert loop.time() - t1 < 1.5 + 8
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()
    assert code == 1, err
    message = json.loads(err.strip().splitlines()[-1])["message"]
    assert "attempt" in message and "1.5" in message
    assert elapsed < 1.5 + 8  # interpreter start-up aside, the deadline holds


async def test_rest_timeout_bounds_every_attempt_of_the_public_reads() -> None:
    """``rest --timeout 2 status`` against a silent server took ~9 s and 4 attempts: each
    read passed ``timeout=`` per attempt, whose aiohttp timer fell due with the outer
    deadline and swallowed it. Now the one attempt that fits is made, then the call ends."""
    held: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(reader: asyncio.StreamReader,
                                     writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/trade-api/v2"
    loop = asyncio.get_running_loop()

    async def timed(*command: str) -> tuple[float, int, str]:
        t0 = loop.time()
        code, _, err = await run_cli("rest", "--rest-url", url, "--timeout", "2", *command)
        return loop.time() - t0, code, err

    try:
        results = await asyncio.gather(timed("status"), timed("markets"),
                                       timed("markets", "--ticker", "X"),
                                       timed("orderbook", "X"))
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()
    for elapsed, code, err in results:
        assert code == 1 and "Traceback" not in err, err
        message = json.loads(err.strip().splitlines()[-1])["message"]
        assert message.endswith("within --timeout 2.0s; gave up after 1 attempt"), message
        assert elapsed < 2 + 5  # interpreter start-up aside; it was 4 x 2 s + backoff
    assert len(held) == 4  # one connection per command: nothing was retried


def test_log_options_on_either_side_of_the_sub_command() -> None:
    from kalshi_margin_stream.cli.connection import fill_defaults
    from kalshi_margin_stream.cli.main import build_parser

    parser = build_parser()
    for argv, verbose, level in ((["replay", "x", "-vv"], 2, None),
                                 (["-v", "replay", "x"], 1, None),
                                 (["--log-level", "INFO", "rest", "status"], 0, "info"),
                                 (["rest", "status", "--log-level", "debug"], 0, "debug")):
        args = parser.parse_args(argv)
        fill_defaults(args)
        assert (args.verbose, args.log_level) == (verbose, level), argv


def test_a_sub_command_may_define_its_own_option_of_the_same_name() -> None:
    """Other sub-commands add their own options beside add_connection_args: no clash."""
    import argparse

    from kalshi_margin_stream.cli.connection import add_connection_args, propagate
    from kalshi_margin_stream.cli.rest import add_connection_args as old_name

    assert old_name is add_connection_args  # the import path other branches use
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("gateway")
    p.add_argument("--timeout", type=int, default=7)
    add_connection_args(p)
    inner = p.add_subparsers(dest="what").add_parser("run")
    inner.add_argument("-v", action="store_true")
    propagate(parser)
    args = parser.parse_args(["gateway", "--rest-url", "http://127.0.0.1:1/x", "run", "-v"])
    assert args.timeout == 7 and args.v is True and args.rest_url == "http://127.0.0.1:1/x"
