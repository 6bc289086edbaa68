"""Recording raw WebSocket traffic and reading it back.

* :mod:`.format` — one JSON object a line: frames exactly as received with their
  receive time (ns) and connection id, plus sent commands and connection events.
* :mod:`.recorder` — :class:`Recorder`: a bounded buffer and a writer thread,
  rotating compressed files with a manifest each; the socket reader never waits
  on the disk.
* :mod:`.reader` — finds, orders, decompresses and paces recordings (files,
  directories, stdin), tolerating the truncated tail a crash leaves.
* :mod:`.parquet` — ``convert --parquet`` (the ``[parquet]`` extra).

No asyncio here except :meth:`Recorder.aclose`, which hands the blocking close to
a thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .format import Record
    from .reader import read_records
    from .recorder import Recorder, RecorderStats

__all__ = ["Record", "Recorder", "RecorderStats", "read_records"]

_LAZY = {"Record": ".format", "Recorder": ".recorder", "RecorderStats": ".recorder",
         "read_records": ".reader"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
