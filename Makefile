# Two commands set up everything: `make ask Q="..."` (or `make repl`) and `make test`.
# Both create .venv on first use: the CPU build of torch first (it lies on this machine's disk;
# any other route pulls gigabytes of CUDA packages), then this package with its dev extras.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TORCH := torch==2.13.0
DATA ?= ../shared/data

.PHONY: venv ask repl index sources test test-fast lint bench bench-quality train eval clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

ask: venv
	@test -n "$$Q" || { echo 'usage: make ask Q="your question"' >&2; exit 2; }
	@$(BIN)/newsdesk ask -- "$$Q"

repl: venv
	@$(BIN)/newsdesk repl

index: venv
	$(BIN)/newsdesk index

sources: venv
	$(BIN)/newsdesk sources

test: venv
	$(BIN)/python -m pytest -q

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

lint: venv
	$(BIN)/ruff check index bot tests
	$(BIN)/mypy index bot

bench: venv
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.run_bench

bench-quality: venv
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.quality
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.answer_bench evaluate

# Retrain the answer model (index/models/answer_model.json) on the development benchmark's train split.
train: venv
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.answer_bench train

# The seed question set, a smoke test since the learned answer model: its floors are what the model
# measures less a question's margin (tests/bot/test_seed_question_set.py and docs/QUALITY.md say why
# issue 3's targets moved).
eval: venv
	$(BIN)/newsdesk eval tests/questions/seed.yaml --json reports/eval-seed.json \
		--min-hit3 0.75 --min-answer 0.73 --min-abstain 0.92 --min-abstain-precision 0.7

clean:
	rm -rf .newsdesk reports .pytest_cache
