"""The kalshi-sdk peer: its own Python 3.12 virtualenv, driven through a subprocess.

kalshi-sdk 22.4.0 requires Python >= 3.12 while this project runs on 3.11, so the
benchmarks create ``benchmarks/.venv-kalshi-sdk`` (git-ignored) with a 3.12
interpreter found on PATH (``python3.12``) or under pyenv, install the pinned
release from PyPI into it, and run ``kalshi_sdk_runner.py`` there. When no 3.12
interpreter or no package can be had, :func:`ensure_peer` says why and the
scripts report ours alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PEER_VERSION", "PeerStatus", "ensure_peer", "find_python312", "peer_label",
           "run_peer"]

PEER_PACKAGE = "kalshi-sdk"
PEER_VERSION = "22.4.0"
HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-kalshi-sdk"
RUNNER = HERE / "kalshi_sdk_runner.py"


@dataclass
class PeerStatus:
    """Whether the peer can run, and if not, why."""

    available: bool
    reason: str = ""
    python: Path | None = None
    versions: dict[str, str] | None = None


_cached: PeerStatus | None = None


def _uv_python() -> str | None:
    """A CPython >= 3.12 that uv manages (``uv python install 3.12``, as ``make
    conformance`` does when no other exists), or None."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        return None
    try:
        r = subprocess.run([uv, "python", "find", "--no-project", ">=3.12"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def find_python312() -> str | None:
    """An interpreter >= 3.12: ``python3.12`` on PATH, pyenv's, or uv's; None if none."""
    candidates = [shutil.which("python3.12")]
    pyenv = shutil.which("pyenv")
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    if pyenv:
        try:
            roots.insert(0, subprocess.run([pyenv, "root"], capture_output=True, text=True,
                                           timeout=10).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    for root in roots:
        if root:
            found = sorted(Path(root).glob("versions/3.1[2-9]*/bin/python"))
            candidates.extend(str(p) for p in found)
    candidates.append(_uv_python())
    for c in candidates:
        if not c:
            continue
        try:
            ok = subprocess.run([c, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                                capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return c
    return None


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _installed_version(python: Path) -> str | None:
    try:
        code = f"from importlib.metadata import version; print(version('{PEER_PACKAGE}'))"
        r = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_peer(install: bool = True, log: bool = True) -> PeerStatus:
    """Make sure the peer's virtualenv exists with kalshi-sdk installed (cached per process)."""
    global _cached
    if _cached is not None:
        return _cached
    python = _venv_python()
    if python.exists() and _installed_version(python) == PEER_VERSION:
        _cached = _finish(python)
        return _cached
    if not install:
        _cached = PeerStatus(False, f"{VENV.name} not set up (run without --no-install)")
        return _cached
    base = find_python312()
    if base is None:
        _cached = PeerStatus(False, "no Python >= 3.12 found (python3.12 on PATH or pyenv); "
                                    "kalshi-sdk needs it: reporting ours alone")
        return _cached
    if log:
        print(f"   setting up {VENV.name} with {base} and {PEER_PACKAGE}=={PEER_VERSION} ...",
              file=sys.stderr)
    try:
        if not python.exists():
            subprocess.run([base, "-m", "venv", str(VENV)], check=True, capture_output=True,
                           timeout=300)
        r = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                            f"{PEER_PACKAGE}=={PEER_VERSION}"],
                           capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        _cached = PeerStatus(False, f"could not create {VENV.name}: {exc}")
        return _cached
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        _cached = PeerStatus(False, f"pip install {PEER_PACKAGE}=={PEER_VERSION} failed: "
                                    f"{tail[0]}")
        return _cached
    _cached = _finish(python)
    return _cached


def _finish(python: Path) -> PeerStatus:
    try:
        vers = run_peer_raw(python, ["versions"], timeout=120)
    except RuntimeError as exc:
        return PeerStatus(False, f"peer runner does not start: {exc}")
    return PeerStatus(True, "", python, {k: str(v) for k, v in vers.items()})


def run_peer_raw(python: Path, argv: list[str], timeout: float) -> dict[str, Any]:
    """Run the runner with ``argv``; its single JSON line, or RuntimeError."""
    try:
        r = subprocess.run([str(python), str(RUNNER), *argv], capture_output=True, text=True,
                           timeout=timeout, cwd=str(HERE))
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"kalshi-sdk runner {argv[0]} timed out after {timeout:.0f} s") \
            from None
    if r.returncode != 0:
        tail = "\n".join(r.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"kalshi-sdk runner {argv[0]} failed ({r.returncode}): {tail}")
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"kalshi-sdk runner {argv[0]} printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_peer(argv: list[str], timeout: float = 600) -> dict[str, Any]:
    """Run one runner mode in the peer's virtualenv (``ensure_peer`` must have succeeded)."""
    status = ensure_peer()
    if not status.available or status.python is None:
        raise RuntimeError(status.reason)
    return run_peer_raw(status.python, argv, timeout)


def peer_label(status: PeerStatus) -> str:
    """One line for a table header: the peer's versions, or why it is absent."""
    if not status.available or not status.versions:
        return f"kalshi-sdk absent: {status.reason}"
    v = dict(status.versions)
    main = f"kalshi-sdk {v.pop('kalshi-sdk', '?')} on python {v.pop('python', '?')}"
    return main + " (" + ", ".join(f"{k} {val}" for k, val in v.items()) + ")"


if __name__ == "__main__":
    # ``python benchmarks/peer.py --find-python``: print a >= 3.12 interpreter, status 1 if none
    # (the Makefile's conformance target installs one with uv then).
    found = find_python312()
    if found is None:
        sys.exit(1)
    print(found)
