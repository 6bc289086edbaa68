"""What every subcommand shares: argument types, logging, stdout, signals, exit codes.

Exit statuses (the same for every command):

* 0 — done (``--duration`` elapsed, the work finished, stdout was closed by the
  reader, e.g. ``| head``, or SIGTERM asked for a stop);
* 1 — the exchange or the network failed;
* 2 — bad arguments or credentials (one line on stderr, no traceback);
* 130 — interrupted with Ctrl-C (SIGINT): the command still flushes, closes its
  files and prints its summary first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import queue
import re
import signal
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

from .output import stdout_gone, stdout_reader_gone

__all__ = ["EXIT_INTERRUPTED", "AttemptCounter", "OneLineParser", "StdoutLines", "Stopper",
           "connect_within", "http_url", "non_negative_float", "plain_decimal",
           "logging_to_stderr", "positive_float", "positive_int",
           "setup_logging", "ws_url"]

EXIT_INTERRUPTED = 130
LOGGER = "kalshi_margin_stream"


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and status 2 (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


# --- argument types: refuse what the wire would refuse, before anything starts -------

def positive_float(text: str) -> float:
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def non_negative_float(text: str) -> float:
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"not a finite number: {text}")
    return value


_PLAIN = re.compile(r"\d+(\.\d+)?|\.\d+")


def plain_decimal(text: str) -> str:
    """A price or count as written on the wire: digits and one point (no ``1e3``, no sign)."""
    if not _PLAIN.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a plain decimal (write e.g. 8.0961; no exponents or signs)")
    Decimal(text)
    return text.strip()


def _url(text: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(text)
    if parts.scheme not in schemes or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a {'/'.join(schemes)} URL (e.g. {schemes[0]}://127.0.0.1:8080/...)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} has a bad port") from None
    return text


def http_url(text: str) -> str:
    return _url(text, ("http", "https"))


def ws_url(text: str) -> str:
    return _url(text, ("ws", "wss"))


# --- logging ------------------------------------------------------------------------

@contextlib.contextmanager
def logging_to_stderr(verbose: int, level: str | None) -> Iterator[None]:
    """:func:`setup_logging` for the duration of a command, then put back as it was
    (``main`` also runs in-process, in tests and embedding programs)."""
    root = logging.getLogger(LOGGER)
    runner = logging.getLogger(f"{LOGGER}.stream.runner")
    saved = (root.handlers[:], root.propagate, root.level, runner.level)
    setup_logging(verbose, level)
    try:
        yield
    finally:
        root.handlers[:], root.propagate = saved[0], saved[1]
        root.setLevel(saved[2])
        runner.setLevel(saved[3])


def setup_logging(verbose: int, level: str | None) -> None:
    """Logs go to stderr. Default: warnings, plus the connection lifecycle (connect
    failures with their reason, losses, reconnects) so a wrong URL is never silent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                           "%H:%M:%S"))
    root = logging.getLogger(LOGGER)
    root.handlers[:] = [handler]
    root.propagate = False
    if level is not None:
        root.setLevel(level.upper())
    elif verbose:
        root.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    else:
        root.setLevel(logging.WARNING)
        logging.getLogger(f"{LOGGER}.stream.runner").setLevel(logging.INFO)


# --- stdout ---------------------------------------------------------------------------

class StdoutLines:
    """Lines to stdout from a thread, so a stalled reader never freezes the event loop.

    :meth:`put` waits (asynchronously) while ``capacity`` lines are pending: the
    subscription behind it then overflows and resyncs as designed, rather than
    the socket going unserved. :attr:`closed` turns true when the reader closed
    the pipe.
    """

    def __init__(self, out: IO[bytes] | None = None, capacity: int = 10_000) -> None:
        self.out = out if out is not None else sys.stdout.buffer
        self._is_stdout = out is None
        self.closed = False
        self._queue: queue.Queue[bytes | None] = queue.Queue(capacity)
        self._thread = threading.Thread(target=self._run, name="stdout", daemon=True)
        self._thread.start()

    async def put(self, line: bytes) -> None:
        while not self.closed:
            try:
                self._queue.put_nowait(line)
                return
            except queue.Full:
                await asyncio.sleep(0.005)

    def _run(self) -> None:
        out, q = self.out, self._queue
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                out.write(item)
                if q.empty():
                    out.flush()
            out.flush()
        except (BrokenPipeError, ValueError, OSError):
            self.closed = True
            if self._is_stdout:
                stdout_gone()
            with contextlib.suppress(queue.Empty):  # let pending puts and close() go on
                while True:
                    q.get_nowait()

    def reader_gone(self) -> bool:
        """True once the reader closed the pipe; asks the pipe (no write needed), and
        then lets the thread end: what is pending goes to /dev/null."""
        if not self.closed and self._is_stdout and stdout_reader_gone():
            self.closed = True
            stdout_gone()
            with contextlib.suppress(queue.Empty):  # nobody reads them: drop, then stop
                while True:
                    self._queue.get_nowait()
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
        return self.closed

    async def aclose(self) -> None:
        """Write what is pending and stop the thread."""
        while not self.closed:
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                await asyncio.sleep(0.005)
        await asyncio.to_thread(self._thread.join, 30)


class Stopper:
    """SIGINT/SIGTERM → a graceful stop; remembers which, for the exit status."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal: int | None = None

    def __enter__(self) -> Stopper:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stop, sig)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)

    def _stop(self, sig: int) -> None:
        self.signal = sig
        self.event.set()

    def set(self) -> None:
        self.event.set()

    async def wait(self, duration: float | None) -> None:
        """Until a signal, :meth:`set`, or ``duration`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration):
                await self.event.wait()

    @property
    def exit_code(self) -> int:
        return EXIT_INTERRUPTED if self.signal == signal.SIGINT else 0


@contextlib.contextmanager
def no_traceback_on_broken_pipe() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        stdout_gone()


class AttemptCounter:
    """A tap that counts connection attempts (and forwards to a recorder, if any), so
    a command can say how many it made when ``--timeout`` runs out."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner
        self.failed = 0
        self.connected = 0
        self.last_error: str | None = None
        if inner is not None:
            self.frame = inner.frame  # type: ignore[method-assign]  # hot path: no extra call

    def frame(self, conn_id: int, recv_ns: int, data: bytes | str) -> None:
        pass

    def event(self, conn_id: int, recv_ns: int, kind: str, detail: Any) -> None:
        if kind == "connect_failed":
            self.failed += 1
            self.last_error = str(detail)
        elif kind == "connected":
            self.connected += 1
        if self.inner is not None:
            self.inner.event(conn_id, recv_ns, kind, detail)

    def start(self) -> None:
        if self.inner is not None:
            self.inner.start()

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()

    @property
    def attempts(self) -> int:
        return self.failed + self.connected


async def connect_within(client: Any, timeout: float | None, counter: AttemptCounter,
                         url: str) -> str | None:
    """Wait for the socket for ``timeout`` seconds; the reason it failed, or ``None``."""
    if timeout is None:
        return None
    try:
        await client.wait_connected(timeout)
    except TimeoutError:
        why = f"; last error: {counter.last_error}" if counter.last_error else \
            " (the server did not complete the handshake)"
        n = counter.attempts or 1
        return (f"could not connect to {url} within --timeout {timeout}s after {n} "
                f"attempt{'s' if n != 1 else ''}{why}")
    return None
