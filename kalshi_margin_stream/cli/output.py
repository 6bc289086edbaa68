"""Results on stdout, quietly when the reader has gone (``... | head -1``).

A closed pipe is the reader's way of saying "enough": no traceback, no error line.
"""

from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["stdout_gone", "write_stdout"]


def stdout_gone() -> None:
    """Point fd 1 at /dev/null, so the interpreter's exit flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


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
