# Everything runs from .venv, created with the python3 on PATH (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit conformance demo bench bench-smoke clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,conformance,websockets,record,parquet,fast,redis]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check kalshi_margin_stream tests benchmarks examples

typecheck: install
	$(BIN)/mypy --strict kalshi_margin_stream

unit: install
	$(BIN)/python -m pytest -q

# ruff, mypy --strict, then the whole pytest suite (no ../shared needed).
test: lint typecheck unit

# Simulator responses and frames against Kalshi's official OpenAPI/AsyncAPI files
# in ../shared/spec/official (CI has ../shared; the rest of the suite does not need it).
# The kalshi-sdk interop test needs Python >= 3.12 (python3.12, pyenv or uv); when none
# exists, uv (from PyPI) installs a managed CPython 3.12 once. Its venv is cached in
# benchmarks/.venv-kalshi-sdk.
conformance: install
	@$(BIN)/python benchmarks/peer.py --find-python >/dev/null || \
		{ $(BIN)/python -m pip install --quiet uv && $(BIN)/uv python install 3.12; }
	$(BIN)/python -m pytest -q -m conformance tests/conformance

demo: install
	$(BIN)/kalshi-margin-stream demo

bench: install
	$(BIN)/python benchmarks/run_all.py

# Fan-out (issue 13): a real redis-server for its tests and demo, from Debian's package,
# installed only when missing (a no-op when present). `make install` depends on it.
.PHONY: redis-server demo-fanout
install: redis-server
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { echo "installing redis-server (apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

# Gateway + two consumers (one plain, one in a consumer group) against the simulator.
demo-fanout: install
	$(BIN)/python -m kalshi_margin_stream.fanout.demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
