"""Packaging facts a user relies on: one version, a license that matches, lazy extras."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import kalshi_margin_stream

ROOT = Path(__file__).parents[2]


def test_one_version_and_a_matching_license() -> None:
    assert importlib.metadata.version("kalshi-margin-stream") == kalshi_margin_stream.__version__
    meta = importlib.metadata.metadata("kalshi-margin-stream")
    assert meta["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert any(c.startswith("Programming Language :: Python :: 3.11")
               for c in meta.get_all("Classifier") or [])
    assert meta.get_all("Project-URL")


def test_the_client_and_the_cli_do_not_need_the_optional_extras() -> None:
    code = ("import sys; import kalshi_margin_stream.stream.client, kalshi_margin_stream.cli.main;"
            "from kalshi_margin_stream.cli.main import build_parser; build_parser();"
            "import kalshi_margin_stream.recording.recorder, kalshi_margin_stream.recording.reader;"
            "bad = {'websockets', 'pyarrow', 'zstandard'} & set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def without(module: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter where ``module`` cannot be imported."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from kalshi_margin_stream.cli.main import main\n"
            f"sys.exit(main({argv!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_missing_extras_are_named(tmp_path: Path) -> None:
    out = without("pyarrow", ["convert", str(tmp_path), "--parquet", str(tmp_path / "pq")])
    assert out.returncode == 2 and "kalshi-margin-stream[parquet]" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = without("zstandard", ["record", "--channels", "trade", "-o", str(tmp_path),
                                "--compress", "zstd", "--key-id", "k", "--private-key",
                                str(tmp_path / "missing.pem")])
    assert out.returncode == 2 and "kalshi-margin-stream[record]" in out.stderr
