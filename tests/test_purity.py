"""The core stays pure: no event loop, no network library, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import kalshi_margin_stream.core as core

FORBIDDEN = {"asyncio", "aiohttp", "websockets", "anyio", "time", "socket", "trio"}


def test_core_imports_nothing_asynchronous() -> None:
    root = Path(core.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 8
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
