"""Results on stdout, quietly when the reader has gone (``... | head -1``).

A closed pipe is the reader's way of saying "enough": no traceback, no error line.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys

__all__ = ["stdout_gone", "stdout_reader_gone", "write_stdout"]


def stdout_gone() -> None:
    """Point fd 1 at /dev/null, so the interpreter's exit flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def stdout_reader_gone() -> bool:
    """True when stdout is a pipe whose reader has closed it, found without writing.

    A command that prints rarely (``book``: a line every 4 s) would otherwise learn
    it only at its next write; poll reports POLLERR on a pipe's write end then.
    """
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)  # no events asked: errors only
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def write_stdout(text: str, *, flush: bool = False) -> bool:
    """Write ``text`` to stdout; False (and stdout silenced) when the reader has gone."""
    try:
        sys.stdout.write(text)
        if flush:
            sys.stdout.flush()
    except BrokenPipeError:
        stdout_gone()
        return False
    return True
