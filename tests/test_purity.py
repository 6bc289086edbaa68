"""The pure parts stay pure: no event loop, no network library, no clock.

The protocol core and the simulator's engine are synchronous and deterministic
(callers pass the time), so they replay as unit tests. Checked two ways: each pure
module is imported in a fresh interpreter and ``sys.modules`` inspected (this
catches relative imports and package ``__init__`` side effects), and every source
file's own imports are read (this catches a forbidden import a sibling already
happened to pull in).
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import kalshi_margin_stream

ROOT = Path(kalshi_margin_stream.__file__).parent
ASYNC_AND_NET = {"asyncio", "aiohttp", "websockets", "anyio", "socket", "trio", "picows",
                 "redis", "ssl"}
CLOCKS_AND_OS = {"datetime", "threading", "os", "time"}
PURE = {"core": ASYNC_AND_NET | {"time"}, "sim.engine": ASYNC_AND_NET | CLOCKS_AND_OS}


def pure_modules(package: str) -> list[str]:
    path = ROOT.joinpath(*package.split("."))
    prefix = f"kalshi_margin_stream.{package}."
    return [f"kalshi_margin_stream.{package}"] + sorted(
        info.name for info in pkgutil.walk_packages([str(path)], prefix))


def loaded_by(module: str) -> set[str]:
    code = (f"import importlib, json, sys; importlib.import_module({module!r}); "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_modules_load_nothing_asynchronous_in_a_fresh_interpreter(package: str) -> None:
    modules = pure_modules(package)
    assert len(modules) >= 8
    # One interpreter per top module is enough: submodules add only their own imports,
    # which the source scan below checks; import the deepest modules to cover all.
    for module in modules:
        bad = loaded_by(module) & (ASYNC_AND_NET - {"ssl"})
        assert not bad, f"importing {module} loads {sorted(bad)}"


def imported_names(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_sources_import_nothing_forbidden(package: str) -> None:
    files = sorted(ROOT.joinpath(*package.split(".")).rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        for name in imported_names(path):
            assert name.split(".")[0] not in PURE[package], f"{path} imports {name}"


def test_core_does_not_import_the_shells() -> None:
    for path in ROOT.joinpath("core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
                head = node.module.split(".")[0]
                assert head not in {"stream", "rest", "sim", "cli"}, f"{path} imports {node.module}"
