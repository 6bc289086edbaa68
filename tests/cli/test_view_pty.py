"""``demo`` and its view in real pseudo-terminals: alternate screen, no scrollback, exit 0."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest


def run_in_pty(argv: list[str], cols: int, rows: int, timeout: float = 90) -> tuple[int, bytes]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, out


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (200, 60)])
def test_demo_draws_in_the_alternate_screen(cols: int, rows: int) -> None:
    code, out = run_in_pty([sys.executable, "-m", "kalshi_margin_stream", "demo",
                            "--duration", "3", "--rate", "200", "--no-faults"], cols, rows)
    text = out.decode("utf-8", "replace")
    assert code == 0, text[-2000:]
    assert "\x1b[?1049h" in text and "\x1b[?1049l" in text  # entered and left it
    assert "\x1b[H\x1b[2J" not in text  # no clear-screen redraws into the scrollback
    after = text.rsplit("\x1b[?1049l", 1)[1]  # what stays on the terminal: the summary
    assert "== summary ==" in after and "books synced at the end: yes" in after
    assert "KXBTCPERP" in text.split("\x1b[?1049l")[0]  # the live view showed the books
    strip = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
    assert all(len(strip.sub("", line)) <= cols for line in after.replace("\r", "").split("\n"))
