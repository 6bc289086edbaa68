"""The engine stays pure: no event loop, no network, no wall clock (callers pass now_ms)."""

from __future__ import annotations

import ast
from pathlib import Path

import kalshi_margin_stream.sim.engine as engine

FORBIDDEN = {"asyncio", "aiohttp", "websockets", "anyio", "time", "socket", "trio",
             "datetime", "threading", "os"}


def test_engine_imports_nothing_asynchronous_or_clocked() -> None:
    files = sorted(Path(engine.__file__).parent.glob("*.py"))
    assert len(files) >= 15
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_rejection_is_a_package_error() -> None:
    from kalshi_margin_stream.exceptions import KalshiError

    assert issubclass(engine.Rejection, KalshiError)
