"""The pure parts stay pure: no event loop, no network library, no clock.

The protocol core and the simulator's engine are synchronous and deterministic
(callers pass the time), so they replay as unit tests.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import pytest

import kalshi_margin_stream.core as core
import kalshi_margin_stream.sim.engine as engine

ASYNC_AND_NET = {"asyncio", "aiohttp", "websockets", "anyio", "time", "socket", "trio"}
CLOCKS_AND_OS = {"datetime", "threading", "os"}


def imported_names(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize(("package", "forbidden", "at_least"), [
    (core, ASYNC_AND_NET, 8),
    (engine, ASYNC_AND_NET | CLOCKS_AND_OS, 15),
], ids=["core", "sim.engine"])
def test_pure_packages_import_nothing_asynchronous(package: ModuleType, forbidden: set[str],
                                                   at_least: int) -> None:
    assert package.__file__ is not None
    files = sorted(Path(package.__file__).parent.glob("*.py"))
    assert len(files) >= at_least
    for path in files:
        for name in imported_names(path):
            assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
