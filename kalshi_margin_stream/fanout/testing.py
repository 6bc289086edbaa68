"""A real ``redis-server`` on loopback for tests, demos and benchmarks.

::

    async with RedisServer() as server:   # free port, temporary directory
        url = server.url
        await server.restart()             # same port; data kept only with appendonly=True

No mock: the Debian ``redis-server`` binary (``make install`` installs it when
missing). Stopping is bounded: SIGTERM, then SIGKILL after ``stop_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import redis.asyncio as aioredis

__all__ = ["RedisServer", "free_port"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A ``redis-server`` child process on 127.0.0.1 (see module docstring).

    Args:
        appendonly: keep an AOF in the temporary directory (a restart keeps the data).
        binary: the server executable (default: ``redis-server`` on ``PATH``).
        stop_timeout: seconds to wait after SIGTERM before SIGKILL.
    """

    def __init__(self, *, appendonly: bool = False, binary: str = "redis-server",
                 stop_timeout: float = 5.0) -> None:
        path = shutil.which(binary)
        if path is None:
            raise FileNotFoundError(
                f"{binary} not found: install it (make install does: apt-get install "
                "redis-server)")
        self.binary = path
        self.appendonly = appendonly
        self.stop_timeout = stop_timeout
        self.port = free_port()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def directory(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp.name)

    async def __aenter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix="kms-redis-")
        try:
            await self.start()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Start the server and wait until it answers PING (10 s at most)."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "", "--daemonize", "no",
                "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", "everysec", "--protected-mode", "yes",
                "--loglevel", "warning", "--logfile", str(self.directory / "redis.log")]
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        client = aioredis.Redis.from_url(self.url, socket_timeout=1.0,
                                         socket_connect_timeout=1.0)
        try:
            async with asyncio.timeout(10):
                while True:
                    if self.proc.returncode is not None:
                        raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
                    try:
                        if await client.ping():
                            return
                    except (OSError, aioredis.RedisError):
                        pass
                    await asyncio.sleep(0.02)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Stop the server: SIGTERM (SIGCONT first, in case it is paused), then SIGKILL."""
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), self.stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def restart(self) -> None:
        """Stop and start again on the same port (an empty server unless ``appendonly``)."""
        await self.stop()
        await self.start()

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    async def aclose(self) -> None:
        await self.stop()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()
