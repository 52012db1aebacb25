# One-command setup: `make run` opens the app, `make test` runs the whole suite.
# Both create .venv when it is missing and install what a fresh machine needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run install install-test test lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/savi-tui

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check savi_tui tests benchmarks
	$(BIN)/ruff format --check savi_tui tests benchmarks

format: install-test
	$(BIN)/ruff format savi_tui tests benchmarks
	$(BIN)/ruff check --fix savi_tui tests benchmarks

# `make bench` (~10-15 min on 2 cores); QUICK=1 for fewer repeats; MNIST=DIR for IDX files
# (else MNIST under SAVI_DATASETS); BENCH_ARGS for more, e.g. BENCH_ARGS="--only throughput --out r.json"
bench: install
	$(BIN)/python benchmarks/bench.py $(if $(MNIST),--mnist $(MNIST)) $(if $(QUICK),--quick) $(BENCH_ARGS)

screenshots: install-test
	$(BIN)/python tests/tui/make_screenshots.py --out screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
