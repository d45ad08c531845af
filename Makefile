# qa — two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run index ask serve test test-fast lint format bench bench-quick clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) on PATH (or make PY=python3)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel; an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	$(BIN)/qa index seeds/ --if-stale

HOST ?= 127.0.0.1
PORT ?= 8000

run: index
	@$(BIN)/qa ask "Who is the Kremlin's top foreign policy aide?"
	@echo
	@echo 'Ask from another terminal:  .venv/bin/qa ask "your question"   (--json for scripts)'
	@echo 'or over HTTP:  curl -s $(HOST):$(PORT)/v1/ask -H "content-type: application/json" -d '"'"'{"question": "Who will visit Moscow?"}'"'"
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

ask: index
	@$(BIN)/qa ask "$(Q)"

serve: index
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check qa tests bench scripts
	$(BIN)/ruff format --check qa tests bench scripts

format: $(STAMP)
	$(BIN)/ruff format qa tests
	$(BIN)/ruff check --fix qa tests

bench: $(STAMP) index
	bash bench/setup_haystack.sh
	$(BIN)/python bench/run.py

bench-quick: $(STAMP) index
	bash bench/setup_haystack.sh
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) index/default .pytest_cache .ruff_cache
