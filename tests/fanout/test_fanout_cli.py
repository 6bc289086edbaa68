"""The ``gateway`` command as a user runs it: a subprocess killed with SIGKILL and restarted."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from kalshi_margin_stream.cli.gateway import redacted
from kalshi_margin_stream.fanout.feed import RemoteFeed
from kalshi_margin_stream.fanout.testing import RedisServer
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.sim.testing import running_simulator
from kalshi_margin_stream.stream.subscriptions import Books, Stale
from kalshi_margin_stream.testing import MARKETS, eventually

from .conftest import feed_matches

CLI = [sys.executable, "-m", "kalshi_margin_stream", "gateway"]


@asynccontextmanager
async def gateway_process(sim: Simulator, redis: RedisServer, key: Path, *extra: str
                          ) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, Any]]]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "--redis", redis.url, "--rest-url", sim.rest_url, "--ws-url", sim.ws_url,
        "--key-id", sim.key_id, "--private-key", str(key), "--channels", "orderbook_delta",
        "trade", "--markets", *MARKETS, "--snapshot-interval", "0.5",
        "--heartbeat-interval", "0.2", *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line, (await proc.stderr.read()).decode() if proc.stderr else "no output"
        yield proc, json.loads(line)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()


async def test_sigkill_and_restart_of_the_gateway_mid_stream_ends_with_equal_books(
        redis_server: RedisServer, tmp_path: Path) -> None:
    async with running_simulator(markets=MARKETS, rate=300.0, ping_interval=0.25) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        async with RemoteFeed(redis_server.url, heartbeat_check=0.1) as feed:
            sub = feed.subscribe(Books(tuple(MARKETS)))
            got: list[Any] = []

            async def drain() -> None:
                async for item in sub:
                    got.append(item)
            task = asyncio.create_task(drain())
            try:
                async with gateway_process(sim, redis_server, key) as (proc, first):
                    await eventually(lambda: feed.statistics().entries > 300
                                     and all(feed.book(t).is_synced  # type: ignore[union-attr]
                                             for t in MARKETS), timeout=30)
                    proc.send_signal(signal.SIGKILL)
                    await proc.wait()
                    await eventually(lambda: not feed.gateway_alive, timeout=10,
                                     what="heartbeat expired")
                    assert not any(feed.book(t).is_synced  # type: ignore[union-attr]
                                   for t in MARKETS)
                # a consumer starting while no gateway lives: it reads what is there, but
                # trusts none of it
                newcomer = RemoteFeed(redis_server.url, heartbeat_check=0.1)
                await newcomer.__aenter__()
                try:
                    newcomer.subscribe(Books(tuple(MARKETS)))
                    await eventually(lambda: newcomer.statistics().stream_snapshots >= 2,
                                     timeout=20)
                    assert not any(newcomer.book(t).is_synced  # type: ignore[union-attr]
                                   for t in MARKETS)
                    before = feed.statistics().entries
                    async with gateway_process(sim, redis_server, key) as (proc2, second):
                        assert second["epoch"] != first["epoch"]
                        await eventually(lambda: feed.statistics().entries > before + 300,
                                         timeout=30)
                        sim.pause_flow()
                        await eventually(lambda: feed_matches(sim, feed, MARKETS)
                                         and feed_matches(sim, newcomer, MARKETS), timeout=30)
                        proc2.send_signal(signal.SIGTERM)
                        out, err = await asyncio.wait_for(proc2.communicate(), 15)
                        assert proc2.returncode == 0, err.decode()
                        stats = json.loads(out.decode().strip().splitlines()[-1])
                        assert stats["epoch"] == second["epoch"] and stats["published"] > 0
                finally:
                    await newcomer.aclose()
            finally:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        s = feed.statistics()
        assert s.epochs >= 1 and s.heartbeat_expiries >= 1
        assert any(isinstance(x, Stale) and "heartbeat" in x.reason for x in got)


async def run_cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_bad_arguments_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    cases = [
        ("--redis", "http://x", "--channels", "trade"),
        ("--redis", "redis://127.0.0.1:1/0", "--channels", "orderbook_delta"),
        ("--redis", "redis://127.0.0.1:1/0", "--channels", "trade", "--maxlen", "0"),
        ("--redis", "redis://127.0.0.1:1/0", "--channels", "trade", "--key-id", "k",
         "--private-key", str(tmp_path / "missing.pem")),
    ]
    for args in cases:
        code, _, err = await run_cli(*args)
        assert code == 2, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_the_redis_password_is_never_printed() -> None:
    assert redacted("redis://:s3cret@host:6380/0") == "redis://:***@host:6380/0"
    assert redacted("redis://user:s3cret@host/1") == "redis://user:***@host/1"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"
    assert redacted("redis://host:6379/0?password=s3cret&socket_timeout=1") == \
        "redis://host:6379/0?password=***&socket_timeout=1"
    assert redacted("unix:///run/redis.sock?db=1&password=s3cret") == \
        "unix:///run/redis.sock?db=1&password=***"
    assert redacted("rediss://:s3cret@[::1]:6380/2") == "rediss://:***@[::1]:6380/2"


async def test_options_before_the_command_count_and_ctrl_c_is_130_after_the_statistics(
        redis_server: RedisServer, tmp_path: Path) -> None:
    async with running_simulator(markets=MARKETS, rate=100.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        # --ws-url before the sub-command (it was overridden by the gateway's own default)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kalshi_margin_stream", "--ws-url", sim.ws_url,
            "--rest-url", sim.rest_url, "gateway", "--redis", redis_server.url,
            "--key-id", sim.key_id, "--private-key", str(key), "--channels", "trade",
            "--markets", *MARKETS, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        try:
            first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
            await eventually(lambda: len(sim.connections()) >= 1, timeout=20,
                             what="the gateway connected to the simulator")
            feed = RemoteFeed(redis_server.url, heartbeat_check=0.1)
            async with feed:
                await eventually(lambda: feed.gateway_alive, timeout=20, what="heartbeat")
            proc.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.communicate()
        assert proc.returncode == 130, err.decode()
        stats = json.loads(out.decode().strip().splitlines()[-1])
        assert stats["epoch"] == first["epoch"]
        assert stats["client"]["connections"] >= 1, err.decode()


async def test_an_unusable_redis_is_said_once_at_start_status_1_without_the_password(
        tmp_path: Path) -> None:
    async with running_simulator(markets=MARKETS, rate=0.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        code, out, err = await run_cli(
            "--redis", "redis://:s3cret@127.0.0.1:1/0", "--ws-url", sim.ws_url,
            "--rest-url", sim.rest_url, "--key-id", sim.key_id, "--private-key", str(key),
            "--channels", "trade", "--markets", *MARKETS, "--timeout", "2")
    assert code == 1 and out == ""
    assert "cannot use Redis at redis://:***@127.0.0.1:1/0" in err
    assert "s3cret" not in err and len(err.strip().splitlines()) == 1, err


async def test_a_websocket_that_never_connects_is_status_1(
        redis_server: RedisServer, tmp_path: Path) -> None:
    async with running_simulator(markets=MARKETS, rate=0.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        code, out, err = await run_cli(
            "--redis", redis_server.url, "--ws-url", "ws://127.0.0.1:1/x",
            "--rest-url", sim.rest_url, "--key-id", sim.key_id, "--private-key", str(key),
            "--channels", "trade", "--markets", *MARKETS, "--duration", "1.5")
    assert code == 1, err
    assert json.loads(out.strip().splitlines()[-1])["client"]["connections"] == 0
    assert "never connected" in err and "Traceback" not in err


async def test_a_rejected_key_ends_the_gateway_at_once_instead_of_heartbeating_on(
        redis_server: RedisServer, tmp_path: Path) -> None:
    async with running_simulator(markets=MARKETS, rate=0.0) as sim:
        key = sim.write_private_key(tmp_path / "key.pem")
        # no --duration: before the fix it ran (heartbeat and all) until a signal, and
        # run_cli's 60 s bound failed the test
        code, _, err = await run_cli(
            "--redis", redis_server.url, "--ws-url", sim.ws_url, "--rest-url", sim.rest_url,
            "--key-id", "not-a-registered-key", "--private-key", str(key),
            "--channels", "trade", "--markets", *MARKETS)
    assert code == 1, err
    assert "handshake rejected" in err.strip().splitlines()[-1]
    assert "Traceback" not in err
